"""TF-IDF view of the sentences, built once per video and shared by topics, scoring and titles.

Each sentence is a document. That makes IDF mean "rare across this video's sentences", so words
that recur in one stretch but not elsewhere (the topic's vocabulary) get weight, and words every
sentence uses get none. Terms are lemmatised content words (``keywords.content_terms``): no
pronouns, auxiliaries or light verbs of speech, and "hikers" counts as "hiker". No model
download: scikit-learn's vectorizer and simplemma's dictionary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from clipmill.shorts.keywords import content_terms, tag_weight


@dataclass(frozen=True, eq=False)
class TextModel:
    """Row-normalised sentence vectors, raw term counts, and a video-wide weight per term."""

    matrix: sparse.csr_matrix
    vocabulary: tuple[str, ...]
    term_weight: np.ndarray  # importance of each term for the whole video, max 1
    counts: sparse.csr_matrix | None = None  # occurrences of each term in each sentence
    idf: np.ndarray | None = None
    tag_weights: np.ndarray | None = None  # 1 for nouns ... 0 for adverbs (keywords.tag_weight)

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    def block_vector(self, start: int, stop: int) -> np.ndarray:
        """Sum of the vectors of sentences [start, stop), as a dense row."""
        return np.asarray(self.matrix[start:stop].sum(axis=0)).ravel()

    def salience(self, start: int, stop: int) -> np.ndarray:
        """How much each term belongs to sentences [start, stop) rather than the whole video.

        count in the span x IDF x log(1 + share in the span / share in the video): a term
        said often here and rarely elsewhere ranks first; for the whole video this is
        frequency times specificity.
        """
        if self.counts is None or self.idf is None or stop <= start:
            return np.zeros(len(self.vocabulary))
        local = np.asarray(self.counts[start:stop].sum(axis=0)).ravel().astype(float)
        total = np.asarray(self.counts.sum(axis=0)).ravel().astype(float)
        if not local.sum() or not total.sum():
            return np.zeros(len(self.vocabulary))
        ratio = (local / local.sum()) / np.maximum(total / total.sum(), 1e-12)
        return local * self.idf * np.log1p(ratio)

    def keywords(self, start: int, stop: int, count: int = 5) -> list[str]:
        """The most salient content lemmas of sentences [start, stop) (see ``salience``),
        nouns first: a tag names a thing."""
        if stop <= start or not self.vocabulary:
            return []
        score = self.salience(start, stop)
        if self.tag_weights is not None:
            score = score * self.tag_weights
        order = np.argsort(-score, kind="stable")[:count]
        return [self.vocabulary[i] for i in order if score[i] > 0]

    def gram(self, start: int, stop: int) -> np.ndarray:
        """Cosine similarities between sentences [start, stop) (rows are unit length)."""
        block = self.matrix[start:stop]
        return np.asarray((block @ block.T).todense())


def build_text_model(texts: Sequence[str]) -> TextModel:
    """Fit TF-IDF over sentences; an empty or stop-word-only video yields an empty model."""
    vectorizer = TfidfVectorizer(analyzer=content_terms, sublinear_tf=True, norm="l2")
    try:
        matrix = sparse.csr_matrix(vectorizer.fit_transform(list(texts)))
    except ValueError:  # empty vocabulary: nothing but stop words or no text at all
        empty = sparse.csr_matrix((len(texts), 0))
        return TextModel(empty, (), np.zeros(0), empty, np.zeros(0), np.zeros(0))
    vocabulary = tuple(vectorizer.get_feature_names_out().tolist())
    index = {term: i for i, term in enumerate(vocabulary)}
    rows, cols = [], []
    for row, text in enumerate(texts):
        for term in content_terms(text):
            rows.append(row)
            cols.append(index[term])
    counts = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(vocabulary))
    )
    # video importance: how often a term is used (sublinear) times how specific it is
    present = np.asarray((matrix > 0).sum(axis=0)).ravel().astype(float)
    weight = np.log1p(present) * vectorizer.idf_
    weight = weight / weight.max() if weight.size and weight.max() > 0 else weight
    return TextModel(
        matrix=matrix, vocabulary=vocabulary, term_weight=weight, counts=counts,
        idf=np.asarray(vectorizer.idf_, dtype=float),
        tag_weights=np.array([tag_weight(term) for term in vocabulary]),
    )  # fmt: skip
