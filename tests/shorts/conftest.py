"""Hand-made transcripts for fast unit tests of the clip plan."""

from __future__ import annotations

import pytest

from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.transcript import Transcript
from tests.support.talk import DEFAULT_SCRIPT


def script_sentences() -> list[str]:
    return [text for topic in DEFAULT_SCRIPT for text in topic.sentences]


def topic_starts() -> list[int]:
    """Sentence indexes where topics 2 and 3 of the script begin."""
    starts, count = [], 0
    for topic in DEFAULT_SCRIPT[:-1]:
        count += len(topic.sentences)
        starts.append(count)
    return starts


@pytest.fixture
def script_transcript() -> Transcript:
    """The talk's script laid out with synthetic timings (~3-4 s per sentence)."""
    return transcript_from_sentences(
        script_sentences(), pauses={index: 1.5 for index in topic_starts()}
    )
