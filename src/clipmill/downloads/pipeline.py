"""The download pipeline: yt-dlp in a killable child process, then files into storage."""

from __future__ import annotations

from typing import Any

from clipmill.jobs.enums import JobStage
from clipmill.media import isolation
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


def run_download(ctx: JobContext) -> None:
    url: str = ctx.options["url"]
    options = DownloadOptions.model_validate(ctx.options.get("download") or {})
    ctx.stage(JobStage.DOWNLOADING, "Downloading.", progress=0.0)
    current = {"stage": JobStage.DOWNLOADING}

    def on_progress(update: Any) -> None:
        stage = (
            JobStage.POSTPROCESSING if update.stage == "postprocessing" else JobStage.DOWNLOADING
        )
        if stage is JobStage.POSTPROCESSING and current["stage"] is JobStage.DOWNLOADING:
            current["stage"] = stage
            ctx.stage(stage, update.message or "Postprocessing.")
        info = {name: getattr(update, name, None) for name in _PROGRESS_FIELDS}
        percent = update.percent if update.percent is not None else 0.0
        ctx.progress(
            percent, message=update.message, **{k: v for k, v in info.items() if v is not None}
        )

    result = isolation.run_download(
        url,
        options,
        ctx.workdir / "download",
        settings=ctx.settings,
        on_progress=on_progress,
        on_log=ctx.log,
        cancel=ctx.cancel,
        # the same signal means "user cancelled" or "shutting down"; on shutdown the .part must
        # survive for the resume, and on a user cancel the runner deletes the work dir itself
        keep_partial_on_cancel=True,
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


def _unique(name: str, taken: set[str]) -> str:
    """Two files of one job never share a download name (e.g. two sections)."""
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"
    taken.add(candidate)
    return candidate
