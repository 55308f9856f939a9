"""Titles, descriptions and tags for a clip, from its own words.

No model writes these locally. A title is a phrase of the clip's most telling sentence
(``phrases``: the sentence itself, one of its clauses, or the topic a cue sentence names),
chosen for carrying the clip's most salient content words, with a bonus for the opening when
it is a good hook (a question, a surprising claim, a lead-in's payoff) and for a whole
sentence, and a penalty for a dependent clause or a long phrase. It is title-cased and never
repeats a title already given to another clip of the job. Tags are content lemmas only
(``keywords``); there are no separate local hashtags (they were the tags again with a "#"). The
optional LLM ranker may replace titles and suggest hashtags later.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from clipmill.shorts.cues import is_leadin
from clipmill.shorts.keywords import surface_terms
from clipmill.shorts.phrases import Phrase, announced_topic, clause_phrases, word_set
from clipmill.shorts.sentences import Sentence
from clipmill.shorts.vectors import TextModel

MAX_TITLE_CHARS = 70
MAX_TITLE_WORDS = 12
COMFORTABLE_WORDS = 8  # longer titles lose a little for each word over this
MAX_DESCRIPTION_CHARS = 200
SMALL_WORDS = word_set(
    "a an the and but or nor for so yet as at by in of on per to via vs with from into than onto"
)

# how a candidate phrase is weighed besides its content words (see the module docstring)
WHOLE_SENTENCE_BONUS = 0.25
ANNOUNCED_TOPIC_BONUS = 0.5
HOOK_BONUS = 1.0  # times the opening's hook score
SUBORDINATE_PENALTY = 0.3
SHORT_PENALTY = 0.3  # two words: a name at best
LONG_PENALTY = 0.04  # per word over COMFORTABLE_WORDS
LATER_PENALTY = 0.05  # per sentence after the first: ties go to the opening


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def title_case(phrase: Phrase) -> str:
    """Capitalise the words of a title except short function words inside it; names and
    acronyms keep their letters ("iPhone", "NASA"), "i" is "I", a question keeps its "?"."""
    out = []
    last = len(phrase.words) - 1
    for i, word in enumerate(phrase.words):
        lower = word.lower()
        if any(c.isupper() for c in word[1:]):
            out.append(word)
        elif 0 < i < last and lower in SMALL_WORDS:
            out.append(lower)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out) + ("?" if phrase.question else "")


def _salient_terms(model: TextModel, first: int, last: int) -> tuple[dict[str, float], float]:
    """Each content lemma's weight in the clip (max 1), and the weight of its top three."""
    if not model.vocabulary:
        return {}, 1.0
    local = model.salience(first, last + 1)
    if model.tag_weights is not None:
        local = local * (0.5 + model.tag_weights)
    peak = float(local.max()) if local.size else 0.0
    if peak <= 0:
        return {}, 1.0
    weights = {t: float(w) / peak for t, w in zip(model.vocabulary, local, strict=True) if w > 0}
    top = sum(sorted(weights.values(), reverse=True)[:3])
    return weights, top or 1.0


def _phrase_score(phrase: Phrase, weights: dict[str, float], top: float) -> float | None:
    terms = {base for _, base in surface_terms(phrase.text)}
    content = sum(weights.get(t, 0.0) for t in terms) / top
    if not terms and not phrase.question:
        return None  # "Every single time": no subject, no title
    size = len(phrase.words)
    return (
        content
        + WHOLE_SENTENCE_BONUS * phrase.whole
        + ANNOUNCED_TOPIC_BONUS * phrase.announced
        - SUBORDINATE_PENALTY * phrase.subordinate
        - SHORT_PENALTY * (size < 3)
        - LONG_PENALTY * max(0, size - COMFORTABLE_WORDS)
    )


def title_candidates(
    sentences: Sequence[Sentence], model: TextModel, first: int, last: int, hook_score: float
) -> list[str]:
    """The clip's possible titles, best first (title-cased, each once)."""
    weights, top = _salient_terms(model, first, last)
    opens_with_leadin = is_leadin(sentences[first].text) and first < last
    scored: list[tuple[float, int, str]] = []
    for i in range(first, last + 1):
        text = sentences[i].text
        if is_leadin(text) and i < last:
            continue  # a lead-in only announces: its payoff is the phrase
        opening = i == first or (i == first + 1 and opens_with_leadin)
        phrases = clause_phrases(text, MAX_TITLE_WORDS)
        topic = announced_topic(text, MAX_TITLE_WORDS)
        if topic is not None:
            phrases.append(topic)
        for phrase in phrases:
            score = _phrase_score(phrase, weights, top)
            title = title_case(phrase)
            if score is None or len(title) > MAX_TITLE_CHARS:
                continue
            score += HOOK_BONUS * hook_score * opening - LATER_PENALTY * (i - first)
            scored.append((score, len(scored), title))
    ordered = [title for _, _, title in sorted(scored, key=lambda c: (-c[0], c[1]))]
    return list(dict.fromkeys(ordered))


def title_key(title: str) -> str:
    """What makes two titles the same: their words, whatever the case and punctuation."""
    return " ".join(re.findall(r"[a-z0-9']+", title.lower()))


def make_title(
    sentences: Sequence[Sentence],
    model: TextModel,
    first: int,
    last: int,
    hook_score: float,
    *,
    taken: Collection[str] = (),
) -> str:
    """The best title of sentences ``first..last`` whose ``title_key`` is not in ``taken``."""
    candidates = title_candidates(sentences, model, first, last, hook_score)
    for title in candidates:
        if title_key(title) not in taken:
            return title
    fallback = candidates[0] if candidates else shorten(sentences[first].text, 60)
    number = 2
    while title_key(f"{fallback} ({number})") in taken:
        number += 1
    return fallback if title_key(fallback) not in taken else f"{fallback} ({number})"


def make_description(sentences: Sequence[Sentence], first: int, last: int) -> str:
    return shorten(" ".join(s.text for s in sentences[first : last + 1]), MAX_DESCRIPTION_CHARS)


def hashtag(term: str) -> str:
    cleaned = re.sub(r"[^0-9A-Za-z_]", "", term.replace(" ", ""))
    return f"#{cleaned.lower()}" if cleaned else ""


def video_keywords(model: TextModel, count: int = 10) -> list[str]:
    """The talk's own keywords: frequent, specific content lemmas, nouns first."""
    return model.keywords(0, model.size, count)
