"""Topic segments by TextTiling (Hearst 1997) over TF-IDF sentence vectors.

At every gap between sentences we compare the block of ``window`` sentences before it with the
block after it. Where the talk moves on, the vocabulary changes and similarity drops into a
valley; a gap's *depth* is how far similarity climbs back up on both sides. Deep valleys become
boundaries, kept at least ``min_sentences`` apart. Chapter starts are always boundaries and the
tiling runs inside each chapter. Clips never cross these boundaries, so a clip keeps to one
subject and can stand alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from clipmill.shorts.sentences import Chapter, Sentence
from clipmill.shorts.vectors import TextModel


@dataclass(frozen=True)
class Topic:
    """A run of sentences about one thing: sentence indexes are inclusive."""

    index: int
    first_sentence: int
    last_sentence: int
    start: float
    end: float
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "first_sentence": self.first_sentence,
            "last_sentence": self.last_sentence,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "keywords": list(self.keywords),
        }


def gap_similarities(model: TextModel, lo: int, hi: int, window: int) -> np.ndarray:
    """Cosine similarity across each gap g in (lo, hi): blocks [g-window, g) vs [g, g+window)."""
    sims = np.zeros(max(0, hi - lo - 1))
    for offset, gap in enumerate(range(lo + 1, hi)):
        left = model.block_vector(max(lo, gap - window), gap)
        right = model.block_vector(gap, min(hi, gap + window))
        norm = float(np.linalg.norm(left) * np.linalg.norm(right))
        sims[offset] = float(left @ right) / norm if norm > 0 else 0.0
    return sims


def depth_scores(sims: np.ndarray) -> np.ndarray:
    """How deep each point sits below the nearest peaks on its left and right."""
    depths = np.zeros_like(sims)
    for i, value in enumerate(sims):
        left = i
        while left > 0 and sims[left - 1] >= sims[left]:
            left -= 1
        right = i
        while right < len(sims) - 1 and sims[right + 1] >= sims[right]:
            right += 1
        depths[i] = (sims[left] - value) + (sims[right] - value)
    return depths


def tile(
    model: TextModel,
    lo: int,
    hi: int,
    *,
    window: int,
    min_sentences: int,
    min_depth: float,
    pauses: Sequence[float] = (),
) -> list[int]:
    """Boundary sentence indexes (each starts a new topic) inside sentences [lo, hi).

    Equal depths (a flat valley) are broken by the longer pause: speakers breathe between
    subjects.
    """
    if hi - lo < 2 * min_sentences:
        return []
    sims = gap_similarities(model, lo, hi, window)
    if sims.size >= 3:  # light smoothing, as in Hearst: one noisy sentence is not a valley
        sims = np.convolve(np.pad(sims, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    depths = depth_scores(sims)
    valleys = [
        i
        for i in range(len(sims))
        if (i == 0 or sims[i] <= sims[i - 1]) and (i == len(sims) - 1 or sims[i] <= sims[i + 1])
    ]
    if not valleys:
        return []
    valley_depths = depths[valleys]
    cutoff = max(min_depth, float(valley_depths.mean() + 0.5 * valley_depths.std()))
    chosen: list[int] = []

    def pause_before(i: int) -> float:
        return pauses[lo + 1 + i] if lo + 1 + i < len(pauses) else 0.0

    for i in sorted(valleys, key=lambda v: (-round(float(depths[v]), 2), -pause_before(v))):
        boundary = lo + 1 + i
        if depths[i] < cutoff:
            break
        if boundary - lo < min_sentences or hi - boundary < min_sentences:
            continue
        if all(abs(boundary - other) >= min_sentences for other in chosen):
            chosen.append(boundary)
    return sorted(chosen)


def chapter_starts(sentences: Sequence[Sentence], chapters: Iterable[Any]) -> list[int]:
    """Indexes of the first sentence of each chapter (after the first)."""
    starts: set[int] = set()
    for chapter in chapters:
        begin = Chapter.coerce(chapter).start
        for sentence in sentences:
            if (sentence.start + sentence.end) / 2 >= begin:
                if sentence.index > 0:
                    starts.add(sentence.index)
                break
    return sorted(starts)


def segment_topics(
    sentences: Sequence[Sentence],
    model: TextModel,
    *,
    chapters: Iterable[Any] | None = None,
    window: int | None = None,
    min_sentences: int = 3,
    min_depth: float = 0.15,
) -> list[Topic]:
    """Split the sentences into topics; chapters are forced boundaries."""
    if not sentences:
        return []
    count = len(sentences)
    window = window or int(np.clip(round(count / 10), 2, 4))
    forced = chapter_starts(sentences, chapters or ())
    pauses = [s.pause_before for s in sentences]
    edges = [0, *forced, count]
    boundaries: list[int] = []
    for lo, hi in pairwise(edges):
        boundaries.append(lo)
        boundaries.extend(
            tile(model, lo, hi, window=window, min_sentences=min_sentences, min_depth=min_depth,
                 pauses=pauses)
        )  # fmt: skip
    boundaries = [*sorted(set(boundaries)), count]
    topics: list[Topic] = []
    for first, stop in pairwise(boundaries):
        topics.append(
            Topic(
                index=len(topics),
                first_sentence=first,
                last_sentence=stop - 1,
                start=sentences[first].start,
                end=sentences[stop - 1].end,
                keywords=tuple(model.keywords(first, stop, 5)),
            )
        )
    return topics
