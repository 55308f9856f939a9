"""Snap sentence edges onto the silences heard in the audio.

Whisper's timestamps are good to a few hundred milliseconds; the start of the first word after
a pause is typically late, which would cut a clip's first syllable. Around every sentence edge we
look for the longest silent run in a small window and move the edge to it: the end of a sentence
to where the silence begins, the start of the next to where speech resumes. Where the audio has
no clear pause (music, crosstalk) the Whisper times stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from clipmill.shorts.features import HOP_SECONDS, AudioFeatures
from clipmill.shorts.sentences import Sentence, retime
from clipmill.shorts.transcript import Word

SEARCH = 0.7  # seconds either side of Whisper's edge to look for the pause
MIN_SILENCE = 0.08  # shorter dips are stop consonants, not pauses
WORD_SEARCH = 0.3  # seconds either side of a word boundary when measuring the pause there


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) frame indexes of each run of True."""
    if mask.size == 0:
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _longest_pause(
    features: AudioFeatures, lo: float, hi: float, anchor: float
) -> tuple[float, float] | None:
    """The longest silent run in [lo, hi] (ties: nearest to ``anchor``), as times."""
    if hi - lo < MIN_SILENCE:
        return None
    runs = [
        (lo + a * HOP_SECONDS, lo + b * HOP_SECONDS)
        for a, b in _runs(features.silent(lo, hi))
        if (b - a) * HOP_SECONDS >= MIN_SILENCE
    ]
    if not runs:
        return None
    return max(runs, key=lambda r: (round(r[1] - r[0], 2), -abs((r[0] + r[1]) / 2 - anchor)))


def snap_to_silence(
    sentences: Sequence[Sentence], features: AudioFeatures, duration: float
) -> list[Sentence]:
    """Return the sentences with edges moved onto nearby pauses (words keep their times)."""
    if not sentences:
        return []
    bounds = [[s.start, s.end] for s in sentences]
    limit = min(duration, features.duration)
    first = sentences[0]
    pause = _longest_pause(
        features, max(0.0, first.start - SEARCH), first.start + min(SEARCH, first.duration / 2),
        first.start,
    )  # fmt: skip
    if pause is not None and pause[1] < first.end:
        bounds[0][0] = pause[1]
    for i in range(1, len(sentences)):
        left, right = sentences[i - 1], sentences[i]
        lo = max(left.end - SEARCH, left.start + left.duration / 2)
        hi = min(right.start + SEARCH, right.start + right.duration / 2)
        pause = _longest_pause(features, lo, hi, (left.end + right.start) / 2)
        if pause is not None:
            bounds[i - 1][1] = max(bounds[i - 1][0] + HOP_SECONDS, pause[0])
            bounds[i][0] = pause[1]
    last = sentences[-1]
    pause = _longest_pause(
        features, last.end - min(SEARCH, last.duration / 2), min(limit, last.end + SEARCH),
        last.end,
    )  # fmt: skip
    if pause is not None and pause[0] > bounds[-1][0]:
        bounds[-1][1] = pause[0]
    fixed = [(start, max(end, start + HOP_SECONDS)) for start, end in bounds]
    return retime(sentences, fixed, duration)


def heard_pauses(words: Sequence[Word], features: AudioFeatures) -> list[float]:
    """Seconds of silence heard at each boundary between consecutive words.

    Whisper may give a whole window of words back to back, with no gap where the speaker
    paused; the audio still has the pause, a little before or after Whisper's boundary.
    """
    pauses: list[float] = []
    for left, right in pairwise(words):
        lo = max(left.start, min(left.end, right.start) - WORD_SEARCH)
        hi = min(right.end, max(left.end, right.start) + WORD_SEARCH)
        pause = _longest_pause(features, lo, hi, (left.end + right.start) / 2)
        pauses.append(0.0 if pause is None else pause[1] - pause[0])
    return pauses
