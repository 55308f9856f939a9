"""The staged pipelines of ``shorts`` (full_processing) and ``transcribe`` (transcribe_only) jobs.

Stages run in the order of `JobStage`; each one writes its outputs into the work dir through
`ArtifactStore` and is then marked done. A retry runs the pipeline again from the top, but every
stage that is already done is only announced (so live clients still see the whole sequence) and
skipped: a failure while analysing never transcribes again. ``retry(force=True)`` deletes the
work dir, so everything runs again. Files reach storage only in ``finalizing``, as copies, so
the work dir stays complete for the next retry.

Seams (``ctx.services``, i.e. `JobRunner.services`): ``transcriber`` (a `Transcriber`; default:
`WhisperTranscriber` for the job's model) and ``clip_planner`` (default: `plan_clips`). Tests
inject `FakeTranscriber` and planners that fail on purpose; production code has no such flags.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clipmill.errors import BrokenMedia
from clipmill.jobs.enums import JobKind, JobStage
from clipmill.pipeline.context import JobContext
from clipmill.shorts.artifacts import ArtifactStore, publish_results
from clipmill.shorts.job_schemas import (
    PlannedClip,
    ShortsJobOptions,
    SourceChapter,
    SourceMetadata,
    UploadRef,
)
from clipmill.shorts.job_service import check_media
from clipmill.shorts.transcribe import Transcriber, resolve_model
from clipmill.shorts.transcript import Transcript

if TYPE_CHECKING:  # the planner pulls in scikit-learn; only the analysing stage imports it
    from clipmill.shorts.clips import ClipPlan

#: `plan_clips`'s signature: (transcript, *, options, audio_path, chapters, ranker) -> ClipPlan
ClipPlanner = Callable[..., "ClipPlan"]

TRANSCRIBER = "transcriber"
CLIP_PLANNER = "clip_planner"

S = JobStage
#: stage -> share of the job's 0-100 progress; transcription dominates on real media
SHORTS_STAGES = ((S.INITIALIZING, 1), (S.DOWNLOADING, 15), (S.EXTRACTING_AUDIO, 4),
                 (S.TRANSCRIBING, 55), (S.ANALYZING, 12), (S.GENERATING_CLIPS, 8),
                 (S.FINALIZING, 5))  # fmt: skip
TRANSCRIBE_STAGES = ((S.INITIALIZING, 1), (S.DOWNLOADING, 20), (S.EXTRACTING_AUDIO, 5),
                     (S.TRANSCRIBING, 69), (S.FINALIZING, 5))  # fmt: skip
_ALWAYS_RUN = frozenset({S.INITIALIZING, S.FINALIZING})
_MESSAGES = {
    S.INITIALIZING: "Preparing.", S.DOWNLOADING: "Fetching the media.",
    S.EXTRACTING_AUDIO: "Extracting the audio.", S.TRANSCRIBING: "Transcribing.",
    S.ANALYZING: "Finding the moments worth clipping.",
    S.GENERATING_CLIPS: "Writing the clips' subtitles.", S.FINALIZING: "Storing the results.",
}  # fmt: skip
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class StageProgress:
    """Maps each stage's own 0..1 progress onto the job's 0..100 (weights per kind)."""

    def __init__(self, ctx: JobContext, weights: tuple[tuple[JobStage, int], ...]) -> None:
        total = sum(w for _, w in weights)
        starts = itertools.accumulate((w for _, w in weights), initial=0)  # one extra, the end
        self.spans = {  # stage -> (where it starts, how much it covers), in percent
            stage: (100.0 * start / total, 100.0 * weight / total)
            for (stage, weight), start in zip(weights, starts, strict=False)
        }
        self.ctx, self.current = ctx, weights[0][0]

    def enter(self, stage: JobStage, message: str) -> None:
        self.current = stage
        self.ctx.stage(stage, message, progress=round(self.spans[stage][0], 2))

    def report(self, fraction: float, message: str | None = None, **info: Any) -> None:
        self.ctx.check_cancelled()
        fraction = max(0.0, min(1.0, fraction))
        base, width = self.spans[self.current]
        self.ctx.progress(
            round(base + width * fraction, 2), message=message,
            stage_progress=round(100 * fraction, 1), **info,
        )  # fmt: skip


class ShortsPipeline:
    """The pipeline of one kind (`JobKind.SHORTS` or `JobKind.TRANSCRIBE`)."""

    def __init__(self, kind: JobKind) -> None:
        if kind not in (JobKind.SHORTS, JobKind.TRANSCRIBE):
            raise ValueError(f"no shorts pipeline for {kind.value}")
        self.kind = kind
        self.stages = SHORTS_STAGES if kind is JobKind.SHORTS else TRANSCRIBE_STAGES

    def __call__(self, ctx: JobContext) -> None:
        run = _Run(
            ctx=ctx,
            options=ShortsJobOptions.model_validate(ctx.options),
            store=ArtifactStore(ctx.workdir),
            progress=StageProgress(ctx, self.stages),
            kind=self.kind,
        )
        steps: dict[JobStage, Callable[[_Run], list[str]]] = {
            S.INITIALIZING: _initialize, S.DOWNLOADING: _fetch_source,
            S.EXTRACTING_AUDIO: _extract_audio, S.TRANSCRIBING: _transcribe,
            S.ANALYZING: _analyze, S.GENERATING_CLIPS: _generate_clips, S.FINALIZING: _finalize,
        }  # fmt: skip
        for stage, _weight in self.stages:
            if stage not in _ALWAYS_RUN and run.store.done(stage):
                run.progress.enter(stage, "Already done; reusing the stored result.")
                continue
            run.progress.enter(stage, _MESSAGES[stage])
            files = steps[stage](run)
            if stage not in _ALWAYS_RUN:
                run.store.mark_done(stage, files)


@dataclass(frozen=True)
class _Run:
    """One run of the pipeline: the job's context plus what its stages share."""

    ctx: JobContext
    options: ShortsJobOptions
    store: ArtifactStore
    progress: StageProgress
    kind: JobKind

    def metadata(self) -> SourceMetadata:
        return SourceMetadata.model_validate(self.store.read_json("source/metadata.json"))

    def transcript(self) -> Transcript:
        return Transcript.from_dict(self.store.read_json("transcript.json"))

    def transcriber(self) -> Transcriber:
        injected: Transcriber | None = self.ctx.services.get(TRANSCRIBER)
        if injected is not None:
            return injected
        from clipmill.shorts.isolated import IsolatedTranscriber

        return IsolatedTranscriber(self.options.shorts.whisper_model, settings=self.ctx.settings)


def _initialize(run: _Run) -> list[str]:
    """Fail fast on a Whisper model this server lacks, before fetching gigabytes."""
    if run.ctx.services.get(TRANSCRIBER) is None and not run.store.done(S.TRANSCRIBING):
        resolve_model(run.options.shorts.whisper_model, run.ctx.settings)
    return []


def _fetch_source(run: _Run) -> list[str]:
    """Download the URL (or take the upload), then write source/metadata.json."""
    upload = run.options.upload
    metadata = _take_upload(run, upload) if upload is not None else _download(run)
    if metadata.title:
        run.ctx.set_title(metadata.title)
    run.store.write_json("source/metadata.json", metadata.model_dump(mode="json"))
    return [metadata.media_file, "source/metadata.json"]


def _take_upload(run: _Run, upload: UploadRef) -> SourceMetadata:
    """Link the staged upload into the work dir. The staged file stays: it is the job's input,
    needed again when a forced retry (or a cancel) deletes the work dir."""
    staged = upload.path(run.ctx.settings)
    if staged is None or not staged.is_file():
        raise BrokenMedia("The uploaded file is gone; upload it again.", code="upload_missing")
    target = run.store.path(f"source/media{staged.suffix}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(staged, target)
    except OSError:  # another file system, or no hard links: copy
        shutil.copyfile(staged, target)
    probe = check_media(target, name=upload.filename)
    return SourceMetadata(
        media_file=f"source/{target.name}", title=run.ctx.job.title, duration=probe.duration,
        origin="upload", filename=upload.filename,
    )  # fmt: skip


def _download(run: _Run) -> SourceMetadata:
    from clipmill.media import isolation

    ctx, url = run.ctx, run.options.url or ""
    target = ctx.workdir / "download"
    shutil.rmtree(target, ignore_errors=True)  # a half-finished earlier attempt

    def on_progress(update: Any) -> None:
        info = {k: getattr(update, k) for k in ("downloaded_bytes", "total_bytes", "speed", "eta")
                if getattr(update, k, None) is not None}  # fmt: skip
        run.progress.report((update.percent or 0.0) / 100, update.message, **info)

    options = run.options.shorts.download_options(audio_only=run.kind is JobKind.TRANSCRIBE)
    result = isolation.run_download(
        url, options, target, settings=ctx.settings, on_progress=on_progress, on_log=ctx.log,
        cancel=ctx.cancel,
    )  # fmt: skip
    media = next((f for f in result.files if f.role == "media"), None) or next(
        (f for f in result.files if f.role == "audio"), None)  # fmt: skip
    if media is None:
        raise BrokenMedia("The download produced no media file.")
    probe = check_media(media.path, name=media.download_name)
    dest = run.store.path(f"source/media{media.path.suffix.lower()}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(media.path, dest)
    shutil.rmtree(target, ignore_errors=True)
    chapters = [SourceChapter(start=c.start, end=c.end, title=c.title or "")
                for c in result.info.chapters]  # fmt: skip
    return SourceMetadata(
        media_file=f"source/{dest.name}", title=result.info.title,
        duration=result.info.duration or probe.duration, chapters=chapters, origin="url",
        url=url, webpage_url=result.info.webpage_url,
    )  # fmt: skip


def _extract_audio(run: _Run) -> list[str]:
    from clipmill.media.ffmpeg import extract_audio

    metadata = run.metadata()
    duration = metadata.duration or 0.0
    extract_audio(
        run.store.path(metadata.media_file), run.store.path("audio.wav"),
        sample_rate=16_000, mono=True, cancel=run.ctx.cancel,
        on_progress=lambda seconds: run.progress.report(seconds / duration) if duration else None,
    )  # fmt: skip
    return ["audio.wav"]


def _transcribe(run: _Run) -> list[str]:
    from clipmill.shorts.subtitles import to_srt, to_text, to_vtt

    transcript = run.transcriber().transcribe(
        run.store.path("audio.wav"), language=run.options.shorts.language,
        on_progress=run.progress.report, cancel=run.ctx.cancel,
    )  # fmt: skip
    run.ctx.check_cancelled()
    run.ctx.log(f"Transcribed {len(transcript.words)} words ({transcript.language}).")
    run.store.write_json("transcript.json", transcript.to_dict())
    run.store.write_text("transcript.txt", to_text(transcript))
    run.store.write_text("transcript.srt", to_srt(transcript))
    run.store.write_text("transcript.vtt", to_vtt(transcript))
    return ["transcript.json", "transcript.txt", "transcript.srt", "transcript.vtt"]


def _analyze(run: _Run) -> list[str]:
    from clipmill.shorts.clips import ClipPlanOptions
    from clipmill.shorts.llm import LlmRanker
    from clipmill.shorts.plan import plan_clips

    shorts, transcript = run.options.shorts, run.transcript()
    planner: ClipPlanner = run.ctx.services.get(CLIP_PLANNER) or plan_clips
    options = ClipPlanOptions(
        clip_duration=shorts.clip_duration, min_clip_duration=shorts.min_clip_duration,
        max_clip_duration=shorts.max_clip_duration, overlap_duration=shorts.overlap_duration,
        max_clips=shorts.max_clips,
    )  # fmt: skip
    if not transcript.words:  # silence or music: the plan is simply empty
        run.ctx.log("No speech was recognised; no clips planned.", "warning")
    chapters = [(c.start, c.end, c.title) for c in run.metadata().chapters]
    plan = planner(transcript, options=options, audio_path=run.store.path("audio.wav"),
                   chapters=chapters, ranker=LlmRanker.from_settings(run.ctx.settings))  # fmt: skip
    analysis = plan.to_dict()
    run.progress.report(1.0)
    run.store.write_json("analysis.json", analysis)
    return ["analysis.json"]


def _generate_clips(run: _Run) -> list[str]:
    """Per-clip SRT/VTT timed from the clip's start; video rendering comes in a later stage."""
    from clipmill.shorts.subtitles import clip_subtitles, to_srt, to_vtt

    analysis, transcript = run.store.read_json("analysis.json"), run.transcript()
    planned = [PlannedClip.model_validate(c) for c in analysis.get("clips", [])]
    clips: list[dict[str, Any]] = []
    files: list[str] = []
    for index, clip in enumerate(planned, start=1):
        run.ctx.check_cancelled()
        name = clip.clip_id if _SAFE_ID.fullmatch(clip.clip_id) else f"clip-{index:02d}"
        cues = clip_subtitles(transcript, clip.start_time, clip.end_time)
        assets = {"srt": f"clips/{name}.srt", "vtt": f"clips/{name}.vtt"}
        run.store.write_text(assets["srt"], to_srt(cues))
        run.store.write_text(assets["vtt"], to_vtt(cues))
        files += assets.values()
        clips.append(clip.model_copy(update={"assets": assets}).model_dump(mode="json"))
        run.progress.report(index / len(planned))
    run.store.write_json("clips.json", {"ranked_by": analysis.get("ranked_by"), "clips": clips})
    return [*files, "clips.json"]


def _finalize(run: _Run) -> list[str]:
    run.ctx.result = publish_results(run.ctx, run.store, with_clips=run.kind is JobKind.SHORTS,
                                     on_progress=run.progress.report)  # fmt: skip
    return []
