"""TF-IDF view of the sentences, built once per video and shared by topics, scoring and titles.

Each sentence is a document. That makes IDF mean "rare across this video's sentences", so words
that recur in one stretch but not elsewhere (the topic's vocabulary) get weight, and words every
sentence uses get none. No model download: scikit-learn's vectorizer and its English stop list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z0-9'-]+\b"


@dataclass(frozen=True, eq=False)
class TextModel:
    """Row-normalised sentence vectors plus a video-wide weight for each term."""

    matrix: sparse.csr_matrix
    vocabulary: tuple[str, ...]
    term_weight: np.ndarray  # importance of each term for the whole video, max 1

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    def block_vector(self, start: int, stop: int) -> np.ndarray:
        """Sum of the vectors of sentences [start, stop), as a dense row."""
        return np.asarray(self.matrix[start:stop].sum(axis=0)).ravel()

    def keywords(self, start: int, stop: int, count: int = 5) -> list[str]:
        """Terms that matter most in sentences [start, stop), weighted by video importance."""
        if stop <= start or not self.vocabulary:
            return []
        local = self.block_vector(start, stop) * (0.5 + self.term_weight)
        order = np.argsort(-local, kind="stable")[:count]
        return [self.vocabulary[i] for i in order if local[i] > 0]

    def gram(self, start: int, stop: int) -> np.ndarray:
        """Cosine similarities between sentences [start, stop) (rows are unit length)."""
        block = self.matrix[start:stop]
        return np.asarray((block @ block.T).todense())


def build_text_model(texts: Sequence[str]) -> TextModel:
    """Fit TF-IDF over sentences; an empty or stop-word-only video yields an empty model."""
    vectorizer = TfidfVectorizer(
        lowercase=True,
        stop_words=sorted(ENGLISH_STOP_WORDS | {"just", "like", "really", "gonna", "okay"}),
        token_pattern=TOKEN_PATTERN,
        sublinear_tf=True,
        norm="l2",
    )
    try:
        matrix = sparse.csr_matrix(vectorizer.fit_transform(list(texts)))
    except ValueError:  # empty vocabulary: nothing but stop words or no text at all
        return TextModel(sparse.csr_matrix((len(texts), 0)), (), np.zeros(0))
    vocabulary = tuple(vectorizer.get_feature_names_out().tolist())
    # video importance: how often a term is used (sublinear) times how specific it is
    counts = np.asarray((matrix > 0).sum(axis=0)).ravel().astype(float)
    weight = np.log1p(counts) * vectorizer.idf_
    weight = weight / weight.max() if weight.size and weight.max() > 0 else weight
    return TextModel(matrix=matrix, vocabulary=vocabulary, term_weight=weight)
