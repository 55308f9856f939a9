"""Fixtures for the shorts jobs API: a scripted "lecture" (fake transcript + matching media) and
an app whose workers start only when the test says so, so it can subscribe first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.bootstrap import Container
from clipmill.media.testing import FakeFetcher
from clipmill.shorts.seams import ClipPlanner, ClipRenderer
from clipmill.shorts.testing import (
    FakeRenderer,
    FakeTranscriber,
    FakeTranscribers,
    transcript_from_sentences,
)
from clipmill.shorts.transcribe import ProgressCallback
from clipmill.shorts.transcript import Transcript
from tests.support.api import api_client
from tests.support.containers import make_container, wait_for
from tests.support.talk import DEFAULT_SCRIPT
from tests.support.tone_video import tone_video

SENTENCES = [sentence for topic in DEFAULT_SCRIPT for sentence in topic.sentences]


@pytest.fixture(scope="session")
def lecture() -> Transcript:
    """The talk's script as a word-timed transcript (~2 min), three topics apart by pauses."""
    return transcript_from_sentences(SENTENCES, pauses={10: 1.5, 20: 1.5})


@pytest.fixture(scope="session")
def lecture_mp4(tmp_path_factory: pytest.TempPathFactory, lecture: Transcript) -> Path:
    """A tiny video whose audio has a tone exactly where the lecture's words are and silence
    between them, so the planner's pause detection agrees with the (fake) transcript."""
    return tone_video(tmp_path_factory.mktemp("lecture"), lecture)


class SlowTranscriber(FakeTranscriber):
    """FakeTranscriber that takes `delay` per segment, so progress ticks get published; it can
    also hold in the middle until `release` is set (or the job is cancelled)."""

    def __init__(self, transcript: Transcript, *, delay: float = 0.0, hold: bool = False) -> None:
        super().__init__(transcript)
        self.delay = delay
        self.holding = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        half = self.transcript.duration / 2

        def slowly(fraction: float) -> None:
            time.sleep(self.delay)
            if fraction * self.transcript.duration >= half and not self.release.is_set():
                self.holding.set()
                while not self.release.wait(0.01):
                    if cancel is not None and cancel.is_set():
                        break
            if on_progress is not None:
                on_progress(fraction)

        return super().transcribe(audio_path, language=language, on_progress=slowly, cancel=cancel)


@dataclass
class ShortsApp:
    """A started container (workers paused until `start_workers`) and a client for it."""

    container: Container
    client: TestClient
    transcriber: SlowTranscriber
    sources: dict[str, Path] = field(default_factory=dict)

    def serve(self, path: Path) -> str:
        """A URL the app's (fake) media fetcher answers with ``path``."""
        url = f"http://127.0.0.1:9/media/{len(self.sources)}/{path.name}"
        self.sources[url] = path
        return url

    def start_workers(self) -> None:
        self.container.queue.start(recover=False)

    def upload(
        self,
        path: Path,
        *,
        job_type: str = "full_processing",
        options: dict[str, Any] | None = None,
        filename: str | None = None,
        **fields: str,
    ) -> Any:
        data = {"job_type": job_type, "options": json.dumps(options or {}), **fields}
        with path.open("rb") as handle:
            return self.client.post(
                "/api/v1/jobs/upload",
                data=data,
                files={"file": (filename or path.name, handle, "video/mp4")},
            )

    def detail(self, job_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        terminal = {"completed", "failed", "cancelled"}
        wait_for(lambda: self.container.lifecycle.load(job_id).status.value in terminal, timeout)
        return self.detail(job_id)

    def uploads_left(self) -> list[Path]:
        """Upload bytes the server still holds after a retention sweep: requests being
        received, and jobs' stored inputs."""
        self.container.sweeper.sweep()
        settings = self.container.settings
        incoming = settings.data_dir / "incoming"
        held = sorted(p for p in incoming.rglob("*") if p.is_file()) if incoming.exists() else []
        return held + sorted(settings.files_dir.glob("*/upload/*"))


def _app_factory(root: Path, lecture: Transcript) -> Iterator[Callable[..., ShortsApp]]:
    """Yields ``make(**choices_and_settings) -> ShortsApp``; stops every app it made after."""
    built: list[tuple[Container, TestClient]] = []

    def make(
        *,
        delay: float = 0.0,
        hold: bool = False,
        planner: ClipPlanner | None = None,
        real_transcribers: bool = False,
        real_fetcher: bool = False,
        real_renderer: bool = False,
        renderer: ClipRenderer | None = None,
        **settings: Any,
    ) -> ShortsApp:
        transcriber = SlowTranscriber(lecture, delay=delay, hold=hold)
        sources: dict[str, Path] = {}
        container = make_container(
            root / f"data{len(built)}",
            fetcher=None if real_fetcher else FakeFetcher(sources),
            transcribers=None if real_transcribers else FakeTranscribers(transcriber),
            planner=planner,
            renderer=None if real_renderer else (renderer or FakeRenderer()),
            **settings,
        )
        container.start(workers=False, sweeper=False)
        client = api_client(container)
        client.__enter__()
        built.append((container, client))
        return ShortsApp(container, client, transcriber, sources)

    yield make
    for container, client in built:
        client.__exit__(None, None, None)
        container.stop()


@pytest.fixture
def make_shorts_app(tmp_path: Path, lecture: Transcript) -> Iterator[Callable[..., ShortsApp]]:
    """Build a ShortsApp; settings overrides as keyword arguments."""
    yield from _app_factory(tmp_path, lecture)


@pytest.fixture(scope="module")
def make_module_app(
    tmp_path_factory: pytest.TempPathFactory, lecture: Transcript
) -> Iterator[Callable[..., ShortsApp]]:
    """`make_shorts_app` for apps that several tests of a module share."""
    yield from _app_factory(tmp_path_factory.mktemp("apps"), lecture)


@pytest.fixture
def shorts_app(make_shorts_app: Callable[..., ShortsApp]) -> ShortsApp:
    return make_shorts_app()
