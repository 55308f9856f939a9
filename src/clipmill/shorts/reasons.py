"""Why a clip was chosen, in a sentence a person reads on the clip's card.

"Opens with a question; stands on its own from a clean start to a full stop; keywords: sleep,
memory." The sub-scores that contributed most (value times weight) each say what they saw,
when they saw enough of it to be a reason; the numbers stay in the clip's ``sub_scores`` and
``explanations`` (analysis.json), for the API and for tuning, never in this sentence.
"""

from __future__ import annotations

from clipmill.shorts.hooks import HookCues
from clipmill.shorts.scoring import ScoredSpan, Scorer, SubScore

REASON_COUNT = 2  # sub-scores named in a reason
QUALIFIES = 0.5  # a sub-score below this is not a reason to pick a clip
KEYWORD_COUNT = 3
NOTHING_STANDS_OUT = "A self-contained stretch of the talk"


def hook_phrase(cues: HookCues) -> str | None:
    """How the opening pulls a viewer in: "opens with a question and a number"."""
    if cues.teaser:
        return "opens by promising a point, then makes it"
    kinds = [
        kind
        for kind, present in (
            ("a question", cues.question),
            ("a surprising claim" if cues.strong_claim else "a bold claim", cues.claim),
            ("a number", cues.number),
        )
        if present
    ]
    if kinds:
        return "opens with " + " and ".join(kinds[:2])
    return "speaks to the viewer directly" if cues.you else None


def _phrase(scorer: Scorer, scored: ScoredSpan, part: SubScore) -> str | None:
    span = scored.span
    if part is SubScore.HOOK:
        return hook_phrase(scorer.hooks[span.first])
    if part is SubScore.COMPLETENESS:
        if scorer.dangling[span.first] is None and scorer.closed[span.last]:
            return "stands on its own, from a clean start to a full stop"
        return "stands on its own"
    if part is SubScore.COHERENCE:
        return "stays on one subject"
    if part is SubScore.SALIENCE:
        return "covers what the talk is about"
    if part is SubScore.ENERGY:
        if scorer.features is None:
            return "the speaker picks up the pace here"
        return "the speaker gets louder and faster here"
    if part is SubScore.EMOTION:
        return "the words carry strong feeling"
    return "runs close to the length asked for"


def clip_reason(scorer: Scorer, scored: ScoredSpan) -> str:
    """One or two sentences naming what stands out about the clip, and its keywords."""
    ranked = scored.strongest(scorer.weights, len(scored.parts))
    phrases: list[str] = []
    for part in ranked:
        if len(phrases) == REASON_COUNT or scored.parts[part] < QUALIFIES:
            break
        phrase = _phrase(scorer, scored, part)
        if phrase is not None:
            phrases.append(phrase)
    span = scored.span
    keywords = scorer.model.keywords(span.first, span.last + 1, KEYWORD_COUNT)
    if keywords:
        phrases.append("keywords: " + ", ".join(keywords))
    text = "; ".join(phrases) if phrases else NOTHING_STANDS_OUT
    return text[:1].upper() + text[1:] + "."
