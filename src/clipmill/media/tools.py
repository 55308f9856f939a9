"""ffmpeg work of a job, in a killable child that dies with the server.

An ffmpeg the server starts itself keeps running when the server is SIGKILLed: it would go on
writing into the work dir while the next attempt writes the same file. So a pipeline's ffmpeg
work (extracting audio; later, rendering) runs in a `clipmill.childproc` child: the lifeline
kills the child's process group (ffmpeg included) when the server dies, and the child is
recorded in the work dir so a new attempt kills one that is somehow still there (`fence`).

``operation`` names a function of `clipmill.media.ffmpeg` that takes ``on_progress``,
``cancel`` and ``new_session`` keywords; it is called in the child with ``new_session=False``,
so its ffmpeg stays in the child's process group.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from clipmill.cancellation import CancelSignal
from clipmill.childproc import Emit, run_in_child

ALLOWED = frozenset({"extract_audio", "cut_section", "make_thumbnail"})


def run_ffmpeg_operation(
    operation: str,
    *args: Any,
    workdir: Path,
    cancel: CancelSignal,
    on_progress: Callable[[float], None] | None = None,
    **kwargs: Any,
) -> Any:
    """``clipmill.media.ffmpeg.<operation>(*args, **kwargs)`` in a killable child."""
    if operation not in ALLOWED:
        raise ValueError(f"not an isolated ffmpeg operation: {operation}")

    def relay(kind: str, payload: Any) -> None:
        if kind == "progress" and on_progress is not None:
            on_progress(float(payload))

    return run_in_child(
        "clipmill.media.tools:_operation_in_child",
        (operation, args, kwargs),
        cancel=cancel,
        on_message=relay,
        workdir=workdir,
    )


def _operation_in_child(
    emit: Emit, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    from clipmill.media import ffmpeg

    function = getattr(ffmpeg, operation)
    if operation == "make_thumbnail":
        return function(*args, new_session=False, **kwargs)
    return function(
        *args, on_progress=lambda seconds: emit("progress", seconds), new_session=False, **kwargs
    )
