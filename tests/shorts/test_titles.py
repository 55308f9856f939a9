"""Titles, reasons, tags and the "fewer than asked" note on generated talks (issue 15, item 6).

The talks are ``tests/support/talks.py`` scripts laid out as word-timed transcripts, so these
run in seconds; ``tests/support/title_shape.py`` defines what a broken title is.
"""

from __future__ import annotations

import re

import pytest

from clipmill.shorts import ClipPlan, ClipPlanOptions, plan_clips
from clipmill.shorts.testing import transcript_from_sentences
from tests.support.talks import TEST_SPECS, bench_specs, compose
from tests.support.title_shape import is_broken, title_shape

SPECS = [*TEST_SPECS, *bench_specs(100)[:6]]


def scripted_plan(index: int, max_clips: int) -> ClipPlan:
    composed = compose(SPECS[index])
    sentences = [s for topic in composed.script for s in topic.sentences]
    transcript = transcript_from_sentences(
        sentences, pauses=dict(enumerate(composed.pauses, start=1))
    )
    return plan_clips(
        transcript, options=ClipPlanOptions(max_clips=max_clips), use_embeddings=False
    )


@pytest.fixture(scope="module", params=range(len(SPECS)), ids=[s.name for s in SPECS])
def plan(request: pytest.FixtureRequest) -> ClipPlan:
    return scripted_plan(request.param, 8)


def test_the_check_catches_the_reported_fragments() -> None:
    clip = "Failure taught me a lot. Cut sleep and you lose memory. The button is stuck."
    for title in ("Failure taught", "Cut sleep", "Month fix", "The button is"):
        assert is_broken(title, clip), title_shape(title, clip)
    assert not is_broken("Cut Sleep and You Lose Memory", clip)


def test_no_title_is_a_broken_fragment(plan: ClipPlan) -> None:
    assert plan.clips
    for clip in plan.clips:
        assert not is_broken(clip.title, clip.transcript_segment), (
            clip.title, title_shape(clip.title, clip.transcript_segment),
        )  # fmt: skip


def test_no_two_clips_share_a_title(plan: ClipPlan) -> None:
    keys = [" ".join(c.title.lower().split()) for c in plan.clips]
    assert len(keys) == len(set(keys)), keys


def test_reasons_are_sentences_without_scores(plan: ClipPlan) -> None:
    for clip in plan.clips:
        assert not re.search(r"\d|Strongest|_", clip.reason), clip.reason
        assert clip.reason[:1].isupper() and clip.reason.endswith(".")
        assert clip.sub_scores  # the numbers stay in their own field


def test_tags_are_distinct_and_hashtags_do_not_repeat_them(plan: ClipPlan) -> None:
    for clip in plan.clips:
        tags = [t.lower() for t in clip.tags]
        assert len(tags) == len(set(tags))
        assert not [h for h in clip.hashtags if h.lstrip("#").lower() in tags]


def test_fewer_clips_than_asked_says_why() -> None:
    plan = scripted_plan(0, 20)

    assert len(plan.clips) < 20
    assert plan.note is not None
    assert f"has {len(plan.clips)} moments" in plan.note and "asked for 20" in plan.note
    assert plan.to_dict()["note"] == plan.note


def test_as_many_clips_as_asked_has_no_note() -> None:
    plan = scripted_plan(0, 1)

    assert len(plan.clips) == 1 and plan.note is None


def test_the_job_result_carries_the_note() -> None:
    from clipmill.shorts.artifacts import analysis_summary

    plan = scripted_plan(0, 20)

    assert analysis_summary(plan.to_dict())["note"] == plan.note
