"""A batch's URLs: duplicates removed, then each one checked on its own.

A bad URL in a batch of fifty is reported next to its position instead of failing the whole
request; only a batch with no good URL at all is refused.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from clipmill.errors import ClipmillError
from clipmill.jobs.views import ErrorOut
from clipmill.playlists.schemas import RejectedUrl

URL_CHECK_THREADS = 8  # URLs are checked in parallel: each check may be a DNS lookup


def screen(urls: list[tuple[int, str]], check: Callable[[str], object]) -> list[RejectedUrl]:
    """The (position, url) pairs ``check`` refuses, with the error it raised."""

    def verdict(item: tuple[int, str]) -> RejectedUrl | None:
        position, url = item
        try:
            check(url)
        except ClipmillError as exc:
            error = ErrorOut(code=exc.code, message=exc.message)
            return RejectedUrl(position=position, url=url, error=error)
        return None

    with ThreadPoolExecutor(max_workers=URL_CHECK_THREADS) as pool:
        return [r for r in pool.map(verdict, urls) if r is not None]


def deduplicate(urls: Iterable[str]) -> tuple[list[tuple[int, str]], int]:
    """(position, url) of the first occurrence of each URL, and how many repeats were dropped.

    Scheme and host are compared case-insensitively and the fragment is ignored: those never
    change what a server sends back.
    """
    seen: set[str] = set()
    unique: list[tuple[int, str]] = []
    duplicates = 0
    for position, raw in enumerate(urls, start=1):
        url = raw.strip()
        key = _dedupe_key(url)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        unique.append((position, url))
    return unique, duplicates


def _dedupe_key(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(
            (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
        )
    except ValueError:
        return url
