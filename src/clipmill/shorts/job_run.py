"""What the stages of one shorts/transcribe job share: its options, artifacts and progress."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
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
    """Maps each stage's own 0..1 progress onto the job's 0..100 (weights per kind), and adds
    an estimate of the seconds left (``eta``).

    The job's progress never goes backwards, whatever a stage reports. The estimate is the
    rate of this attempt so far, applied to what is left: the weights are each stage's
    measured share of the time, so the rate is about even over the stages. Stages reused from
    an earlier attempt jump the bar without taking time and are left out of the rate. No
    estimate for the first seconds, while the rate means little.
    """

    ETA_AFTER_SECONDS = 5.0
    ETA_AFTER_PERCENT = 1.0

    def __init__(
        self,
        ctx: JobContext,
        weights: tuple[tuple[JobStage, int], ...],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        total = sum(w for _, w in weights)
        starts = itertools.accumulate((w for _, w in weights), initial=0)  # one extra, the end
        self.spans = {  # stage -> (where it starts, how much it covers), in percent
            stage: (100.0 * start / total, 100.0 * weight / total)
            for (stage, weight), start in zip(weights, starts, strict=False)
        }
        self.ctx, self.current = ctx, weights[0][0]
        self.percent = 0.0
        self._clock = clock
        self._began: float | None = None
        self._reused = 0.0  # percent of the bar covered by reused stages

    def enter(self, stage: JobStage, message: str, *, reused: bool = False) -> None:
        """Announce ``stage``; ``reused``: its result is taken from an earlier attempt."""
        self.current = stage
        start, width = self.spans[stage]
        if self._began is None:
            self._began = self._clock()
            self._reused = self.percent = start
        if reused:
            self._reused += width
        self.percent = max(self.percent, start)
        self.ctx.stage(stage, message, progress=round(self.percent, 2))

    def report(self, fraction: float, message: str | None = None, **info: Any) -> None:
        self.ctx.check_cancelled()
        fraction = max(0.0, min(1.0, fraction))
        base, width = self.spans[self.current]
        self.percent = max(self.percent, base + width * fraction)
        info.pop("eta", None)  # a stage's own estimate (the download's) is not the job's
        eta = self.eta()
        if eta is not None:
            info["eta"] = eta
        self.ctx.progress(
            round(self.percent, 2),
            message=message,
            stage_progress=round(100 * fraction, 1),
            **info,
        )

    def eta(self) -> float | None:
        """Seconds left at this attempt's rate so far; None while that rate means little."""
        if self._began is None:
            return None
        elapsed = self._clock() - self._began
        worked = self.percent - self._reused
        if elapsed < self.ETA_AFTER_SECONDS or worked < self.ETA_AFTER_PERCENT:
            return None
        return round(elapsed * (100.0 - self.percent) / worked)


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
