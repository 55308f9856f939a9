"""Requests and responses of the download API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from clipmill.jobs.schemas import JobHooks
from clipmill.media.netguard import complete_url
from clipmill.media.options import DownloadOptions

LinkUrl = Annotated[str, AfterValidator(complete_url)]
"""A link as people paste it: ``example.com/video`` is taken as ``https://example.com/video``
(the scheme is what people leave out most); the guard still refuses any other scheme."""


class DownloadRequest(DownloadOptions, JobHooks):
    """A URL plus the download options, flat, as `POST /api/v1/download` takes them."""

    # whole-request examples: the per-field ones, put together, would ask for an mp3 in an mp4
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://example.com/watch?v=1",
                    "quality": "720p",
                    "container": "mp4",
                    "subtitles": {"languages": ["en"], "format": "srt"},
                },
                {
                    "url": "https://example.com/watch?v=1",
                    "quality": "audio",
                    "audio_format": "mp3",
                    "audio_bitrate": "192k",
                },
                {"url": "https://example.com/watch?v=1", "sections": [{"start": 10, "end": 20}]},
            ]
        }
    )

    url: LinkUrl = Field(
        ..., min_length=1, max_length=4096, examples=["https://example.com/watch?v=1"]
    )
    priority: int = Field(0, ge=-10, le=10, description="Higher runs first.")

    def options(self) -> DownloadOptions:
        return DownloadOptions.model_validate(
            self.model_dump(exclude={"url", "priority", "webhook_url"}, exclude_unset=True)
        )


class FormatOut(BaseModel):
    format_id: str
    ext: str | None = None
    resolution: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    vcodec: str | None = None
    acodec: str | None = None
    filesize: int | None = None
    filesize_estimated: bool = False
    tbr: float | None = None
    protocol: str | None = None


class MetadataOut(BaseModel):
    id: str | None = None
    title: str | None = None
    uploader: str | None = None
    thumbnail: str | None = None
    duration: float | None = None
    upload_date: str | None = None
    webpage_url: str | None = None
    extractor: str | None = None
    is_live: bool = False
    subtitles: list[str] = []
    chapters: list[dict[str, object]] = []
    formats: list[FormatOut] = []
    is_playlist: bool = Field(
        False,
        description="With playlists=true: the link lists several videos (the rest is empty); "
        "preview it with /api/v1/playlist/preview.",
    )


class FormatsOut(BaseModel):
    url: str
    title: str | None = None
    formats: list[FormatOut]
