"""One planned clip into its finished shapes: the `ClipRenderer` the shorts pipeline uses.

`IsolatedRenderer` runs `render_shapes` in a killable child process (`clipmill.childproc`),
recorded in the job's work dir: a cancel kills the encoders at once, they die with the server,
and a new attempt kills an older attempt's renderer before it writes. Each finished shape leaves
a small ``<shape>.json`` beside its files naming the request it was rendered for, so a retry
renders only the shapes that are missing or were asked for differently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from clipmill.cancellation import CancelSignal
from clipmill.childproc import Emit, run_in_child
from clipmill.config import Settings
from clipmill.shorts.job_schemas import AspectRatio
from clipmill.shorts.seams import RenderedClip, RenderRequest

RENDER_VERSION = 2
"""Raised when the renderer's output changes, so older renders are not reused (2: spans on
the frame grid)."""


class IsolatedRenderer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def render(
        self,
        request: RenderRequest,
        *,
        cancel: CancelSignal,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RenderedClip]:
        def relay(kind: str, payload: Any) -> None:
            if kind == "progress" and on_progress is not None:
                on_progress(float(payload))

        result = run_in_child(
            "clipmill.shorts.render.clip:_render_in_child",
            (request,),
            cancel=cancel,
            on_message=relay,
            # fenced per clip: two clips render at once, and each must not kill the other
            workdir=request.output_dir,
        )
        assert isinstance(result, list)
        return result


def _render_in_child(emit: Emit, request: RenderRequest) -> list[RenderedClip]:
    return render_shapes(request, on_progress=lambda f: emit("progress", f))


def render_shapes(
    request: RenderRequest, *, on_progress: Callable[[float], None] | None = None
) -> list[RenderedClip]:
    """Render every shape of the clip, reusing shapes already rendered for this request."""
    from clipmill.shorts.render.compose import ClipComposer

    request.output_dir.mkdir(parents=True, exist_ok=True)
    composer = ClipComposer(request)
    out: list[RenderedClip] = []
    count = len(request.aspect_ratios)
    for number, aspect in enumerate(request.aspect_ratios):

        def shape_progress(fraction: float, number: int = number) -> None:
            if on_progress is not None:
                on_progress((number + fraction) / count)

        done = _reusable(request, aspect)
        if done is None:
            done = composer.render(aspect, on_progress=shape_progress)
            _remember(request, done)
        out.append(done)
        if on_progress is not None:
            on_progress((number + 1) / count)
    return out


def _fingerprint(request: RenderRequest, aspect: AspectRatio) -> str:
    facts = {
        "version": RENDER_VERSION,
        "source": str(request.source),
        "start": round(request.start, 3),
        "end": round(request.end, 3),
        "words": [(round(w.start, 3), round(w.end, 3), w.text) for w in request.words],
        "aspect": aspect.value,
        "style": request.caption_style.value,
        "resolution": request.resolution.value,
        "framing": request.framing.value,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _sidecar(request: RenderRequest, aspect: AspectRatio) -> Path:
    return request.output_dir / f"{aspect.value.replace(':', 'x')}.json"


def _reusable(request: RenderRequest, aspect: AspectRatio) -> RenderedClip | None:
    try:
        saved = json.loads(_sidecar(request, aspect).read_text())
    except (OSError, ValueError):
        return None
    if saved.get("fingerprint") != _fingerprint(request, aspect):
        return None
    rendered = RenderedClip(
        aspect_ratio=AspectRatio(saved["aspect_ratio"]),
        video=request.output_dir / saved["video"],
        thumbnail=request.output_dir / saved["thumbnail"],
        width=int(saved["width"]),
        height=int(saved["height"]),
        duration=float(saved["duration"]),
        size=int(saved["size"]),
        start=_seconds(saved.get("start")),
        end=_seconds(saved.get("end")),
    )
    if not (rendered.video.is_file() and rendered.thumbnail.is_file()):
        return None
    return rendered


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _remember(request: RenderRequest, rendered: RenderedClip) -> None:
    facts: dict[str, Any] = {
        **asdict(rendered),
        "aspect_ratio": rendered.aspect_ratio.value,
        "video": rendered.video.name,
        "thumbnail": rendered.thumbnail.name,
        "fingerprint": _fingerprint(request, rendered.aspect_ratio),
    }
    path = _sidecar(request, rendered.aspect_ratio)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(facts))
    partial.replace(path)
