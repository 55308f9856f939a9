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

from collections.abc import Callable
from typing import TYPE_CHECKING

from clipmill.jobs.enums import JobKind, JobStage
from clipmill.media.fetcher import MediaFetcher
from clipmill.pipeline.context import JobContext
from clipmill.shorts.artifacts import ArtifactStore, publish_results
from clipmill.shorts.clip_renders import generate_clips
from clipmill.shorts.job_run import JobRun, ShortsSeams, StageProgress
from clipmill.shorts.job_schemas import ShortsJobOptions
from clipmill.shorts.seams import ClipPlanner, ClipRenderer, TranscriberFactory
from clipmill.shorts.sources import fetch_source

if TYPE_CHECKING:
    from clipmill.shorts.llm import ClipRanker

__all__ = ["ShortsPipeline"]

S = JobStage
Weights = tuple[tuple[JobStage, int], ...]
#: stage -> share of the job's progress, as each stage's measured share of the time
#: (docs/benchmarks.md, "an hour-long talk into ten vertical clips": transcribing 105.6 s of
#: 274.3 s = 38 %, generating_clips 160.6 s = 59 %, analyzing 6.4 s = 2 %, extracting_audio
#: 1.2 s, the rest 0.1 s), so the bar moves at about one speed and its rate makes a fair ETA.
#: Fetching an upload is a copy; fetching a URL depends on the site and was not measured:
#: 10 is a guess (an hour of 720p is 0.5-1 GB).
SHORTS_UPLOAD_STAGES: Weights = (
    (S.INITIALIZING, 1),
    (S.DOWNLOADING, 1),
    (S.EXTRACTING_AUDIO, 1),
    (S.TRANSCRIBING, 38),
    (S.ANALYZING, 2),
    (S.GENERATING_CLIPS, 56),
    (S.FINALIZING, 1),
)
SHORTS_STAGES: Weights = tuple(
    (s, 10 if s is S.DOWNLOADING else w) for s, w in SHORTS_UPLOAD_STAGES
)
#: the same measurements without the clip stages: transcription is nearly all of it
TRANSCRIBE_UPLOAD_STAGES: Weights = (
    (S.INITIALIZING, 1),
    (S.DOWNLOADING, 1),
    (S.EXTRACTING_AUDIO, 2),
    (S.TRANSCRIBING, 95),
    (S.FINALIZING, 1),
)
TRANSCRIBE_STAGES: Weights = tuple(
    (s, 10 if s is S.DOWNLOADING else w) for s, w in TRANSCRIBE_UPLOAD_STAGES
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
        self.seams = ShortsSeams(fetcher, transcribers, planner, renderer, ranker)

    def stages(self, options: ShortsJobOptions) -> Weights:
        """The stages of a job and their weights (an upload is fetched in no time)."""
        if self.kind is JobKind.SHORTS:
            return SHORTS_UPLOAD_STAGES if options.upload is not None else SHORTS_STAGES
        return TRANSCRIBE_UPLOAD_STAGES if options.upload is not None else TRANSCRIBE_STAGES

    def __call__(self, ctx: JobContext) -> None:
        options = ShortsJobOptions.model_validate(ctx.options)
        stages = self.stages(options)
        run = JobRun(
            ctx=ctx,
            options=options,
            store=ArtifactStore(ctx.workdir),
            progress=StageProgress(ctx, stages),
            kind=self.kind,
            seams=self.seams,
        )
        # a step returns the files it wrote, or None when it finished with a part to do again
        # on a retry (a clip that failed): such a stage is not recorded as done
        steps: dict[JobStage, Callable[[JobRun], list[str] | None]] = {
            S.INITIALIZING: _initialize,
            S.DOWNLOADING: fetch_source,
            S.EXTRACTING_AUDIO: _extract_audio,
            S.TRANSCRIBING: _transcribe,
            S.ANALYZING: _analyze,
            S.GENERATING_CLIPS: generate_clips,
            S.FINALIZING: _finalize,
        }
        for stage, _weight in stages:
            if stage not in _ALWAYS_RUN and run.store.done(stage):
                run.progress.enter(stage, "Already done; reusing the stored result.", reused=True)
                continue
            run.progress.enter(stage, _MESSAGES[stage])
            files = steps[stage](run)
            if stage not in _ALWAYS_RUN and files is not None:
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


def _finalize(run: JobRun) -> list[str]:
    run.ctx.result = publish_results(
        run.ctx, run.store, with_clips=run.kind is JobKind.SHORTS, on_progress=run.progress.report
    )
    return []
