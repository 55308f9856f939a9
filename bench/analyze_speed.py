"""Clip-plan speed on a synthetic 60-minute transcript (no Whisper), with and without audio.

The transcript is generated: sentences of 6-18 words drawn from a handful of topic
vocabularies, ~0.3 s per word, topic changes every few minutes. The audio variant also analyses a
matching 60-minute 16 kHz WAV of tone bursts (energy, speech rate, silence snapping). Usage::

    .venv/bin/python bench/analyze_speed.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from clipmill.shorts.clips import ClipPlan  # noqa: E402
from clipmill.shorts.features import analyze_audio  # noqa: E402
from clipmill.shorts.plan import plan_clips  # noqa: E402
from clipmill.shorts.transcript import Segment, Transcript, Word  # noqa: E402

TOPICS = [
    [
        "pasta",
        "water",
        "salt",
        "sauce",
        "boil",
        "tomato",
        "garlic",
        "oven",
        "kitchen",
        "recipe",
        "cheese",
        "basil",
        "olive",
    ],
    [
        "mountain",
        "trail",
        "hike",
        "boots",
        "weather",
        "summit",
        "map",
        "compass",
        "forest",
        "river",
        "camp",
        "tent",
    ],
    [
        "router",
        "network",
        "wireless",
        "cable",
        "password",
        "internet",
        "computer",
        "signal",
        "server",
        "laptop",
    ],
    [
        "garden",
        "soil",
        "seeds",
        "water",
        "tomato",
        "sunlight",
        "compost",
        "roots",
        "flowers",
        "harvest",
        "spring",
    ],
    [
        "guitar",
        "chords",
        "music",
        "practice",
        "song",
        "rhythm",
        "strings",
        "melody",
        "concert",
        "band",
        "notes",
    ],
    [
        "budget",
        "money",
        "savings",
        "invest",
        "market",
        "stocks",
        "interest",
        "bank",
        "retirement",
        "taxes",
    ],
]
FILLER = [
    "the",
    "a",
    "and",
    "we",
    "you",
    "it",
    "is",
    "to",
    "of",
    "in",
    "that",
    "this",
    "for",
    "on",
    "with",
    "was",
    "so",
    "very",
    "really",
]


def synthetic_transcript(minutes: float, seed: int = 7) -> Transcript:
    rng = random.Random(seed)
    segments: list[Segment] = []
    cursor, topic = 0.5, 0
    next_switch = rng.uniform(120, 300)
    while cursor < minutes * 60:
        if cursor > next_switch:
            topic, next_switch = (topic + 1) % len(TOPICS), cursor + rng.uniform(120, 300)
            cursor += 1.2
        words: list[Word] = []
        for i in range(rng.randint(6, 18)):
            pool = TOPICS[topic] if rng.random() < 0.4 else FILLER
            text = rng.choice(pool)
            if i == 0 and rng.random() < 0.1:
                text = "Did you know"
            duration = rng.uniform(0.18, 0.45)
            words.append(Word(cursor, cursor + duration, text, 0.9))
            cursor += duration + rng.uniform(0.02, 0.12)
        last = words[-1]
        words[-1] = Word(last.start, last.end, last.text + rng.choice([".", ".", ".", "?", "!"]))
        segments.append(Segment(words[0].start, words[-1].end, " ".join(w.text for w in words),
                                tuple(words)))  # fmt: skip
        cursor += rng.uniform(0.25, 0.8)
    return Transcript("en", cursor + 0.5, tuple(segments))


def synthetic_wav(transcript: Transcript, path: Path) -> None:
    import wave

    rate = 16_000
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        cursor = 0
        for word in transcript.words:
            start, end = int(word.start * rate), int(word.end * rate)
            handle.writeframes(np.zeros(start - cursor, "<i2").tobytes())
            t = np.arange(end - start) / rate
            burst = 0.3 * np.sin(2 * np.pi * 180 * t) * np.hanning(end - start)
            handle.writeframes((burst * 32767).astype("<i2").tobytes())
            cursor = end
        handle.writeframes(np.zeros(int(transcript.duration * rate) - cursor, "<i2").tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()

    transcript = synthetic_transcript(args.minutes)
    print(f"transcript: {transcript.duration / 60:.0f} min, {len(transcript.words)} words, "
          f"{len(transcript.segments)} sentences\n")  # fmt: skip
    rows: list[tuple[str, float, ClipPlan | None]] = []
    began = time.perf_counter()
    plan = plan_clips(transcript)
    rows.append(("plan_clips, transcript only", time.perf_counter() - began, plan))

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "synthetic.wav"
        synthetic_wav(transcript, wav)
        began = time.perf_counter()
        features = analyze_audio(wav)
        analysed = time.perf_counter() - began
        rows.append(("analyze_audio (60 min WAV)", analysed, None))
        began = time.perf_counter()
        plan = plan_clips(transcript, features=features)
        rows.append(("plan_clips, with audio features", time.perf_counter() - began, plan))

    print("| step | seconds | candidates | topics | clips |")
    print("|---|---|---|---|---|")
    for name, seconds, result in rows:
        if result is None:
            print(f"| {name} | {seconds:.2f} | | | |")
        else:
            print(f"| {name} | {seconds:.2f} | {result.candidate_count} | {len(result.topics)} | "
                  f"{len(result.clips)} |")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the whole run: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
