"""What a download delivered, against what was asked: a quality preset is "at most N lines",
and a source without such a rendition gets the nearest one instead (yt-dlp's selector falls
back rather than failing). The user is told, in one sentence, instead of finding out later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clipmill.media.options import DownloadOptions


@dataclass(frozen=True)
class Delivered:
    """The picture a download delivered and, when it is not the asked quality, why."""

    width: int
    height: int
    note: str | None = None

    def as_result(self) -> dict[str, object]:
        return {"width": self.width, "height": self.height, "note": self.note}


def _offered(heights: Sequence[int]) -> str:
    names = [f"{h}p" for h in sorted(set(heights))]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def delivered(
    options: DownloadOptions, width: int, height: int, offered: Sequence[int] = ()
) -> Delivered:
    """``offered``: the heights the source listed (empty: only the delivered one is known).

    No note for "best", a raw format selector, audio, or a delivered height that meets the
    preset; a note when the source had nothing at or below the preset (the picture is larger)
    or nothing as large as it (the picture is smaller than asked).
    """
    asked = options.quality.max_height
    size = f"{width}x{height}"
    if asked is None or options.format or options.audio_only or height == asked:
        return Delivered(width, height)
    heights = sorted(set(offered) | {height})
    if height > asked:
        return Delivered(
            width,
            height,
            f"Asked {asked}p; the source offers only {_offered(heights)}, delivered {size}.",
        )
    if height >= max(heights):
        return Delivered(
            width,
            height,
            f"Asked {asked}p; the source offers at most {height}p, delivered {size}.",
        )
    return Delivered(width, height)
