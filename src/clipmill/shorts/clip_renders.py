"""The generating_clips stage: every planned clip rendered, and one clip's failure contained.

Clips render ``render_concurrency`` at a time, each in its own killable child. A clip whose
render fails does not stop its siblings: it stays in clips.json marked failed, with the error's
code and message, and the job completes with the clips that rendered (the gallery offers to
render the failed one again). Only when every clip failed does the stage fail, with the first
clip's error. A cancel (or a newer attempt taking the job over) still stops every render.

A stage with a failed clip is not recorded as done, so a retry of the job (after a later
stage failed) runs it again: clips that rendered are taken over from the earlier clips.json
while their files are there, and only the failed ones are rendered again.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from clipmill.cancellation import CancelSignal
from clipmill.errors import ClipmillError, JobCancelled, RenderFailed, Superseded
from clipmill.shorts.artifacts import ArtifactStore
from clipmill.shorts.clip_files import clip_artifacts, safe_clip_id, write_clip_files
from clipmill.shorts.job_run import JobRun
from clipmill.shorts.job_schemas import ClipFailure, ClipStatus, PlannedClip

logger = logging.getLogger(__name__)

CLIPS_FILE = "clips.json"


@dataclass(frozen=True)
class _Failed:
    """A clip's render that raised: the clip as clips.json keeps it, and the error itself."""

    clip: PlannedClip
    error: BaseException


def generate_clips(run: JobRun) -> list[str] | None:
    """Render the planned clips; write clips.json. Returns the files written, or None when a
    clip failed (the stage then counts as not done; see the module docstring)."""
    analysis, transcript = run.store.read_json("analysis.json"), run.transcript()
    planned = [
        clip.model_copy(update={"clip_id": safe_clip_id(clip.clip_id, number)})
        for number, clip in enumerate(
            (PlannedClip.model_validate(c) for c in analysis.get("clips", [])), start=1
        )
    ]
    earlier = _rendered_before(run.store)
    source = run.store.path(run.metadata().media_file)
    board = _Board(run, len(planned))
    stop = _Stop(run.ctx.cancel)

    def render(index: int, clip: PlannedClip) -> PlannedClip:
        try:
            return write_clip_files(
                clip, store=run.store, transcript=transcript, source=source,
                options=run.options.shorts, renderer=run.seams.renderer, cancel=stop,
                on_progress=lambda fraction: board.report(index, fraction),
            )  # fmt: skip
        finally:
            board.finished(index)  # rendered or failed, it counts as finished

    outcomes: list[PlannedClip | _Failed | None] = [None] * len(planned)
    for index, clip in enumerate(planned):
        kept = earlier.get(clip.clip_id)
        if kept is not None and _same_span(kept, clip):
            outcomes[index] = kept
            board.finished(index)
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if todo:
        workers = max(1, min(run.ctx.settings.render_concurrency, len(todo)))
        with ThreadPoolExecutor(workers, thread_name_prefix="clipmill-render") as pool:
            futures = {i: pool.submit(render, i, planned[i]) for i in todo}
            for index, future in futures.items():
                outcomes[index] = _outcome(run, planned[index], future, stop)

    clips = [o.clip if isinstance(o, _Failed) else o for o in outcomes if o is not None]
    failures = [o for o in outcomes if isinstance(o, _Failed)]
    run.store.write_json(
        CLIPS_FILE,
        {"ranked_by": analysis.get("ranked_by"),
         "clips": [c.model_dump(mode="json") for c in clips]},
    )  # fmt: skip
    if failures and len(failures) == len(planned):
        first = failures[0].error
        if isinstance(first, ClipmillError):
            raise first
        raise RenderFailed(f"no clip rendered: {first!r}") from first
    if failures:
        run.ctx.log(
            f"{len(clips) - len(failures)} of {len(clips)} clips rendered; "
            f"{len(failures)} failed and can be rendered again.",
            "warning",
        )
        return None
    return [*(name for clip in clips for name in clip_artifacts(clip)), CLIPS_FILE]


def _outcome(
    run: JobRun, clip: PlannedClip, future: Future[PlannedClip], stop: _Stop
) -> PlannedClip | _Failed:
    """The rendered clip, or the failed one; a cancel or a takeover stops every render."""
    try:
        return future.result()
    except BaseException as exc:
        if not _contained(exc) or run.ctx.cancel.is_set():
            stop.set()  # the job is cancelled or no longer ours: the other renders stop too
            raise
        if isinstance(exc, ClipmillError):
            failure = ClipFailure(code=exc.code, message=exc.message)
        else:  # a bug of ours; the traceback goes to the server log, the reason to the user
            logger.exception("rendering clip %s failed", clip.clip_id)
            failure = ClipFailure(
                code=RenderFailed.code, message=f"unexpected error while rendering: {exc!r}"
            )
        run.ctx.log(f"Clip {clip.clip_id} did not render: {failure.message}", "warning")
        failed = clip.model_copy(
            update={"status": ClipStatus.FAILED, "error": failure, "assets": {}, "renditions": []}
        )
        return _Failed(failed, exc)


def _contained(exc: BaseException) -> bool:
    """Whether an error belongs to one clip (and not to the whole job)."""
    return isinstance(exc, Exception) and not isinstance(exc, JobCancelled | Superseded)


def _rendered_before(store: ArtifactStore) -> dict[str, PlannedClip]:
    """Clips an earlier attempt rendered whose files are all still there, by id."""
    if not store.path(CLIPS_FILE).is_file():
        return {}
    kept = {}
    for entry in store.read_json(CLIPS_FILE).get("clips", []):
        clip = PlannedClip.model_validate(entry)
        names = clip_artifacts(clip)
        present = bool(names) and all(store.path(name).is_file() for name in names)
        if clip.status is ClipStatus.READY and present:
            kept[clip.clip_id] = clip
    return kept


def _same_span(kept: PlannedClip, planned: PlannedClip) -> bool:
    return (kept.start_time, kept.end_time, kept.revision) == (
        planned.start_time,
        planned.end_time,
        planned.revision,
    )


class _Board:
    """The stage's progress over all clips: never backwards, and "Rendering clip N of M" with
    N one more than the clips finished, so two renders at once do not make it flicker."""

    def __init__(self, run: JobRun, count: int) -> None:
        self.run, self.count = run, count
        self.shares = [0.0] * count
        self.done = 0
        self.lock = threading.Lock()

    def report(self, index: int, fraction: float) -> None:
        with self.lock:
            self.shares[index] = max(self.shares[index], min(1.0, fraction))
        self._publish()

    def finished(self, index: int) -> None:
        with self.lock:
            self.shares[index] = 1.0
            self.done += 1
        if self.done < self.count:
            self._publish()

    def _publish(self) -> None:
        with self.lock:
            overall = sum(self.shares) / self.count
            number = min(self.done + 1, self.count)
        self.run.progress.report(overall, f"Rendering clip {number} of {self.count}.")


class _Stop:
    """The job's cancel signal, or a stop of our own once the job is cancelled or taken over."""

    def __init__(self, cancel: CancelSignal) -> None:
        self._cancel = cancel
        self._own = threading.Event()

    def set(self) -> None:
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or self._cancel.is_set()
