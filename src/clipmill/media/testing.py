"""An in-memory stand-in for the media fetcher, shipped in the package so tests of the API and
of the pipelines run without yt-dlp, child processes or an HTTP server.

`FakeFetcher` "downloads" a URL by copying the local file that ``sources`` names for it into
the work dir, with the progress, cancel and error behaviour of the real fetcher. It does not
convert anything: what the options ask for is the real fetcher's business and its tests'.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from clipmill.cancellation import CancelSignal
from clipmill.errors import JobCancelled, UnsupportedUrl
from clipmill.media import ffmpeg, naming
from clipmill.media.models import (
    DownloadedFile,
    DownloadProgress,
    DownloadResult,
    FileRole,
    MediaInfo,
)
from clipmill.media.options import MEDIA_STEM, DownloadOptions

Sources = Mapping[str, Path] | Callable[[str], Path | None]


class FakeFetcher:
    """A `MediaFetcher` over local files; ``hold`` (if given) pauses every download halfway
    until it is set, so a test can cancel or stop a job that is "downloading"."""

    def __init__(self, sources: Sources, *, hold: threading.Event | None = None) -> None:
        self._sources = sources
        self.hold = hold
        self.downloads: list[str] = []

    def _file(self, url: str) -> Path:
        found = self._sources(url) if callable(self._sources) else self._sources.get(url)
        if found is None or not Path(found).is_file():
            raise UnsupportedUrl(f"No media found at {url}.")
        return Path(found)

    def probe(self, url: str, *, cancel: CancelSignal | None = None) -> MediaInfo:
        path = self._file(url)
        return MediaInfo(
            id=path.stem,
            title=path.stem,
            uploader=None,
            thumbnail=None,
            duration=ffmpeg.probe_file(path).duration,
            upload_date=None,
            webpage_url=url,
            extractor="fake",
            is_live=False,
        )

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
        self.downloads.append(url)
        info = self.probe(url)
        source = self._file(url)
        size = source.stat().st_size
        workdir.mkdir(parents=True, exist_ok=True)
        target = workdir / f"{MEDIA_STEM}{source.suffix.lower()}"
        on_log(f"[fake] copying {source.name}")
        for done in (0.25, 0.5, 0.75):
            if cancel.is_set():
                raise JobCancelled("download cancelled")
            if done == 0.5 and self.hold is not None:
                while not self.hold.wait(0.02):
                    if cancel.is_set():
                        raise JobCancelled("download cancelled")
            on_progress(
                DownloadProgress(
                    stage="downloading",
                    percent=100 * done,
                    downloaded_bytes=int(size * done),
                    total_bytes=size,
                )
            )
        shutil.copyfile(source, target)
        on_progress(
            DownloadProgress(
                stage="downloading", percent=100.0, downloaded_bytes=size, total_bytes=size
            )
        )
        role: FileRole = "audio" if options.audio_only else "media"
        ext = target.suffix.lstrip(".")
        file = DownloadedFile(
            path=target,
            role=role,
            download_name=naming.safe_download_name(info.title, ext),
            content_type=naming.content_type_for(target.suffix),
            size=size,
        )
        return DownloadResult(info=info, files=(file,))
