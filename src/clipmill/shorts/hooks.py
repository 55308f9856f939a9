"""Lexical cues for how a clip opens: hooks that grab a viewer, and openings that dangle.

A short has a second or two to earn attention, and a viewer who lands in it has no context. So
the first sentence matters most: a question, a concrete number, a bold claim or a direct "you"
pull people in, while an opening "and", "so" or "he" points back at something they never saw.
English word lists, kept small and readable on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD = re.compile(r"[A-Za-z0-9%$']+")

DANGLING_OPENERS = frozenset(
    {"and", "so", "but", "or", "because", "this", "that", "these", "those", "he", "she", "it",
     "they", "him", "her", "them", "his", "its", "their", "then", "also", "which", "plus",
     "anyway", "too"}
)  # fmt: skip
NUMBER_WORDS = frozenset(
    {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
     "hundred", "thousand", "million", "billion", "percent", "half", "twice", "double", "triple",
     "dozen"}
)  # fmt: skip
CLAIM_WORDS = frozenset(
    {"never", "always", "every", "everyone", "nobody", "best", "worst", "biggest", "fastest",
     "secret", "mistake", "mistakes", "truth", "wrong", "ruin", "ruins", "must", "guaranteed",
     "instantly", "actually", "surprising", "shocking", "only", "simple", "easiest",
     "important", "myth", "lie", "dangerous", "amazing", "incredible", "proven"}
)  # fmt: skip
YOU_WORDS = frozenset({"you", "your", "you're", "yourself", "you'll", "you've"})
WH_OPENERS = frozenset({"what", "why", "how", "who", "which"})
AUXILIARIES = frozenset(
    {"did", "do", "does", "have", "has", "can", "could", "would", "will", "is", "are", "was",
     "were", "should", "ever"}
)  # fmt: skip
SUBJECTS = frozenset(
    {"you", "we", "i", "they", "it", "he", "she", "this", "that", "there", "anyone", "your"}
)  # fmt: skip

# points each cue adds to the hook score (capped at 1)
QUESTION_POINTS = 0.4
NUMBER_POINTS = 0.3
YOU_POINTS = 0.25
CLAIM_POINTS = 0.25
LONG_OPENING_WORDS = 28  # a hook that takes this long to say loses some punch


@dataclass(frozen=True)
class HookCues:
    """Which hook cues an opening sentence has, and the resulting score."""

    question: bool
    number: bool
    you: bool
    claim: bool
    score: float

    def describe(self) -> str:
        cues = [
            name
            for name, present in (
                ("a question", self.question),
                ("a number", self.number),
                ("a direct 'you'", self.you),
                ("a strong claim", self.claim),
            )
            if present
        ]
        if not cues:
            return "opens without a question, number, claim or 'you'"
        return "opens with " + (
            ", ".join(cues[:-1]) + " and " + cues[-1] if len(cues) > 1 else cues[0]
        )


def tokens(text: str) -> list[str]:
    return [t.lower().strip("'") for t in WORD.findall(text)]


def hook_cues(sentence: str) -> HookCues:
    words = tokens(sentence)
    # recognisers often drop the "?", so the word order counts too ("Did you...", "Why...")
    question = (
        sentence.rstrip().rstrip("\"')\u201d\u2019").endswith("?")
        or (bool(words) and words[0] in WH_OPENERS)
        or (len(words) > 1 and words[0] in AUXILIARIES and words[1] in SUBJECTS)
    )
    number = any(w[:1].isdigit() or w in NUMBER_WORDS or "%" in w or "$" in w for w in words)
    you = any(w in YOU_WORDS for w in words)
    claim = any(w in CLAIM_WORDS for w in words)
    score = (
        QUESTION_POINTS * question
        + NUMBER_POINTS * number
        + YOU_POINTS * you
        + CLAIM_POINTS * claim
    )
    if len(words) > LONG_OPENING_WORDS:
        score *= 0.7
    return HookCues(question, number, you, claim, min(1.0, score))


def dangling_opener(sentence: str) -> str | None:
    """The first word if it leans on earlier context ("And...", "He..."), else None."""
    words = tokens(sentence)
    if words and words[0] in DANGLING_OPENERS:
        return words[0]
    return None
