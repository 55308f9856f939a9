"""Titles, descriptions, tags and hashtags for a clip, from its own words.

No model writes these locally: the title is the clip's opening line (with its payoff, when it is
a lead-in such as "Here is the secret:") when that line is a good hook and short enough to read
at a glance, otherwise its key phrase (the best run of up to three content words, weighted by
how salient their lemmas are in the clip). Tags and hashtags are content lemmas only
(``keywords``). The optional LLM ranker may replace titles and hashtags later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from clipmill.shorts.cues import is_leadin
from clipmill.shorts.keywords import STOP_WORDS, lemma
from clipmill.shorts.sentences import Sentence
from clipmill.shorts.vectors import TextModel

PHRASE_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'\u2019-]*")
MAX_TITLE_CHARS = 80
MAX_DESCRIPTION_CHARS = 200
MAX_PHRASE_WORDS = 3


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def _term_of(token: str) -> str | None:
    word = token.lower().replace("\u2019", "'").strip("'-")
    if not word or word in STOP_WORDS or "'" in word:
        return None
    base = lemma(word)
    return None if base in STOP_WORDS else base


def key_phrase(sentences: Sequence[Sentence], model: TextModel, first: int, last: int) -> str:
    """The highest-weighted run of up to three consecutive content words in the span."""
    if not model.vocabulary:
        return ""
    local = model.salience(first, last + 1)
    if model.tag_weights is not None:
        local = local * (0.5 + model.tag_weights)
    index = {term: i for i, term in enumerate(model.vocabulary)}
    best, best_weight = "", 0.0
    for sentence in sentences[first : last + 1]:
        run: list[tuple[str, float]] = []
        for token in [*PHRASE_TOKEN.findall(sentence.text), ""]:
            term = _term_of(token) if token else None
            position = index.get(term) if term is not None else None
            weight = float(local[position]) if position is not None else 0.0
            if weight > 0:
                run.append((token, weight))
                continue
            for size in range(1, min(MAX_PHRASE_WORDS, len(run)) + 1):
                for at in range(len(run) - size + 1):
                    window = run[at : at + size]
                    total = sum(w for _, w in window)
                    if total > best_weight:
                        best, best_weight = " ".join(t for t, _ in window), total
            run = []
    return best


def opening_line(sentences: Sequence[Sentence], first: int, last: int) -> str:
    """The clip's first sentence, joined to its payoff when it is a lead-in."""
    opening = " ".join(sentences[first].text.split())
    if is_leadin(opening) and first < last:
        opening += " " + " ".join(sentences[first + 1].text.split())
    return opening


def make_title(
    sentences: Sequence[Sentence], model: TextModel, first: int, last: int, hook_score: float
) -> str:
    opening = opening_line(sentences, first, last)
    if hook_score >= 0.5 and len(opening) <= MAX_TITLE_CHARS:
        return opening
    phrase = key_phrase(sentences, model, first, last)
    if phrase:
        return phrase[:1].upper() + phrase[1:]
    return shorten(opening, 60)


def make_description(sentences: Sequence[Sentence], first: int, last: int) -> str:
    return shorten(" ".join(s.text for s in sentences[first : last + 1]), MAX_DESCRIPTION_CHARS)


def hashtag(term: str) -> str:
    cleaned = re.sub(r"[^0-9A-Za-z_]", "", term.replace(" ", ""))
    return f"#{cleaned.lower()}" if cleaned else ""


def video_keywords(model: TextModel, count: int = 10) -> list[str]:
    """The talk's own keywords: frequent, specific content lemmas, nouns first."""
    return model.keywords(0, model.size, count)
