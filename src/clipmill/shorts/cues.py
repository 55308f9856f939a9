"""Discourse cues: sentences that open a new topic, and lead-ins that announce the next sentence.

Speakers say when they change subject ("Now let's talk about...", "Moving on", "The last topic
is..."), and that is the best evidence a short talk offers: with four or five sentences a topic,
word overlap alone is thin. A *strong* cue names the change; a *weak* one ("Next,", "Finally,",
"Now") also starts steps inside one subject ("Next, drain the pasta"), so it only counts with
other evidence (see ``topics``).

A *lead-in* ("Here is the shocking part:") is a hook whose payoff is the next sentence. A clip
never starts after one or ends on one. Whisper may write the colon as a full stop, so short
sentences in the usual lead-in shapes count too.
"""

from __future__ import annotations

import re

STRONG_CUE = 1.0
WEAK_CUE = 0.35

_FILLER = r"(?:(?:okay|ok|alright|all right|so|and|now|well|right|good|great|then|but)[\s,]+)*"
_STRONG = re.compile(
    r"^" + _FILLER + r"(?:"
    r"let us (?:now )?(?:talk|move on|turn|look|switch|shift|get|dive|jump|focus|discuss|go)"
    r"|(?:i|we) (?:want|would like|wanna|need|am going|are going|will|also want) (?:to )?"
    r"(?:talk|move on|turn|look at|switch|cover|discuss|tell you about|say a few words)"
    r"|(?:i|we)(?:'d| would) like to (?:talk|turn|move|look|cover|discuss)"
    r"|let me (?:now )?(?:talk|turn|move|tell you about|switch|go on)"
    r"|moving on|move on to|on to|onto|turning to|switching (?:gears|topics)"
    r"|changing (?:gears|the subject|topics)|next up|last but not least"
    r"|(?:the|our|my) (?:next|last|final|second|third|fourth|fifth|other) "
    r"(?:topic|subject|thing|part|section|point|area|question|item|idea)"
    r"|another (?:topic|subject|thing|area|point|idea|big thing)"
    r"|one (?:more|last|final) (?:thing|topic|point)"
    r"|(?:a|the) (?:new|different) (?:topic|subject)"
    r"|(?:next|finally|lastly|secondly|thirdly|second|third)[\s,]+(?:let us|i want|we will|"
    r"i would like|we are going|i am going|on to|a word|a few words|the topic)"
    r")\b"
)
_WEAK = re.compile(
    r"^(?:next|finally|lastly|now|secondly|thirdly|second|third|also|besides|meanwhile|"
    r"anyway|anyways|okay so|so now|alright so)\b"
)
_ANNOUNCED = (
    "part|thing|secret|trick|truth|problem|catch|kicker|twist|point|deal|question|answer|"
    "reason|mistake|tip|surprise|lesson|key|bit|bottom line|result|news|fact"
)
_LEADIN = re.compile(
    r"^(?:(?:and|but|so|now|okay|well)[\s,]+)*(?:"
    r"(?:here is|here are|heres|this is|that is|thats) (?:(?:the|my|our|a|one) (?:\w+ ){0,2}"
    r"(?:" + _ANNOUNCED + r")s?|what|why|how|where|when)"
    r"|(?:the|my|our) (?:\w+ )?(?:" + _ANNOUNCED + r") (?:is|was)"
    r"|guess what|get this|listen to this|check this out|wait for it|you know what"
    r"|the thing is|it turns out|believe it or not|what nobody tells you"
    r")\b"
)
LEADIN_MAX_WORDS = 10


def normalise(text: str) -> str:
    """Lower case, plain apostrophes, "let's" -> "let us", punctuation as spaces."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\blet's\b", "let us", text)
    text = re.sub(r"\b(i|we|you|they)'(d|m|re|ll|ve)\b", _expand, text)
    text = text.replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9,]+", " ", text).replace(",", " , ").split())


def _expand(match: re.Match[str]) -> str:
    full = {"d": "would", "m": "am", "re": "are", "ll": "will", "ve": "have"}
    return f"{match.group(1)} {full[match.group(2)]}"


def topic_cue(text: str) -> float:
    """How strongly the sentence announces a new topic: ``STRONG_CUE``, ``WEAK_CUE`` or 0."""
    plain = normalise(text).replace(" ,", ",")
    if _STRONG.search(plain):
        return STRONG_CUE
    if _WEAK.search(plain):
        return WEAK_CUE
    return 0.0


def is_leadin(text: str) -> bool:
    """True when the sentence only announces the next one ("Here is the shocking part:")."""
    stripped = text.rstrip().rstrip("\"')\u201d\u2019")
    if stripped.endswith(":"):
        return True
    words = normalise(stripped).replace(",", " ").split()
    if not words or len(words) > LEADIN_MAX_WORDS:
        return False
    return bool(_LEADIN.search(" ".join(words))) and stripped[-1:] in ".!?…"
