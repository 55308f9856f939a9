"""Topic segments from four kinds of evidence at each gap between sentences.

1. *Word overlap* (Hearst's TextTiling idea): the content lemmas of the block of sentences
   before a gap against the block after it. Where the talk moves on, they share little. A
   gap's *novelty* is how far its similarity falls below the talk's own typical similarity
   (scaled by how low its least similar gaps go), so a talk that reuses words everywhere and
   one whose sentences share few words are judged on the same scale. Two block sizes are
   averaged; a block of short fragments grows until it holds enough content words.
2. *Sentence embeddings* (``embeddings``, when installed): the same novelty on the blocks'
   mean embedding. They see that "tent" and "canoe" belong together where no word is shared;
   they carry half the weight (all of it where most blocks share no word at all).
3. *Discourse cues* (``cues``): "Now let's talk about...", "Moving on", "The last topic is...".
   Short talks have four to six sentences a topic, too few for overlap alone, and speakers
   announce their topics: a strong cue is a boundary unless the minimum topic length forbids
   it. A weak cue ("Next, ...", "Finally, ...") adds a little, since it also starts steps.
4. *Pauses*: a longer silence than the speaker's usual one before a sentence adds a little.

The block size follows the talk's length (2 sentences for a 1-minute talk, up to 5 for long
ones), and so does the shortest topic allowed (12 s to 40 s). Boundaries are chosen together,
not greedily: the set of gaps, at least a minimum topic apart, whose evidence most exceeds
``THRESHOLD`` (dynamic programming over the gaps, linear time). A talk about one thing gets no
boundary; a lead-in and its payoff are never parted. Chapter starts are always boundaries and
segmentation runs inside each chapter. Clips never cross a boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from clipmill.shorts.cues import STRONG_CUE, is_leadin, topic_cue
from clipmill.shorts.segmentation import (
    RANK_MASK,
    divisive_boundaries,
    rank_matrix,
    similarity_matrix,
)
from clipmill.shorts.sentences import Chapter, Sentence
from clipmill.shorts.vectors import TextModel

NOVELTY_WEIGHT = 1.0
EMBEDDING_SHARE = 0.5  # of the lexical evidence, when sentence embeddings are given
STRONG_CUE_EVIDENCE = 1.5  # an announced change ("Now let's talk about...") is a boundary
WEAK_CUE_EVIDENCE = 0.35  # "Next, ..." also starts steps inside one subject
PAUSE_WEIGHT = 0.3
THRESHOLD = 0.85  # evidence a gap needs to become a boundary
MIN_TOPIC_SENTENCES = 3
C99_MIN_SENTENCES = 3 * RANK_MASK  # enough pairs for C99's neighbourhood ranks to mean much
CUE_FRAGMENT_WORDS = 2  # "Finally." split off its "let's talk about..." by the recogniser


@dataclass(frozen=True)
class Topic:
    """A run of sentences about one thing: sentence indexes are inclusive."""

    index: int
    first_sentence: int
    last_sentence: int
    start: float
    end: float
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "first_sentence": self.first_sentence,
            "last_sentence": self.last_sentence,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "keywords": list(self.keywords),
        }


def block_spans(
    content: np.ndarray, lo: int, hi: int, window: int
) -> list[tuple[int, int, int, int]]:
    """For each gap g in (lo, hi), the blocks compared across it: (a, g, g, b).

    A block is ``window`` sentences, grown (up to twice that) while it holds fewer content
    words than ``window`` typical sentences: a recogniser's fragments ("Check the rest every
    week") would otherwise leave blocks with nothing to compare.
    """
    typical = float(np.median(content[lo:hi])) if hi > lo else 1.0
    need = max(1.0, typical) * window
    spans = []
    for gap in range(lo + 1, hi):
        a = max(lo, gap - window)
        while a > max(lo, gap - 2 * window) and content[a:gap].sum() < need:
            a -= 1
        b = min(hi, gap + window)
        while b < min(hi, gap + 2 * window) and content[gap:b].sum() < need:
            b += 1
        spans.append((a, gap, gap, b))
    return spans


def _cosine(left: np.ndarray, right: np.ndarray) -> float:
    norm = float(np.linalg.norm(left) * np.linalg.norm(right))
    return float(left @ right) / norm if norm > 0 else 0.0


def content_counts(model: TextModel) -> np.ndarray:
    """Content words in each sentence."""
    if model.counts is None:
        return np.ones(model.size)
    return np.asarray(model.counts.sum(axis=1)).ravel().astype(float)


def gap_similarities(model: TextModel, lo: int, hi: int, window: int) -> np.ndarray:
    """Cosine similarity of the TF-IDF blocks before and after each gap g in (lo, hi)."""
    spans = block_spans(content_counts(model), lo, hi, window)
    return np.array(
        [_cosine(model.block_vector(a, g), model.block_vector(g, b)) for a, g, _, b in spans]
    )


def embedding_similarities(
    vectors: np.ndarray, content: np.ndarray, lo: int, hi: int, window: int
) -> np.ndarray:
    """Like ``gap_similarities``, on the mean sentence embedding of each block."""
    spans = block_spans(content, lo, hi, window)
    return np.array(
        [_cosine(vectors[a:g].mean(axis=0), vectors[g:b].mean(axis=0)) for a, g, _, b in spans]
    )


def depth_scores(sims: np.ndarray) -> np.ndarray:
    """How deep each point sits below the nearest peaks on its left and right."""
    depths = np.zeros_like(sims)
    for i, value in enumerate(sims):
        left = i
        while left > 0 and sims[left - 1] >= sims[left]:
            left -= 1
        right = i
        while right < len(sims) - 1 and sims[right + 1] >= sims[right]:
            right += 1
        depths[i] = (sims[left] - value) + (sims[right] - value)
    return depths


def novelty(sims: np.ndarray) -> np.ndarray:
    """1 where a gap is as dissimilar as the talk's least similar gaps (its 10th percentile),
    0 at its typical (median) similarity, down to -0.5 where it is more similar than usual
    (a word or two shared across an announced change does not veto it)."""
    if sims.size == 0:
        return sims
    typical, low = (float(v) for v in np.percentile(sims, [50, 10]))
    scale = typical - low
    if scale <= 1e-9:
        scale = typical or float(sims.mean()) or 1.0
    return np.clip((typical - sims) / scale, -0.5, 1.0)


def window_for(count: int) -> int:
    """Sentences each side of a gap: 2 for a 20-sentence talk, up to 5 for long ones."""
    return int(np.clip(round(count / 20) + 1, 2, 5))


def cue_strengths(sentences: Sequence[Sentence]) -> np.ndarray:
    """Topic-opening cue of each sentence; a bare "Finally." hands a following cue its place."""
    cues = np.array([topic_cue(s.text) for s in sentences])
    for i in range(len(sentences) - 1):
        if cues[i] > 0 and cues[i + 1] > 0 and len(sentences[i].words) <= CUE_FRAGMENT_WORDS:
            cues[i], cues[i + 1] = max(cues[i], cues[i + 1]), 0.0
    return cues


def pause_evidence(sentences: Sequence[Sentence]) -> np.ndarray:
    """0..1: how much longer the pause before each sentence is than the speaker's usual one."""
    pauses = np.array([s.pause_before for s in sentences])
    if pauses.size < 3:
        return np.zeros(pauses.size)
    usual = float(np.median(pauses[1:]))
    spread = float(np.percentile(pauses[1:], 90) - usual) or 0.25
    return np.clip((pauses - usual) / (3 * max(spread, 0.15)), 0.0, 1.0)


def gap_evidence(
    sentences: Sequence[Sentence],
    model: TextModel,
    lo: int,
    hi: int,
    window: int,
    embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """Evidence that a topic starts at each sentence g of (lo, hi), indexed g - lo - 1."""
    if hi - lo < 2:
        return np.zeros(0)
    lexical = np.zeros(hi - lo - 1)
    narrow = wide = np.zeros(hi - lo - 1)
    if model.vocabulary:
        narrow = gap_similarities(model, lo, hi, window)
        wide = gap_similarities(model, lo, hi, window + 1)
        lexical = (novelty(narrow) + novelty(wide)) / 2
    if embeddings is not None:
        content = content_counts(model)
        semantic = (
            novelty(embedding_similarities(embeddings, content, lo, hi, window))
            + novelty(embedding_similarities(embeddings, content, lo, hi, window + 1))
        ) / 2
        # where most blocks share no content word at all, sharing none says nothing
        informative = float(np.median(np.concatenate((narrow, wide)))) > 0
        share = EMBEDDING_SHARE if informative else 1.0
        lexical = (1 - share) * lexical + share * semantic
    cues = cue_strengths(sentences)[lo + 1 : hi]
    announced = np.where(
        cues >= STRONG_CUE, STRONG_CUE_EVIDENCE, np.where(cues > 0, WEAK_CUE_EVIDENCE, 0.0)
    )
    pauses = pause_evidence(sentences)[lo + 1 : hi]
    evidence = NOVELTY_WEIGHT * lexical + announced + PAUSE_WEIGHT * pauses
    # a lead-in ("Here is the secret:") and its payoff are never parted
    after_leadin = [is_leadin(sentences[g - 1].text) for g in range(lo + 1, hi)]
    return np.where(after_leadin, -np.inf, evidence)


def choose_boundaries(
    evidence: np.ndarray,
    starts: Sequence[float],
    ends: Sequence[float],
    *,
    min_sentences: int,
    min_seconds: float,
    threshold: float = THRESHOLD,
) -> list[int]:
    """The set of gaps (indexes into ``evidence``, gap i opens sentence i + 1) that maximises
    the total evidence above ``threshold``, every topic keeping ``min_sentences`` sentences and
    ``min_seconds`` of speech."""
    count = len(starts)
    gain = evidence - threshold
    # best[s]: best total with the last boundary opening sentence s (0: the segment's start);
    # peak[k]: the best of best[0..k], so each step looks back in constant time
    best = np.full(count + 1, -np.inf)
    back = np.zeros(count + 1, dtype=int)
    peak = np.full(count + 1, -np.inf)
    peak_at = np.zeros(count + 1, dtype=int)
    best[0] = peak[0] = 0.0

    def fits(first: int, stop: int) -> bool:
        return stop - first >= min_sentences and ends[stop - 1] - starts[first] >= min_seconds

    reach = -1  # the last sentence a topic ending before s may start at
    for s in range(1, count):
        while reach + 1 < s and fits(reach + 1, s):
            reach += 1
        if gain[s - 1] > 0 and reach >= 0 and peak[reach] > -np.inf:
            best[s], back[s] = peak[reach] + gain[s - 1], peak_at[reach]
        if best[s] > peak[s - 1]:
            peak[s], peak_at[s] = best[s], s
        else:
            peak[s], peak_at[s] = peak[s - 1], peak_at[s - 1]
    last = max(
        (s for s in range(count) if best[s] > -np.inf and (s == 0 or fits(s, count))),
        key=lambda s: (best[s], -s),
    )
    chosen: list[int] = []
    while last > 0:
        chosen.append(last)
        last = int(back[last])
    return sorted(chosen)


def c99_boundaries(
    sentences: Sequence[Sentence],
    model: TextModel,
    lo: int,
    hi: int,
    embeddings: np.ndarray | None,
    *,
    min_sentences: int,
    min_seconds: float,
) -> list[int]:
    """Topic starts (relative to ``lo``) by ``segmentation``'s C99 over sentences [lo, hi):
    every topic keeps ``min_sentences`` and ``min_seconds``, a lead-in keeps its payoff, and
    an announced change ("Now let's talk about...") is a topic start wherever it fits."""
    count = hi - lo
    if count < 2:
        return []
    lexical = model.matrix[lo:hi].toarray() if model.vocabulary else np.zeros((count, 1))
    vectors = embeddings[lo:hi] if embeddings is not None else None
    ranks = rank_matrix(similarity_matrix(lexical, vectors))
    starts = [s.start for s in sentences]
    ends = [s.end for s in sentences]

    def fits(first: int, stop: int) -> bool:
        return stop - first >= min_sentences and ends[stop - 1] - starts[first] >= min_seconds

    allowed = [g == 0 or not is_leadin(sentences[g - 1].text) for g in range(count)]
    chosen = set(divisive_boundaries(ranks, allowed, fits=fits))
    cues = cue_strengths(sentences)
    for g in (int(i) for i in np.flatnonzero(cues >= STRONG_CUE)):
        if g == 0 or not allowed[g] or g in chosen:
            continue
        around = sorted([0, *chosen, count])
        before = max(c for c in around if c < g)
        after = min(c for c in around if c > g)
        if fits(before, g) and fits(g, after):
            chosen.add(g)
    return sorted(chosen)


def chapter_starts(sentences: Sequence[Sentence], chapters: Iterable[Any]) -> list[int]:
    """Indexes of the first sentence of each chapter (after the first)."""
    starts: set[int] = set()
    for chapter in chapters:
        begin = Chapter.coerce(chapter).start
        for sentence in sentences:
            if (sentence.start + sentence.end) / 2 >= begin:
                if sentence.index > 0:
                    starts.add(sentence.index)
                break
    return sorted(starts)


def min_topic_seconds(duration: float) -> float:
    """The shortest topic worth finding: 12 s in a 1-minute talk, 40 s in a long one."""
    return float(np.clip(duration / 16, 12.0, 40.0))


def segment_topics(
    sentences: Sequence[Sentence],
    model: TextModel,
    *,
    chapters: Iterable[Any] | None = None,
    window: int | None = None,
    min_sentences: int = MIN_TOPIC_SENTENCES,
    min_seconds: float | None = None,
    threshold: float = THRESHOLD,
    embeddings: np.ndarray | None = None,
    method: str = "tiling",
) -> list[Topic]:
    """Split the sentences into topics; chapters are forced boundaries. ``embeddings``: one
    unit vector per sentence (``embeddings.embed``), shares the lexical evidence when given.
    ``method``: "c99" (``segmentation``, whole-talk similarity), "tiling" (gap evidence), or
    "auto": C99 where a chapter has ``C99_MIN_SENTENCES`` sentences, tiling below (C99 ranks a
    similarity among its 11 x 11 neighbours and always splits, so short talks need tiling's
    threshold and cues)."""
    if not sentences:
        return []
    count = len(sentences)
    window = window or window_for(count)
    if min_seconds is None:
        min_seconds = min_topic_seconds(sentences[-1].end - sentences[0].start)
    forced = chapter_starts(sentences, chapters or ())
    edges = [0, *forced, count]
    boundaries: list[int] = []
    for lo, hi in pairwise(edges):
        boundaries.append(lo)
        if method == "c99" or (method == "auto" and hi - lo >= C99_MIN_SENTENCES):
            chosen = c99_boundaries(
                sentences[lo:hi], model, lo, hi, embeddings,
                min_sentences=min_sentences, min_seconds=min_seconds,
            )  # fmt: skip
        else:
            evidence = gap_evidence(sentences, model, lo, hi, window, embeddings)
            chosen = choose_boundaries(
                evidence, [s.start for s in sentences[lo:hi]], [s.end for s in sentences[lo:hi]],
                min_sentences=min_sentences, min_seconds=min_seconds, threshold=threshold,
            )  # fmt: skip
        boundaries.extend(lo + c for c in chosen)
    boundaries = [*sorted(set(boundaries)), count]
    topics: list[Topic] = []
    for first, stop in pairwise(boundaries):
        topics.append(
            Topic(
                index=len(topics),
                first_sentence=first,
                last_sentence=stop - 1,
                start=sentences[first].start,
                end=sentences[stop - 1].end,
                keywords=tuple(model.keywords(first, stop, 5)),
            )
        )
    return topics


def opens_topic(sentence: Sentence) -> bool:
    """True when the sentence announces a new subject (a strong cue)."""
    return topic_cue(sentence.text) >= STRONG_CUE
