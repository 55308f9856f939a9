"""The renderer as the pipeline uses it: shapes resume one by one, a cancel kills the child."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clipmill.config import Settings
from clipmill.errors import JobCancelled
from clipmill.shorts.job_schemas import AspectRatio, CaptionStyle, Framing, Resolution
from clipmill.shorts.render import clip as renderer_module
from clipmill.shorts.render.clip import IsolatedRenderer, render_shapes
from clipmill.shorts.render.compose import ClipComposer
from clipmill.shorts.seams import RenderRequest
from clipmill.shorts.transcript import Word
from tests.support.face_video import FaceVideo

pytestmark = pytest.mark.integration


def request_for(video: FaceVideo, out: Path, **changes: object) -> RenderRequest:
    values: dict[str, object] = {
        "source": video.path,
        "clip_id": "clip-01",
        "start": 1.0,
        "end": 4.0,
        "words": (Word(1.2, 1.6, "Hello"), Word(1.7, 2.3, "there.")),
        "aspect_ratios": (AspectRatio.VERTICAL, AspectRatio.SQUARE),
        "caption_style": CaptionStyle.BOLD,
        "resolution": Resolution.P480,
        "framing": Framing.FOLLOW,
        "output_dir": out,
    }
    values.update(changes)
    return RenderRequest(**values)  # type: ignore[arg-type]


def test_a_retry_renders_only_the_missing_or_changed_shapes(
    face_video: FaceVideo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[AspectRatio] = []
    original = ClipComposer.render

    def counting(self: ClipComposer, aspect: AspectRatio, **kwargs: object) -> object:
        rendered.append(aspect)
        return original(self, aspect, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ClipComposer, "render", counting)
    request = request_for(face_video, tmp_path / "r0")
    first = render_shapes(request)
    assert [r.aspect_ratio for r in first] == [AspectRatio.VERTICAL, AspectRatio.SQUARE]
    assert rendered == [AspectRatio.VERTICAL, AspectRatio.SQUARE]

    first[1].video.unlink()  # a shape lost (or never finished)
    again = render_shapes(request)
    assert rendered[2:] == [AspectRatio.SQUARE]
    assert again[0].video == first[0].video and again[0].size == first[0].size

    restyled = request_for(face_video, tmp_path / "r0", caption_style=CaptionStyle.MINIMAL)
    render_shapes(restyled)
    assert rendered[3:] == [AspectRatio.VERTICAL, AspectRatio.SQUARE]  # asked differently


def test_a_cancel_stops_the_renderer_child(face_video: FaceVideo, tmp_path: Path) -> None:
    cancel = threading.Event()
    progress: list[float] = []

    def report(fraction: float) -> None:
        progress.append(fraction)
        cancel.set()  # as soon as it is under way

    request = request_for(face_video, tmp_path / "r0", end=11.0)
    with pytest.raises(JobCancelled):
        IsolatedRenderer(Settings(_env_file=None)).render(  # type: ignore[call-arg]
            request, cancel=cancel, on_progress=report
        )
    assert progress
    # nothing half-written passes for done (a .part file may stay; it is written over)
    assert not (tmp_path / "r0" / "9x16.mp4").exists()
    assert not list((tmp_path / "r0").glob("*.json"))
    assert not (tmp_path / "r0" / ".child.json").exists()
    assert renderer_module.RENDER_VERSION >= 1
