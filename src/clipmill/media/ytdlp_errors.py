"""Turn whatever yt-dlp raised into one clipmill error with a stable code.

yt-dlp wraps failures several layers deep (DownloadError -> ExtractorError -> HTTPError ->
socket error), so the mapping walks the whole chain and decides on the most specific cause:
our own errors raised from hooks first, then guard blocks, HTTP statuses, unsupported pages,
network failures, ffmpeg failures.

Each code asks for one action (docs/api.md has the table): a 404 or 410 is ``page_not_found``
(another link, not a retry), a refused connection ``origin_unreachable`` (the site is down or
the address is wrong), other HTTP errors ``origin_error``, a network error mid-way
``download_failed`` (a retry may help).
"""

from __future__ import annotations

import errno
import re
import socket
import urllib.parse
from collections.abc import Iterator

from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import (
    DownloadError,
    ExtractorError,
    PostProcessingError,
    UnsupportedError,
)

from clipmill.errors import (
    BrokenMedia,
    ClipmillError,
    DownloadFailed,
    InvalidOption,
    OriginError,
    OriginUnreachable,
    PageNotFound,
    StorageFull,
    UnsupportedMedia,
    UnsupportedUrl,
)
from clipmill.media.netguard import ConnectionAudit
from clipmill.observability.redact import redact

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NO_FORMATS = ("no video formats found", "requested format is not available")
_GONE = frozenset({404, 410})


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps, each once."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (
            getattr(current, "exc_info", (None, None, None))[1]
            if isinstance(getattr(current, "exc_info", None), tuple)
            else None,
            getattr(current, "cause", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(linked, BaseException):
                stack.append(linked)


def clean_message(exc: BaseException) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    text = re.sub(r"^(ERROR|WARNING):\s*", "", text)
    text = re.sub(r";?\s*please report this issue on\s+https?://\S+.*$", "", text, flags=re.S)
    return text.splitlines()[0][:500] if text else type(exc).__name__


def map_error(
    exc: BaseException, audit: ConnectionAudit | None = None, *, url: str | None = None
) -> ClipmillError:
    """The clipmill error that explains ``exc`` best."""
    chain = list(causes(exc))
    for item in chain:
        if isinstance(item, ClipmillError):
            return item
    if audit is not None and audit.first is not None:
        return audit.first
    for item in chain:
        if isinstance(item, HTTPError):
            return _http_error(item, url)
    for item in chain:
        if isinstance(item, UnsupportedError):
            return UnsupportedUrl(f"no media found at {url or 'this URL'}")
    message = clean_message(exc)
    lowered = message.lower()
    if any(marker in lowered for marker in _NO_FORMATS):
        return UnsupportedUrl(f"no downloadable formats: {message}")
    for item in chain:
        if isinstance(item, OSError) and item.errno == errno.ENOSPC:
            return StorageFull("no space left on the device while downloading")
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return OriginUnreachable(
            f"Nothing answers at {_site(url)}: the connection was refused. The site may be down, "
            "or the address or port in the link is wrong.",
        )
    for item in chain:
        if isinstance(item, TransportError | socket.timeout | ConnectionError | TimeoutError):
            return DownloadFailed(f"network error: {clean_message(item)}")
    for item in chain:
        if isinstance(item, PostProcessingError):
            said = redact(clean_message(item))
            if "not on whitelist" in said.lower():  # ffmpeg met a playlist or manifest
                return UnsupportedMedia(f"The downloaded file is not a media file ({said}).")
            return BrokenMedia(f"post-processing failed: {said}")
    if "unsupported url" in lowered:
        return UnsupportedUrl(f"no media found at {url or 'this URL'}")
    if "format selector" in lowered or "invalid format specification" in lowered:
        return InvalidOption(message)
    if isinstance(exc, DownloadError | ExtractorError):
        return DownloadFailed(message)
    return DownloadFailed(f"download failed: {message}")


def _http_error(error: HTTPError, url: str | None) -> OriginError:
    """An HTTP error status as a sentence; 404 and 410 mean the link itself is wrong or gone."""
    status = error.status
    reason = f"HTTP {status} {error.reason or ''}".strip()
    if status in _GONE:
        answered = getattr(error.response, "url", None)
        if url is None or answered in (None, url):
            said = f"The site has no page at {url or 'this link'} ({reason}): check the link."
        else:  # the page exists; a manifest, fragment or file it points to does not
            said = f"The site no longer has the video this page points to ({reason})."
        return PageNotFound(said, status=status)
    if status in (401, 403):
        advice = "the video may be private, or need cookies from a signed-in browser"
    elif status == 429:
        advice = "the site is limiting requests; try again later"
    elif status >= 500:
        advice = "the site has a problem of its own; try again later"
    else:
        advice = "check the link"
    return OriginError(f"The site answered {reason}: {advice}.", status=status)


def _site(url: str | None) -> str:
    """``host:port`` of ``url`` for a message (the part a user can check), or "the site"."""
    try:
        parts = urllib.parse.urlsplit(url or "")
        return parts.netloc.rpartition("@")[2] or "the site"
    except ValueError:
        return "the site"
