"""Discourse cues that open topics, and lead-ins that announce the next sentence."""

from __future__ import annotations

import pytest

from clipmill.shorts.cues import STRONG_CUE, WEAK_CUE, is_leadin, topic_cue


@pytest.mark.parametrize(
    "sentence",
    [
        "Now let's talk about hiking in the mountains.",
        "Now let us talk about hiking.",
        "Okay, so now on to coffee.",
        "Moving on, let's look at bread.",
        "Another thing worth covering is tents.",
        "Let's turn to money.",
        "The last topic is the computer network in your home.",
        "Finally, let us talk about pasta.",
        "Next, I want to talk about guitars.",
        "I'd like to talk about budgets now.",
        "Switching gears, the garden.",
    ],
)
def test_announced_topic_changes_are_strong_cues(sentence: str) -> None:
    assert topic_cue(sentence) == STRONG_CUE


@pytest.mark.parametrize(
    "sentence", ["Next, drain the pasta.", "Finally, restart the router.", "Now season it."]
)
def test_steps_inside_a_topic_are_only_weak_cues(sentence: str) -> None:
    assert topic_cue(sentence) == WEAK_CUE


@pytest.mark.parametrize(
    "sentence",
    ["So we boil the water.", "Today we cook pasta.", "The talk about money was long."],
)
def test_ordinary_sentences_are_no_cue(sentence: str) -> None:
    assert topic_cue(sentence) == 0.0


@pytest.mark.parametrize(
    "sentence",
    [
        "Here is the shocking part:",
        "Here's the shocking part.",  # the recogniser wrote the colon as a full stop
        "And here is the secret.",
        "This is the surprising part.",
        "Here is the thing nobody tells you.",
        "The real secret is this.",
        "Guess what?",
        "Whatever you do, remember one thing:",
    ],
)
def test_lead_ins_are_recognised(sentence: str) -> None:
    assert is_leadin(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "This is a tent.",
        "This is the router we use in the office every single day.",
        "Most people never clean the filter.",
        "Here is the shocking part: most people never clean the filter at all.",
    ],
)
def test_statements_are_not_lead_ins(sentence: str) -> None:
    assert not is_leadin(sentence)
