"""The seams of the shorts pipeline, as the pipeline's constructor takes them.

* `TranscriberFactory`: a `Transcriber` for the model a job asks for (real: Whisper in a
  killable child; `clipmill.shorts.testing.FakeTranscribers` for tests);
* `ClipPlanner`: transcript -> clip plan (real: `clipmill.shorts.plan.plan_clips`);
* `ClipRanker` (`clipmill.shorts.llm`): the optional re-ranker, or None;
* `ClipRenderer`: a planned clip into finished videos and thumbnails, one per shape (real:
  `clipmill.shorts.render.clip.IsolatedRenderer`, in a killable child; `FakeRenderer` in tests).

The media fetcher (`clipmill.media.fetcher.MediaFetcher`) is the download pipeline's seam too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.shorts.job_schemas import AspectRatio, CaptionStyle, Framing, Resolution
from clipmill.shorts.transcribe import Transcriber, resolve_model
from clipmill.shorts.transcript import Transcript, Word

if TYPE_CHECKING:  # the planner pulls in scikit-learn; only the analysing stage imports it
    from clipmill.shorts.clips import ClipPlan, ClipPlanOptions
    from clipmill.shorts.llm import ClipRanker


class TranscriberFactory(Protocol):
    def check(self, model: str | None) -> None:
        """Raise `InvalidOption` for a model this server cannot load (before any download)."""
        ...

    def __call__(self, model: str | None, *, workdir: Path | None = None) -> Transcriber:
        """A transcriber for ``model`` (None: the server's default); ``workdir`` is the job's,
        where an isolated transcriber records (and fences) its child process."""
        ...


class ClipPlanner(Protocol):
    def __call__(
        self,
        transcript: Transcript,
        *,
        options: ClipPlanOptions | None = None,
        audio_path: Path | None = None,
        chapters: Sequence[Any] | None = None,
        ranker: ClipRanker | None = None,
    ) -> ClipPlan: ...


@dataclass(frozen=True)
class RenderRequest:
    """One clip to render in every shape it asks for."""

    source: Path
    """The source video (the job's downloaded or uploaded media)."""
    clip_id: str
    start: float
    end: float
    words: tuple[Word, ...]
    """The transcript's words inside the clip, with times in the source."""
    aspect_ratios: tuple[AspectRatio, ...]
    caption_style: CaptionStyle
    resolution: Resolution
    framing: Framing
    output_dir: Path
    """Where the files go (one dir per clip revision, inside the job's work dir); a rendering
    child process is recorded (and fenced) there."""


@dataclass(frozen=True)
class RenderedClip:
    """One shape of a rendered clip, as files in ``RenderRequest.output_dir``."""

    aspect_ratio: AspectRatio
    video: Path
    thumbnail: Path
    width: int
    height: int
    duration: float
    size: int
    start: float | None = None
    """Where in the source the video starts, when the renderer moved the asked span (onto
    the frame grid); None: exactly the asked span. The clip's SRT/VTT are timed from it."""
    end: float | None = None


class ClipRenderer(Protocol):
    def render(
        self,
        request: RenderRequest,
        *,
        cancel: CancelSignal,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RenderedClip]:
        """Render every shape of the clip (resuming: shapes already rendered with the same
        request are kept); ``on_progress`` gets 0..1."""
        ...


class WhisperTranscribers:
    """faster-whisper with the configured local models, each run in a killable child."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self, model: str | None) -> None:
        resolve_model(model, self.settings)

    def __call__(self, model: str | None, *, workdir: Path | None = None) -> Transcriber:
        from clipmill.shorts.isolated import IsolatedTranscriber

        return IsolatedTranscriber(model, settings=self.settings, workdir=workdir)


def default_planner() -> ClipPlanner:
    """`plan_clips`, imported only when a job reaches the analysing stage."""

    def plan(transcript: Transcript, **kwargs: Any) -> ClipPlan:
        from clipmill.shorts.plan import plan_clips

        return plan_clips(transcript, **kwargs)

    return plan
