"""End to end on the espeak-ng talk with the real tiny.en model (transcribed once per session)."""

from __future__ import annotations

import threading
from itertools import pairwise

import jiwer
import pytest

from clipmill.errors import InvalidOption, JobCancelled
from clipmill.shorts import ClipPlan, WhisperTranscriber, clip_subtitles, plan_clips, to_srt
from clipmill.shorts.subtitles import to_vtt, transcript_cues
from clipmill.shorts.transcribe import load_model
from clipmill.shorts.transcript import Transcript, join_words
from tests.support.talk import Talk, normalize_for_wer

pytestmark = pytest.mark.integration

TOLERANCE = 0.3  # seconds between a clip edge and the true sentence edge


@pytest.fixture(scope="module")
def talk_plan(talk: Talk, talk_transcript: Transcript) -> ClipPlan:
    return plan_clips(talk_transcript, audio_path=talk.wav)


def test_transcript_matches_the_script(talk: Talk, talk_transcript: Transcript) -> None:
    error = jiwer.wer(normalize_for_wer(talk.text), normalize_for_wer(talk_transcript.text))

    assert error < 0.10
    assert talk_transcript.language == "en"
    assert abs(talk_transcript.duration - talk.duration) < 0.1
    words = talk_transcript.words
    assert all(a.start <= b.start for a, b in pairwise(words))


def test_clips_start_and_end_on_true_sentence_boundaries(talk: Talk, talk_plan: ClipPlan) -> None:
    starts = [s.start for s in talk.sentences]
    ends = [s.end for s in talk.sentences]

    assert talk_plan.clips
    for clip in talk_plan.clips:
        assert min(abs(clip.start_time - t) for t in starts) <= TOLERANCE, clip
        assert min(abs(clip.end_time - t) for t in ends) <= TOLERANCE, clip


def test_no_clip_crosses_a_topic_boundary(talk: Talk, talk_plan: ClipPlan) -> None:
    for clip in talk_plan.clips:
        for boundary in talk.topic_boundaries:
            assert not clip.start_time < boundary < clip.end_time, (clip, boundary)


def test_topics_follow_the_script(talk: Talk, talk_plan: ClipPlan) -> None:
    found = [topic.start for topic in talk_plan.topics[1:]]
    truth = [start for start, _ in talk.topic_ranges[1:]]

    assert len(talk_plan.topics) == len(talk.topic_ranges)
    assert all(abs(a - b) <= TOLERANCE for a, b in zip(found, truth, strict=True))


def test_planted_hooks_open_top_clips(talk: Talk, talk_plan: ClipPlan) -> None:
    top = talk_plan.clips[: len(talk.hooks)]

    for hook in talk.hooks:
        assert any(abs(clip.start_time - hook.start) <= TOLERANCE for clip in top), hook.text
    assert all(clip.sub_scores["hook"] >= 0.5 for clip in top)


def test_subtitles_carry_the_transcript_words(talk_transcript: Transcript) -> None:
    expected = join_words(talk_transcript.words)
    cues = transcript_cues(talk_transcript)

    assert " ".join(cue.text.replace("\n", " ") for cue in cues) == expected
    assert to_srt(talk_transcript).count(" --> ") == len(cues)
    assert to_vtt(talk_transcript).count(" --> ") == len(cues)


def test_clip_subtitles_match_the_clip_text(
    talk_plan: ClipPlan, talk_transcript: Transcript
) -> None:
    clip = talk_plan.clips[0]

    cues = clip_subtitles(talk_transcript, clip.start_time, clip.end_time)

    assert " ".join(c.text.replace("\n", " ") for c in cues) == clip.transcript_segment
    assert cues[0].start >= 0 and cues[-1].end <= clip.duration + 1e-6


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "plain"])
def test_cancel_stops_transcription_at_the_next_segment(talk: Talk, batched: bool) -> None:
    cancel = threading.Event()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        cancel.set()

    with pytest.raises(JobCancelled):
        WhisperTranscriber(batched=batched).transcribe(talk.wav, on_progress=progress,
                                                       cancel=cancel)  # fmt: skip
    assert len(seen) == 1 and seen[0] < 0.75


def test_models_are_loaded_once_per_process() -> None:
    first = WhisperTranscriber()
    assert load_model(first.model_path) is load_model(WhisperTranscriber().model_path)


def test_unknown_model_name_is_rejected_before_loading() -> None:
    with pytest.raises(InvalidOption) as caught:
        WhisperTranscriber("definitely-not-a-model")
    assert caught.value.code == "invalid_option"
