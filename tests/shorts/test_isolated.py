"""Transcription in a child process: same words as in-process, and a cancel that is immediate."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from clipmill.config import Settings
from clipmill.errors import InvalidOption, JobCancelled
from clipmill.shorts.isolated import IsolatedTranscriber

pytestmark = pytest.mark.integration


def test_child_transcript_matches_and_reports_progress(talk, talk_transcript) -> None:  # type: ignore[no-untyped-def]
    ticks: list[float] = []
    transcript = IsolatedTranscriber(settings=Settings()).transcribe(
        Path(talk.wav), language="en", on_progress=ticks.append
    )
    assert [w.text for w in transcript.words] == [w.text for w in talk_transcript.words]
    assert ticks and ticks[-1] == 1.0 and ticks == sorted(ticks)


def test_cancel_kills_the_child_within_a_second(talk) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    started: list[float] = []

    def cancel_soon() -> None:
        time.sleep(2.0)  # model loaded, decoding under way
        started.append(time.monotonic())
        cancel.set()

    threading.Thread(target=cancel_soon, daemon=True).start()
    with pytest.raises(JobCancelled):
        IsolatedTranscriber(settings=Settings()).transcribe(Path(talk.wav), cancel=cancel)
    assert time.monotonic() - started[0] < 1.5


def test_unknown_model_fails_before_any_child_starts() -> None:
    with pytest.raises(InvalidOption):
        IsolatedTranscriber("large-v9", settings=Settings())
