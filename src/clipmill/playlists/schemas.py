"""Requests and responses of the playlist, channel and batch API, and the options parents store.

Requests are flat like ``POST /api/v1/download``: the parent's own fields next to the download
options every child shares. A parent job stores ``ParentOptions`` (its own fields plus the
download options under ``download``), which is what its pipeline reads back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clipmill.downloads.schemas import LinkUrl
from clipmill.jobs.enums import JobStage, JobStatus
from clipmill.jobs.schemas import ChildCounts, JobHooks
from clipmill.jobs.views import ErrorOut, FileOut, JobOut
from clipmill.media.options import DownloadOptions
from clipmill.playlists.filters import ChannelFilters, ChannelSort

UrlField = Field(..., min_length=1, max_length=4096, examples=["https://example.com/playlist"])
MAX_CHANNEL_LIMIT = 10_000


# -- requests ----------------------------------------------------------------------------------
class ParentRequest(DownloadOptions, JobHooks):
    """Fields every parent request has, besides the download options its items share."""

    zip: bool = Field(False, description="Also offer every finished item as one ZIP in `files`.")
    priority: int = Field(
        0,
        ge=-10,
        le=10,
        description="Higher runs first. Items run one step below it, so a single download of "
        "the same priority is not stuck behind a long playlist.",
    )

    def download_options(self) -> DownloadOptions:
        own = set(type(self).model_fields) - set(DownloadOptions.model_fields)
        return DownloadOptions.model_validate(self.model_dump(exclude=own, exclude_unset=True))


class PlaylistDownloadRequest(ParentRequest):
    url: LinkUrl = UrlField
    items: str | None = Field(
        None,
        max_length=1000,
        description="yt-dlp item syntax: indexes and inclusive ranges, negative from the end.",
        examples=["1-3,7,10:", "-5:"],
    )


class ChannelDownloadRequest(ParentRequest, ChannelFilters):
    url: LinkUrl = UrlField
    sort: ChannelSort | None = Field(None, description="Default: the order the site lists.")
    limit: int | None = Field(None, ge=1, le=MAX_CHANNEL_LIMIT, description="At most this many.")

    def filters(self) -> ChannelFilters:
        return ChannelFilters.model_validate(
            self.model_dump(include=set(ChannelFilters.model_fields), exclude_none=True)
        )


class BatchDownloadRequest(ParentRequest):
    urls: list[LinkUrl] = Field(
        ...,
        min_length=1,
        max_length=1000,
        description="1 to CLIPMILL_MAX_BATCH distinct URLs (duplicates are removed first).",
    )


# -- what a parent job stores -------------------------------------------------------------------
class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RejectedUrl(_Stored):
    """A batch URL that was not accepted, and why."""

    position: int = Field(description="1-based position in the submitted list.")
    url: str
    error: ErrorOut


class ParentOptions(_Stored):
    """The options of a playlist, channel or batch job (what its pipeline reads)."""

    download: dict[str, Any] = Field(default_factory=dict)
    zip: bool = False
    url: str | None = None  #: playlist and channel
    items: str | None = None  #: playlist
    filters: ChannelFilters = ChannelFilters.model_validate({})  #: channel
    sort: ChannelSort | None = None  #: channel
    limit: int | None = None  #: channel
    urls: list[str] = Field(default_factory=list)  #: batch: the accepted URLs, in order
    rejected: list[RejectedUrl] = Field(default_factory=list)  #: batch
    duplicates_removed: int = 0  #: batch

    def download_options(self) -> DownloadOptions:
        return DownloadOptions.model_validate(self.download)


# -- responses ---------------------------------------------------------------------------------
class EntryOut(BaseModel):
    index: int = Field(description="1-based position in the playlist (what `items` selects).")
    id: str | None = None
    title: str | None = None
    duration: float | None = Field(None, description="Seconds, when listed.")
    thumbnail: str | None = None
    url: str
    upload_date: date | None = None
    view_count: int | None = None


class PlaylistPreviewOut(BaseModel):
    url: str
    id: str | None = None
    title: str | None = None
    uploader: str | None = None
    entry_count: int | None = Field(None, description="Null when the site does not say.")
    limit: int
    offset: int
    has_more: bool
    entries: list[EntryOut]


class ChannelInfoOut(BaseModel):
    url: str
    id: str | None = None
    name: str | None = None
    description: str | None = None
    thumbnail: str | None = None
    entry_count: int | None = Field(None, description="Null when the site does not say.")
    has_more: bool
    entries: list[EntryOut] = Field(description="The first page of entries.")


class ItemOut(BaseModel):
    """One child of a parent job."""

    id: str
    index: int | None
    title: str | None = None
    url: str | None = None
    status: JobStatus
    stage: JobStage
    progress: float
    error: ErrorOut | None = None
    files: list[FileOut] = Field(default_factory=list)


class ItemsPageOut(BaseModel):
    job_id: str
    counts: ChildCounts
    items: list[ItemOut]
    total: int
    limit: int
    offset: int
    has_more: bool


class FilterReport(BaseModel):
    """Which channel filters the listing could decide, and which need per-item extraction."""

    requested: dict[str, Any]
    sort: ChannelSort | None = None
    limit: int | None = None
    after_extraction: list[str] = Field(
        default_factory=list,
        description="Filters (and `sort`) whose data the site does not list: each item is "
        "extracted first, then filtered.",
    )
    note: str | None = None


class ParentOut(JobOut):
    """A playlist, channel or batch job with its counts and (the first page of) its items."""

    counts: ChildCounts = ChildCounts()
    items: list[ItemOut] = Field(default_factory=list)
    items_total: int = 0
    items_url: str | None = Field(None, description="Every item, paged.")
    zip_url: str | None = Field(None, description="Signed link to a ZIP of the finished items.")


class ChannelOut(ParentOut):
    filters: FilterReport | None = None


class BatchOut(ParentOut):
    accepted: int = 0
    duplicates_removed: int = 0
    rejected: list[RejectedUrl] = Field(default_factory=list)
