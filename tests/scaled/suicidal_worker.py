"""`clipmill worker` with one test seam: a download whose URL names ``/suicide/`` SIGKILLs the
worker process running it (every time), as a job that crashes its interpreter would."""

from __future__ import annotations

import os
import signal
import sys

from clipmill.config import Settings
from clipmill.downloads.pipeline import DownloadPipeline
from clipmill.jobs.enums import JobKind
from clipmill.media.fetcher import IsolatedFetcher
from clipmill.pipeline.context import JobContext
from clipmill.queue.worker import run_worker


def main() -> int:
    settings = Settings()
    fetcher = IsolatedFetcher(settings)
    downloads = DownloadPipeline(fetcher)

    def pipeline(ctx: JobContext) -> None:
        if "/suicide/" in (ctx.job.source_url or ""):
            os.kill(os.getpid(), signal.SIGKILL)
        downloads(ctx)

    return run_worker(settings, fetcher=fetcher, pipelines={JobKind.DOWNLOAD: pipeline})


if __name__ == "__main__":
    sys.exit(main())
