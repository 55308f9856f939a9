from __future__ import annotations

from itertools import pairwise

import numpy as np

from clipmill.shorts.sentences import split_sentences
from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.topics import depth_scores, segment_topics
from clipmill.shorts.transcript import Transcript
from clipmill.shorts.vectors import build_text_model
from tests.shorts.conftest import topic_starts


def topics_of(transcript: Transcript, **kwargs: object) -> list[tuple[int, int]]:
    sentences = split_sentences(transcript.words, duration=transcript.duration)
    model = build_text_model([s.text for s in sentences])
    topics = segment_topics(sentences, model, **kwargs)  # type: ignore[arg-type]
    return [(t.first_sentence, t.last_sentence) for t in topics]


def test_texttiling_finds_the_three_scripted_topics(script_transcript: Transcript) -> None:
    first, second = topic_starts()

    spans = topics_of(script_transcript)

    assert [start for start, _ in spans] == [0, first, second]


def test_topics_cover_all_sentences_in_order(script_transcript: Transcript) -> None:
    spans = topics_of(script_transcript)

    assert spans[0][0] == 0
    for (_, last), (first, _) in pairwise(spans):
        assert first == last + 1


def test_topic_keywords_name_the_subject(script_transcript: Transcript) -> None:
    sentences = split_sentences(script_transcript.words)
    model = build_text_model([s.text for s in sentences])

    topics = segment_topics(sentences, model)

    assert "pasta" in topics[0].keywords
    assert {"mountain", "trail"} & set(topics[1].keywords)
    assert {"router", "network"} & set(topics[2].keywords)


def test_chapter_boundaries_are_forced(script_transcript: Transcript) -> None:
    sentences = split_sentences(script_transcript.words)
    chapter_start = sentences[5].start

    spans = topics_of(script_transcript, chapters=[(0.0, chapter_start, "Intro"),
                                                   (chapter_start, 999.0, "Rest")])  # fmt: skip

    assert 5 in [start for start, _ in spans]
    assert topic_starts()[1] in [start for start, _ in spans]


def test_one_subject_stays_one_topic() -> None:
    pasta = [
        "Boil the pasta water with salt.",
        "Pasta needs a big pot of water.",
        "Salt the pasta water well.",
        "Stir the pasta in the boiling water.",
    ] * 4

    assert topics_of(transcript_from_sentences(pasta)) == [(0, 15)]


def test_depth_is_measured_from_the_peaks_on_both_sides() -> None:
    depths = depth_scores(np.array([0.5, 0.2, 0.6, 0.6, 0.1, 0.3]))

    assert np.allclose(depths, [0.0, 0.7, 0.0, 0.0, 0.7, 0.0])


SHORT_TALK = [
    "Today we cook a plate of pasta.",
    "Boil the pasta in salted water.",
    "Stir the pasta so it does not stick.",
    "Next, drain the pasta and add the sauce.",
    "Now let's talk about the garden.",
    "Tomatoes need sun and water every day.",
    "Pull the weeds between the rows.",
    "Feed the soil with compost in spring.",
    "The last topic is your bicycle.",
    "Pump the tires before every ride.",
    "Oil the chain once a month.",
    "Check the brakes before a long trip.",
]


def test_a_short_talk_is_split_where_the_speaker_announces_topics() -> None:
    # twelve sentences in 50 s, three topics: too few for word overlap alone
    transcript = transcript_from_sentences(SHORT_TALK, word_duration=0.5)

    assert [first for first, _ in topics_of(transcript)] == [0, 4, 8]


def test_a_step_that_starts_with_next_or_finally_stays_in_its_topic() -> None:
    steps = [
        "Boil the pasta water with salt.",
        "Pasta needs a big pot of water.",
        "Next, stir the pasta in the water.",
        "Salt the pasta water well.",
        "Finally, drain the pasta and keep some water.",
        "Serve the pasta with the sauce.",
    ]

    assert topics_of(transcript_from_sentences(steps)) == [(0, 5)]


def test_a_lead_in_and_its_payoff_are_never_split() -> None:
    texts = [*SHORT_TALK[:4], "Here is the surprising part:", *SHORT_TALK[5:]]

    starts = [first for first, _ in topics_of(transcript_from_sentences(texts, word_duration=0.5))]

    assert 5 not in starts
