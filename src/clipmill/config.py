"""Settings: one object, from the environment (prefix ``CLIPMILL_``) and an optional ``.env``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_PAGE_BYTES = 16 * 1024 * 1024
"""Default of ``Settings.max_page_bytes``."""
RETENTION_SECONDS = 7 * 86400
"""Default of ``Settings.retention_seconds``: a week."""
RETENTION_MAX_SECONDS = 30 * 86400
"""Default of ``Settings.retention_max_seconds``: a month."""


class QueueBackend(StrEnum):
    """Where jobs wait and run."""

    LOCAL = "local"
    """In-process worker threads (embedded mode)."""
    CELERY = "celery"
    """Celery workers on Redis (scaled mode)."""


class AuthMode(StrEnum):
    """Who may use the service."""

    NONE = "none"
    """One local user owns everything (embedded default; loopback only unless forced)."""
    APIKEY = "apikey"
    """Operator-issued API keys only (``clipmill user create`` + ``clipmill key create``)."""
    USERS = "users"
    """Accounts (register/login, JWT) and their API keys."""


class StorageBackend(StrEnum):
    """Where finished files live."""

    LOCAL = "local"
    """A directory on this machine (``data_dir/files``; embedded mode)."""
    S3 = "s3"
    """An S3-compatible bucket, presigned links (scaled mode)."""


class S3AddressingStyle(StrEnum):
    """How requests name the bucket (botocore's ``addressing_style``)."""

    AUTO = "auto"
    """Virtual-hosted where the bucket name allows it, else path."""
    PATH = "path"
    """``endpoint/bucket/key``: MinIO and most self-hosted stores."""
    VIRTUAL = "virtual"
    """``bucket.endpoint/key``: AWS's preferred form."""


class Settings(BaseSettings):
    """Every knob clipmill has. Embedded defaults: SQLite, in-process workers, local files."""

    model_config = SettingsConfigDict(env_prefix="CLIPMILL_", env_file=".env", extra="ignore")

    # where everything lives in embedded mode
    data_dir: Path = Field(Path("./data"), description="SQLite file, job work dirs and files.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/clipmill.db"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = Field(None, description="Public base URL used in signed links.")

    # workers
    max_concurrent_jobs: int = Field(3, ge=1, le=64)
    queue: QueueBackend = Field(
        QueueBackend.LOCAL,
        validation_alias=AliasChoices("queue", "clipmill_queue", "clipmill_queue_backend"),
        description="Where jobs wait and run: local (in-process workers) or celery.",
    )
    warm_spare: bool = Field(
        True, description="Keep one download process started ahead of time (hides ~0.5 s)."
    )

    # limits
    max_filesize: int = Field(2 * 1024**3, ge=1, description="Bytes; enforced while downloading.")
    max_duration: float = Field(4 * 3600, gt=0, description="Seconds; checked before downloading.")
    max_upload_size: int = Field(2 * 1024**3, ge=1)
    max_batch: int = Field(50, ge=1, le=1000)
    # a self-hosted service keeps what its users made for days, not an hour: long enough to
    # come back to a download after a weekend, short enough that a small disk does not fill up
    retention_seconds: int = Field(
        RETENTION_SECONDS,
        ge=0,
        description="Files are deleted this long after they were made (default: 7 days).",
    )
    retention_max_seconds: int = Field(
        RETENTION_MAX_SECONDS,
        ge=0,
        description='The longest "keep longer" may keep a job\'s files, counted from when the '
        "job was made (default: 30 days; 0: no limit).",
    )
    sweep_interval_seconds: float = Field(60.0, gt=0)
    link_ttl_seconds: int | None = Field(
        None,
        ge=1,
        description="Lifetime of a signed file link; unset (the default): as long as its file "
        "is kept.",
    )
    socket_timeout: float = Field(20.0, gt=0)
    max_page_bytes: int = Field(
        MAX_PAGE_BYTES,
        ge=1024,
        description="Bytes (decompressed) of one page, feed, manifest or subtitle file.",
    )
    fetch_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds for a job's pages and manifests, and again for its side files.",
    )
    probe_timeout: float = Field(
        45.0, gt=0, description="Seconds one preview or metadata probe may take in all."
    )

    # the HTTP edge
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Bytes of a JSON request body (uploads have their own)."
    )
    max_header_bytes: int = Field(
        32 * 1024, ge=4096, description="Bytes of all request headers together."
    )

    # security
    secret_key: str | None = Field(
        None, description="Signs links; generated into data_dir if unset."
    )
    allow_private_networks: bool = Field(
        False, description="Let jobs reach loopback/private addresses (tests, home labs)."
    )
    allowed_networks: list[str] = Field(
        default_factory=list, description="CIDRs jobs may reach even though they are private."
    )

    # identity (see docs/security.md)
    auth: AuthMode = Field(AuthMode.NONE, description="none, apikey or users.")
    allow_public_bind: bool = Field(
        False,
        description="Let auth=none listen on a non-loopback address (--i-know-this-is-public).",
    )
    registration_open: bool = Field(True, description="auth=users: anyone may register.")
    token_ttl_seconds: int = Field(3600, ge=60, description="Lifetime of a login token (JWT).")
    refresh_ttl_seconds: int = Field(30 * 86400, ge=300, description="Lifetime of a refresh token.")
    ticket_ttl_seconds: int = Field(
        60, ge=5, le=3600, description="Lifetime of a WebSocket/SSE ticket."
    )
    vault_key: str | None = Field(
        None,
        description="Fernet key that encrypts stored cookie files and webhook secrets; "
        "generated into data_dir/vault.key (never into the database) if unset.",
    )
    metrics_token: str | None = Field(
        None, description="Bearer token for /metrics (admins may read it too)."
    )

    # the web edge
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    trusted_hosts: list[str] = Field(
        default_factory=list,
        description="Host headers accepted (default: the base_url's host, loopback names).",
    )
    proxy_url: str | None = Field(
        None,
        description="Proxy for every outbound fetch; destinations are checked before it is "
        "used. Environment proxies (HTTP_PROXY...) are ignored.",
    )

    # rate limits (the `limits` library's notation) and quotas; 0 turns a quota off
    rate_limit_storage: str | None = Field(
        None,
        description="limits storage URI; default: redis_url when set (counters shared by every "
        "API process), else memory://.",
    )
    rate_limit_requests: str = Field("600/minute", description="Per IP and per user/key.")
    rate_limit_login: str = Field("10/minute", description="Login/register attempts per IP.")
    rate_limit_jobs: str = Field("60/minute", description="Job creations per user/key.")
    quota_queued_jobs: int = Field(100, ge=0, description="Jobs waiting to run, per user.")
    quota_concurrent_jobs: int = Field(
        0, ge=0, description="Jobs of one user running at once (others wait their turn)."
    )
    quota_storage_bytes: int = Field(0, ge=0, description="Stored bytes per user (0: no cap).")

    # shorts
    whisper_model: str = Field("tiny.en", description="Default model name or folder.")
    whisper_models: dict[str, Path] = Field(
        default_factory=dict, description="Extra local CTranslate2 model folders by name."
    )
    render_concurrency: int = Field(
        2, ge=1, le=16, description="Clips of one shorts job rendered at once (each in a child)."
    )
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None

    # webhooks (see docs/webhooks.md)
    webhook_max_attempts: int = Field(
        8, ge=1, le=30, description="Attempts per delivery before it is marked failed."
    )
    webhook_backoff_seconds: float = Field(
        10.0, gt=0, description="First retry delay; later ones grow to ~360x it, with jitter."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Seconds a receiver has to answer (connect: 5 at most)."
    )
    webhook_workers: int = Field(2, ge=1, le=16, description="Deliveries sent at once.")

    # scaled mode: S3 storage (see docs/deploy.md)
    storage_backend: StorageBackend = Field(
        StorageBackend.LOCAL, description="Where finished files live: local (files_dir) or s3."
    )
    s3_bucket: str | None = Field(None, description="Bucket of every stored file (required).")
    s3_prefix: str = Field("", description="Key prefix inside the bucket, e.g. 'clipmill/'.")
    s3_endpoint_url: str | None = Field(
        None, description="S3 API endpoint (MinIO, R2...); default: AWS for s3_region."
    )
    s3_public_endpoint_url: str | None = Field(
        None,
        description="Endpoint presigned links name, when clients reach the store by another "
        "address than clipmill does (http://minio:9000 inside, https://files.example outside).",
    )
    s3_region: str = Field("us-east-1", description="Region the requests are signed for.")
    s3_access_key_id: str | None = Field(None, description="Default: boto3's credential chain.")
    s3_secret_access_key: str | None = None
    s3_addressing_style: S3AddressingStyle = Field(
        S3AddressingStyle.AUTO, description="auto, path (MinIO) or virtual (bucket in the host)."
    )
    s3_multipart_threshold: int = Field(
        64 * 1024**2, ge=5 * 1024**2, description="Bytes from which uploads go in parts."
    )
    s3_multipart_chunksize: int = Field(
        16 * 1024**2, ge=5 * 1024**2, description="Bytes per part (S3 minimum: 5 MiB)."
    )

    # scaled mode: queue and events (see docs/scaling.md)
    redis_url: str | None = Field(
        None,
        description="redis://host:port/db; with queue=celery it is the broker and carries the "
        "live job events between processes.",
    )
    worker_concurrency: int = Field(
        2, ge=1, le=64, description="Jobs one `clipmill worker` process runs at once."
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="Scaled mode: attempts lost with their worker before a job fails with "
        "too_many_attempts instead of running again.",
    )
    lease_seconds: float = Field(
        60.0,
        gt=0,
        description="A running job's lease; its worker renews it every third of this, and "
        "a job whose lease expired is queued again.",
    )
    requeue_stale_seconds: float = Field(
        3600.0,
        gt=0,
        description="Scaled mode: a job queued this long is sent to the broker again (a "
        "message lost with a Redis that does not persist); duplicates are harmless.",
    )
    worker_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port of a worker's own /metrics (0: none)."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'clipmill.db'}"

    @property
    def broker_visibility_seconds(self) -> int:
        """How long Redis keeps a delivered, unacknowledged task before giving it to another
        worker: longer than the longest job may run, so a slow job is never run twice."""
        return int(self.max_duration * 2 + 3600)

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"
