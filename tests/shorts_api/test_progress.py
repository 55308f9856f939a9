"""Progress that means something: stages weighted by their measured cost, a bar that never goes
back, one "Rendering clip N of M" that only counts up, and an estimate of the time left."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clipmill.cancellation import CancelSignal
from clipmill.jobs.enums import JobStage
from clipmill.shorts import job_pipeline
from clipmill.shorts.job_run import StageProgress
from clipmill.shorts.seams import RenderedClip, RenderRequest
from clipmill.shorts.testing import FakeRenderer
from tests.shorts_api.conftest import ShortsApp
from tests.shorts_api.test_pipeline import watch_over_websocket

OPTIONS = {"min_clip_duration": 10, "clip_duration": 25, "max_clip_duration": 45, "max_clips": 3}
STAGES_JS = Path(job_pipeline.__file__).parents[1] / "web/static/js/shorts/stages.js"


class FakeContext:
    """What StageProgress needs of a JobContext: stage changes and progress ticks, recorded."""

    def __init__(self) -> None:
        self.stages: list[tuple[JobStage, float | None]] = []
        self.ticks: list[tuple[float, dict[str, Any]]] = []

    def stage(self, stage: JobStage, message: str | None = None, progress: float | None = None):
        self.stages.append((stage, progress))

    def progress(self, percent: float, *, message: str | None = None, **info: Any) -> None:
        self.ticks.append((percent, info))

    def check_cancelled(self) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_heavy_stages_carry_the_bar_and_an_upload_fetches_in_no_time() -> None:
    upload = dict(job_pipeline.SHORTS_UPLOAD_STAGES)
    url = dict(job_pipeline.SHORTS_STAGES)
    total = sum(upload.values())
    # measured: transcription 38 % and rendering 59 % of an hour-long job (docs/benchmarks.md)
    assert (upload[JobStage.TRANSCRIBING] + upload[JobStage.GENERATING_CLIPS]) / total >= 0.9
    assert upload[JobStage.DOWNLOADING] / total <= 0.01 < url[JobStage.DOWNLOADING] / total


def test_the_web_stepper_mirrors_the_pipelines_weights() -> None:
    text = STAGES_JS.read_text()
    tables = {
        "shorts": job_pipeline.SHORTS_STAGES,
        "shorts_upload": job_pipeline.SHORTS_UPLOAD_STAGES,
        "transcribe": job_pipeline.TRANSCRIBE_STAGES,
        "transcribe_upload": job_pipeline.TRANSCRIBE_UPLOAD_STAGES,
    }
    for name, table in tables.items():
        found = re.search(rf"\n\s*{name}: \[(.*?)\]\],", text, re.S)
        assert found, name
        pairs = re.findall(r'\["(\w+)", (\d+)\]', found.group(1) + "]")
        assert [(s, int(w)) for s, w in pairs] == [(s.value, w) for s, w in table], name


def test_the_bar_never_goes_back_and_reused_stages_do_not_skew_the_estimate() -> None:
    ctx, clock = FakeContext(), Clock()
    progress = StageProgress(ctx, job_pipeline.SHORTS_UPLOAD_STAGES, clock=clock)  # type: ignore[arg-type]
    progress.enter(JobStage.INITIALIZING, "Preparing.")
    for stage in (JobStage.DOWNLOADING, JobStage.EXTRACTING_AUDIO, JobStage.TRANSCRIBING):
        progress.enter(stage, "Already done.", reused=True)  # a retry: 41 % in no time
    progress.enter(JobStage.ANALYZING, "Finding.")
    progress.report(1.0)
    progress.enter(JobStage.GENERATING_CLIPS, "Rendering.")
    progress.report(0.5)
    assert ctx.ticks[-1][1].get("eta") is None  # no time has passed: no estimate yet
    clock.now += 10
    progress.report(0.3)  # a stage that reports less than before
    percents = [p for p, _ in ctx.ticks]
    assert percents == sorted(percents)
    done = progress.percent
    # 10 s for the work that was not reused: initializing, analyzing, half the clips
    worked = done - (1 + 1 + 38)  # downloading, extracting_audio, transcribing
    assert ctx.ticks[-1][1]["eta"] == round(10 * (100 - done) / worked)
    progress.report(0.6, eta=3.0)  # a stage's own estimate (a download's) is not the job's
    assert ctx.ticks[-1][1]["eta"] != 3.0


class SlowRenderer(FakeRenderer):
    """Reports each clip's progress in small steps, so two clips' ticks interleave."""

    def render(
        self,
        request: RenderRequest,
        *,
        cancel: CancelSignal,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RenderedClip]:
        for step in range(1, 13):
            time.sleep(0.06)
            if on_progress is not None:
                on_progress(step / 13)
        return super().render(request, cancel=cancel, on_progress=None)


def test_rendering_clip_n_of_m_only_counts_up_while_two_clips_render(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    app = make_shorts_app(renderer=SlowRenderer(), render_concurrency=2)
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    messages = watch_over_websocket(app, job_id)

    assert messages[-1]["type"] == "job_completed"
    ticks = [
        m["data"]
        for m in messages
        if m["data"]["event"] == "progress" and m["data"]["stage"] == "generating_clips"
    ]
    numbers = [
        int(found.group(1))
        for t in ticks
        if (found := re.fullmatch(r"Rendering clip (\d) of 3\.", t["message"] or ""))
    ]
    assert len(numbers) >= 3
    assert numbers == sorted(numbers) and set(numbers) <= {1, 2, 3}
    percents = [t["progress"] for t in ticks]
    assert percents == sorted(percents)
