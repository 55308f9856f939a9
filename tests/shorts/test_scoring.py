"""Each sub-score on its own, on hand-made sentences."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clipmill.shorts.features import analyze_audio
from clipmill.shorts.hooks import dangling_opener, hook_cues
from clipmill.shorts.scoring import Scorer, ScoreWeights, Span, SubScore
from clipmill.shorts.sentences import Sentence, split_sentences
from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.transcript import Word
from clipmill.shorts.vectors import build_text_model
from tests.support.talk import write_wav


def make_scorer(texts: Sequence[str], target: float = 30.0, **kwargs: object) -> Scorer:
    transcript = transcript_from_sentences(texts, **kwargs)  # type: ignore[arg-type]
    sentences = split_sentences(transcript.words, duration=transcript.duration)
    scorer = Scorer(sentences, build_text_model([s.text for s in sentences]),
                    target_duration=target)  # fmt: skip
    scorer.prepare([span_of(sentences, 0, len(sentences) - 1)])
    return scorer


def span_of(sentences: Sequence[Sentence], first: int, last: int) -> Span:
    return Span(first, last, sentences[first].start, sentences[last].end, 0)


def test_hook_rewards_questions_numbers_claims_and_you() -> None:
    plain = hook_cues("The trail starts near the old bridge.")
    hook = hook_cues("Did you know that 90% of hikers never check the weather?")

    assert plain.score == 0.0
    assert hook.question and hook.number and hook.you and hook.claim
    assert hook.score == 1.0
    assert "a question" in hook.describe()


def test_hook_hears_a_question_without_its_question_mark() -> None:
    assert hook_cues("Did you ever wonder why bread rises.").question
    assert hook_cues("Why does bread rise.").question
    assert not hook_cues("Bread rises because of yeast.").question


def test_completeness_penalises_dangling_openers() -> None:
    scorer = make_scorer(["And then he left the kitchen.", "The kitchen was empty after that."])
    dangling = span_of(scorer.sentences, 0, 0)
    clean = span_of(scorer.sentences, 1, 1)

    assert dangling_opener("So this is it.") == "so"
    assert dangling_opener("Pasta is easy.") is None
    assert scorer.completeness(clean) == 1.0
    assert scorer.completeness(dangling) < 0.5
    assert "dangling 'and'" in scorer.explain(dangling, SubScore.COMPLETENESS)


def test_coherence_is_higher_for_one_subject_than_for_a_mix() -> None:
    scorer = make_scorer([
        "Boil the pasta in salted water.", "Drain the pasta when the water boils over.",
        "Salted pasta water makes the pasta taste better.",
        "The router sits in the hallway.", "Mountain boots need laces.",
        "Compilers turn source code into programs.",
    ])  # fmt: skip
    sentences = scorer.sentences

    assert scorer.coherence(span_of(sentences, 0, 2)) > scorer.coherence(span_of(sentences, 3, 5))
    assert scorer.coherence(span_of(sentences, 3, 5)) == 0.0


def test_salience_prefers_the_video_main_subject() -> None:
    scorer = make_scorer([
        "Pasta needs salted water.", "Good pasta needs time.", "Pasta sauce needs tomatoes.",
        "Pasta shapes differ.", "My neighbour owns a blue bicycle.",
    ])  # fmt: skip
    sentences = scorer.sentences

    assert scorer.salience(span_of(sentences, 0, 1)) > scorer.salience(span_of(sentences, 4, 4))
    assert "pasta" in scorer.explain(span_of(sentences, 0, 1), SubScore.SALIENCE)


def test_emotion_follows_sentiment_intensity() -> None:
    scorer = make_scorer(["This is the most amazing wonderful day ever!", "The box is on a table."])
    sentences = scorer.sentences

    assert scorer.emotion(span_of(sentences, 0, 0)) > 0.6
    assert scorer.emotion(span_of(sentences, 1, 1)) < 0.1


def test_energy_without_audio_uses_the_word_rate() -> None:
    def sentence(index: int, start: float, count: int, seconds: float) -> Sentence:
        step = seconds / count
        words = tuple(Word(start + i * step, start + (i + 1) * step, "word") for i in range(count))
        return Sentence(index, start, start + seconds, " ".join(["word"] * count), words, 0.5, 0.5)

    sentences = [sentence(0, 0, 12, 2.0), sentence(1, 3, 3, 3.0), sentence(2, 7, 12, 2.0)]
    scorer = Scorer(sentences, build_text_model([s.text for s in sentences]), target_duration=30)

    assert scorer.energy(span_of(sentences, 0, 0)) > 0.5 > scorer.energy(span_of(sentences, 1, 1))
    assert "no audio" in scorer.explain(span_of(sentences, 1, 1), SubScore.ENERGY)


def test_energy_with_audio_prefers_loud_fast_passages(tmp_path: Path) -> None:
    rate = 16_000
    t = np.arange(rate) / rate
    syllable = np.sin(2 * np.pi * 220 * t[: rate // 8]) * np.hanning(rate // 8)
    quiet_slow = np.concatenate([np.concatenate([0.05 * syllable, np.zeros(rate // 2)])] * 8)
    loud_fast = np.concatenate([np.concatenate([0.6 * syllable, np.zeros(rate // 16)])] * 24)
    write_wav(tmp_path / "a.wav", np.concatenate([quiet_slow, loud_fast, quiet_slow]))
    features = analyze_audio(tmp_path / "a.wav")
    scorer = make_scorer(["calm words spoken here.", "loud words spoken here.", "calm again."])
    scorer.features = features
    scorer.prepare([])
    calm = Span(0, 0, 0.5, 4.5, 0)
    loud = Span(1, 1, 5.5, 9.5, 0)

    assert scorer.energy(loud) > 0.6 > 0.4 > scorer.energy(calm)
    assert "loudness" in scorer.explain(loud, SubScore.ENERGY)


def test_length_fit_peaks_at_the_target() -> None:
    scorer = make_scorer(["One sentence here."], target=30)

    def fit(duration: float) -> float:
        return scorer.length_fit(Span(0, 0, 0.0, duration, 0))

    assert fit(30) == 1.0
    assert fit(30) > fit(40) > fit(60)
    assert fit(30) > fit(20) > fit(15)
    assert fit(45) > fit(15)  # longer is forgiven more than shorter


def test_score_is_the_documented_weighted_sum() -> None:
    scorer = make_scorer(["Did you know pasta needs salt?", "Salt the pasta water well."])
    scored = scorer.score(span_of(scorer.sentences, 0, 1), explain=True)
    weights = ScoreWeights()

    expected = sum(scored.parts[p] * weights.of(p) for p in SubScore)
    assert abs(scored.score - expected) < 1e-3
    assert abs(weights.total - 1.0) < 1e-9
    assert 0.0 <= scored.score <= 1.0
    assert set(scored.notes) == set(SubScore)
    assert scored.strongest(weights, 1) == [SubScore.HOOK]


def test_a_lead_in_is_a_hook_judged_with_its_payoff() -> None:
    alone = hook_cues("Here is the shocking part:")
    with_payoff = hook_cues("Here is the shocking part:", "most people never clean the filter.")

    assert with_payoff.teaser and with_payoff.strong_claim
    assert with_payoff.score > alone.score
    assert "lead-in" in with_payoff.describe()


def test_a_surprising_claim_counts_more_than_an_emphatic_word() -> None:
    assert hook_cues("Most people get the sauce completely wrong.").score >= 0.45
    assert hook_cues("Always salt the water.").score < 0.3


def test_a_span_opening_on_a_lead_in_scores_the_payoff_too() -> None:
    # the recogniser wrote the colon as a full stop, so the lead-in is a sentence of its own
    scorer = make_scorer(
        ["And here is the secret.", "Nobody tells you to salt the water.", "Then boil it."]
    )

    span = span_of(scorer.sentences, 0, 2)

    assert scorer.hook(span) >= 0.9
    assert scorer.completeness(span) > 0.9  # "And here is..." does not dangle
