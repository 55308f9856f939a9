"""Clip spans on the frame grid: the arithmetic (a property test over many random spans at the
seven common rates), and real renders of spans that are not whole frames, which must all pass
the length check (before the spans were snapped, about 1 in 10 of them failed it)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clipmill.errors import RenderFailed
from clipmill.shorts.job_schemas import AspectRatio, Resolution
from clipmill.shorts.render.encode import _check, length_tolerance, render_clip
from clipmill.shorts.render.frames import FrameSpan, frame_grid, snap_span

RATES = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "60": Fraction(60),
}
EPS = 1e-6  # float seconds against exact fractions


@pytest.mark.parametrize("rate", RATES.values(), ids=RATES.keys())
def test_a_rate_read_as_a_float_is_the_exact_fraction(rate: Fraction) -> None:
    assert frame_grid(float(rate)) == rate


def _on_grid(seconds: float, rate: Fraction) -> bool:
    frames = seconds * float(rate)
    return abs(frames - round(frames)) < 1e-6 * max(1.0, frames)


@settings(max_examples=5000, deadline=None)
@given(
    rate=st.sampled_from(list(RATES.values())),
    start=st.floats(0, 4 * 3600, allow_nan=False),
    length=st.floats(0.0005, 300, allow_nan=False),
    tail=st.none() | st.floats(-300, 300, allow_nan=False),
)
def test_a_snapped_span_is_whole_frames_near_the_asked_one_and_inside_the_source(
    rate: Fraction, start: float, length: float, tail: float | None
) -> None:
    end = start + length
    assume(end > start)
    source_end = None if tail is None else end + tail
    frame = float(1 / rate)
    assume(source_end is None or source_end - start >= frame)  # the clip starts in the source

    span = snap_span(start, end, rate, source_end=source_end)

    assert span.count >= 1  # never empty
    assert _on_grid(span.start, rate) and _on_grid(span.end, rate)
    assert span.first == round(span.start * rate) and span.duration == pytest.approx(
        span.count * frame
    )
    if source_end is not None:
        assert span.end <= source_end + EPS  # never past the source's end
        assert span.end > source_end - frame - EPS or span.end >= end - frame / 2 - EPS
    # within half a frame of the source's end, the last whole frame before it ends the span
    clamped = source_end is not None and end > source_end - frame / 2
    if not clamped and length >= frame:
        # each edge within half a frame of the asked one, so the span within one frame of it
        assert abs(span.start - start) <= frame / 2 + EPS
        assert abs(span.end - end) <= frame / 2 + EPS
    else:
        assert abs(span.start - start) <= frame + EPS or span.end == pytest.approx(
            span.start + frame
        )
    # the renderer snaps what the composer snapped: nothing moves a second time
    assert snap_span(span.start, span.end, rate, source_end=source_end) == span


def test_no_span_outside_what_a_source_has() -> None:
    with pytest.raises(ValueError):
        snap_span(2.0, 1.0, Fraction(25))
    with pytest.raises(ValueError):
        snap_span(0.0, 1.0, Fraction(25), source_end=0.01)  # not one frame long


@pytest.mark.parametrize("rate", RATES.values(), ids=RATES.keys())
def test_the_length_check_allows_the_encoders_rounding_but_not_a_wrong_clip(
    rate: Fraction,
) -> None:
    for seconds in (0.5, 1.0, 15.0, 60.0, 180.0):
        span = snap_span(1.0, 1.0 + seconds, rate)
        tolerance = length_tolerance(span, 48_000)
        assert tolerance >= 2 * span.frame + 2 * 1024 / 48_000  # two frames, two AAC frames
        assert tolerance < span.duration / 3  # half the length is far outside


# --- real renders --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """4 s of a test pattern and a tone at each rate, 320x180 (small: these tests are about
    time, not pictures)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    root = tmp_path_factory.mktemp("frame-rates")
    made = {}
    for name, rate in RATES.items():
        path = root / f"{name}.mp4"
        subprocess.run(
            [ffmpeg, "-nostdin", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc=s=320x180:r={rate.numerator}/{rate.denominator}:d=4",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:d=4",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
             "-shortest", str(path)],
            check=True,
        )  # fmt: skip
        made[name] = path
    return made


def _video_frames(path: Path) -> int:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return int(json.loads(out)["streams"][0]["nb_read_packets"])


@pytest.mark.integration
@pytest.mark.parametrize("name", RATES.keys())
def test_random_spans_that_are_not_whole_frames_render_at_every_rate(
    name: str, sources: dict[str, Path], tmp_path: Path
) -> None:
    rate = RATES[name]
    frame = float(1 / rate)
    picks = random.Random(f"spans at {name}")  # the same spans every run
    for number in range(4):
        start = picks.uniform(0.0, 1.8)
        end = start + picks.uniform(0.6, 2.0)
        output = tmp_path / f"{number}.mp4"

        rendered = render_clip(
            sources[name], output, start=start, end=end,
            aspect=AspectRatio.VERTICAL, resolution=Resolution.P480,
        )  # fmt: skip

        assert abs(rendered.start - start) <= frame / 2 + EPS
        assert abs(rendered.end - end) <= frame / 2 + EPS
        span = snap_span(start, end, rate)
        assert _video_frames(output) == span.count  # exactly the span's frames
        assert abs(rendered.duration - span.duration) <= 0.005


@pytest.mark.integration
def test_a_clip_of_the_wrong_length_is_our_render_failure(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    output = tmp_path / "clip.mp4"
    rendered = render_clip(sources["25"], output, start=0.52, end=1.52,
                           aspect=AspectRatio.SQUARE, resolution=Resolution.P480)  # fmt: skip
    twice = FrameSpan(first=13, count=50, rate=Fraction(25))  # planned 2 s, rendered 1 s

    with pytest.raises(RenderFailed) as failed:
        _check(output, size=(rendered.width, rendered.height), span=twice, audio_rate=48_000)
    assert failed.value.code == "render_failed"
    assert "1.000 s long, planned 2.000 s" in failed.value.message
