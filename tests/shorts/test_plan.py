"""Candidates, picking and the whole plan on hand-made transcripts."""

from __future__ import annotations

import json

import pytest

from clipmill.errors import InvalidOption
from clipmill.shorts import ClipPlanOptions, RankSource, plan_clips
from clipmill.shorts.plan import generate_candidates, overlap, pick
from clipmill.shorts.scoring import ScoredSpan, Span
from clipmill.shorts.sentences import Sentence
from clipmill.shorts.topics import Topic
from clipmill.shorts.transcript import Transcript
from tests.shorts.conftest import topic_starts


def fake_sentences(durations: list[float], pause: float = 0.5) -> list[Sentence]:
    out, cursor = [], 0.0
    for i, seconds in enumerate(durations):
        out.append(Sentence(i, cursor, cursor + seconds, f"s{i}.", (), pause, pause))
        cursor += seconds + pause
    return out


def topic(index: int, sentences: list[Sentence], first: int, last: int) -> Topic:
    return Topic(index, first, last, sentences[first].start, sentences[last].end)


def test_candidates_are_sentence_aligned_and_within_bounds() -> None:
    sentences = fake_sentences([5.0] * 12)
    topics = [topic(0, sentences, 0, 5), topic(1, sentences, 6, 11)]
    options = ClipPlanOptions(clip_duration=15, min_clip_duration=10, max_clip_duration=20)

    spans = generate_candidates(sentences, topics, options)

    assert spans
    for span in spans:
        assert span.start == sentences[span.first].start
        assert span.end == sentences[span.last].end
        assert 10 <= span.duration <= 20
        owner = topics[span.topic]
        assert owner.first_sentence <= span.first <= span.last <= owner.last_sentence


def test_candidates_never_cross_a_topic_boundary() -> None:
    sentences = fake_sentences([5.0] * 12)
    topics = [topic(0, sentences, 0, 5), topic(1, sentences, 6, 11)]

    spans = generate_candidates(sentences, topics, ClipPlanOptions())

    assert not [s for s in spans if s.first <= 5 < s.last]


def test_short_topics_are_clipped_only_as_runs_of_whole_topics() -> None:
    sentences = fake_sentences([4.0] * 6)
    topics = [topic(0, sentences, 0, 1), topic(1, sentences, 2, 3), topic(2, sentences, 4, 5)]
    options = ClipPlanOptions(clip_duration=15, min_clip_duration=12, max_clip_duration=20)

    spans = generate_candidates(sentences, topics, options)

    assert {(s.first, s.last) for s in spans} == {(0, 3), (2, 5)}


def scored(start: float, end: float, score: float) -> ScoredSpan:
    return ScoredSpan(Span(0, 0, start, end, 0), score)


def test_pick_is_greedy_and_skips_overlaps() -> None:
    candidates = [scored(0, 30, 0.9), scored(20, 50, 0.8), scored(31, 60, 0.7), scored(60, 80, 0.1)]

    chosen = pick(candidates, limit=5, allowed_overlap=0.0)

    assert [c.score for c in chosen] == [0.9, 0.7, 0.1]


def test_pick_allows_the_configured_overlap_and_limit() -> None:
    candidates = [scored(0, 30, 0.9), scored(25, 55, 0.8), scored(50, 80, 0.7)]

    assert [c.score for c in pick(candidates, 5, 5.0)] == [0.9, 0.8, 0.7]
    assert [c.score for c in pick(candidates, 2, 5.0)] == [0.9, 0.8]
    assert overlap(candidates[0].span, candidates[1].span) == 5


def test_plan_picks_the_hooks_on_the_script(script_transcript: Transcript) -> None:
    plan = plan_clips(script_transcript)

    starts = [c.first_sentence for c in plan.clips]
    first, second = topic_starts()
    assert {2, first + 2, second + 2} <= set(starts)
    assert plan.ranked_by is RankSource.LOCAL
    assert [c.clip_id for c in plan.clips] == [f"clip-{n:02d}" for n in range(1, len(starts) + 1)]
    scores = [c.score for c in plan.clips]
    assert scores == sorted(scores, reverse=True)


def test_planned_clips_are_complete_and_described(script_transcript: Transcript) -> None:
    plan = plan_clips(script_transcript, options=ClipPlanOptions(max_clips=3))

    assert len(plan.clips) == 3
    for clip in plan.clips:
        assert 15 <= clip.duration <= 60.5
        assert clip.title and clip.description and clip.tags
        assert clip.hashtags == ()  # a hashtag only repeated a tag
        assert clip.reason.endswith(".") and "Strongest" not in clip.reason
        assert set(clip.sub_scores) == set(clip.explanations)
        assert 0 <= clip.score <= 1
        first = plan.sentences[clip.first_sentence]
        assert clip.transcript_segment.startswith(first.text)
    a, b, c = sorted(plan.clips, key=lambda clip: clip.start_time)
    assert a.end_time <= b.start_time and b.end_time <= c.start_time


def test_plan_is_json_serialisable(script_transcript: Transcript) -> None:
    plan = plan_clips(script_transcript)

    document = json.loads(json.dumps(plan.to_dict()))

    assert document["candidate_count"] == plan.candidate_count > 0
    assert len(document["topics"]) == 3
    assert len(document["sentences"]) == len(plan.sentences)
    assert document["clips"][0]["clip_id"] == "clip-01"
    assert json.loads(json.dumps(plan.clips_dict()))["clips"] == document["clips"]


def test_empty_transcript_gives_an_empty_plan() -> None:
    plan = plan_clips(Transcript("en", 10.0, ()))

    assert plan.clips == () and plan.sentences == () and plan.candidate_count == 0


@pytest.mark.parametrize(
    "options",
    [
        {"clip_duration": 10, "min_clip_duration": 15},
        {"min_clip_duration": 70},
        {"clip_duration": -1},
        {"max_clips": 0},
        {"overlap_duration": 20},
        {"clip_duration": float("nan")},
    ],
)
def test_bad_options_are_invalid_option(options: dict[str, float]) -> None:
    with pytest.raises(InvalidOption) as caught:
        ClipPlanOptions(**options)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_option"


def test_candidates_keep_a_lead_in_with_its_payoff() -> None:
    texts = ["One.", "Two.", "Here is the shocking part:", "Most people never do it.", "Five."]
    sentences = [
        Sentence(i, i * 5.0, i * 5.0 + 4.5, text, (), 0.5, 0.5) for i, text in enumerate(texts)
    ]
    topics = [topic(0, sentences, 0, 4)]
    options = ClipPlanOptions(clip_duration=10, min_clip_duration=4, max_clip_duration=20)

    spans = generate_candidates(sentences, topics, options)

    assert spans
    assert not [s for s in spans if s.first == 3], "starts after the lead-in"
    assert not [s for s in spans if s.last == 2], "ends on the lead-in"
    assert [s for s in spans if s.first == 2 and s.last >= 3]


def test_candidates_never_end_on_a_sentence_that_opens_a_topic() -> None:
    texts = ["Pasta is easy.", "Boil water.", "Now let's talk about hiking.", "Boots matter."]
    sentences = [
        Sentence(i, i * 5.0, i * 5.0 + 4.5, text, (), 0.5, 0.5) for i, text in enumerate(texts)
    ]
    topics = [topic(0, sentences, 0, 3)]  # the segmentation missed the change
    options = ClipPlanOptions(clip_duration=10, min_clip_duration=4, max_clip_duration=20)

    spans = generate_candidates(sentences, topics, options)

    assert not [s for s in spans if s.last == 2 and s.first < 2]


def test_candidates_do_not_stop_before_a_sentence_that_carries_on() -> None:
    # Whisper put a full stop at the pause before "and since then..."
    texts = ["Pasta is easy.", "My neighbour showed me how.", "And since then it works.", "Eat."]
    sentences = [
        Sentence(i, i * 5.0, i * 5.0 + 4.5, text, (), 0.5, 0.5) for i, text in enumerate(texts)
    ]
    topics = [topic(0, sentences, 0, 3)]
    options = ClipPlanOptions(clip_duration=10, min_clip_duration=4, max_clip_duration=20)

    spans = generate_candidates(sentences, topics, options)

    assert not [s for s in spans if s.last == 1]
    assert [s for s in spans if s.last == 2]
