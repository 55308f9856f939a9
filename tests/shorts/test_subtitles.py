from __future__ import annotations

from itertools import pairwise

import srt
import webvtt

from clipmill.shorts.subtitles import (
    MAX_LINE_CHARS,
    clip_subtitles,
    to_srt,
    to_text,
    to_vtt,
    transcript_cues,
)
from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.transcript import Transcript


def long_transcript() -> Transcript:
    return transcript_from_sentences(
        [
            "Short one.",
            "This sentence is deliberately long so that it cannot possibly fit into a single "
            "subtitle cue of two lines with forty two characters each, not even close.",
            "Another short one here.",
        ]
    )


def test_cues_respect_line_and_duration_limits() -> None:
    cues = transcript_cues(long_transcript())

    assert len(cues) >= 4
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2
        assert all(len(line) <= MAX_LINE_CHARS for line in cue.lines)
        assert 0 < cue.end - cue.start <= 7.0
    assert all(a.end <= b.start for a, b in pairwise(cues))


def test_cues_do_not_straddle_sentences() -> None:
    cues = transcript_cues(long_transcript())

    assert cues[0].text == "Short one."
    assert cues[-1].text == "Another short one here."


def test_srt_and_vtt_parse_back_to_the_transcript_words() -> None:
    transcript = long_transcript()
    expected = " ".join(w.text for w in transcript.words)

    subtitles = list(srt.parse(to_srt(transcript)))
    captions = webvtt.from_string(to_vtt(transcript)).captions

    assert " ".join(s.content.replace("\n", " ") for s in subtitles) == expected
    assert " ".join(c.text.replace("\n", " ") for c in captions) == expected
    assert subtitles[0].start.total_seconds() == transcript.words[0].start
    assert captions[-1].end == "00:00:12.700"
    assert abs(transcript.words[-1].end - 12.7) < 1e-6


def test_clip_subtitles_are_retimed_to_the_clip_start() -> None:
    transcript = long_transcript()
    second = transcript.segments[1]

    cues = clip_subtitles(transcript, second.start, second.end)

    assert cues[0].start == 0.0
    assert " ".join(c.text.replace("\n", " ") for c in cues) == second.text
    assert cues[-1].end <= second.end - second.start + 1e-9
    assert to_srt(cues).startswith("1\n00:00:00,000 --> ")
    assert to_vtt(cues).startswith("WEBVTT")


def test_plain_text_has_one_sentence_per_line() -> None:
    assert to_text(long_transcript()).splitlines()[0] == "Short one."
    assert to_text(Transcript("en", 0.0)) == ""
