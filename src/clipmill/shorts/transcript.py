"""Transcript value types: what transcription produces and every later stage reads.

They are frozen and plain (floats and strings) so a pipeline can store ``transcript.json`` after
the expensive transcription and resume from it without running Whisper again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

ATTACHING = ("%", ".", ",", "!", "?", ";", ":", ")", "]", "}", "'s", "'re", "n't", "'ll", "\u2019")


def join_words(words: Iterable[Word]) -> str:
    """Words back into text: punctuation-only tokens such as "%" attach to the word before."""
    text = ""
    for word in words:
        if text and not word.text.startswith(ATTACHING):
            text += " "
        text += word.text
    return text


@dataclass(frozen=True)
class Word:
    """One recognised word. ``text`` carries its punctuation ("once?") but no leading space."""

    start: float
    end: float
    text: str
    probability: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "probability": round(self.probability, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            probability=float(data.get("probability", 1.0)),
        )


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as the recogniser chunked it; sentences are rebuilt from ``words``."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            words=tuple(Word.from_dict(w) for w in data.get("words", ())),
        )


@dataclass(frozen=True)
class Transcript:
    """The whole recognised speech of one media file."""

    language: str
    duration: float
    segments: tuple[Segment, ...] = ()

    @cached_property
    def words(self) -> tuple[Word, ...]:
        """All words in time order, across segments."""
        return tuple(word for segment in self.segments for word in segment.words)

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments if segment.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "duration": round(self.duration, 3),
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        return cls(
            language=str(data["language"]),
            duration=float(data["duration"]),
            segments=tuple(Segment.from_dict(s) for s in data.get("segments", ())),
        )
