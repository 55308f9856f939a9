"""Containers for parent-job tests: real parent pipelines (with the test-only extractors) and,
unless a test wants yt-dlp, a fake download pipeline that counts what runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clipmill.bootstrap import Container
from clipmill.errors import OriginError
from clipmill.jobs.enums import JobKind
from clipmill.media import naming
from clipmill.media.options import DownloadOptions
from clipmill.pipeline.context import JobContext
from clipmill.pipeline.runner import Pipeline
from tests.support.containers import make_container
from tests.support.feeds import TEST_EXTRACTORS


class FakeDownloads:
    """A download pipeline without the network: stores one small file named like a real one.

    It records every URL it ran, the most items ever running at once, fails URLs containing
    any of ``fail`` (as a 404 would), and holds items until ``hold`` is set, if given.
    """

    def __init__(
        self, *, fail: tuple[str, ...] = (), hold: threading.Event | None = None, delay: float = 0
    ) -> None:
        self.fail = fail
        self.hold = hold
        self.delay = delay
        self.runs: list[str] = []
        self.max_parallel = 0
        self._running = 0
        self._lock = threading.Lock()

    def __call__(self, ctx: JobContext) -> None:
        url: str = ctx.options["url"]
        with self._lock:
            self.runs.append(url)
            self._running += 1
            self.max_parallel = max(self.max_parallel, self._running)
        try:
            while self.hold is not None and not self.hold.wait(0.01):
                ctx.check_cancelled()
            time.sleep(self.delay)
            if any(marker in url for marker in self.fail):
                raise OriginError("the origin answered HTTP 404 Not Found", status=404)
            options = DownloadOptions.model_validate(ctx.options.get("download") or {})
            title = url.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            ctx.set_title(title)
            template = options.filename or "%(title)s"
            name = naming.safe_download_name(
                naming.render_template(template, {"title": title}), "mp4"
            )
            path = ctx.workdir / "media.mp4"
            path.write_bytes(f"bytes of {url}\n".encode())
            ctx.save_file(path, role="media", name=name, content_type="video/mp4")
        finally:
            with self._lock:
                self._running -= 1


ContainerFactory = Callable[..., Container]


@pytest.fixture
def parent_container(tmp_path: Path) -> Iterator[ContainerFactory]:
    """``parent_container(download=FakeDownloads(), **settings)``: a started container.

    ``download=None`` keeps the real download pipeline (yt-dlp in a child process).
    """
    made: list[Container] = []

    def make(
        download: Pipeline | None = None, *, start: bool = True, data_dir: Path | None = None,
        **settings: Any,
    ) -> Container:  # fmt: skip
        pipelines = {JobKind.DOWNLOAD: download} if download is not None else None
        container = make_container(
            data_dir or tmp_path / "data", pipelines, extractors=TEST_EXTRACTORS, **settings
        )
        if start:
            container.start()
        made.append(container)
        return container

    yield make
    for container in made:
        if container.started:
            container.stop()
