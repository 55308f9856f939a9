"""Clip spans on the output's frame grid: the arithmetic behind a clip of exactly the planned
length.

A planned clip starts and ends on word edges, which fall anywhere between two frames. ffmpeg's
``trim`` keeps every frame that *starts* before the end, so a span that is not a whole number of
frames comes out up to a frame longer (two, when a timestamp rounds the other way), and a check
against the unsnapped length fails a perfectly good clip. So the span is moved onto the grid of
the rate the clip is rendered at, before anything else uses it: the encode, the camera path, the
burned captions and the SRT/VTT files all see the same snapped span, and the length check
compares with a whole number of frames.

Rates are exact fractions: 29.97 fps is 30000/1001, not 29.97, so frame 10,000 of an NTSC clip
lands where ffmpeg puts it and not 0.3 ms away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

NTSC_DENOMINATOR = 1001
"""The largest denominator a frame rate is read with: 30000/1001, 24000/1001, 60000/1001."""

_EDGE = Fraction(1, 1_000_000)
"""Slack when a source's end is turned into a frame count: ffprobe prints microseconds."""


def frame_grid(fps: float) -> Fraction:
    """The exact rate behind ``fps``: 29.97002997... -> 30000/1001, 25.0 -> 25."""
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"not a frame rate: {fps!r}")
    return Fraction(fps).limit_denominator(NTSC_DENOMINATOR)


@dataclass(frozen=True)
class FrameSpan:
    """A clip as whole frames of ``rate``: ``count`` frames from frame number ``first``."""

    first: int
    count: int
    rate: Fraction

    @property
    def start(self) -> float:
        """Seconds into the source of the first frame."""
        return float(self.first / self.rate)

    @property
    def end(self) -> float:
        """Seconds into the source where the last frame ends."""
        return float((self.first + self.count) / self.rate)

    @property
    def duration(self) -> float:
        return float(self.count / self.rate)

    @property
    def frame(self) -> float:
        """Seconds one frame lasts."""
        return float(1 / self.rate)


def snap_span(
    start: float, end: float, rate: Fraction, *, source_end: float | None = None
) -> FrameSpan:
    """``[start, end)`` moved to the nearest frame edges of ``rate``: each edge moves by half a
    frame at most, except that the span keeps at least one frame and never runs past
    ``source_end`` (the last whole frame before it). Snapping a snapped span changes nothing.

    Raises ValueError for an empty or negative span, or a source shorter than one frame.
    """
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise ValueError(f"not a span: {start!r}-{end!r}")
    first = round(Fraction(start) * rate)
    last = max(round(Fraction(end) * rate), first + 1)
    if source_end is not None:
        frames = math.floor(Fraction(source_end) * rate + _EDGE)
        if frames < 1:
            raise ValueError(f"the source ({source_end:.3f} s) is shorter than a frame")
        last = min(last, frames)
        first = min(first, last - 1)
    return FrameSpan(first, last - first, rate)
