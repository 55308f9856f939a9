"""Sentences rebuilt from word timestamps: the unit every clip starts and ends on.

Whisper's segments are decoding windows, not sentences (batched decoding makes them ~30 s long),
so we split the word stream ourselves: on terminal punctuation, on long pauses when punctuation
is missing, and always on chapter starts. Over-long runs are split at their widest pause so one
unpunctuated stretch cannot swallow a whole topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from clipmill.shorts.transcript import Word, join_words

TERMINAL = re.compile(r"[.?!]+[\"')\]\u201d\u2019\u00bb]*$")
ABBREVIATIONS = frozenset(
    {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "etc.", "e.g.", "i.e.", "jr.", "sr.",
     "no.", "approx.", "inc.", "ltd.", "u.s."}
)  # fmt: skip
COMMA_PREFERENCE = 0.3  # seconds of extra "pause" credited to a comma when forcing a split


@dataclass(frozen=True)
class Chapter:
    """A creator-provided chapter (e.g. from YouTube); its start is a hard sentence boundary."""

    start: float
    end: float
    title: str = ""

    @classmethod
    def coerce(cls, value: Chapter | Sequence[Any]) -> Chapter:
        if isinstance(value, Chapter):
            return value
        start, end, *rest = value
        return cls(float(start), float(end), str(rest[0]) if rest else "")


@dataclass(frozen=True)
class Sentence:
    """A run of words between two boundaries, with the silence around it."""

    index: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    pause_before: float
    pause_after: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "pause_before": round(self.pause_before, 3),
            "pause_after": round(self.pause_after, 3),
        }


def ends_sentence(word: Word) -> bool:
    """True when the word closes a sentence by punctuation (and is not a known abbreviation)."""
    text = word.text.strip()
    if not TERMINAL.search(text):
        return False
    if text.endswith(("...", "…")):
        return False  # trailing off, usually mid-thought; a long pause still splits it
    return text.lower() not in ABBREVIATIONS


def split_sentences(
    words: Sequence[Word],
    *,
    duration: float | None = None,
    chapters: Iterable[Chapter | Sequence[Any]] | None = None,
    pause_boundary: float = 1.2,
    max_sentence_duration: float = 20.0,
) -> list[Sentence]:
    """Group words into sentences; see the module docstring for the rules."""
    if not words:
        return []
    chapter_starts = sorted(Chapter.coerce(c).start for c in chapters or ())
    groups: list[list[Word]] = [[words[0]]]
    next_chapter = 0
    while next_chapter < len(chapter_starts) and chapter_starts[next_chapter] <= _mid(words[0]):
        next_chapter += 1
    for previous, word in pairwise(words):
        split = ends_sentence(previous) or word.start - previous.end >= pause_boundary
        while next_chapter < len(chapter_starts) and chapter_starts[next_chapter] <= _mid(word):
            split = True
            next_chapter += 1
        if split:
            groups.append([word])
        else:
            groups[-1].append(word)
    pieces = [piece for group in groups for piece in _split_long(group, max_sentence_duration)]
    return _assemble(pieces, duration if duration is not None else words[-1].end)


def _mid(word: Word) -> float:
    return (word.start + word.end) / 2


def _split_long(group: list[Word], limit: float) -> list[list[Word]]:
    """Split at the widest pause (commas count extra) until every piece fits in ``limit``."""
    if len(group) < 2 or group[-1].end - group[0].start <= limit:
        return [group]

    def gap_after(i: int) -> float:
        credit = COMMA_PREFERENCE if group[i].text.rstrip().endswith((",", ";", ":")) else 0.0
        return group[i + 1].start - group[i].end + credit

    cut = max(range(len(group) - 1), key=gap_after) + 1
    return _split_long(group[:cut], limit) + _split_long(group[cut:], limit)


def _assemble(groups: list[list[Word]], duration: float) -> list[Sentence]:
    sentences: list[Sentence] = []
    for index, group in enumerate(groups):
        before = group[0].start - (groups[index - 1][-1].end if index else 0.0)
        after = (groups[index + 1][0].start if index + 1 < len(groups) else duration) - group[
            -1
        ].end
        sentences.append(
            Sentence(
                index=index,
                start=group[0].start,
                end=group[-1].end,
                text=join_words(group),
                words=tuple(group),
                pause_before=max(0.0, before),
                pause_after=max(0.0, after),
            )
        )
    return sentences


def retime(
    sentences: Sequence[Sentence], bounds: Sequence[tuple[float, float]], duration: float
) -> list[Sentence]:
    """Return sentences with new (start, end) times and the pauses recomputed around them."""
    out: list[Sentence] = []
    for i, (sentence, (start, end)) in enumerate(zip(sentences, bounds, strict=True)):
        before = start - (bounds[i - 1][1] if i else 0.0)
        after = (bounds[i + 1][0] if i + 1 < len(bounds) else duration) - end
        out.append(
            Sentence(
                index=sentence.index,
                start=start,
                end=end,
                text=sentence.text,
                words=sentence.words,
                pause_before=max(0.0, before),
                pause_after=max(0.0, after),
            )
        )
    return out
