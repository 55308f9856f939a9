"""Which pipeline runs which kind. Imported lazily so the API does not pay for whisper at start."""

from __future__ import annotations

from clipmill.jobs.enums import JobKind
from clipmill.pipeline.runner import Pipeline


def default_pipelines() -> dict[JobKind, Pipeline]:
    from clipmill.downloads.pipeline import run_download
    from clipmill.playlists.expand import parent_pipelines
    from clipmill.shorts.job_pipeline import ShortsPipeline

    return {
        JobKind.DOWNLOAD: run_download,
        JobKind.SHORTS: ShortsPipeline(JobKind.SHORTS),
        JobKind.TRANSCRIBE: ShortsPipeline(JobKind.TRANSCRIBE),
        **parent_pipelines(),
    }
