"""The plan on generated talks it was not written for: espeak-ng voices, real tiny.en transcripts.

Each talk comes from ``tests/support/talks.py`` with its ground truth (true sentence times,
topics, hooks, lead-ins). Transcripts are cached on disk beside the rendered audio, so only the
first run pays for Whisper.
"""

from __future__ import annotations

import shutil

import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from clipmill.shorts import ClipPlan, ClipPlanOptions, plan_clips
from tests.support.talk import Talk
from tests.support.talks import TEST_SPECS, TalkSpec, cache_root, render, transcribe_talk

pytestmark = pytest.mark.integration

TOLERANCE = 0.3  # seconds between a clip edge and the true sentence edge
NOT_KEYWORDS = frozenset(
    {"let", "tell", "want", "think", "really", "going", "know", "say", "get", "make", "thing",
     "okay", "just", "like", "people"}
) | frozenset(ENGLISH_STOP_WORDS)  # fmt: skip


@pytest.fixture(scope="module", params=TEST_SPECS, ids=[s.name for s in TEST_SPECS])
def unseen(request: pytest.FixtureRequest) -> tuple[TalkSpec, Talk, ClipPlan]:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    spec: TalkSpec = request.param
    talk = render(spec, cache_root())
    transcript = transcribe_talk(talk)
    options = ClipPlanOptions(max_clips=max(5, len(talk.hooks)))
    return spec, talk, plan_clips(transcript, options=options, audio_path=talk.wav)


def near(value: float, targets: list[float]) -> bool:
    return bool(targets) and min(abs(value - t) for t in targets) <= TOLERANCE


def test_the_generated_talks_cover_what_they_should() -> None:
    assert any(not spec.cues for spec in TEST_SPECS)
    assert len({spec.voice for spec in TEST_SPECS}) > 1
    assert {spec.topics for spec in TEST_SPECS} >= {2, 3}


def test_topic_count_is_right(unseen: tuple[TalkSpec, Talk, ClipPlan]) -> None:
    _, talk, plan = unseen

    assert len(plan.topics) == len(talk.topic_ranges), [t.start for t in plan.topics]
    for found, (start, _) in zip(plan.topics[1:], talk.topic_ranges[1:], strict=True):
        assert abs(found.start - start) <= TOLERANCE


def test_no_clip_crosses_a_topic_boundary(unseen: tuple[TalkSpec, Talk, ClipPlan]) -> None:
    _, talk, plan = unseen

    assert plan.clips
    for clip in plan.clips:
        for boundary in talk.topic_boundaries:
            assert not clip.start_time < boundary < clip.end_time, (clip.transcript_segment,)


def test_no_clip_ends_on_the_sentence_that_opens_a_topic(
    unseen: tuple[TalkSpec, Talk, ClipPlan],
) -> None:
    _, talk, plan = unseen
    opener_ends = [talk.sentences[i].end for i in talk.topic_starts]

    for clip in plan.clips:
        assert not near(clip.end_time, opener_ends), clip.transcript_segment


def test_a_colon_lead_in_stays_with_its_payoff(unseen: tuple[TalkSpec, Talk, ClipPlan]) -> None:
    _, talk, plan = unseen

    for leadin in talk.leadins:
        payoff = talk.sentences[leadin.index + 1]
        for clip in plan.clips:
            assert not near(clip.start_time, [payoff.start]), (leadin.text, clip.start_time)
            assert not near(clip.end_time, [leadin.end]), (leadin.text, clip.end_time)
            if clip.start_time < payoff.start < clip.end_time:
                assert clip.start_time <= leadin.start + TOLERANCE


def test_planted_hooks_open_clips(unseen: tuple[TalkSpec, Talk, ClipPlan]) -> None:
    _, talk, plan = unseen
    starts = [clip.start_time for clip in plan.clips]

    for hook in talk.hooks:
        assert near(hook.start, starts), hook.text


def test_keywords_are_content_words(unseen: tuple[TalkSpec, Talk, ClipPlan]) -> None:
    _, _, plan = unseen
    words = [*plan.keywords, *(k for t in plan.topics for k in t.keywords)]
    words += [tag for clip in plan.clips for tag in clip.tags]
    words += [tag.lstrip("#") for clip in plan.clips for tag in clip.hashtags]

    assert words
    assert not [w for w in words if w.lower() in NOT_KEYWORDS]


def test_clip_edges_sit_on_true_sentence_boundaries(
    unseen: tuple[TalkSpec, Talk, ClipPlan],
) -> None:
    _, talk, plan = unseen
    starts = [s.start for s in talk.sentences]
    ends = [s.end for s in talk.sentences]

    for clip in plan.clips:
        assert near(clip.start_time, starts), clip.transcript_segment
        assert near(clip.end_time, ends), clip.transcript_segment
