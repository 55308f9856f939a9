"""Values that leave the media package: what a URL offers and what a download produced.

yt-dlp's info dict never crosses this boundary; ``ytdlp.py`` converts it into these frozen,
picklable dataclasses (picklable because isolation.py sends them from the download child).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FileRole = Literal["media", "audio", "subtitle", "thumbnail"]
Stage = Literal["downloading", "postprocessing"]


@dataclass(frozen=True)
class FormatInfo:
    """One rendition the origin offers."""

    format_id: str
    ext: str | None
    resolution: str | None
    width: int | None
    height: int | None
    fps: float | None
    vcodec: str | None
    acodec: str | None
    filesize: int | None
    filesize_estimated: bool
    """True when ``filesize`` is yt-dlp's approximation or bitrate x duration, not a fact."""
    tbr: float | None
    protocol: str | None


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str | None


@dataclass(frozen=True)
class MediaInfo:
    """What a URL points at, as shown before downloading."""

    id: str
    title: str
    uploader: str | None
    thumbnail: str | None
    duration: float | None
    upload_date: str | None
    """YYYYMMDD as yt-dlp reports it."""
    webpage_url: str | None
    extractor: str | None
    is_live: bool
    chapters: tuple[Chapter, ...] = ()
    subtitles: tuple[str, ...] = ()
    """Languages with uploaded subtitles."""
    automatic_captions: tuple[str, ...] = ()
    """Languages with automatic captions."""
    formats: tuple[FormatInfo, ...] = ()
    """Downloadable renditions, worst first (as yt-dlp sorts them)."""

    @property
    def heights(self) -> tuple[int, ...]:
        return tuple(sorted({f.height for f in self.formats if f.height}))


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report; callers throttle, these come as often as yt-dlp reports."""

    stage: Stage
    percent: float | None = None
    downloaded_bytes: int | None = None
    total_bytes: int | None = None
    total_is_estimate: bool = False
    speed: float | None = None
    """Bytes per second."""
    eta: float | None = None
    """Seconds."""
    fragment_index: int | None = None
    fragment_count: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class DownloadedFile:
    """A finished file in the job's work dir and how to offer it to the user."""

    path: Path
    role: FileRole
    download_name: str
    """Safe name for Content-Disposition; never used on disk."""
    content_type: str
    size: int = 0
    language: str | None = None
    """Subtitle language."""
    width: int | None = None
    height: int | None = None
    """The picture's size as ffprobe reads the delivered file (media files only)."""


@dataclass(frozen=True)
class DownloadResult:
    info: MediaInfo
    files: tuple[DownloadedFile, ...]

    def by_role(self, role: FileRole) -> tuple[DownloadedFile, ...]:
        return tuple(f for f in self.files if f.role == role)
