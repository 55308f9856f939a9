"""The downloading stage of shorts jobs: the source media from a URL or from an upload."""

from __future__ import annotations

import shutil
from pathlib import PurePosixPath
from typing import Any

from clipmill.errors import BrokenMedia
from clipmill.jobs.enums import JobKind
from clipmill.shorts.job_run import JobRun
from clipmill.shorts.job_schemas import SourceChapter, SourceMetadata, UploadRef
from clipmill.shorts.job_service import check_media


def fetch_source(run: JobRun) -> list[str]:
    """Download the URL (or take the upload), then write source/metadata.json."""
    upload = run.options.upload
    metadata = _take_upload(run, upload) if upload is not None else _download(run)
    if metadata.title:
        run.ctx.set_title(metadata.title)
    run.store.write_json("source/metadata.json", metadata.model_dump(mode="json"))
    return [metadata.media_file, "source/metadata.json"]


def _take_upload(run: JobRun, upload: UploadRef) -> SourceMetadata:
    """Copy the job's stored upload into the work dir (a hard link where storage is local).

    The stored file stays: it is the job's input, needed again when a forced retry (or a
    cancel) deletes the work dir; the retention sweeper removes it in the end.
    """
    suffix = PurePosixPath(upload.key).suffix
    target = run.store.path(f"source/media{suffix}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    if not run.ctx.storage.exists(upload.key):
        raise BrokenMedia("The uploaded file is gone; upload it again.", code="upload_missing")
    run.ctx.storage.copy_to(upload.key, target)
    probe = check_media(target, name=upload.filename)
    return SourceMetadata(
        media_file=f"source/{target.name}",
        title=run.ctx.job.title,
        duration=probe.duration,
        origin="upload",
        filename=upload.filename,
    )


def _download(run: JobRun) -> SourceMetadata:
    ctx, url = run.ctx, run.options.url or ""
    # an earlier attempt's partial file stays: yt-dlp resumes it (and the fetcher first kills
    # whatever that attempt may have left running there)
    target = ctx.workdir / "download"

    def on_progress(update: Any) -> None:
        fields = ("downloaded_bytes", "total_bytes", "speed", "eta")
        info = {k: getattr(update, k) for k in fields if getattr(update, k, None) is not None}
        run.progress.report((update.percent or 0.0) / 100, update.message, **info)

    options = run.options.shorts.download_options(audio_only=run.kind is JobKind.TRANSCRIBE)
    with ctx.cookie_file(options.cookies_id) as cookie_file:
        result = run.seams.fetcher.download(
            url,
            options,
            target,
            on_progress=on_progress,
            on_log=ctx.log,
            cancel=ctx.cancel,
            # a stopping worker keeps the partial file for the resume; a user's cancel deletes
            # the work dir
            keep_partial_on_cancel=True,
            cookie_file=cookie_file,
        )
    media = result.by_role("media") or result.by_role("audio")
    if not media:
        raise BrokenMedia("The download produced no media file.")
    probe = check_media(media[0].path, name=media[0].download_name)
    dest = run.store.path(f"source/media{media[0].path.suffix.lower()}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(media[0].path, dest)
    shutil.rmtree(target, ignore_errors=True)
    chapters = [
        SourceChapter(start=c.start, end=c.end, title=c.title or "") for c in result.info.chapters
    ]
    return SourceMetadata(
        media_file=f"source/{dest.name}",
        title=result.info.title,
        duration=result.info.duration or probe.duration,
        chapters=chapters,
        origin="url",
        url=url,
        webpage_url=result.info.webpage_url,
    )
