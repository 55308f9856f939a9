"""Audio features and silence snapping on synthetic signals."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from clipmill.errors import BrokenMedia
from clipmill.shorts.boundaries import snap_to_silence
from clipmill.shorts.features import analyze_audio, load_samples
from clipmill.shorts.sentences import Sentence
from clipmill.shorts.transcript import Word
from tests.support.talk import write_wav

RATE = 16_000


def tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    # syllable-like bursts: a 200 Hz tone modulated at 4 Hz
    return level * np.sin(2 * np.pi * 200 * t) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE))


@pytest.fixture
def two_phrases(tmp_path: Path) -> Path:
    """Speech-like 1.0-3.0 s and 3.4-6.0 s, silence elsewhere (7 s)."""
    path = tmp_path / "phrases.wav"
    write_wav(path, np.concatenate([silence(1), tone(2), silence(0.4), tone(2.6), silence(1)]))
    return path


def test_per_second_series_cover_the_file(two_phrases: Path) -> None:
    features = analyze_audio(two_phrases)

    assert len(features.loudness_db) == 7
    assert features.loudness_db[0] < features.loudness_db[2] - 15
    assert features.loudness_db[2] > -20
    assert features.syllable_rate[0] == 0
    assert 2 <= features.syllable_rate[4] <= 6  # ~4 bursts per second
    assert abs(features.duration - 7.0) < 0.05


def test_silence_mask_finds_the_pause(two_phrases: Path) -> None:
    features = analyze_audio(two_phrases)

    assert features.silent(3.1, 3.3).all()
    assert not features.silent(1.5, 2.5).any()


def test_sentence_edges_snap_onto_the_pause(two_phrases: Path) -> None:
    # Whisper-like times: first start early, second start late, ends off by a bit
    first = Sentence(0, 0.7, 2.8, "a", (Word(0.7, 2.8, "a."),), 0.7, 0.9)
    second = Sentence(1, 3.7, 6.2, "b", (Word(3.7, 6.2, "b."),), 0.9, 0.8)

    snapped = snap_to_silence([first, second], analyze_audio(two_phrases), 7.0)

    assert [round(s.start, 1) for s in snapped] == [1.0, 3.4]
    assert [round(s.end, 1) for s in snapped] == [3.0, 6.0]
    assert abs(snapped[1].pause_before - 0.4) < 0.05
    assert snapped[0].words == first.words


def test_other_formats_are_decoded_with_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "stereo44k.wav"
    samples = (np.tile(tone(1.0)[:, None], (1, 2)) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(44_100)
        handle.writeframes(samples.tobytes())  # 16 kHz samples declared as 44.1 kHz

    decoded = load_samples(path)

    assert abs(len(decoded) - RATE * RATE / 44_100) < 50


def test_unreadable_audio_is_broken_media(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00garbage" * 100)

    with pytest.raises(BrokenMedia):
        analyze_audio(junk)
    with pytest.raises(BrokenMedia):
        analyze_audio(tmp_path / "missing.wav")
