"""Audio features from the 16 kHz mono WAV: loudness, speech rate, and where the silences are.

Everything is numpy on a 10 ms frame grid. Per-second series feed the energy sub-score (loud,
fast passages are where speakers get animated); the frame envelope lets the planner snap clip
edges onto real silences, because Whisper's word starts after a pause are often a few hundred
milliseconds late and a clip must not clip the first syllable.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipmill.errors import BrokenMedia
from clipmill.media.containers import input_guard
from clipmill.media.ffmpeg import file_arg, find_ffmpeg

SAMPLE_RATE = 16_000
HOP_SECONDS = 0.01
FLOOR_DB = -100.0


@dataclass(frozen=True, eq=False)
class AudioFeatures:
    """Frame envelope (dBFS per 10 ms) plus per-second loudness and syllable-rate series."""

    frame_db: np.ndarray
    loudness_db: np.ndarray
    syllable_rate: np.ndarray
    silence_threshold_db: float

    @property
    def duration(self) -> float:
        return len(self.frame_db) * HOP_SECONDS

    def silent(self, start: float, end: float) -> np.ndarray:
        """Boolean mask of silent frames between two times."""
        lo, hi = _frame(start, len(self.frame_db)), _frame(end, len(self.frame_db))
        return self.frame_db[lo:hi] < self.silence_threshold_db

    def window(self, series: np.ndarray, start: float, end: float) -> np.ndarray:
        """The per-second values covering [start, end)."""
        lo = max(0, min(len(series) - 1, int(start)))
        hi = max(lo + 1, min(len(series), int(np.ceil(end))))
        return series[lo:hi]


def _frame(seconds: float, limit: int) -> int:
    return max(0, min(limit, round(seconds / HOP_SECONDS)))


CHUNK_SAMPLES = 160 * 6000  # one minute of audio per read; memory stays flat for long videos


def iter_chunks(audio_path: Path) -> Iterator[np.ndarray]:
    """Yield 16 kHz mono int16 chunks: directly for PCM WAV, through ffmpeg for anything else."""
    if not audio_path.is_file():
        raise BrokenMedia(f"Audio file not found: {audio_path.name}")
    if _is_pcm16_mono_16k(audio_path):
        with wave.open(str(audio_path), "rb") as handle:
            while raw := handle.readframes(CHUNK_SAMPLES):
                yield np.frombuffer(raw, dtype="<i2")
    else:
        yield from _decode_with_ffmpeg(audio_path)


def _is_pcm16_mono_16k(audio_path: Path) -> bool:
    try:
        with wave.open(str(audio_path), "rb") as handle:
            layout = (handle.getnchannels(), handle.getsampwidth(), handle.getframerate())
    except (wave.Error, EOFError):
        return False  # not a plain PCM WAV; ffmpeg will decode it
    return layout == (1, 2, SAMPLE_RATE)


def _decode_with_ffmpeg(audio_path: Path) -> Iterator[np.ndarray]:
    ffmpeg = find_ffmpeg().ffmpeg
    command = [
        ffmpeg, "-nostdin", "-loglevel", "error", *input_guard(str(audio_path)),
        "-i", file_arg(audio_path), "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE),
        "-f", "s16le", "pipe:1",
    ]  # fmt: skip
    produced = False
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        while raw := process.stdout.read(CHUNK_SAMPLES * 2):
            produced = True
            yield np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
    if process.returncode != 0 or not produced:
        raise BrokenMedia(f"Could not decode audio from {audio_path.name}.")


def load_samples(audio_path: Path) -> np.ndarray:
    """All samples as float32 in [-1, 1] (for short files and tests)."""
    chunks = list(iter_chunks(audio_path))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def hop_energies(chunks: Iterable[np.ndarray]) -> np.ndarray:
    """Mean power of each 10 ms block, computed chunk by chunk."""
    hop = int(HOP_SECONDS * SAMPLE_RATE)
    energies: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float64)
    for chunk in chunks:
        data = np.concatenate((carry, chunk.astype(np.float64) / 32768.0))
        usable = len(data) // hop * hop
        energies.append((data[:usable].reshape(-1, hop) ** 2).mean(axis=1))
        carry = data[usable:]
    return np.concatenate(energies) if energies else np.zeros(0)


def frame_envelope(energies: np.ndarray) -> np.ndarray:
    """RMS level in dBFS of 20 ms frames every 10 ms (two adjacent 10 ms blocks)."""
    if energies.size < 2:
        return np.full(energies.size, FLOOR_DB)
    frames = np.concatenate(((energies[:-1] + energies[1:]) / 2, energies[-1:]))
    return np.maximum(10.0 * np.log10(np.maximum(frames, 1e-20)), FLOOR_DB)


def silence_threshold(frame_db: np.ndarray) -> float:
    """A level below which a frame is a pause: above the noise floor, far below speech."""
    if frame_db.size == 0:
        return FLOOR_DB
    floor, speech = np.percentile(frame_db, [10, 95])
    return float(max(floor + 8.0, speech - 40.0))


def syllable_peaks(frame_db: np.ndarray, threshold_db: float) -> np.ndarray:
    """Frames holding a syllable nucleus: smoothed local maxima that stand out from the dips.

    A rough, language-agnostic proxy for speaking rate (de Jong & Wempe's idea without Praat).
    """
    if frame_db.size < 3:
        return np.zeros(0, dtype=int)
    kernel = np.ones(5) / 5
    smooth = np.convolve(frame_db, kernel, mode="same")
    reach = 6  # 60 ms either side: syllables rarely come faster than ~8 per second
    padded = np.pad(smooth, reach, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1)
    is_max = smooth >= windows.max(axis=1)
    dips = windows.min(axis=1)
    voiced = smooth > threshold_db + 10.0
    peaks = np.flatnonzero(is_max & voiced & (smooth - dips >= 3.0))
    if peaks.size:
        keep = np.concatenate(([True], np.diff(peaks) > reach))
        peaks = peaks[keep]
    return peaks


def per_second(values: np.ndarray, seconds: int, reducer: str = "mean") -> np.ndarray:
    """Reduce a 10 ms series to one value per second (the last second may be partial)."""
    per = round(1 / HOP_SECONDS)
    padded = np.zeros(seconds * per)
    used = min(len(values), len(padded))
    padded[:used] = values[:used]
    sums = padded.reshape(seconds, per).sum(axis=1)
    if reducer == "sum":
        return sums
    counts = np.clip(used - np.arange(seconds) * per, 1, per)
    return sums / counts


def analyze_audio(audio_path: Path) -> AudioFeatures:
    """Compute the envelope, loudness per second (dBFS) and syllables per second of a file."""
    energies = hop_energies(iter_chunks(Path(audio_path)))
    if energies.size < 10:
        raise BrokenMedia(f"{Path(audio_path).name} holds no usable audio.")
    frame_db = frame_envelope(energies)
    threshold = silence_threshold(frame_db)
    seconds = int(np.ceil(len(frame_db) * HOP_SECONDS))
    # loudness as mean power per second, expressed in dB (mean of dB would overweight pauses)
    power = 10.0 ** (frame_db / 10.0)
    loudness = 10.0 * np.log10(np.maximum(per_second(power, seconds), 1e-10))
    nuclei = np.zeros(len(frame_db))
    nuclei[syllable_peaks(frame_db, threshold)] = 1.0
    rate = per_second(nuclei, seconds, reducer="sum")
    return AudioFeatures(
        frame_db=frame_db,
        loudness_db=np.maximum(loudness, FLOOR_DB),
        syllable_rate=rate,
        silence_threshold_db=threshold,
    )
