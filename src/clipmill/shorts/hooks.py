"""Lexical cues for how a clip opens: hooks that grab a viewer, and openings that dangle.

A short has a second or two to earn attention, and a viewer who lands in it has no context. So
the first sentence matters most: a question, a concrete number, a surprising claim ("most people
get this wrong"), a lead-in that promises a payoff ("Here is the shocking part:") or a direct
"you" pull people in, while an opening "and", "so" or "he" points back at something they never
saw. A lead-in is judged together with the sentence it announces. English word lists, kept
small and readable on purpose.
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
# openers that carry on the sentence before ("..., and since then..."): Whisper often puts a
# full stop at the pause before them, and a clip that stops there cuts the thought in half
CONTINUING_OPENERS = frozenset(
    {"and", "but", "or", "nor", "because", "which", "while", "whereas", "although", "though",
     "unless"}
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
# the words of a surprising claim, as opposed to ones that only sound emphatic ("always")
STRONG_CLAIM_WORDS = frozenset(
    {"nobody", "biggest", "worst", "secret", "secrets", "mistake", "mistakes", "truth", "wrong",
     "ruin", "ruins", "surprising", "shocking", "myth", "lie", "lies", "dangerous", "trick",
     "incredible", "proven", "guaranteed", "instantly", "insane", "crazy", "unbelievable"}
)  # fmt: skip
STRONG_CLAIM_PHRASES = ("most people", "no one", "nobody tells", "completely wrong",
                        "the truth", "the secret", "the biggest")  # fmt: skip
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
STRONG_CLAIM_POINTS = 0.45  # "Most people get this completely wrong." holds a viewer alone
TEASER_POINTS = 0.45  # a lead-in ("Here is the shocking part:") promises what comes next
LONG_OPENING_WORDS = 28  # a hook that takes this long to say loses some punch


@dataclass(frozen=True)
class HookCues:
    """Which hook cues an opening sentence has, and the resulting score."""

    question: bool
    number: bool
    you: bool
    claim: bool
    score: float
    strong_claim: bool = False
    teaser: bool = False

    def describe(self) -> str:
        cues = [
            name
            for name, present in (
                ("a question", self.question),
                ("a number", self.number),
                ("a direct 'you'", self.you),
                ("a surprising claim" if self.strong_claim else "a strong claim", self.claim),
                ("a lead-in that announces a payoff", self.teaser),
            )
            if present
        ]
        if not cues:
            return "opens without a question, number, claim, lead-in or 'you'"
        return "opens with " + (
            ", ".join(cues[:-1]) + " and " + cues[-1] if len(cues) > 1 else cues[0]
        )


def tokens(text: str) -> list[str]:
    return [t.lower().strip("'") for t in WORD.findall(text)]


def hook_cues(sentence: str, payoff: str | None = None) -> HookCues:
    """The hook cues of an opening sentence. ``payoff``: the sentence a lead-in announces
    ("Here is the shocking part:" -> "most people never..."); the two are judged as one."""
    words = tokens(sentence)
    # recognisers often drop the "?", so the word order counts too ("Did you...", "Why...")
    question = (
        sentence.rstrip().rstrip("\"')\u201d\u2019").endswith("?")
        or (bool(words) and words[0] in WH_OPENERS)
        or (len(words) > 1 and words[0] in AUXILIARIES and words[1] in SUBJECTS)
    )
    teaser = payoff is not None
    both = words + tokens(payoff) if payoff is not None else words
    text = " ".join(both)
    number = any(w[:1].isdigit() or w in NUMBER_WORDS or "%" in w or "$" in w for w in both)
    you = any(w in YOU_WORDS for w in both)
    claim = any(w in CLAIM_WORDS or w in STRONG_CLAIM_WORDS for w in both)
    strong_claim = any(w in STRONG_CLAIM_WORDS for w in both) or any(
        f" {phrase} " in f" {text} " for phrase in STRONG_CLAIM_PHRASES
    )
    score = (
        QUESTION_POINTS * question
        + NUMBER_POINTS * number
        + YOU_POINTS * you
        + (STRONG_CLAIM_POINTS if strong_claim else CLAIM_POINTS) * (claim or strong_claim)
        + TEASER_POINTS * teaser
    )
    if len(both) > LONG_OPENING_WORDS:
        score *= 0.7
    return HookCues(question, number, you, claim or strong_claim, min(1.0, score),
                    strong_claim, teaser)  # fmt: skip


def dangling_opener(sentence: str) -> str | None:
    """The first word if it leans on earlier context ("And...", "He..."), else None."""
    words = tokens(sentence)
    if words and words[0] in DANGLING_OPENERS:
        return words[0]
    return None


def continues_previous(sentence: str) -> bool:
    """True when the sentence opens with a conjunction that leans on the one before."""
    words = tokens(sentence)
    return bool(words) and words[0] in CONTINUING_OPENERS
