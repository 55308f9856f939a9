"""Choi's benchmark through clipmill's C99 segmenter, and Pk on a hand-made case.

The corpus is read from ``../shared/corpus`` beside the repository; absent, the corpus test
skips. Lexical evidence only (sentence embeddings would cost minutes of CPU here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from choi_pk import CORPUS, SUBSETS, pk, plain_c99, read_document, window_diff

DOCUMENTS = 8  # a subset of each, to keep CPU time low
BOUND = 0.2  # lexical-only C99 measures 0.11-0.16 per subset over 25 documents


def test_pk_on_a_hand_made_case() -> None:
    # 12 sentences, true topics start at 4 and 8 (k = 2); the hypothesis misses the one at 8
    reference, hypothesis = [4, 8], [4]
    # pairs (i, i + 2), i = 0..9: wrong where they straddle 8 only: i = 6, 7
    assert pk(reference, hypothesis, 12) == pytest.approx(2 / 10)
    assert pk(reference, reference, 12) == 0.0
    assert window_diff(reference, hypothesis, 12) == pytest.approx(2 / 10)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"Choi corpus absent at {CORPUS}")
@pytest.mark.parametrize("subset", SUBSETS)
def test_c99_pk_on_choi(subset: str) -> None:
    paths = sorted((CORPUS / subset).glob("*.ref"), key=lambda p: int(p.stem))[:DOCUMENTS]
    scores = []
    for path in paths:
        texts, reference = read_document(path)
        scores.append(pk(reference, plain_c99(texts, None), len(texts)))
    assert sum(scores) / len(scores) < BOUND
