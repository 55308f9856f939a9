"""The clip plan's value types: options in, planned clips out (analysis.json / clips.json)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clipmill.errors import InvalidOption
from clipmill.shorts.sentences import Sentence
from clipmill.shorts.topics import Topic


class RankSource(StrEnum):
    """Who decided the final order of the clips."""

    LOCAL = "local"  # the weighted sub-scores alone
    LLM = "llm"  # an OpenAI-compatible model re-ranked the local top candidates


@dataclass(frozen=True)
class ClipPlanOptions:
    """What the user asked for. Durations are seconds; invalid combinations raise InvalidOption."""

    clip_duration: float = 30.0
    min_clip_duration: float = 15.0
    max_clip_duration: float = 60.0
    overlap_duration: float = 0.0
    max_clips: int = 5
    padding: float = 0.1  # lead-in/out around speech, never more than half the pause there

    def __post_init__(self) -> None:
        def bad(name: str, message: str) -> InvalidOption:
            return InvalidOption(message, code="invalid_option", field=name)

        for name in ("clip_duration", "min_clip_duration", "max_clip_duration"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise bad(name, f"{name} must be a positive number of seconds")
        if self.min_clip_duration > self.max_clip_duration:
            raise bad("min_clip_duration", "min_clip_duration must not exceed max_clip_duration")
        if not self.min_clip_duration <= self.clip_duration <= self.max_clip_duration:
            raise bad("clip_duration", "clip_duration must lie between the min and max durations")
        if not 0 <= self.overlap_duration < self.min_clip_duration:
            raise bad("overlap_duration", "overlap_duration must be >= 0 and below the minimum")
        if not isinstance(self.max_clips, int) or not 1 <= self.max_clips <= 100:
            raise bad("max_clips", "max_clips must be an integer from 1 to 100")
        if not 0 <= self.padding <= 2:
            raise bad("padding", "padding must be between 0 and 2 seconds")


@dataclass(frozen=True)
class Clip:
    """One planned short: where to cut, what it says, why it was chosen."""

    clip_id: str
    title: str
    description: str
    start_time: float
    end_time: float
    transcript_segment: str
    score: float
    sub_scores: dict[str, float]
    explanations: dict[str, str]
    tags: tuple[str, ...]  # content lemmas, each once
    hashtags: tuple[str, ...]  # a ranker's suggestions beyond the tags; none locally
    reason: str  # a sentence for people; the numbers are in sub_scores
    first_sentence: int
    last_sentence: int
    topic: int

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip_id": self.clip_id,
            "title": self.title,
            "description": self.description,
            "start_time": round(self.start_time, 3),
            "end_time": round(self.end_time, 3),
            "duration": round(self.duration, 3),
            "transcript_segment": self.transcript_segment,
            "score": round(self.score, 4),
            "sub_scores": dict(self.sub_scores),
            "explanations": dict(self.explanations),
            "tags": list(self.tags),
            "hashtags": list(self.hashtags),
            "reason": self.reason,
            "first_sentence": self.first_sentence,
            "last_sentence": self.last_sentence,
            "topic": self.topic,
        }


@dataclass(frozen=True)
class ClipPlan:
    """Everything the analysis found: sentences, topics, how many candidates, and the clips."""

    options: ClipPlanOptions
    sentences: tuple[Sentence, ...]
    topics: tuple[Topic, ...]
    candidate_count: int
    clips: tuple[Clip, ...]
    ranked_by: RankSource = RankSource.LOCAL
    keywords: tuple[str, ...] = field(default=())
    note: str | None = None  # why there are fewer clips than asked ("The talk has 3 moments...")

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": {
                "clip_duration": self.options.clip_duration,
                "min_clip_duration": self.options.min_clip_duration,
                "max_clip_duration": self.options.max_clip_duration,
                "overlap_duration": self.options.overlap_duration,
                "max_clips": self.options.max_clips,
                "padding": self.options.padding,
            },
            "keywords": list(self.keywords),
            "sentences": [s.to_dict() for s in self.sentences],
            "topics": [t.to_dict() for t in self.topics],
            "candidate_count": self.candidate_count,
            "ranked_by": self.ranked_by.value,
            "note": self.note,
            "clips": [c.to_dict() for c in self.clips],
        }

    def clips_dict(self) -> dict[str, Any]:
        """The smaller document for clips.json."""
        return {"ranked_by": self.ranked_by.value, "clips": [c.to_dict() for c in self.clips]}
