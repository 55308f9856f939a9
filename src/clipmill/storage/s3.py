"""Files in an S3-compatible bucket (scaled mode): AWS S3, MinIO, R2, Ceph RGW...

Every process (API, workers) reaches the same bucket, so a file a worker stored on one machine
is served by an API process on another. Clients download straight from the bucket through
presigned GET links that carry the download name (``response-content-disposition``); clipmill
never proxies file bytes, except for ZIPs, which stream each object's body into the archive.

Large files go up in parts (boto3's managed transfer, ``s3_multipart_*`` settings). Backend
failures surface as `OSError` (`ObjectStoreError`, or `FileNotFoundError` for a missing key),
as the `Storage` protocol promises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from clipmill.config import Settings
from clipmill.errors import DependencyMissing, InvalidRequest
from clipmill.storage.disposition import content_disposition

_MISSING = {"404", "NoSuchKey", "NotFound"}
#: parts of one file sent at once; workers already run several jobs side by side
TRANSFER_THREADS = 4


class ObjectStoreError(OSError):
    """The object store refused or could not be reached."""


class S3Storage:
    """Files as objects under ``prefix`` in ``bucket``; links are presigned GETs."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "",
        transfer: TransferConfig | None = None,
        presigner: Any | None = None,
    ) -> None:
        self._client = client
        # presigned links may need another host than the one clipmill talks to
        self._presigner = presigner or client
        self.bucket = bucket
        self.prefix = prefix
        self._transfer = transfer or TransferConfig()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if not settings.s3_bucket:
            raise DependencyMissing(
                "CLIPMILL_STORAGE_BACKEND=s3 needs CLIPMILL_S3_BUCKET.", code="s3_unconfigured"
            )
        transfer = TransferConfig(
            multipart_threshold=settings.s3_multipart_threshold,
            multipart_chunksize=settings.s3_multipart_chunksize,
            max_concurrency=TRANSFER_THREADS,
        )
        presigner = None
        if settings.s3_public_endpoint_url:
            presigner = make_client(settings, endpoint_url=settings.s3_public_endpoint_url)
        return cls(
            make_client(settings),
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            transfer=transfer,
            presigner=presigner,
        )

    def object_key(self, key: str) -> str:
        """The object's name in the bucket; keys that would climb out of the prefix are refused."""
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise InvalidRequest("Storage key escapes the storage root.", code="invalid_key")
        return self.prefix + key

    def put(self, key: str, src: Path, *, content_type: str) -> int:
        size = src.stat().st_size
        with _translated(key):
            self._client.upload_file(
                str(src),
                self.bucket,
                self.object_key(key),
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer,
            )
        src.unlink()  # `put` moves: the caller's copy is gone, as with local storage
        return size

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, *, download_name: str, ttl: int) -> str | None:
        # no HEAD first: job listings presign every file, and an expired file has its row
        # marked (the sweeper), which callers check before asking for a link
        with _translated(key):
            url: str = self._presigner.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self.object_key(key),
                    "ResponseContentDisposition": content_disposition(download_name),
                },
                ExpiresIn=ttl,
            )
        return url

    def copy_to(self, key: str, dst: Path) -> None:
        with _translated(key):
            self._client.download_file(
                self.bucket, self.object_key(key), str(dst), Config=self._transfer
            )

    def iter_bytes(self, key: str, chunk_size: int) -> Iterator[bytes]:
        with _translated(key):
            body = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

    def exists(self, key: str) -> bool:
        try:
            with _translated(key):
                self._client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        with _translated(key):  # deleting a missing object succeeds, as unlink(missing_ok)
            self._client.delete_object(Bucket=self.bucket, Key=self.object_key(key))


def make_client(settings: Settings, *, endpoint_url: str | None = None) -> Any:
    """A boto3 S3 client from settings; no request is made until it is used."""
    config = Config(
        region_name=settings.s3_region,
        signature_version="s3v4",
        s3={"addressing_style": settings.s3_addressing_style.value},
        retries={"max_attempts": 5, "mode": "standard"},
        # boto3 >= 1.36 adds CRC checksums to every upload by default, which several
        # S3-compatible stores refuse; send them only where the API requires one
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=config,
    )


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """Turns boto's errors into the `OSError`s the `Storage` protocol speaks."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:
            raise FileNotFoundError(f"no stored object {key!r}") from exc
        raise ObjectStoreError(f"the object store refused {key!r}: {code}") from exc
    except (BotoCoreError, Boto3Error) as exc:
        raise ObjectStoreError(f"the object store failed on {key!r}: {exc}") from exc
