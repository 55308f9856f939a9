"""The media fetcher seam: what a URL is (``probe``) and its files (``download``).

`IsolatedFetcher` is the real one: yt-dlp in a killable child process (`clipmill.media.
isolation`). `clipmill.media.testing.FakeFetcher` serves local files instead, for tests of the
API and the pipelines that are not about yt-dlp.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.media.models import DownloadProgress, DownloadResult, MediaInfo
from clipmill.media.options import DownloadOptions


class MediaFetcher(Protocol):
    def probe(self, url: str, *, cancel: CancelSignal | None = None) -> MediaInfo:
        """Title, duration, formats... of ``url``, without downloading the media."""
        ...

    def download(
        self,
        url: str,
        options: DownloadOptions,
        workdir: Path,
        *,
        on_progress: Callable[[DownloadProgress], None],
        on_log: Callable[[str], None],
        cancel: CancelSignal,
        keep_partial_on_cancel: bool = False,
        cookie_file: Path | None = None,
    ) -> DownloadResult:
        """Download ``url`` into ``workdir`` as ``options`` ask.

        ``keep_partial_on_cancel`` leaves the partial file behind when the cancel means
        "shutting down, resume later"; the caller removes it after a real cancel.
        ``cookie_file`` is a cookies.txt to send (the job's private copy, see
        `clipmill.pipeline.context.JobContext.cookie_file`).
        """
        ...


class IsolatedFetcher:
    """yt-dlp in a child process per call, guarded, capped and killable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def probe(self, url: str, *, cancel: CancelSignal | None = None) -> MediaInfo:
        from clipmill.media import isolation

        return isolation.run_probe(url, settings=self.settings, cancel=cancel)

    def download(
        self,
        url: str,
        options: DownloadOptions,
        workdir: Path,
        *,
        on_progress: Callable[[DownloadProgress], None],
        on_log: Callable[[str], None],
        cancel: CancelSignal,
        keep_partial_on_cancel: bool = False,
        cookie_file: Path | None = None,
    ) -> DownloadResult:
        from clipmill.media import isolation

        return isolation.run_download(
            url,
            options,
            workdir,
            settings=self.settings,
            on_progress=on_progress,
            on_log=on_log,
            cancel=cancel,
            keep_partial_on_cancel=keep_partial_on_cancel,
            cookie_file=cookie_file,
        )
