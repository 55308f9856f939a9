"""Divisive topic segmentation over a sentence-similarity rank matrix (Choi's C99, 2000).

Why: comparing fixed blocks either side of each gap (TextTiling) sees only a few sentences and
needs a threshold tuned to one kind of talk; on Choi's benchmark it stayed near Pk 0.19. C99
looks at every pair of sentences: it ranks each similarity against its neighbourhood (so only
the *order* of similarities counts, not their scale, which differs from talk to talk), then
splits the talk where the inside of the segments gets densest, and stops where one more split
adds much less density than the splits before it did (the mean + 1.2 standard deviations rule
of the paper, not a constant fitted here). Similarity is the cosine of TF-IDF lemma vectors,
averaged with the cosine of sentence embeddings when those are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

RANK_MASK = 11  # Choi's neighbourhood for ranking a similarity (11 x 11)
STOP_DEVIATIONS = 1.2  # Choi's stopping rule: mean + c * std of the density gains


def similarity_matrix(lexical: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every pair of sentences: rows of ``lexical`` (L2-normalised TF-IDF)
    and, when given, of unit ``embeddings``, averaged."""
    sims = lexical @ lexical.T
    if embeddings is not None:
        sims = (sims + embeddings @ embeddings.T) / 2
    return np.asarray(sims, dtype=float)


def rank_matrix(sims: np.ndarray, mask: int = RANK_MASK) -> np.ndarray:
    """Each similarity replaced by the share of its neighbours (in a ``mask`` x ``mask`` window)
    that are smaller: only the local order counts, so talks with dense and sparse vocabularies
    are judged alike."""
    n = sims.shape[0]
    half = mask // 2
    padded = np.full((n + 2 * half, n + 2 * half), np.nan)
    padded[half : half + n, half : half + n] = sims
    smaller = np.zeros_like(sims)
    others = np.zeros_like(sims)
    for di in range(mask):
        for dj in range(mask):
            if di == half and dj == half:
                continue
            shifted = padded[di : di + n, dj : dj + n]
            valid = ~np.isnan(shifted)
            others += valid
            smaller += valid & (np.nan_to_num(shifted, nan=np.inf) < sims)
    return np.divide(smaller, others, out=np.zeros_like(sims), where=others > 0)


def _prefix(ranks: np.ndarray) -> np.ndarray:
    out = np.zeros((ranks.shape[0] + 1, ranks.shape[1] + 1))
    out[1:, 1:] = ranks.cumsum(axis=0).cumsum(axis=1)
    return out


def divisive_boundaries(
    ranks: np.ndarray,
    allowed: Sequence[bool] | None = None,
    *,
    deviations: float = STOP_DEVIATIONS,
    fits: Callable[[int, int], bool] | None = None,
) -> list[int]:
    """Sentence indexes that open a topic (never 0), chosen by C99's divisive clustering.

    ``allowed[g]``: whether a topic may open at sentence g; ``fits(first, stop)``: whether
    sentences [first, stop) are long enough to be a topic (both default to anything goes).
    """
    n = ranks.shape[0]
    if n < 2:
        return []
    total = _prefix(ranks)

    def block(a: int, b: int) -> float:
        return float(total[b, b] - total[a, b] - total[b, a] + total[a, a])

    cuts = [0, n]
    inside = block(0, n)
    area = float(n * n)
    densities = [inside / area]
    chosen: list[int] = []
    while True:
        best: tuple[float, int, float, float] | None = None
        for a, b in pairwise(cuts):
            whole = block(a, b)
            for g in range(a + 1, b):
                if allowed is not None and not allowed[g]:
                    continue
                gain_inside = block(a, g) + block(g, b) - whole
                gain_area = float((g - a) ** 2 + (b - g) ** 2 - (b - a) ** 2)
                density = (inside + gain_inside) / (area + gain_area)
                if best is None or density > best[0]:
                    best = (density, g, inside + gain_inside, area + gain_area)
        if best is None:
            break
        density, g, inside, area = best
        densities.append(density)
        chosen.append(g)
        cuts = sorted([*cuts, g])
    if not chosen:
        return []
    gains = np.diff(np.array(densities))
    if gains.size < 2:
        return sorted(chosen)
    limit = float(gains.mean() + deviations * gains.std())
    # the splits C99 keeps: up to the last one that still added far more density than a
    # typical split (mean + c * std of all the gains); past it, splits only cut up topics
    above = np.flatnonzero(gains >= limit)
    keep = int(above[-1]) + 1 if above.size else 0
    # the minimum topic length applies after the count is chosen: constraining the search
    # would leave fewer, larger gains and stop it early. Splits in the order C99 found them
    # (strongest first); one that would leave a piece too short is dropped.
    kept: list[int] = []
    for g in chosen[:keep]:
        around = [0, *sorted(kept), n]
        before = max(c for c in around if c < g)
        after = min(c for c in around if c > g)
        if fits is None or (fits(before, g) and fits(g, after)):
            kept.append(g)
    return sorted(kept)
