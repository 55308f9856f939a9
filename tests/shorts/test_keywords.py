"""Content words: lemmas without stop words, light verbs of speech or adverbs."""

from __future__ import annotations

from clipmill.shorts.keywords import STOP_WORDS, content_terms, lemma, tag_weight
from clipmill.shorts.sentences import split_sentences
from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.titles import hashtag, make_title, video_keywords
from clipmill.shorts.vectors import build_text_model


def test_speech_words_pronouns_and_auxiliaries_are_not_content() -> None:
    text = "Now let me tell you what I really think: we're going to want to know this, okay?"

    assert content_terms(text) == []
    assert {"let", "tell", "want", "think", "really", "going", "we", "are", "it"} <= STOP_WORDS


def test_content_words_are_lemmatised() -> None:
    assert content_terms("The hikers' boots and the mountains") == ["hiker", "boot", "mountain"]
    assert [lemma(w) for w in ("routers", "went", "thinking", "leaves")][:3] == [
        "router",
        "go",
        "think",
    ]


def test_nouns_make_better_tags_than_adverbs() -> None:
    assert tag_weight("tent") == 1.0
    assert tag_weight("slowly") == 0.0
    assert 0 < tag_weight("bright") < tag_weight("tent")
    assert tag_weight("clipmill") == 1.0  # unknown words are usually names


SENTENCES = [
    "Let me tell you about the mountain trail.",
    "The mountain trail is steep and the hikers really love it.",
    "I think every hiker wants good boots on that trail.",
    "Now let us talk about the wireless router.",
    "The router sits in the hallway and the signal is weak.",
    "Move the router and the wireless signal gets better.",
]


def test_keywords_rank_what_is_salient_in_the_span() -> None:
    model = build_text_model(SENTENCES)

    hiking, network = model.keywords(0, 3, 3), model.keywords(3, 6, 3)

    assert set(hiking) <= {"mountain", "trail", "hiker", "boot", "steep"}
    assert "trail" in hiking and "router" in network
    assert not set(hiking) & set(network)
    assert not set(video_keywords(model)) & STOP_WORDS


def test_titles_and_hashtags_use_content_words() -> None:
    transcript = transcript_from_sentences(SENTENCES)
    sentences = split_sentences(transcript.words)
    model = build_text_model([s.text for s in sentences])

    title = make_title(sentences, model, 3, 5, hook_score=0.0)

    assert {"router", "signal"} & set(title.lower().split())
    assert len(title.split()) >= 3
    assert [hashtag(t) for t in model.keywords(3, 6, 2)] == ["#router", "#signal"]
