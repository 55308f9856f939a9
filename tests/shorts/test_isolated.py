"""Transcription in a child process: same words as in-process, and a cancel that is immediate."""

from __future__ import annotations

import os
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


def test_cancel_kills_the_child(talk) -> None:  # type: ignore[no-untyped-def]
    """How fast is bench/cancel_latency.py's business; here: the child and its group go."""
    cancel = threading.Event()
    seen: list[set[int]] = []

    def cancel_soon() -> None:
        time.sleep(2.0)  # model loaded, decoding under way
        seen.append(_children())
        cancel.set()

    threading.Thread(target=cancel_soon, daemon=True).start()
    with pytest.raises(JobCancelled):
        IsolatedTranscriber(settings=Settings()).transcribe(Path(talk.wav), cancel=cancel)
    assert seen and seen[0], "the decoder ran in a child"
    assert not (_children() & seen[0])


def _children() -> set[int]:
    """Live child processes of this test process that run clipmill's child entry point."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and stat[0] not in "ZX" and b"child_entry" in cmdline:
            found.add(int(entry.name))
    return found


def test_unknown_model_fails_before_any_child_starts() -> None:
    with pytest.raises(InvalidOption):
        IsolatedTranscriber("large-v9", settings=Settings())
