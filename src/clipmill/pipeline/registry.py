"""Which pipeline runs which kind. Imported lazily so the API does not pay for whisper at start."""

from __future__ import annotations

from clipmill.jobs.enums import JobKind
from clipmill.pipeline.runner import Pipeline


def default_pipelines() -> dict[JobKind, Pipeline]:
    from clipmill.downloads.pipeline import run_download

    return {JobKind.DOWNLOAD: run_download}
