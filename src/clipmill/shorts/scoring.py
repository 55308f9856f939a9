"""How good a candidate clip is: seven named sub-scores in [0, 1], a weighted sum, and words.

Weights (``ScoreWeights``, sum 1) and why:

- hook 0.25: the opening sentence decides whether anyone keeps watching a short (a lead-in
  such as "Here is the shocking part:" is judged with the sentence it announces).
- completeness 0.15: a clip must stand alone; opening on "and/so/he..." points at missing
  context, and stopping without a full stop sounds cut off.
- coherence 0.15: one subject, told in connected sentences (TF-IDF similarity to the centroid).
- salience 0.15: talks about what this video is about (its TF-IDF keywords), relative to the
  most on-topic candidate of the same video.
- length fit 0.15: close to the requested ``clip_duration``; softer above it than below.
- energy 0.10: louder and faster than the speaker's own average (RMS loudness and syllable-rate
  peaks from the audio; word rate from timestamps when there is no audio).
- emotion 0.05: VADER sentiment intensity. Small, because it is noisy on spoken text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from clipmill.shorts.cues import is_leadin
from clipmill.shorts.features import AudioFeatures
from clipmill.shorts.hooks import dangling_opener, hook_cues, tokens
from clipmill.shorts.sentences import Sentence, ends_sentence
from clipmill.shorts.vectors import TextModel


class SubScore(StrEnum):
    """The named parts of a clip's score."""

    HOOK = "hook"  # the first sentence grabs attention
    COMPLETENESS = "completeness"  # starts and ends like a self-contained piece
    COHERENCE = "coherence"  # its sentences are about the same thing
    SALIENCE = "salience"  # it covers what the whole video is about
    EMOTION = "emotion"  # sentiment intensity of its words
    ENERGY = "energy"  # loudness and speech-rate peaks relative to the speaker
    LENGTH_FIT = "length_fit"  # closeness to the requested duration


@dataclass(frozen=True)
class ScoreWeights:
    """Weight of each sub-score in the total; see the module docstring for the reasoning."""

    hook: float = 0.25
    completeness: float = 0.15
    coherence: float = 0.15
    salience: float = 0.15
    length_fit: float = 0.15
    energy: float = 0.10
    emotion: float = 0.05

    def of(self, part: SubScore) -> float:
        return float(getattr(self, part.value))

    @property
    def total(self) -> float:
        return sum(self.of(part) for part in SubScore)


@dataclass(frozen=True)
class Span:
    """A candidate: sentences ``first..last`` (inclusive) inside topic ``topic``."""

    first: int
    last: int
    start: float
    end: float
    topic: int

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class ScoredSpan:
    span: Span
    score: float
    parts: dict[SubScore, float] = field(default_factory=dict)
    notes: dict[SubScore, str] = field(default_factory=dict)

    def strongest(self, weights: ScoreWeights, count: int = 2) -> list[SubScore]:
        """The sub-scores that contributed most (value times weight), best first."""
        return sorted(self.parts, key=lambda p: -self.parts[p] * weights.of(p))[:count]


COHERENCE_SATURATION = 0.35  # a lift this far above unrelated sentences already counts as 1


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Scorer:
    """Precomputes per-sentence statistics once, then scores any span cheaply."""

    def __init__(
        self,
        sentences: Sequence[Sentence],
        model: TextModel,
        *,
        target_duration: float,
        features: AudioFeatures | None = None,
        weights: ScoreWeights | None = None,
    ) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.sentences = sentences
        self.model = model
        self.target = target_duration
        self.features = features
        self.weights = weights or ScoreWeights()
        vader = SentimentIntensityAnalyzer()
        self.intensity = np.array(
            [abs(vader.polarity_scores(s.text)["compound"]) for s in sentences]
        )
        self.leadins = [is_leadin(s.text) for s in sentences]
        self.hooks = [
            hook_cues(s.text, sentences[i + 1].text if lead and i + 1 < len(sentences) else None)
            for i, (s, lead) in enumerate(zip(sentences, self.leadins, strict=True))
        ]
        # "And here is the secret:" opens cleanly: the lead-in is what the viewer needs
        self.dangling = [
            None if lead else dangling_opener(s.text)
            for s, lead in zip(sentences, self.leadins, strict=True)
        ]
        self.closed = [bool(s.words) and ends_sentence(s.words[-1]) for s in sentences]
        self._salience_prefix, self._token_prefix = self._salience_sums()
        self._word_prefix = np.concatenate(([0], np.cumsum([len(s.words) for s in sentences])))
        self._speech_rate_stats = self._rate_stats()
        self.best_salience = 1.0
        self._topic_grams: dict[int, tuple[int, np.ndarray]] = {}
        self._loud_mean = self._rate_mean = 0.0
        self._loud_std = self._rate_std = 1.0
        self._smooth_rate = np.zeros(0)

    def _salience_sums(self) -> tuple[np.ndarray, np.ndarray]:
        matrix = self.model.matrix
        mass = np.zeros(len(self.sentences))
        for i in range(min(len(self.sentences), matrix.shape[0])):
            terms = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]
            mass[i] = float(self.model.term_weight[terms].sum())
        counts = np.array([max(1, len(tokens(s.text))) for s in self.sentences], dtype=float)
        return np.concatenate(([0.0], np.cumsum(mass))), np.concatenate(([0.0], np.cumsum(counts)))

    def _rate_stats(self) -> tuple[float, float]:
        rates = [len(s.words) / s.duration for s in self.sentences if s.duration > 0.5]
        if len(rates) < 2:
            return (rates[0] if rates else 2.5), 1.0
        return float(np.mean(rates)), float(np.std(rates)) or 1.0

    # --- sub-scores: values only; words come from ``explain`` for the few clips we keep -----

    def hook(self, span: Span) -> float:
        return self.hooks[span.first].score

    def completeness(self, span: Span) -> float:
        opener_ok = 0.2 if self.dangling[span.first] else 1.0
        return 0.7 * opener_ok + 0.3 * (1.0 if self.closed[span.last] else 0.4)

    def _centroid_similarity(self, span: Span) -> float:
        """Mean cosine of the span's sentences to their centroid (rows are unit vectors)."""
        topic_block = self._topic_grams.get(span.topic)
        if (
            topic_block is not None
            and topic_block[0] <= span.first
            and span.last - topic_block[0] < topic_block[1].shape[0]
        ):
            offset, gram = topic_block
            block = gram[span.first - offset : span.last + 1 - offset,
                         span.first - offset : span.last + 1 - offset]  # fmt: skip
        else:
            block = self.model.gram(span.first, span.last + 1)
        return math.sqrt(max(0.0, float(block.sum()))) / (span.last - span.first + 1)

    def coherence(self, span: Span) -> float:
        count = span.last - span.first + 1
        if count < 2 or self.model.matrix.shape[1] == 0:
            return 0.5
        floor = 1.0 / math.sqrt(count)  # what unrelated sentences would give
        lift = (self._centroid_similarity(span) - floor) / (1.0 - floor)
        return min(1.0, max(0.0, lift) / COHERENCE_SATURATION)

    def salience_raw(self, span: Span) -> float:
        mass = self._salience_prefix[span.last + 1] - self._salience_prefix[span.first]
        count = self._token_prefix[span.last + 1] - self._token_prefix[span.first]
        return float(mass / count) if count else 0.0

    def salience(self, span: Span) -> float:
        return self.salience_raw(span) / self.best_salience if self.best_salience else 0.0

    def emotion(self, span: Span) -> float:
        values = self.intensity[span.first : span.last + 1]
        return float(0.5 * values.mean() + 0.5 * values.max()) if values.size else 0.0

    def _energy_parts(self, span: Span) -> tuple[float, float]:
        """(loudness z, speech-rate peak z) against the whole video; word rate without audio."""
        if self.features is None:
            words = self._word_prefix[span.last + 1] - self._word_prefix[span.first]
            rate = words / span.duration if span.duration > 0 else 0.0
            mean, std = self._speech_rate_stats
            return 0.0, (rate - mean) / std
        f = self.features
        loud = f.window(f.loudness_db, span.start, span.end)
        rate = f.window(self._smooth_rate, span.start, span.end)
        z_loud = (float(np.mean(loud)) - self._loud_mean) / self._loud_std
        z_rate = (float(np.max(rate)) - self._rate_mean) / self._rate_std
        return z_loud, z_rate

    def energy(self, span: Span) -> float:
        z_loud, z_rate = self._energy_parts(span)
        if self.features is None:
            return _sigmoid(z_rate)
        return _sigmoid(0.5 * z_loud + 0.5 * z_rate)

    def length_fit(self, span: Span) -> float:
        spread = (0.4 if span.duration < self.target else 0.6) * self.target
        return math.exp(-0.5 * ((span.duration - self.target) / spread) ** 2)

    def explain(self, span: Span, part: SubScore) -> str:
        """A few words on why ``part`` scored what it did for ``span``."""
        if part is SubScore.HOOK:
            return self.hooks[span.first].describe()
        if part is SubScore.COMPLETENESS:
            opener = self.dangling[span.first]
            start = f"opens on a dangling '{opener}'" if opener else "opens cleanly"
            end = "ends on a full stop" if self.closed[span.last] else "ends mid-sentence"
            return f"{start}, {end}"
        if part is SubScore.COHERENCE:
            if span.last == span.first:
                return "a single sentence"
            return f"sentences {self._centroid_similarity(span):.2f} similar to their centroid"
        if part is SubScore.SALIENCE:
            words = ", ".join(self.model.keywords(span.first, span.last + 1, 3))
            return f"about {words}" if words else "no distinctive keywords"
        if part is SubScore.EMOTION:
            peak = float(self.intensity[span.first : span.last + 1].max())
            return f"sentiment intensity up to {peak:.2f}"
        if part is SubScore.ENERGY:
            z_loud, z_rate = self._energy_parts(span)
            if self.features is None:
                return f"speech rate {z_rate:+.1f} sd vs. the video (no audio analysed)"
            return f"loudness {z_loud:+.1f} sd, speech-rate peak {z_rate:+.1f} sd vs. the video"
        return f"{span.duration:.0f} s for a {self.target:.0f} s target"

    # --- totals ---------------------------------------------------------------------------

    def prepare(self, spans: Sequence[Span], topics: Sequence[tuple[int, int]] = ()) -> None:
        """Set video-relative references (best salience, audio baselines) before scoring.

        ``topics`` are (first, last) sentence ranges whose similarity matrices are computed once
        and sliced for every span inside them.
        """
        self.best_salience = max((self.salience_raw(s) for s in spans), default=1.0) or 1.0
        if self.model.matrix.shape[1]:
            self._topic_grams = {
                index: (first, self.model.gram(first, last + 1))
                for index, (first, last) in enumerate(topics)
            }
        if self.features is not None:
            f = self.features
            speaking = f.loudness_db > f.silence_threshold_db + 10.0
            loud = f.loudness_db[speaking] if speaking.any() else f.loudness_db
            self._loud_mean, self._loud_std = float(loud.mean()), float(loud.std()) or 1.0
            self._smooth_rate = np.convolve(f.syllable_rate, np.ones(3) / 3, mode="same")
            rate = self._smooth_rate[speaking] if speaking.any() else self._smooth_rate
            self._rate_mean, self._rate_std = float(rate.mean()), float(rate.std()) or 1.0

    def score(self, span: Span, *, explain: bool = False) -> ScoredSpan:
        measures = {
            SubScore.HOOK: self.hook,
            SubScore.COMPLETENESS: self.completeness,
            SubScore.COHERENCE: self.coherence,
            SubScore.SALIENCE: self.salience,
            SubScore.EMOTION: self.emotion,
            SubScore.ENERGY: self.energy,
            SubScore.LENGTH_FIT: self.length_fit,
        }
        parts = {p: round(min(1.0, max(0.0, float(m(span)))), 4) for p, m in measures.items()}
        total = sum(parts[p] * self.weights.of(p) for p in SubScore) / (self.weights.total or 1.0)
        notes = {p: self.explain(span, p) for p in SubScore} if explain else {}
        return ScoredSpan(span=span, score=round(total, 4), parts=parts, notes=notes)
