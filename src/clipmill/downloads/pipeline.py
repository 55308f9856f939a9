"""The download pipeline: the media fetcher (yt-dlp in a killable child), then storage."""

from __future__ import annotations

from clipmill.jobs.enums import JobStage
from clipmill.media.fetcher import MediaFetcher
from clipmill.media.models import DownloadProgress
from clipmill.media.options import DownloadOptions
from clipmill.pipeline.context import JobContext

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
        ctx.stage(JobStage.DOWNLOADING, "Downloading.", progress=0.0)
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
        ctx.stage(JobStage.FINALIZING, "Storing files.")
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


class _ProgressTracker:
    """Turns the fetcher's updates into job progress that never goes backwards.

    yt-dlp reports each file of a download (video, then audio) from 0 %, and postprocessing
    ticks carry no percent at all; the job's bar holds its highest value instead of dropping.
    """

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.stage = JobStage.DOWNLOADING
        self.percent = 0.0

    def __call__(self, update: DownloadProgress) -> None:
        stage = (
            JobStage.POSTPROCESSING if update.stage == "postprocessing" else JobStage.DOWNLOADING
        )
        if stage is JobStage.POSTPROCESSING and self.stage is JobStage.DOWNLOADING:
            self.stage = stage
            self.ctx.stage(stage, update.message or "Postprocessing.")
        if update.percent is not None and stage is JobStage.DOWNLOADING:
            self.percent = max(self.percent, update.percent)
        info = {name: getattr(update, name, None) for name in _PROGRESS_FIELDS}
        self.ctx.progress(
            self.percent,
            message=update.message,
            **{k: v for k, v in info.items() if v is not None},
        )


def _unique(name: str, taken: set[str]) -> str:
    """Two files of one job never share a download name (e.g. two sections)."""
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
    taken.add(candidate)
    return candidate
