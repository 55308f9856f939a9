"""Sentences rebuilt from word timestamps: the unit every clip starts and ends on.

Whisper's segments are decoding windows, not sentences (batched decoding makes them ~30 s long),
so we split the word stream ourselves: on terminal punctuation, on long pauses when punctuation
is missing, and always on chapter starts. Over-long runs are split at their widest pause so one
unpunctuated stretch cannot swallow a whole topic.

Whisper sometimes drops all punctuation for a decoding window and gives its words back to back,
with no gap between them. The pauses are still in the audio: given ``heard_pauses`` (the silence
heard at each word boundary, ``boundaries.heard_pauses``), a run without punctuation is split
before each capitalised word that follows a pause, which is where Whisper's sentences began.
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
RUN_LIMIT = 10.0  # an unpunctuated run longer than this is split at capitalised words
MIN_HEARD_PAUSE = 0.1  # seconds of silence before a capitalised word that starts a sentence
NOT_SENTENCE_STARTS = frozenset({"i", "i'm", "i've", "i'll", "i'd"})


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
    heard_pauses: Sequence[float] | None = None,
) -> list[Sentence]:
    """Group words into sentences; see the module docstring for the rules.

    ``heard_pauses[i]``: seconds of silence heard in the audio between words i and i+1.
    """
    if not words:
        return []
    gaps = [
        max(b.start - a.end, heard_pauses[i] if heard_pauses is not None else 0.0)
        for i, (a, b) in enumerate(pairwise(words))
    ]
    chapter_starts = sorted(Chapter.coerce(c).start for c in chapters or ())
    groups: list[list[int]] = [[0]]
    next_chapter = 0
    while next_chapter < len(chapter_starts) and chapter_starts[next_chapter] <= _mid(words[0]):
        next_chapter += 1
    for i in range(1, len(words)):
        split = ends_sentence(words[i - 1]) or gaps[i - 1] >= pause_boundary
        while next_chapter < len(chapter_starts) and chapter_starts[next_chapter] <= _mid(words[i]):
            split = True
            next_chapter += 1
        if split:
            groups.append([i])
        else:
            groups[-1].append(i)
    runs = [run for group in groups for run in _split_run(group, words, gaps, heard_pauses)]
    pieces = [
        [words[i] for i in piece]
        for run in runs
        for piece in _split_long(run, words, gaps, max_sentence_duration)
    ]
    return _assemble(pieces, duration if duration is not None else words[-1].end)


def _mid(word: Word) -> float:
    return (word.start + word.end) / 2


def _starts_like_a_sentence(word: Word) -> bool:
    text = word.text.lstrip("\"'(\u201c\u2018")
    bare = text.lower().replace("\u2019", "'").rstrip(",;:")
    return text[:1].isupper() and bare not in NOT_SENTENCE_STARTS


def _split_run(
    run: list[int], words: Sequence[Word], gaps: Sequence[float], heard: Sequence[float] | None
) -> list[list[int]]:
    """Split a long run without punctuation before capitalised words that follow a pause."""
    if words[run[-1]].end - words[run[0]].start <= RUN_LIMIT:
        return [run]
    pieces: list[list[int]] = [[run[0]]]
    for i in run[1:]:
        paused = heard is None or gaps[i - 1] >= MIN_HEARD_PAUSE
        if paused and _starts_like_a_sentence(words[i]):
            pieces.append([i])
        else:
            pieces[-1].append(i)
    return pieces


def _split_long(
    run: list[int], words: Sequence[Word], gaps: Sequence[float], limit: float
) -> list[list[int]]:
    """Split at the widest pause (commas and capitals count extra; ties: nearest the middle)
    until every piece fits in ``limit``."""
    if len(run) < 2 or words[run[-1]].end - words[run[0]].start <= limit:
        return [run]

    def gap_after(k: int) -> tuple[float, float]:
        i = run[k]
        credit = COMMA_PREFERENCE if words[i].text.rstrip().endswith((",", ";", ":")) else 0.0
        credit += COMMA_PREFERENCE if _starts_like_a_sentence(words[i + 1]) else 0.0
        return round(gaps[i] + credit, 2), -abs(k + 1 - len(run) / 2)

    cut = max(range(len(run) - 1), key=gap_after) + 1
    return _split_long(run[:cut], words, gaps, limit) + _split_long(run[cut:], words, gaps, limit)


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
