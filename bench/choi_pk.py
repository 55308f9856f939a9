"""Choi's segmentation benchmark (Brown corpus openings, 10 topics a document): Pk and WindowDiff.

Reads ``../shared/corpus/text/choi/{3-5,6-8,9-11,3-11}/*.ref`` (skips with a message when
absent), turns each document into timed sentences (0.38 s a word, 0.2 s pauses, as speech
would give) and runs, in one process: clipmill's tiling segmenter (``method="tiling"``, the
planner's default), clipmill's C99 segmenter (``method="c99"``, ``shorts.segmentation``), and
the same C99 with no minimum topic length (the plain algorithm of the paper, a baseline).
Lexical evidence only unless ``--embeddings`` (all-MiniLM-L6-v2, slow: minutes on 2 cores).

Usage::

    .venv/bin/python bench/choi_pk.py [--embeddings] [--limit 25]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clipmill.shorts.segmentation import divisive_boundaries, rank_matrix, similarity_matrix
from clipmill.shorts.sentences import Sentence
from clipmill.shorts.topics import segment_topics
from clipmill.shorts.vectors import build_text_model

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "text" / "choi"
SUBSETS = ("3-5", "6-8", "9-11", "3-11")
SECONDS_A_WORD = 0.38
PAUSE = 0.2


def read_document(path: Path) -> tuple[list[str], list[int]]:
    """Sentences and the indexes of the sentences that open a segment (after the first)."""
    sentences: list[str] = []
    starts: list[int] = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line == "==========":
            if sentences and (not starts or starts[-1] != len(sentences)):
                starts.append(len(sentences))
        elif line:
            sentences.append(line)
    return sentences, [s for s in starts if 0 < s < len(sentences)]


def timed(texts: Sequence[str]) -> list[Sentence]:
    out, at = [], 0.0
    for i, text in enumerate(texts):
        length = SECONDS_A_WORD * len(text.split())
        out.append(Sentence(i, at, at + length, text, (), PAUSE, PAUSE))
        at += length + PAUSE
    return out


def _labels(starts: Sequence[int], count: int) -> np.ndarray:
    labels = np.zeros(count, dtype=int)
    for s in starts:
        labels[s:] += 1
    return labels


def half_mean_length(reference: Sequence[int], count: int) -> int:
    return max(1, round(count / (len(reference) + 1) / 2))


def pk(reference: Sequence[int], hypothesis: Sequence[int], count: int) -> float:
    """Beeferman's Pk: the share of sentence pairs k apart that the hypothesis puts on the
    wrong side of each other (same topic vs different); k is half the mean true topic."""
    k = half_mean_length(reference, count)
    ref, hyp = _labels(reference, count), _labels(hypothesis, count)
    pairs = count - k
    if pairs <= 0:
        return 0.0
    wrong = sum((ref[i] == ref[i + k]) != (hyp[i] == hyp[i + k]) for i in range(pairs))
    return wrong / pairs


def window_diff(reference: Sequence[int], hypothesis: Sequence[int], count: int) -> float:
    """Pevzner and Hearst's WindowDiff: windows of k where the number of boundaries differs."""
    k = half_mean_length(reference, count)
    ref, hyp = _labels(reference, count), _labels(hypothesis, count)
    pairs = count - k
    if pairs <= 0:
        return 0.0
    wrong = sum((ref[i + k] - ref[i]) != (hyp[i + k] - hyp[i]) for i in range(pairs))
    return wrong / pairs


def plain_c99(texts: Sequence[str], vectors: np.ndarray | None) -> list[int]:
    model = build_text_model(texts)
    return divisive_boundaries(rank_matrix(similarity_matrix(model.matrix.toarray(), vectors)))


def clipmill(texts: Sequence[str], vectors: np.ndarray | None, method: str) -> list[int]:
    sentences = timed(texts)
    topics = segment_topics(
        sentences, build_text_model(texts), embeddings=vectors, method=method
    )
    return [t.first_sentence for t in topics[1:]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", action="store_true")
    parser.add_argument("--limit", type=int, default=None, help="documents per subset")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: the Choi corpus is not at {CORPUS}")
        return 0
    embed = None
    if args.embeddings:
        from clipmill.shorts import embeddings

        embed = embeddings.embed if embeddings.available() else None
    runs = {
        "tiling": lambda t, v: clipmill(t, v, "tiling"),
        "c99": lambda t, v: clipmill(t, v, "c99"),
        "plain C99": plain_c99,
    }
    print(f"{'subset':7} {'segmenter':10} {'Pk':>6} {'WD':>6} {'topics':>6}")
    for subset in SUBSETS:
        paths = sorted(
            (CORPUS / subset).glob("*.ref"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0
        )[: args.limit]
        scores: dict[str, list[tuple[float, float, int]]] = {name: [] for name in runs}
        for path in paths:
            texts, reference = read_document(path)
            vectors = embed(texts) if embed is not None else None
            for name, run in runs.items():
                hypothesis = run(texts, vectors)
                scores[name].append(
                    (
                        pk(reference, hypothesis, len(texts)),
                        window_diff(reference, hypothesis, len(texts)),
                        len(hypothesis) + 1,
                    )
                )
        base = float(np.mean([s[0] for s in scores["tiling"]])) or 1.0
        for name, rows in scores.items():
            p, w, n = (float(np.mean(col)) for col in zip(*rows, strict=True))
            print(f"{subset:7} {name:10} {p:6.3f} {w:6.3f} {n:6.1f}  Pk/tiling {p / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
