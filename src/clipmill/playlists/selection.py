"""Playlist item selection in yt-dlp's syntax: ``1-3,7,10:``, ``-5:``, ``::2``, ``-1``.

Each comma-separated part is an index (``7``; ``-1`` is the last item) or a range
``[START][:|-][END][:STEP]`` with both ends included, as ``--playlist-items`` reads it.
Negative numbers count from the end, so they need the playlist's length; everything else can be
decided item by item while the listing streams, and a bounded selection also says where the
listing may stop (``last_index``) so ``1-3`` of a 5,000-item channel reads one page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from clipmill.errors import InvalidOption

MAX_SPEC_LENGTH = 1000

_PART = re.compile(
    r"(?P<start>[+-]?\d+)?(?P<range>[:-](?P<end>[+-]?\d+|inf(?:inite)?)?(?::(?P<step>[+-]?\d+))?)?"
)


@dataclass(frozen=True)
class _Part:
    start: int | None
    end: float | None  #: inclusive; inf for an open end
    step: int
    is_range: bool

    @property
    def needs_count(self) -> bool:
        negative = (self.start is not None and self.start < 0) or (
            self.end is not None and self.end < 0
        )
        # a backwards range without a start begins at the last item
        return negative or (self.is_range and self.step < 0 and self.start is None)

    def bounds(self, count: int | None) -> tuple[float, float, int]:
        """(first, stop, step) as 0-based positions, stop exclusive, mirroring yt-dlp."""
        n = count if count is not None else 0
        if not self.is_range:
            assert self.start is not None
            first = self.start - 1 if self.start >= 0 else n + self.start
            return first, first + 1, 1
        step = self.step
        if self.start is None:
            begin: float = 0 if step > 0 else n - 1
        else:
            begin = self.start - 1 if self.start >= 0 else n + self.start
        if self.end is None:
            stop = math.inf if step > 0 else 0
        else:
            stop = self.end - 1 if self.end >= 0 else n + self.end
        stop += 1 if step > 0 else -1
        return begin, stop, step

    def contains(self, position: int, count: int | None) -> bool:
        first, stop, step = self.bounds(count)
        if step > 0:
            return first <= position < stop and (position - first) % step == 0
        return stop < position <= first and (first - position) % -step == 0


@dataclass(frozen=True)
class ItemSelection:
    """A parsed selection; ``ItemSelection.parse(None)`` selects everything."""

    text: str | None
    parts: tuple[_Part, ...]

    @classmethod
    def parse(cls, text: str | None) -> ItemSelection:
        """Parse ``text``; InvalidOption naming the bad part when it is not valid."""
        if text is None or not text.strip():
            return cls(None, ())
        text = text.replace(" ", "")
        if len(text) > MAX_SPEC_LENGTH:
            raise InvalidOption(f"items is longer than {MAX_SPEC_LENGTH} characters.")
        parts = []
        for segment in text.split(","):
            match = _PART.fullmatch(segment)
            if not segment or not match or not (match["start"] or match["range"]):
                raise InvalidOption(
                    f"items: {segment!r} is not an index or range (examples: 1-3,7,10: or -5:)."
                )
            step = int(match["step"]) if match["step"] else 1
            if step == 0:
                raise InvalidOption(f"items: the step in {segment!r} cannot be zero.")
            end = match["end"]
            parts.append(
                _Part(
                    start=int(match["start"]) if match["start"] else None,
                    end=math.inf if end and end.startswith("inf") else (int(end) if end else None),
                    step=step,
                    is_range=bool(match["range"]),
                )
            )
        return cls(text, tuple(parts))

    @property
    def selects_all(self) -> bool:
        return not self.parts

    @property
    def needs_count(self) -> bool:
        """True when the playlist's length must be known first (negative indexes)."""
        return any(part.needs_count for part in self.parts)

    def contains(self, index: int, count: int | None = None) -> bool:
        """Whether 1-based ``index`` is selected (``count`` is required if ``needs_count``)."""
        if self.selects_all:
            return True
        if self.needs_count and count is None:
            raise ValueError("this selection needs the playlist length")
        if count is not None and index > count:
            return False
        return any(part.contains(index - 1, count) for part in self.parts)

    def last_index(self, count: int | None = None) -> int | None:
        """The highest index that can be selected, or None when the selection is open-ended."""
        if self.selects_all:
            return count
        highest = 0.0
        for part in self.parts:
            first, stop, step = part.bounds(count)
            highest = max(highest, stop if step > 0 else first + 1)  # 0-based stop == 1-based
        if math.isinf(highest):
            return count
        return int(highest) if count is None else min(int(highest), count)
