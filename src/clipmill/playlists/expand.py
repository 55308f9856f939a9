"""The pipelines of playlist, channel and batch jobs: expand the parent into child downloads.

A parent's pipeline lists its entries lazily and creates one ``download`` child per selected
entry, then returns ``WAITING``; the children run under the queue's concurrency limit and the
job service finishes the parent when the last one ends. Memory stays flat in the number of
entries: one listed entry at a time (except a channel sorted by something other than the site's
order, which must see every candidate before it can pick the first).

Expansion is idempotent, because after a restart (or a retry) the pipeline runs again: children
are created in increasing ``item_index`` and each creation is committed on its own, so the next
run skips every entry up to the highest index already created. Finished children are never
touched, so nothing is downloaded twice.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from clipmill.downloads.service import download_job_options
from clipmill.errors import ClipmillError, JobCancelled, NoItems
from clipmill.jobs.enums import JobKind, JobStage, JobStatus
from clipmill.media import fetchlimits, naming
from clipmill.media.options import DownloadOptions
from clipmill.media.playlists import ExtractorClass, ListedEntry, Listing, open_listing
from clipmill.pipeline.context import JobContext
from clipmill.pipeline.runner import WAITING, Pipeline, Waiting
from clipmill.playlists.filters import (
    after_extraction,
    missing_fields,
    needed_fields,
    sort_entries,
)
from clipmill.playlists.schemas import ParentOptions
from clipmill.playlists.selection import ItemSelection

STAGE_EVERY = 50  # a stored stage event with the running count every this many children
MIN_INDEX_WIDTH = 3  # "001 - Title.mp4"
TITLE_CHARS = 150  # of a listed title in a download name (the template limit is 200)


@dataclass(frozen=True)
class ChildSpec:
    """One child to create: its index among the parent's items, its URL and a first title."""

    index: int
    url: str
    title: str | None = None


def index_width(highest: int | None) -> int:
    """Digits of the zero-padded index, so names sort in playlist order."""
    return max(MIN_INDEX_WIDTH, len(str(highest or 0)))


def numbered(
    options: DownloadOptions, index: int, width: int, title: str | None = None
) -> DownloadOptions:
    """The child's options: the parent's, with the download name prefixed by its index.

    Without a filename template of the user's, the name is the title the listing showed (a
    feed's item title, not the enclosure's file name the item page would give).
    """
    prefix = f"{index:0{width}d} - "
    if options.filename:
        body = options.filename
    elif title and title.strip():
        body = title.strip()[:TITLE_CHARS].replace("%", "%%")
    else:
        body = "%(title)s"
    template = prefix + body
    try:
        naming.template_fields(template)
    except ValueError:
        template = prefix + "%(title)s"
    return options.model_copy(update={"filename": template})


class ParentPipelines:
    """The three parent pipelines; ``extractors`` go ahead of yt-dlp's own (tests add fakes)."""

    def __init__(self, extractors: Sequence[ExtractorClass] = ()) -> None:
        self.extractors = tuple(extractors)

    def as_registry(self) -> dict[JobKind, Pipeline]:
        return {
            JobKind.PLAYLIST: self.playlist,
            JobKind.CHANNEL: self.channel,
            JobKind.BATCH: self.batch,
        }

    # -- the pipelines ------------------------------------------------------------------------
    def playlist(self, ctx: JobContext) -> Waiting:
        if _already_expanded(ctx):
            return WAITING
        options = ParentOptions.model_validate(ctx.options)
        selection = ItemSelection.parse(options.items)
        assert options.url is not None
        ctx.stage(JobStage.EXPANDING, "Listing the playlist.")
        with self._open(ctx, options.url) as listing:
            self._describe(ctx, listing.info.title, listing.info.entry_count)
            count = listing.info.entry_count
            if selection.needs_count and count is None:
                count = self._count(ctx, options.url)
            last = selection.last_index(count)

            def selected() -> Iterator[ChildSpec]:
                for entry in listing.entries():
                    if selection.contains(entry.index, count):
                        yield ChildSpec(entry.index, entry.url, entry.title)
                    if last is not None and entry.index >= last:
                        return  # a bounded selection never pages past its last item

            self._spawn(ctx, options, selected(), index_width(last or count))
        return WAITING

    def channel(self, ctx: JobContext) -> Waiting:
        if _already_expanded(ctx):
            return WAITING
        options = ParentOptions.model_validate(ctx.options)
        assert options.url is not None
        filters, sort = options.filters, options.sort
        needed = needed_fields(filters, sort)
        extracted: set[str] = set()
        ctx.stage(JobStage.EXPANDING, "Listing the channel.")
        with self._open(ctx, options.url) as listing:
            self._describe(
                ctx, listing.info.uploader or listing.info.title, listing.info.entry_count
            )

            def candidates() -> Iterator[ListedEntry]:
                for entry in listing.entries():
                    ctx.check_cancelled()
                    gone = missing_fields(entry, needed)
                    if gone:
                        extracted.update(after_extraction(filters, sort, gone))
                        entry = self._details(ctx, listing, entry)
                    if filters.accepts(entry):
                        yield entry

            chosen: Iterable[ListedEntry] = candidates()
            if sort is not None:
                chosen = sort_entries(chosen, sort)
            chosen = itertools.islice(chosen, options.limit)
            specs = (ChildSpec(rank, e.url, e.title) for rank, e in enumerate(chosen, start=1))
            width = index_width(options.limit or listing.info.entry_count)
            try:
                self._spawn(ctx, options, specs, width)
            finally:
                ctx.result["filters"] = {"after_extraction": sorted(extracted)}
        return WAITING

    def batch(self, ctx: JobContext) -> Waiting:
        if _already_expanded(ctx):
            return WAITING
        options = ParentOptions.model_validate(ctx.options)
        ctx.stage(JobStage.EXPANDING, "Queuing the URLs.")
        specs = (ChildSpec(i, url) for i, url in enumerate(options.urls, start=1))
        self._spawn(ctx, options, specs, index_width(len(options.urls)))
        return WAITING

    # -- shared steps ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _open(self, ctx: JobContext, url: str) -> Iterator[Listing]:
        """The listing, whose fetches stop as soon as the job is cancelled."""
        with (
            fetchlimits.scope(cancel=ctx.cancel),
            open_listing(url, settings=ctx.settings, extractors=self.extractors) as listing,
        ):
            yield listing

    def _count(self, ctx: JobContext, url: str) -> int:
        """Walk an unsized listing once just to count it (for negative indexes)."""
        last = 0
        with self._open(ctx, url) as listing:
            for entry in listing.entries():
                ctx.check_cancelled()
                last = entry.index
        ctx.result["entry_count"] = last
        return last

    @staticmethod
    def _details(ctx: JobContext, listing: Listing, entry: ListedEntry) -> ListedEntry:
        try:
            return listing.details(entry)
        except ClipmillError as exc:  # an item that cannot be read simply does not match
            ctx.log(f"item {entry.index} ({entry.url}): {exc.code}: {exc.message}", "warning")
            return entry

    @staticmethod
    def _describe(ctx: JobContext, title: str | None, count: int | None) -> None:
        if title and not ctx.job.title:
            ctx.set_title(title)
        if count is not None:
            ctx.result["entry_count"] = count

    def _spawn(
        self, ctx: JobContext, options: ParentOptions, specs: Iterable[ChildSpec], width: int
    ) -> None:
        """Create a child per spec after the highest index already created; fail on none."""
        base = options.download_options()
        existing = ctx.jobs.child_counts(ctx.job_id).total
        done_up_to = ctx.jobs.highest_child_index(ctx.job_id)
        created = 0
        try:
            for spec in specs:
                ctx.check_cancelled()
                if spec.index <= done_up_to:
                    continue
                ctx.jobs.create_child(
                    ctx.job,
                    JobKind.DOWNLOAD,
                    download_job_options(spec.url, numbered(base, spec.index, width, spec.title)),
                    item_index=spec.index,
                    source_url=spec.url,
                    title=spec.title,
                )
                created += 1
                if created % STAGE_EVERY == 0:
                    ctx.stage(JobStage.EXPANDING, f"{existing + created} items queued.")
        except JobCancelled:
            self._cancel_stragglers(ctx)
            raise
        total = existing + created
        ctx.result["items_created"] = total
        if total == 0:
            raise NoItems("No item matched the selection.")
        ctx.stage(JobStage.WAITING_FOR_ITEMS, f"{total} items queued.")

    @staticmethod
    def _cancel_stragglers(ctx: JobContext) -> None:
        """A child created while the user's cancel was on its way must not run on its own."""
        if ctx.jobs.load(ctx.job_id).status is JobStatus.CANCELLED:
            ctx.jobs.cancel_unfinished_children(ctx.job_id, "Cancelled with its playlist.")
        # else the pool is stopping, not a user: the parent resumes after a restart


def _already_expanded(ctx: JobContext) -> bool:
    """A retry or restart after a complete expansion only waits for the children again."""
    if not (ctx.job.result or {}).get("expanded"):
        return False
    ctx.stage(JobStage.WAITING_FOR_ITEMS, "Waiting for the items.")
    return True
