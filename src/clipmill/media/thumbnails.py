"""Preview thumbnails, fetched server-side so the UI never loads anything from another origin.

A preview's thumbnail lives on the origin site; the UI's CSP (``img-src 'self'``) and the
promise that the service works offline forbid loading it from there. `ThumbnailProxy` fetches
it through the network guard, the same way webhook deliveries go out (`clipmill.webhooks.sender`):
the host is resolved and checked first, every connect is checked again on the address really
used (`netguard.enforce`), and redirects are followed by hand, a few hops at most, each checked
like the first URL. Only raster images whose bytes agree with their content type are passed on
(never SVG, which is a document that can carry scripts), at most ``max_bytes``, and a few
recent answers are kept in memory so a page re-rendering its preview does not fetch again.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from clipmill.errors import (
    DownloadFailed,
    OriginError,
    ResponseTooLarge,
    TimedOut,
    UnsupportedMedia,
)
from clipmill.media.netguard import NetGuard, enforce

MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
FETCH_TIMEOUT = 8.0

#: content types passed on, with the leading bytes each must start with (one of)
IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/avif": (b"\x00\x00\x00",),
}


@dataclass(frozen=True)
class Thumbnail:
    """An image as the origin sent it, checked."""

    content: bytes
    content_type: str


class ThumbnailProxy:
    """Fetches thumbnails through the network guard; keeps the last few in memory."""

    def __init__(
        self,
        guard: NetGuard,
        *,
        max_bytes: int = MAX_THUMBNAIL_BYTES,
        timeout: float = FETCH_TIMEOUT,
        cache_entries: int = 64,
        cache_seconds: float = 600.0,
        cache_bytes: int = 16 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.guard = guard
        self.max_bytes = max_bytes
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.cache_entries = cache_entries
        self.cache_seconds = cache_seconds
        self.cache_bytes = cache_bytes
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, Thumbnail]] = OrderedDict()
        self._lock = threading.Lock()

    def fetch(self, url: str) -> Thumbnail:
        """The image at ``url``. InvalidUrl/UnknownHost/BlockedAddress for where it points,
        OriginError for an error answer, UnsupportedMedia for anything but a raster image,
        ResponseTooLarge over ``max_bytes``, TimedOut and DownloadFailed for the network."""
        cached = self._cached(url)
        if cached is not None:
            return cached
        thumbnail = self._fetch(url)
        self._remember(url, thumbnail)
        return thumbnail

    def _fetch(self, url: str) -> Thumbnail:
        with (
            enforce(self.guard) as audit,
            httpx.Client(trust_env=False, follow_redirects=False, timeout=self.timeout) as client,
        ):
            target = url
            for _hop in range(MAX_REDIRECTS + 1):
                self.guard.check_url(target)  # a clear blocked_address before any connect
                try:
                    with client.stream("GET", target, headers={"accept": "image/*"}) as response:
                        if response.is_redirect and "location" in response.headers:
                            target = urllib.parse.urljoin(target, response.headers["location"])
                            continue
                        return self._read(response)
                except httpx.TimeoutException as exc:
                    raise TimedOut("The thumbnail took too long to arrive.") from exc
                except httpx.HTTPError as exc:
                    blocked = audit.first
                    if blocked is not None:
                        raise blocked from exc
                    raise DownloadFailed(f"The thumbnail could not be fetched: {exc}") from exc
            raise OriginError(f"The thumbnail redirected more than {MAX_REDIRECTS} times.")

    def _read(self, response: httpx.Response) -> Thumbnail:
        if response.status_code >= 400:
            raise OriginError(
                f"the origin answered HTTP {response.status_code}", status=response.status_code
            )
        if response.status_code != 200:
            raise OriginError(f"the origin answered HTTP {response.status_code}, not an image")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in IMAGE_SIGNATURES:
            raise UnsupportedMedia(f"That is not a thumbnail image ({content_type or 'untyped'}).")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise ResponseTooLarge(
                f"The thumbnail is larger than {self.max_bytes} bytes.", limit=self.max_bytes
            )
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise ResponseTooLarge(
                    f"The thumbnail is larger than {self.max_bytes} bytes.", limit=self.max_bytes
                )
        content = bytes(body)
        if not content.startswith(IMAGE_SIGNATURES[content_type]):
            raise UnsupportedMedia(f"The thumbnail's bytes are not the {content_type} it claims.")
        return Thumbnail(content=content, content_type=content_type)

    # -- the small cache --------------------------------------------------------------------
    def _cached(self, url: str) -> Thumbnail | None:
        with self._lock:
            hit = self._cache.get(url)
            if hit is None:
                return None
            stored_at, thumbnail = hit
            if self.clock() - stored_at > self.cache_seconds:
                del self._cache[url]
                return None
            self._cache.move_to_end(url)
            return thumbnail

    def _remember(self, url: str, thumbnail: Thumbnail) -> None:
        with self._lock:
            self._cache[url] = (self.clock(), thumbnail)
            self._cache.move_to_end(url)
            while len(self._cache) > self.cache_entries or self._cached_bytes() > self.cache_bytes:
                self._cache.popitem(last=False)

    def _cached_bytes(self) -> int:
        return sum(len(t.content) for _, t in self._cache.values())
