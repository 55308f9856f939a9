"""The one exception tree of clipmill.

Every error a user can see has a stable ``code`` (part of the API contract) and a human
``message``. One handler in ``clipmill.api.errors`` maps them to HTTP; services never raise
HTTP exceptions themselves. A child process (``clipmill.childproc``) re-raises an error by its
class name, so every error class lives in this module.

    ClipmillError                      500 internal_error
    ├── InvalidRequest                 422 invalid_request / invalid_upload / ...
    │   ├── InvalidOption              422 invalid_option
    │   ├── InvalidUrl                 422 invalid_url
    │   │   └── UnknownHost            422 unknown_host
    │   └── NotAPlaylist               422 not_a_playlist
    ├── Unauthorized                   401 unauthorized
    ├── Forbidden                      403 forbidden / link_expired / link_invalid
    ├── NotFound                       404 not_found
    ├── Conflict                       409 conflict / keep_limit / nothing_to_keep
    │   ├── InvalidTransition          409 invalid_transition
    │   └── NothingToZip               409 zip_empty
    ├── FileExpired                    410 file_expired
    ├── PayloadTooLarge                413 payload_too_large
    ├── RateLimited                    429 rate_limited
    ├── QuotaExceeded                  429 quota_exceeded (too many jobs waiting)
    │   └── StorageQuotaExceeded       507 storage_quota_exceeded
    ├── MediaError                     422 media_error (the job fails with the code)
    │   ├── UnsupportedUrl             422 unsupported_url
    │   ├── UnsupportedMedia           422 unsupported_media
    │   ├── BlockedAddress             422 blocked_address
    │   ├── OriginError                502 origin_error (an HTTP error from the origin)
    │   │   └── PageNotFound           502 page_not_found (the origin answered 404 or 410)
    │   ├── OriginUnreachable          502 origin_unreachable (nothing answers: refused)
    │   ├── ResponseTooLarge           502 response_too_large (a page, manifest or subtitle)
    │   ├── FileTooLarge               413 file_too_large
    │   ├── DurationTooLong            422 duration_too_long / live_stream
    │   ├── BrokenMedia                422 broken_media
    │   └── DownloadFailed             502 download_failed
    ├── NoItems                        422 no_items
    ├── StorageFull                    507 storage_full
    ├── JobCancelled                   409 cancelled
    ├── Superseded                     409 superseded (a newer attempt owns the job)
    ├── WorkerCrashed                  500 worker_crashed
    ├── RenderFailed                   500 render_failed (our encode missed its plan)
    ├── TimedOut                       504 timed_out
    ├── DependencyMissing              503 dependency_missing
    └── VaultError                     500 vault_error (a sealed secret would not open)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ClipmillError(Exception):
    """Root of every error clipmill raises on purpose."""

    code: ClassVar[str] = "internal_error"
    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance override of the class default
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidRequest(ClipmillError):
    code = "invalid_request"
    status_code = 422


class InvalidOption(InvalidRequest):
    code = "invalid_option"


class InvalidUrl(InvalidRequest):
    code = "invalid_url"


class UnknownHost(InvalidUrl):
    """The URL's host name does not resolve (a typo, or a site that is gone)."""

    code = "unknown_host"


class NotAPlaylist(InvalidRequest):
    """The URL is a single video (or nothing with entries)."""

    code = "not_a_playlist"


class NotFound(ClipmillError):
    code = "not_found"
    status_code = 404


class Forbidden(ClipmillError):
    code = "forbidden"
    status_code = 403


class Unauthorized(ClipmillError):
    code = "unauthorized"
    status_code = 401


class Conflict(ClipmillError):
    code = "conflict"
    status_code = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NothingToZip(Conflict):
    code = "zip_empty"


class FileExpired(ClipmillError):
    """The file was deleted after the retention period; the job keeps its record."""

    code = "file_expired"
    status_code = 410


class PayloadTooLarge(ClipmillError):
    """A request body or header larger than the server accepts."""

    code = "payload_too_large"
    status_code = 413


class RateLimited(ClipmillError):
    code = "rate_limited"
    status_code = 429


class QuotaExceeded(ClipmillError):
    """A user's quota (jobs waiting, bytes stored) is used up; the code says which."""

    code = "quota_exceeded"
    status_code = 429


class StorageQuotaExceeded(QuotaExceeded):
    """The user's files already fill their share of storage."""

    code = "storage_quota_exceeded"
    status_code = 507


class MediaError(ClipmillError):
    """A problem with what the URL points at; the job fails with this code."""

    code = "media_error"
    status_code = 422


class UnsupportedUrl(MediaError):
    code = "unsupported_url"


class UnsupportedMedia(MediaError):
    """The content is not media clipmill works on: no readable audio/video, or a playlist,
    manifest or other text posing as a media file."""

    code = "unsupported_media"


class BlockedAddress(MediaError):
    code = "blocked_address"


class OriginError(MediaError):
    code = "origin_error"
    status_code = 502


class PageNotFound(OriginError):
    """The origin says there is nothing at the URL (404, 410): the link is wrong or gone, so
    retrying will not help; the user needs another link."""

    code = "page_not_found"


class OriginUnreachable(MediaError):
    """Nothing accepts connections at the URL's host and port (connection refused): the site
    is down or the address is wrong, which retrying soon rarely fixes."""

    code = "origin_unreachable"
    status_code = 502


class ResponseTooLarge(MediaError):
    """A page, manifest, feed or subtitle file larger than ``max_page_bytes``."""

    code = "response_too_large"
    status_code = 502


class FileTooLarge(MediaError):
    code = "file_too_large"
    status_code = 413


class DurationTooLong(MediaError):
    code = "duration_too_long"


class BrokenMedia(MediaError):
    code = "broken_media"


class DownloadFailed(MediaError):
    code = "download_failed"
    status_code = 502


class NoItems(ClipmillError):
    """Nothing was selected: the parent fails instead of waiting for children that never come."""

    code = "no_items"
    status_code = 422


class StorageFull(ClipmillError):
    code = "storage_full"
    status_code = 507


class JobCancelled(ClipmillError):
    """Raised inside a pipeline when its job was cancelled; the runner turns it into `cancelled`."""

    code = "cancelled"
    status_code = 409


class Superseded(ClipmillError):
    """A newer attempt of the job owns it now; the older runner must stop without writing."""

    code = "superseded"
    status_code = 409


class WorkerCrashed(ClipmillError):
    """The process doing the work died without answering (OOM killer, a signal, a bug)."""

    code = "worker_crashed"
    status_code = 500


class RenderFailed(ClipmillError):
    """A rendered clip came out unlike its plan (length, size, unreadable): the source was
    read fine, so the fault is clipmill's, never the user's file. Fails that clip only."""

    code = "render_failed"
    status_code = 500


class TimedOut(ClipmillError):
    """Work ran past its wall-clock deadline."""

    code = "timed_out"
    status_code = 504


class DependencyMissing(ClipmillError):
    code = "dependency_missing"
    status_code = 503


class VaultError(ClipmillError):
    """A sealed value could not be opened (the key changed, or the bytes were altered)."""

    code = "vault_error"
