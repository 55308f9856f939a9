"""The download pipeline: the media fetcher (yt-dlp in a killable child), then storage.

The job's bar is one number over the whole job: reading the page (0 %, with the stage saying
so), the download up to `DOWNLOAD_SHARE`, converting up to `CONVERT_SHARE`, storing to 100.
"""

from __future__ import annotations

from clipmill.jobs.enums import JobStage
from clipmill.media.delivered import delivered
from clipmill.media.fetcher import MediaFetcher
from clipmill.media.models import DownloadProgress
from clipmill.media.options import DownloadOptions
from clipmill.pipeline.context import JobContext

DOWNLOAD_SHARE = 90.0
CONVERT_SHARE = 98.0
_PROGRESS_FIELDS = (
    "downloaded_bytes",
    "total_bytes",
    "total_is_estimate",
    "speed",
    "eta",
    "fragment_index",
    "fragment_count",
)


class DownloadPipeline:
    """Runs one ``download`` job."""

    def __init__(self, fetcher: MediaFetcher) -> None:
        self.fetcher = fetcher

    def __call__(self, ctx: JobContext) -> None:
        url: str = ctx.options["url"]
        options = DownloadOptions.model_validate(ctx.options.get("download") or {})
        # yt-dlp reads the page (and its manifests) before a byte of media arrives: seconds on
        # a slow site, which must not read as a download stuck at 0 %
        ctx.stage(JobStage.PROBING, "Reading the page…", progress=0.0)
        tracker = _ProgressTracker(ctx)
        with ctx.cookie_file(options.cookies_id) as cookie_file:
            result = self.fetcher.download(
                url,
                options,
                ctx.workdir / "download",
                on_progress=tracker,
                on_log=ctx.log,
                cancel=ctx.cancel,
                # the same signal means "user cancelled" or "shutting down"; on shutdown the
                # .part must survive for the resume, and after a user's cancel the runner
                # deletes the work dir itself
                keep_partial_on_cancel=True,
                cookie_file=cookie_file,
            )
        if result.info.title:
            ctx.set_title(result.info.title)
        ctx.stage(JobStage.FINALIZING, "Storing the files…", progress=CONVERT_SHARE)
        names: set[str] = set()
        for file in result.files:
            ctx.save_file(
                file.path,
                role=file.role,
                name=_unique(file.download_name, names),
                content_type=file.content_type,
            )
        ctx.result = {
            "media": {
                "id": result.info.id,
                "title": result.info.title,
                "duration": result.info.duration,
                "uploader": result.info.uploader,
                "webpage_url": result.info.webpage_url,
                "extractor": result.info.extractor,
            }
        }
        picture = next((f for f in result.files if f.width and f.height), None)
        if picture is not None and picture.width and picture.height:
            got = delivered(options, picture.width, picture.height, result.info.heights)
            ctx.result["delivered"] = got.as_result()
            if got.note:
                ctx.log(got.note)


class _ProgressTracker:
    """Turns the fetcher's updates into job progress that never goes backwards.

    The fetcher's percent covers the download (every part of it); converting has its own
    share, with a percent when ffmpeg reports one (cutting sections) and none otherwise. A
    stage change clears what the previous stage showed: bytes, speed and time left belong to
    the download and would be stale numbers while ffmpeg converts.
    """

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.stage = JobStage.PROBING
        self.percent = 0.0
        self.message: str | None = None

    def __call__(self, update: DownloadProgress) -> None:
        converting = update.stage == "postprocessing"
        stage = JobStage.POSTPROCESSING if converting else JobStage.DOWNLOADING
        # stages only move forward: a late download tick never takes "Converting" back
        if _ORDER.index(stage) > _ORDER.index(self.stage):
            self.stage = stage
            self.ctx.stage(stage, update.message)
        if update.percent is not None:
            low, high = (DOWNLOAD_SHARE, CONVERT_SHARE) if converting else (0.0, DOWNLOAD_SHARE)
            self.percent = max(self.percent, low + (high - low) * update.percent / 100.0)
        elif converting:
            self.percent = max(self.percent, DOWNLOAD_SHARE)
        # converting: every download field null, so that no live view keeps a stale count
        fields: dict[str, object] = dict.fromkeys(_PROGRESS_FIELDS)
        if self.stage is not JobStage.POSTPROCESSING:
            fields = {n: getattr(update, n) for n in _PROGRESS_FIELDS}
            fields = {n: v for n, v in fields.items() if v is not None}
        # a new step ("part 2 of 2", "merging") is never lost to the throttle: a long ffmpeg
        # step sends nothing after its first tick
        changed = update.message is not None and update.message != self.message
        self.message = update.message or self.message
        self.ctx.progress(self.percent, message=update.message, force=changed, **fields)


_ORDER = (JobStage.PROBING, JobStage.DOWNLOADING, JobStage.POSTPROCESSING)


def _unique(name: str, taken: set[str]) -> str:
    """Two files of one job never share a download name (e.g. two sections)."""
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
    taken.add(candidate)
    return candidate
