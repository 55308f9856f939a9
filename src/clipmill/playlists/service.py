"""ParentService: preview playlists and channels, start playlist/channel/batch jobs, read them.

Starting a parent only checks the request and stores the job; listing the entries and creating
the child downloads is the parent's pipeline (``clipmill.playlists.expand``), so a request never
waits for a 500-item playlist. The exceptions are previews, which list one page on purpose, and
a channel request whose filters may need data the site does not list: one page is peeked at so
the response can say which filters will be applied after per-item extraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from clipmill.accounts.principal import Principal
from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.downloads.service import DownloadService
from clipmill.errors import InvalidOption, InvalidUrl, NotFound
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.schemas import ChildCounts, FileRecord, JobRecord
from clipmill.jobs.service import JobService
from clipmill.media import fetchlimits
from clipmill.media.playlists import ExtractorClass, ListedEntry, Listing, open_listing
from clipmill.playlists.batch_urls import deduplicate, screen
from clipmill.playlists.filters import after_extraction, missing_fields, needed_fields
from clipmill.playlists.schemas import (
    BatchDownloadRequest,
    ChannelDownloadRequest,
    ChannelInfoOut,
    EntryOut,
    FilterReport,
    ParentOptions,
    PlaylistDownloadRequest,
    PlaylistPreviewOut,
)
from clipmill.playlists.selection import ItemSelection

AFTER_EXTRACTION_NOTE = (
    "The site does not list the data these filters need, so each item is extracted before it "
    "is filtered (one extra request per item)."
)


@dataclass(frozen=True)
class ItemPage:
    """A page of a parent's children with their files."""

    parent: JobRecord
    counts: ChildCounts
    items: list[JobRecord]
    files: dict[str, list[FileRecord]]
    total: int
    limit: int
    offset: int


def entry_out(entry: ListedEntry) -> EntryOut:
    return EntryOut(
        index=entry.index,
        id=entry.id,
        title=entry.title,
        duration=entry.duration,
        thumbnail=entry.thumbnail,
        url=entry.url,
        upload_date=entry.upload_date,
        view_count=entry.view_count,
    )


class ParentService:
    """Playlist, channel and batch jobs: everything the API does with them besides ZIPs."""

    def __init__(
        self,
        jobs: JobService,
        downloads: DownloadService,
        settings: Settings,
        *,
        extractors: Sequence[ExtractorClass] = (),
    ) -> None:
        self.jobs = jobs
        self.downloads = downloads
        self.settings = settings
        self.extractors = tuple(extractors)

    # -- previews -------------------------------------------------------------------------------
    def preview(
        self, url: str, *, limit: int = 50, offset: int = 0, cancel: CancelSignal | None = None
    ) -> PlaylistPreviewOut:
        """A page of a playlist's entries (offset counts playlist indexes); the listing stops
        at ``cancel`` or after ``probe_timeout``."""
        with self._previewing(cancel), self._listing(url) as listing:
            entries, has_more, count = self._page(listing, limit, offset)
            info = listing.info
        return PlaylistPreviewOut(
            url=info.url,
            id=info.id,
            title=info.title,
            uploader=info.uploader,
            entry_count=count,
            limit=limit,
            offset=offset,
            has_more=has_more,
            entries=[entry_out(e) for e in entries],
        )

    def channel_info(
        self, url: str, *, limit: int = 30, cancel: CancelSignal | None = None
    ) -> ChannelInfoOut:
        with self._previewing(cancel), self._listing(url) as listing:
            entries, has_more, count = self._page(listing, limit, 0)
            info = listing.info
        return ChannelInfoOut(
            url=info.url,
            id=info.uploader_id or info.id,
            name=info.uploader or info.title,
            description=info.description,
            thumbnail=info.thumbnail,
            entry_count=count,
            has_more=has_more,
            entries=[entry_out(e) for e in entries],
        )

    def _previewing(self, cancel: CancelSignal | None) -> AbstractContextManager[None]:
        return fetchlimits.scope(cancel=cancel, timeout=self.settings.probe_timeout)

    def _listing(self, url: str) -> Listing:
        self.downloads.check_url(url)
        return open_listing(url, settings=self.settings, extractors=self.extractors)

    @staticmethod
    def _page(
        listing: Listing, limit: int, offset: int
    ) -> tuple[list[ListedEntry], bool, int | None]:
        entries: list[ListedEntry] = []
        has_more, last = False, 0
        for entry in listing.entries():
            if entry.index <= offset:
                last = entry.index
                continue
            if len(entries) >= limit:
                has_more = True
                break
            entries.append(entry)
            last = entry.index
        count = listing.info.entry_count
        return entries, has_more, count if count is not None or has_more else last

    # -- starting parents -----------------------------------------------------------------------
    def start_playlist(self, owner: Principal, request: PlaylistDownloadRequest) -> JobRecord:
        self.downloads.check_url(request.url)
        selection = ItemSelection.parse(request.items)
        options = ParentOptions(
            url=request.url,
            items=selection.text,
            zip=request.zip,
            download=request.download_options().model_dump(mode="json", exclude_none=True),
        )
        return self._create(
            owner,
            JobKind.PLAYLIST,
            options,
            request.priority,
            source=request.url,
            webhook_url=request.webhook_url,
        )

    def start_channel(
        self, owner: Principal, request: ChannelDownloadRequest
    ) -> tuple[JobRecord, FilterReport]:
        self.downloads.check_url(request.url)
        filters = request.filters()
        options = ParentOptions(
            url=request.url,
            filters=filters,
            sort=request.sort,
            limit=request.limit,
            zip=request.zip,
            download=request.download_options().model_dump(mode="json", exclude_none=True),
        )
        report = self._filter_report(options)
        job = self._create(
            owner,
            JobKind.CHANNEL,
            options,
            request.priority,
            source=request.url,
            webhook_url=request.webhook_url,
        )
        return job, report

    def _filter_report(self, options: ParentOptions) -> FilterReport:
        """Peek at the first listed entry to see which filters the listing cannot decide."""
        needed = needed_fields(options.filters, options.sort)
        later: list[str] = []
        if needed and options.url:
            with self._listing(options.url) as listing:
                first = next(iter(listing.entries()), None)
            if first is not None:
                later = after_extraction(
                    options.filters, options.sort, missing_fields(first, needed)
                )
        return FilterReport(
            requested=options.filters.model_dump(mode="json", exclude_none=True),
            sort=options.sort,
            limit=options.limit,
            after_extraction=later,
            note=AFTER_EXTRACTION_NOTE if later else None,
        )

    def start_batch(self, owner: Principal, request: BatchDownloadRequest) -> JobRecord:
        """Deduplicate and check every URL; reject the bad ones, start the rest as one job."""
        unique, duplicates = deduplicate(request.urls)
        if len(unique) > self.settings.max_batch:
            raise InvalidOption(
                f"A batch takes at most {self.settings.max_batch} distinct URLs, not {len(unique)}."
            )
        rejected = screen(unique, self.downloads.check_url)
        bad = {r.position for r in rejected}
        accepted = [url for position, url in unique if position not in bad]
        if not accepted:
            raise InvalidUrl(
                "None of the URLs can be downloaded.",
                rejected=[r.model_dump(mode="json") for r in rejected],
            )
        options = ParentOptions(
            urls=accepted,
            rejected=rejected,
            duplicates_removed=duplicates,
            zip=request.zip,
            download=request.download_options().model_dump(mode="json", exclude_none=True),
        )
        title = f"Batch of {len(accepted)} URL{'s' if len(accepted) != 1 else ''}"
        return self._create(
            owner,
            JobKind.BATCH,
            options,
            request.priority,
            title=title,
            webhook_url=request.webhook_url,
        )

    def _create(
        self,
        owner: Principal,
        kind: JobKind,
        options: ParentOptions,
        priority: int,
        *,
        source: str | None = None,
        title: str | None = None,
        webhook_url: str | None = None,
    ) -> JobRecord:
        stored = options.model_dump(mode="json", exclude_defaults=True)
        return self.jobs.create(
            owner,
            kind,
            stored,
            source_url=source,
            title=title,
            priority=priority,
            webhook_url=webhook_url,
        )

    # -- reading --------------------------------------------------------------------------------
    def parent(self, owner: Principal, job_id: str, kind: JobKind | None = None) -> JobRecord:
        """A parent job of ``kind`` (any parent kind when None); NotFound for anything else."""
        job = self.jobs.get(owner, job_id)
        if not job.kind.is_parent or (kind is not None and job.kind is not kind):
            noun = kind.value if kind is not None else "playlist, channel or batch"
            raise NotFound(f"No {noun} job {job_id}.", resource=noun)
        return job

    def cancel(self, owner: Principal, job_id: str, kind: JobKind | None = None) -> JobRecord:
        """Cancel a parent and every item that has not finished."""
        self.parent(owner, job_id, kind)
        return self.jobs.cancel(owner, job_id)

    def items(
        self,
        owner: Principal,
        job_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        statuses: Iterable[JobStatus] = (),
    ) -> ItemPage:
        parent = self.parent(owner, job_id)
        page = self.jobs.list_jobs(
            owner, parent_id=job_id, statuses=statuses, limit=limit, offset=offset
        )
        return ItemPage(
            parent=parent,
            counts=self.jobs.child_counts(owner, job_id),
            items=page.items,
            files=self.jobs.files_of(owner, [j.id for j in page.items]),
            total=page.total,
            limit=limit,
            offset=offset,
        )
