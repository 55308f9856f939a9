"""Flat, lazy listings of playlists, channels and feeds with yt-dlp as a library.

A parent job must never hold a whole 500-item playlist in memory, nor resolve each item before
it starts: ``open_listing`` asks yt-dlp for the playlist without processing it (``process=False``
is what keeps yt-dlp's generators lazy; ``extract_info`` with processing would build the full
list), and ``Listing.entries()`` turns yt-dlp's entries one by one into small ``ListedEntry``
values. yt-dlp's info dicts never leave this module.

Everything that may open a connection (the first extraction, each pull on the entries, an item's
details) runs inside ``netguard.enforce`` for the calling thread, so the connect-time guard sees
pages, redirects and continuation requests alike. Each such call is also a fetch phase
(``clipmill.media.fetchlimits``): every response is capped at ``max_page_bytes`` and the call
gets ``fetch_timeout`` seconds. A listing opened inside ``fetchlimits.scope`` (an API preview)
also stops when that scope's cancel is set or its deadline passes.

``extractors`` lets a caller put extra yt-dlp ``InfoExtractor`` classes ahead of the built-in
ones. Production passes none; tests pass the extractor of their fake channel site.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from clipmill.config import Settings
from clipmill.errors import ClipmillError, DownloadFailed, NotAPlaylist
from clipmill.media import fetchlimits, netguard
from clipmill.media.fetchlimits import FetchBudget, FetchLimits

log = logging.getLogger(__name__)

ExtractorClass = type  # a yt_dlp InfoExtractor subclass (typed loosely: yt-dlp is untyped)
MAX_URL_HOPS = 5  # channel URL -> its "videos" tab -> ... before a playlist appears
T = TypeVar("T")


@dataclass(frozen=True)
class ListedEntry:
    """One item of a listing, as far as the listing (or a later item extraction) knows it."""

    index: int  #: 1-based position in the listing (yt-dlp's playlist_index)
    url: str  #: what a child download is given
    id: str | None = None
    title: str | None = None
    duration: float | None = None  #: seconds
    thumbnail: str | None = None
    upload_date: date | None = None
    view_count: int | None = None
    uploader: str | None = None


@dataclass(frozen=True)
class ListingInfo:
    """The playlist or channel itself."""

    url: str
    id: str | None = None
    title: str | None = None
    uploader: str | None = None
    uploader_id: str | None = None
    description: str | None = None
    thumbnail: str | None = None
    entry_count: int | None = None  #: None when the site does not say without paging through
    extractor: str | None = None


class _YtdlpLogger:
    """Routes yt-dlp's messages to logging and remembers the last error for the user."""

    def __init__(self) -> None:
        self.last_error: str | None = None

    def debug(self, msg: str) -> None:
        log.debug("%s", msg)

    def info(self, msg: str) -> None:
        log.debug("%s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        self.last_error = msg
        log.info("yt-dlp: %s", msg)


def _new_ydl(
    settings: Settings, extractors: Sequence[ExtractorClass], logger: _YtdlpLogger
) -> tuple[Any, FetchBudget]:
    from yt_dlp import YoutubeDL

    params = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "skip_download": True,
        "extract_flat": "in_playlist",
        "lazy_playlist": True,
        "socket_timeout": settings.socket_timeout,
        "cachedir": False,
        "enable_file_urls": False,
        "logger": logger,
    }
    ydl = YoutubeDL(params, auto_init=False)
    for extractor in extractors:  # ahead of Generic, which would claim any URL
        ydl.add_info_extractor(extractor())
    ydl.add_default_info_extractors()
    return ydl, fetchlimits.install(ydl, FetchLimits.from_settings(settings))


class Listing:
    """An open listing: ``info`` now, ``entries()`` pulled lazily. Close it when done."""

    def __init__(
        self,
        ydl: Any,
        budget: FetchBudget,
        raw: dict[str, Any],
        guard: netguard.NetGuard,
        logger: _YtdlpLogger,
        url: str,
    ) -> None:
        self._ydl = ydl
        self._budget = budget
        self._logger = logger
        self._raw_entries = raw.get("entries")
        self._guard = guard
        self._audit: netguard.ConnectionAudit | None = None
        self._lock = threading.Lock()
        count = raw.get("playlist_count")
        if count is None and isinstance(self._raw_entries, list):
            count = len(self._raw_entries)
        self.info = ListingInfo(
            url=_http_url(raw.get("webpage_url")) or _http_url(raw.get("original_url")) or url,
            id=_str(raw.get("id")),
            title=_str(raw.get("title")),
            uploader=_str(raw.get("uploader") or raw.get("channel")),
            uploader_id=_str(raw.get("uploader_id") or raw.get("channel_id")),
            description=_str(raw.get("description")),
            thumbnail=_thumbnail(raw),
            entry_count=count if isinstance(count, int) else None,
            extractor=_str(raw.get("extractor_key") or raw.get("extractor")),
        )

    def entries(self) -> Iterator[ListedEntry]:
        """The entries in listing order; entries without a usable URL are skipped."""
        for index, raw in enumerate(self._raw_iter(), start=1):
            entry = _entry(index, raw)
            if entry is not None:
                yield entry

    def _raw_iter(self) -> Iterator[Any]:
        raw = self._raw_entries
        if raw is None:
            return iter(())
        if hasattr(raw, "getslice") and not isinstance(raw, list):
            return self._guarded(_paged(raw))
        return self._guarded(iter(raw))

    def _guarded(self, source: Iterator[T]) -> Iterator[T]:
        """Pull each item under the guard (a site's next page is fetched inside ``next``)."""
        while True:
            try:
                item = _guarded_call(self._guard, self._budget, lambda: next(source))
            except StopIteration:
                return
            yield item

    def details(self, entry: ListedEntry) -> ListedEntry:
        """Extract one item fully (not flat) to learn what the listing left out.

        Fields the listing already had are kept when the item page does not repeat them.
        """
        self._guard.check_url(entry.url)
        raw = _resolve(self._ydl, self._budget, self._guard, self._logger, entry.url)
        found = _entry(entry.index, {**raw, "url": entry.url})
        if found is None:
            return entry
        return ListedEntry(
            index=entry.index,
            url=entry.url,
            id=found.id or entry.id,
            title=found.title or entry.title,
            duration=found.duration if found.duration is not None else entry.duration,
            thumbnail=found.thumbnail or entry.thumbnail,
            upload_date=found.upload_date or entry.upload_date,
            view_count=found.view_count if found.view_count is not None else entry.view_count,
            uploader=found.uploader or entry.uploader,
        )

    def close(self) -> None:
        with self._lock:
            if self._ydl is not None:
                self._ydl.close()
                self._ydl = None

    def __enter__(self) -> Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_listing(
    url: str, *, settings: Settings, extractors: Sequence[ExtractorClass] = ()
) -> Listing:
    """Extract ``url`` flat; NotAPlaylist if it is a single video."""
    guard = netguard.NetGuard.from_settings(settings)
    guard.check_url(url)
    logger = _YtdlpLogger()
    ydl, budget = _new_ydl(settings, extractors, logger)
    try:
        raw = _resolve(ydl, budget, guard, logger, url)
        if raw.get("_type") not in ("playlist", "multi_video"):
            raise NotAPlaylist("This URL is a single video, not a playlist, channel or feed.")
        return Listing(ydl, budget, raw, guard, logger, url)
    except BaseException:
        ydl.close()
        raise


def _resolve(
    ydl: Any, budget: FetchBudget, guard: netguard.NetGuard, logger: _YtdlpLogger, url: str
) -> dict[str, Any]:
    """extract_info without processing, following url results (channel -> its uploads tab)."""
    ie_key: str | None = None
    for _ in range(MAX_URL_HOPS):

        def extract(url: str = url, ie_key: str | None = ie_key) -> Any:
            return ydl.extract_info(url, download=False, process=False, ie_key=ie_key)

        raw = _guarded_call(guard, budget, extract, logger)
        if not isinstance(raw, dict):
            raise DownloadFailed(logger.last_error or "Nothing could be extracted from this URL.")
        if raw.get("_type") not in ("url", "url_transparent"):
            return raw
        url, ie_key = _unsmuggle(str(raw.get("url") or "")), raw.get("ie_key")
        guard.check_url(url)
    raise DownloadFailed("Too many redirects between pages of this URL.")


def _guarded_call(
    guard: netguard.NetGuard,
    budget: FetchBudget,
    call: Callable[[], T],
    logger: _YtdlpLogger | None = None,
) -> T:
    """Run ``call`` (which may open connections) under the guard, as one fetch phase of
    ``budget``; map yt-dlp's errors."""
    from clipmill.media.ytdlp_errors import map_error

    with netguard.enforce(guard) as audit, budget.phase("reading the playlist"):
        try:
            return call()
        except (StopIteration, ClipmillError):
            raise
        except Exception as exc:
            error = map_error(exc, audit)
            if logger is not None and logger.last_error and error.message in ("", "None"):
                error = DownloadFailed(logger.last_error)
            raise error from exc


def _paged(paged: Any, page: int = 50) -> Iterator[Any]:
    """A yt-dlp PagedList, one page at a time (iterating it by index refetches pages)."""
    start = 0
    while True:
        chunk = paged.getslice(start, start + page)
        if not chunk:
            return
        yield from chunk
        start += len(chunk)


def _entry(index: int, raw: Any) -> ListedEntry | None:
    if not isinstance(raw, dict):
        return None
    url = _http_url(_unsmuggle(str(raw.get("url") or ""))) or _http_url(raw.get("webpage_url"))
    url = url or _http_url(raw.get("original_url")) or _media_url(raw)
    if url is None:
        return None
    return ListedEntry(
        index=index,
        url=url,
        id=_str(raw.get("id")),
        title=_str(raw.get("title")),
        duration=_number(raw.get("duration")),
        thumbnail=_thumbnail(raw),
        upload_date=_upload_date(raw),
        view_count=_int(raw.get("view_count")),
        uploader=_str(raw.get("uploader") or raw.get("channel")),
    )


def _media_url(raw: dict[str, Any]) -> str | None:
    """An entry that is media itself (a page's ``<video>`` tags): its best direct format."""
    formats = [
        f for f in raw.get("formats") or [] if isinstance(f, dict) and _http_url(f.get("url"))
    ]

    def size(fmt: dict[str, Any]) -> tuple[float, float]:
        return (_number(fmt.get("height")) or 0.0, _number(fmt.get("tbr")) or 0.0)

    return str(max(formats, key=size)["url"]) if formats else None


def _upload_date(raw: dict[str, Any]) -> date | None:
    for key in ("upload_date", "release_date"):
        value = raw.get(key)
        if isinstance(value, str) and len(value) == 8 and value.isdigit():
            try:
                return datetime.strptime(value, "%Y%m%d").date()
            except ValueError:
                continue
    for key in ("timestamp", "release_timestamp"):
        value = raw.get(key)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC).date()
    return None


def _thumbnail(raw: dict[str, Any]) -> str | None:
    direct = _http_url(raw.get("thumbnail"))
    if direct:
        return direct
    thumbnails = raw.get("thumbnails")
    if isinstance(thumbnails, Iterable) and not isinstance(thumbnails, str | bytes):
        urls = [t.get("url") for t in thumbnails if isinstance(t, dict)]
        return next((u for u in reversed(urls) if _http_url(u)), None)
    return None


def _unsmuggle(url: str) -> str:
    """Feeds smuggle a guid into the URL fragment; children get the plain URL."""
    from yt_dlp.utils import unsmuggle_url

    return str(unsmuggle_url(url)[0]) if "#__youtubedl_smuggle" in url else url


def _http_url(value: Any) -> str | None:
    if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return value
    return None


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
