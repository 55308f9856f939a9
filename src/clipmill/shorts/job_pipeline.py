"""The staged pipelines of ``shorts`` (full_processing) and ``transcribe`` (transcribe_only) jobs.

Stages run in the order of `JobStage`; each one writes its outputs into the work dir through
`ArtifactStore` and is then marked done. A retry runs the pipeline again from the top, but every
stage that is already done is only announced (so live clients still see the whole sequence) and
skipped: a failure while analysing never transcribes again. ``retry(force=True)`` deletes the
work dir, so everything runs again. Files reach storage only in ``finalizing``, as copies, so
the work dir stays complete for the next retry.

Seams are constructor arguments (see `clipmill.shorts.seams`): the media fetcher, the
transcriber factory, the clip planner and the optional ranker. Tests pass fakes and planners
that fail on purpose; production code has no such flags.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from clipmill.cancellation import CancelSignal
from clipmill.jobs.enums import JobKind, JobStage
from clipmill.media.fetcher import MediaFetcher
from clipmill.pipeline.context import JobContext
from clipmill.shorts.artifacts import ArtifactStore, publish_results
from clipmill.shorts.job_run import JobRun, ShortsSeams, StageProgress
from clipmill.shorts.job_schemas import PlannedClip, ShortsJobOptions
from clipmill.shorts.seams import ClipPlanner, ClipRenderer, TranscriberFactory
from clipmill.shorts.sources import fetch_source

if TYPE_CHECKING:
    from clipmill.shorts.llm import ClipRanker

__all__ = ["ShortsPipeline"]

S = JobStage
#: stage -> share of the job's 0-100 progress; transcription dominates on real media
SHORTS_STAGES = (
    (S.INITIALIZING, 1),
    (S.DOWNLOADING, 12),
    (S.EXTRACTING_AUDIO, 3),
    (S.TRANSCRIBING, 45),
    (S.ANALYZING, 5),
    (S.GENERATING_CLIPS, 30),
    (S.FINALIZING, 4),
)
TRANSCRIBE_STAGES = (
    (S.INITIALIZING, 1),
    (S.DOWNLOADING, 20),
    (S.EXTRACTING_AUDIO, 5),
    (S.TRANSCRIBING, 69),
    (S.FINALIZING, 5),
)
_ALWAYS_RUN = frozenset({S.INITIALIZING, S.FINALIZING})
_MESSAGES = {
    S.INITIALIZING: "Preparing.",
    S.DOWNLOADING: "Fetching the media.",
    S.EXTRACTING_AUDIO: "Extracting the audio.",
    S.TRANSCRIBING: "Transcribing.",
    S.ANALYZING: "Finding the moments worth clipping.",
    S.GENERATING_CLIPS: "Rendering the clips.",
    S.FINALIZING: "Storing the results.",
}


class ShortsPipeline:
    """The pipeline of one kind (`JobKind.SHORTS` or `JobKind.TRANSCRIBE`)."""

    def __init__(
        self,
        kind: JobKind,
        *,
        fetcher: MediaFetcher,
        transcribers: TranscriberFactory,
        planner: ClipPlanner,
        renderer: ClipRenderer,
        ranker: ClipRanker | None = None,
    ) -> None:
        if kind not in (JobKind.SHORTS, JobKind.TRANSCRIBE):
            raise ValueError(f"no shorts pipeline for {kind.value}")
        self.kind = kind
        self.stages = SHORTS_STAGES if kind is JobKind.SHORTS else TRANSCRIBE_STAGES
        self.seams = ShortsSeams(fetcher, transcribers, planner, renderer, ranker)

    def __call__(self, ctx: JobContext) -> None:
        run = JobRun(
            ctx=ctx,
            options=ShortsJobOptions.model_validate(ctx.options),
            store=ArtifactStore(ctx.workdir),
            progress=StageProgress(ctx, self.stages),
            kind=self.kind,
            seams=self.seams,
        )
        steps: dict[JobStage, Callable[[JobRun], list[str]]] = {
            S.INITIALIZING: _initialize,
            S.DOWNLOADING: fetch_source,
            S.EXTRACTING_AUDIO: _extract_audio,
            S.TRANSCRIBING: _transcribe,
            S.ANALYZING: _analyze,
            S.GENERATING_CLIPS: _generate_clips,
            S.FINALIZING: _finalize,
        }
        for stage, _weight in self.stages:
            if stage not in _ALWAYS_RUN and run.store.done(stage):
                run.progress.enter(stage, "Already done; reusing the stored result.")
                continue
            run.progress.enter(stage, _MESSAGES[stage])
            files = steps[stage](run)
            if stage not in _ALWAYS_RUN:
                run.store.mark_done(stage, files)


def _initialize(run: JobRun) -> list[str]:
    """Fail fast on a Whisper model this server lacks, before fetching gigabytes."""
    if not run.store.done(S.TRANSCRIBING):
        run.seams.transcribers.check(run.options.shorts.whisper_model)
    return []


def _extract_audio(run: JobRun) -> list[str]:
    from clipmill.media.tools import run_ffmpeg_operation

    metadata = run.metadata()
    duration = metadata.duration or 0.0
    # written under a temporary name and renamed: a half-written audio.wav never looks done
    partial = run.store.path("audio.partial.wav")
    run_ffmpeg_operation(
        "extract_audio",
        run.store.path(metadata.media_file),
        partial,
        sample_rate=16_000,
        mono=True,
        workdir=run.ctx.workdir,
        cancel=run.ctx.cancel,
        on_progress=lambda seconds: run.progress.report(seconds / duration) if duration else None,
    )
    partial.replace(run.store.path("audio.wav"))
    return ["audio.wav"]


def _transcribe(run: JobRun) -> list[str]:
    from clipmill.shorts.subtitles import to_srt, to_text, to_vtt

    transcribe = run.seams.transcribers(run.options.shorts.whisper_model, workdir=run.ctx.workdir)
    transcript = transcribe.transcribe(
        run.store.path("audio.wav"),
        language=run.options.shorts.language,
        on_progress=run.progress.report,
        cancel=run.ctx.cancel,
    )
    run.ctx.check_cancelled()
    run.ctx.log(f"Transcribed {len(transcript.words)} words ({transcript.language}).")
    run.store.write_json("transcript.json", transcript.to_dict())
    run.store.write_text("transcript.txt", to_text(transcript))
    run.store.write_text("transcript.srt", to_srt(transcript))
    run.store.write_text("transcript.vtt", to_vtt(transcript))
    return ["transcript.json", "transcript.txt", "transcript.srt", "transcript.vtt"]


def _analyze(run: JobRun) -> list[str]:
    from clipmill.shorts.clips import ClipPlanOptions

    shorts, transcript = run.options.shorts, run.transcript()
    options = ClipPlanOptions(
        clip_duration=shorts.clip_duration,
        min_clip_duration=shorts.min_clip_duration,
        max_clip_duration=shorts.max_clip_duration,
        overlap_duration=shorts.overlap_duration,
        max_clips=shorts.max_clips,
    )
    if not transcript.words:  # silence or music: the plan is simply empty
        run.ctx.log("No speech was recognised; no clips planned.", "warning")
    chapters = [(c.start, c.end, c.title) for c in run.metadata().chapters]
    plan = run.seams.planner(
        transcript,
        options=options,
        audio_path=run.store.path("audio.wav"),
        chapters=chapters,
        ranker=run.seams.ranker,
    )
    analysis = plan.to_dict()
    run.progress.report(1.0)
    run.store.write_json("analysis.json", analysis)
    return ["analysis.json"]


def _generate_clips(run: JobRun) -> list[str]:
    """Each planned clip's captions and, per shape, its video and thumbnail.

    Clips render ``render_concurrency`` at a time (each in its own killable child); a retry
    renders only what is missing, because the renderer keeps the shapes it finished.
    """
    from clipmill.shorts.clip_files import clip_artifacts, safe_clip_id, write_clip_files

    analysis, transcript = run.store.read_json("analysis.json"), run.transcript()
    planned = [
        clip.model_copy(update={"clip_id": safe_clip_id(clip.clip_id, number)})
        for number, clip in enumerate(
            (PlannedClip.model_validate(c) for c in analysis.get("clips", [])), start=1
        )
    ]
    source = run.store.path(run.metadata().media_file)
    shares = [0.0] * len(planned)
    lock = threading.Lock()
    stop = _Stop(run.ctx.cancel)

    def render(index: int, clip: PlannedClip) -> PlannedClip:
        def report(fraction: float) -> None:
            with lock:
                shares[index] = fraction
                done = sum(shares) / len(shares)
            run.progress.report(done, f"Rendering clip {index + 1} of {len(planned)}.")

        return write_clip_files(
            clip, store=run.store, transcript=transcript, source=source,
            options=run.options.shorts, renderer=run.seams.renderer, cancel=stop,
            on_progress=report,
        )  # fmt: skip

    clips: list[PlannedClip] = []
    if planned:
        workers = max(1, min(run.ctx.settings.render_concurrency, len(planned)))
        with ThreadPoolExecutor(workers, thread_name_prefix="clipmill-render") as pool:
            futures = [pool.submit(render, i, clip) for i, clip in enumerate(planned)]
            try:
                clips = [future.result() for future in futures]
            except BaseException:
                stop.set()  # one clip failed or the job was cancelled: the others stop too
                raise
    files = [name for clip in clips for name in clip_artifacts(clip)]
    run.store.write_json(
        "clips.json",
        {"ranked_by": analysis.get("ranked_by"),
         "clips": [c.model_dump(mode="json") for c in clips]},
    )  # fmt: skip
    return [*files, "clips.json"]


class _Stop:
    """The job's cancel signal, or a stop of our own when a sibling render failed."""

    def __init__(self, cancel: CancelSignal) -> None:
        self._cancel = cancel
        self._own = threading.Event()

    def set(self) -> None:
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or self._cancel.is_set()


def _finalize(run: JobRun) -> list[str]:
    run.ctx.result = publish_results(
        run.ctx, run.store, with_clips=run.kind is JobKind.SHORTS, on_progress=run.progress.report
    )
    return []
