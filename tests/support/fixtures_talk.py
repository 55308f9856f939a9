"""Pytest plugin: the espeak-ng test talk and its (once per session) Whisper transcript.

The rendered talk is cached by content hash in the system temp dir (override with
``CLIPMILL_TEST_CACHE``), so later sessions reuse it; the hash covers the script, pauses and the
espeak-ng version, so a changed script renders anew.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from clipmill.shorts.transcript import Transcript
from tests.support.talk import Talk, build_talk


def talk_cache_root() -> Path:
    override = os.environ.get("CLIPMILL_TEST_CACHE")
    return Path(override) if override else Path(tempfile.gettempdir()) / "clipmill-test-talk"


@pytest.fixture(scope="session")
def talk() -> Talk:
    """The ~2 minute, three-topic talk: wav, mp4, true sentence times, topics and hooks."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return build_talk(talk_cache_root())


@pytest.fixture(scope="session")
def talk_transcript(talk: Talk) -> Transcript:
    """The talk transcribed by the real tiny.en model with the default settings (once)."""
    from clipmill.shorts.transcribe import WhisperTranscriber

    return WhisperTranscriber().transcribe(talk.wav, language="en")
