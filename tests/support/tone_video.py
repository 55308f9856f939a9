"""A tiny video whose sound is a tone exactly where a transcript's words are, silence between,
so the planner's pause detection agrees with a fake transcript of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from clipmill.shorts.transcript import Transcript
from tests.support.talk import write_wav


def tone_video(folder: Path, transcript: Transcript, name: str = "lecture") -> Path:
    """``folder/<name>.mp4``: 64x64 grey at 1 fps over the tone track of ``transcript``."""
    rate = 16_000
    samples = np.zeros(int(transcript.duration * rate) + rate, dtype=np.float32)
    for word in transcript.words:
        first, last = int(word.start * rate), int(word.end * rate)
        samples[first:last] = 0.3 * np.sin(2 * np.pi * 220 * np.arange(last - first) / rate)
    wav = folder / f"{name}.wav"
    write_wav(wav, samples)
    path = folder / f"{name}.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", "color=c=gray:s=64x64:r=1", "-i", str(wav),
         "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-b:a", "32k", str(path)],
        check=True,
    )  # fmt: skip
    return path
