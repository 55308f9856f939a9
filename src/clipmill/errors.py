"""The one exception tree of clipmill.

Every error a user can see has a stable ``code`` (part of the API contract) and a human
``message``. One handler in ``clipmill.api.errors`` maps them to HTTP; services never raise
HTTP exceptions themselves.

    ClipmillError                      500 internal_error
    ├── InvalidRequest                 422 invalid_option / invalid_url / ...
    │   ├── InvalidOption              422 invalid_option
    │   └── InvalidUrl                 422 invalid_url
    ├── NotFound                       404 not_found
    ├── Forbidden                      403 forbidden / link_expired / link_invalid
    ├── Conflict                       409 invalid_transition / conflict
    ├── RateLimited                    429 rate_limited
    ├── MediaError                     422 (the job fails with the code)
    │   ├── UnsupportedUrl             unsupported_url
    │   ├── BlockedAddress             blocked_address
    │   ├── OriginError                origin_error (404/5xx from the origin)
    │   ├── FileTooLarge               file_too_large
    │   ├── DurationTooLong            duration_too_long
    │   ├── BrokenMedia                broken_media
    │   └── DownloadFailed             download_failed
    ├── StorageFull                    507 storage_full
    ├── JobCancelled                   409 cancelled
    └── DependencyMissing              503 dependency_missing
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


class RateLimited(ClipmillError):
    code = "rate_limited"
    status_code = 429


class MediaError(ClipmillError):
    """A problem with what the URL points at; the job fails with this code."""

    code = "media_error"
    status_code = 422


class UnsupportedUrl(MediaError):
    code = "unsupported_url"


class BlockedAddress(MediaError):
    code = "blocked_address"


class OriginError(MediaError):
    code = "origin_error"
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


class StorageFull(ClipmillError):
    code = "storage_full"
    status_code = 507


class JobCancelled(ClipmillError):
    """Raised inside a pipeline when its job was cancelled; the runner turns it into `cancelled`."""

    code = "cancelled"
    status_code = 409


class DependencyMissing(ClipmillError):
    code = "dependency_missing"
    status_code = 503
