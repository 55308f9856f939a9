"""What the stages of one shorts/transcribe job share: its options, artifacts and progress."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clipmill.jobs.enums import JobKind, JobStage
from clipmill.media.fetcher import MediaFetcher
from clipmill.pipeline.context import JobContext
from clipmill.shorts.artifacts import ArtifactStore
from clipmill.shorts.job_schemas import ShortsJobOptions, SourceMetadata
from clipmill.shorts.seams import ClipPlanner, ClipRenderer, TranscriberFactory
from clipmill.shorts.transcript import Transcript

if TYPE_CHECKING:
    from clipmill.shorts.llm import ClipRanker


@dataclass(frozen=True)
class ShortsSeams:
    """What the shorts pipeline was built with (see `clipmill.shorts.seams`)."""

    fetcher: MediaFetcher
    transcribers: TranscriberFactory
    planner: ClipPlanner
    renderer: ClipRenderer
    ranker: ClipRanker | None


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
            round(base + width * fraction, 2),
            message=message,
            stage_progress=round(100 * fraction, 1),
            **info,
        )


@dataclass(frozen=True)
class JobRun:
    """One run of the pipeline: the job's context plus what its stages share."""

    ctx: JobContext
    options: ShortsJobOptions
    store: ArtifactStore
    progress: StageProgress
    kind: JobKind
    seams: ShortsSeams

    def metadata(self) -> SourceMetadata:
        return SourceMetadata.model_validate(self.store.read_json("source/metadata.json"))

    def transcript(self) -> Transcript:
        return Transcript.from_dict(self.store.read_json("transcript.json"))
