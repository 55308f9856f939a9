"""A synthetic "talk" spoken by espeak-ng, whose script is the ground truth for shorts tests.

Each sentence is rendered on its own, its leading and trailing silence trimmed, and the
sentences are joined with known pauses. So the true start and end of every sentence is measured
from the samples we concatenate, not guessed from a speaking rate. Three topics use clearly
different vocabularies; one sentence per topic is a planted "hook" that opens a clip-sized span.
``tests/support/talks.py`` composes many more scripts (voices, lengths, topic counts) and
renders them through ``build_talk`` too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
ESPEAK_VOICE = "en-us"
ESPEAK_SPEED = 150  # words per minute; slower than default so tiny.en hears it clearly
ESPEAK_PITCH = 50  # espeak-ng's default (0-99)
SILENCE_THRESHOLD = 0.01  # fraction of full scale below which espeak output counts as silence


@dataclass(frozen=True)
class Voice:
    """How espeak-ng speaks: a voice name (``en-gb``, ``en-us+f3``...), words a minute, pitch."""

    name: str = ESPEAK_VOICE
    speed: int = ESPEAK_SPEED
    pitch: int = ESPEAK_PITCH


DEFAULT_VOICE = Voice()


@dataclass(frozen=True)
class ScriptTopic:
    """One topic of the script: its sentences, and which of them (by index) is a planted hook.

    ``leadins`` are sentences that announce the next one ("Here is the shocking part:"); a clip
    must keep the two together.
    """

    name: str
    sentences: tuple[str, ...]
    hooks: tuple[int, ...] = ()
    leadins: tuple[int, ...] = ()


DEFAULT_SCRIPT: tuple[ScriptTopic, ...] = (
    ScriptTopic(
        "cooking",
        (
            "Today we are going to cook a simple plate of pasta at home.",
            "It only needs water, salt, pasta and a good tomato sauce.",
            "Did you know that most people ruin their pasta in the first two minutes?",
            "They drop the pasta into water that is not boiling yet.",
            "The pasta then turns soft and sticky on the outside.",
            "So wait until the water is boiling hard before you add it.",
            "Add a large spoon of salt to the water as well.",
            "Stir the pasta a few times so it does not stick to the pot.",
            "Taste a piece of pasta a minute before the time on the box.",
            "When it is still a little firm, drain it and mix it with the sauce.",
        ),
        hooks=(2,),
    ),
    ScriptTopic(
        "hiking",
        (
            "Now let us talk about hiking in the mountains.",
            "A mountain trail can look easy in the morning sun.",
            "Did you know that ninety percent of hikers get lost at least once?",
            "Most lost hikers simply miss a turn on the mountain trail.",
            "That is why every hiker should carry a trail map and a compass.",
            "Check the mountain weather forecast the night before your hike.",
            "Mountain weather can turn cold and windy in the afternoon.",
            "Wear good hiking boots and bring a warm jacket, even in summer.",
            "Pack extra snacks and a head lamp in your hiking backpack.",
            "And tell a friend which mountain trail you plan to hike.",
        ),
        hooks=(2,),
    ),
    ScriptTopic(
        "networking",
        (
            "The last topic is the computer network in your home.",
            "Most homes have one wireless router in a corner.",
            "You can make your home network twice as fast with one simple change.",
            "Move the wireless router to the middle of the house, up high on a shelf.",
            "Thick walls and metal doors block the wireless router signal.",
            "For a desktop computer, a network cable is faster than wireless.",
            "Update the router software once a month.",
            "Change the default router password to a long and secret one.",
            "Finally, restart the router when your home network feels slow.",
        ),
        hooks=(2,),
    ),
)


@dataclass(frozen=True)
class TalkSentence:
    """One spoken sentence with its true position in the audio (seconds)."""

    index: int
    text: str
    start: float
    end: float
    topic: int
    is_hook: bool
    is_leadin: bool = False


@dataclass(frozen=True)
class Talk:
    """The rendered talk: media files plus the script as ground truth."""

    wav: Path
    mp4: Path
    duration: float
    sentences: tuple[TalkSentence, ...]
    topic_ranges: tuple[tuple[float, float], ...]

    @property
    def directory(self) -> Path:
        return self.wav.parent

    @property
    def topic_starts(self) -> list[int]:
        """Sentence indexes that open a topic (after the first)."""
        return [b.index for a, b in pairwise(self.sentences) if b.topic != a.topic]

    @property
    def leadins(self) -> list[TalkSentence]:
        return [s for s in self.sentences if s.is_leadin]

    @property
    def topic_boundaries(self) -> list[float]:
        """Times between topics (the middle of each inter-topic pause)."""
        return [(left[1] + right[0]) / 2 for left, right in pairwise(self.topic_ranges)]

    @property
    def hooks(self) -> list[TalkSentence]:
        return [s for s in self.sentences if s.is_hook]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def sentence_boundaries(self) -> list[float]:
        return sorted({t for s in self.sentences for t in (s.start, s.end)})


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is needed to build the test talk")
    return path


def _speak(text: str, workdir: Path, voice: Voice = DEFAULT_VOICE) -> np.ndarray:
    """Render one sentence with espeak-ng and return float32 samples at SAMPLE_RATE, trimmed."""
    raw = workdir / "sentence.wav"
    subprocess.run(
        [_require("espeak-ng"), "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch),
         "-w", str(raw), text],
        check=True,
        capture_output=True,
    )  # fmt: skip
    resampled = workdir / "sentence16k.wav"
    subprocess.run(
        [_require("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(raw),
         "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le", str(resampled)],
        check=True,
    )  # fmt: skip
    samples = read_wav(resampled)
    loud = np.flatnonzero(np.abs(samples) > SILENCE_THRESHOLD)
    if loud.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for {text!r}")
    return samples[loud[0] : loud[-1] + 1]


def read_wav(path: Path) -> np.ndarray:
    """16-bit PCM mono WAV -> float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as handle:
        frames = handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = np.clip(samples * 32767.0, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(pcm.tobytes())


def _cache_key(script: Sequence[ScriptTopic], pauses: Sequence[float], voice: Voice) -> str:
    version = subprocess.run(
        [_require("espeak-ng"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    blob = json.dumps(
        [[asdict(t) for t in script], [round(p, 4) for p in pauses], asdict(voice),
         SILENCE_THRESHOLD, version, 3],
    )  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_pauses(
    script: Sequence[ScriptTopic], sentence_pause: float, topic_pause: float
) -> list[float]:
    """The silence before each sentence after the first: longer where a topic begins."""
    pauses: list[float] = []
    for topic_index, topic in enumerate(script):
        for position in range(len(topic.sentences)):
            if position > 0 or topic_index > 0:
                pauses.append(sentence_pause if position > 0 else topic_pause)
    return pauses


def build_talk(
    cache_root: Path,
    script: Sequence[ScriptTopic] = DEFAULT_SCRIPT,
    *,
    sentence_pause: float = 0.35,
    topic_pause: float = 1.5,
    lead_in: float = 0.5,
    voice: Voice = DEFAULT_VOICE,
    pauses: Sequence[float] | None = None,
    video: bool = True,
) -> Talk:
    """Render the talk into ``cache_root/talk-<hash>/`` (reused when the content is unchanged).

    ``pauses`` (one per sentence after the first) overrides ``sentence_pause``/``topic_pause``;
    ``video=False`` skips the MP4 (benchmarks only need the WAV).
    """
    gaps = (
        list(pauses) if pauses is not None else default_pauses(script, sentence_pause, topic_pause)
    )
    if len(gaps) != sum(len(t.sentences) for t in script) - 1:
        raise ValueError("pauses needs one value per sentence after the first")
    target = cache_root / f"talk-{_cache_key(script, gaps, voice)}"
    manifest = target / "talk.json"
    if not manifest.exists():
        cache_root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="building-", dir=cache_root))
        _render(building, script, gaps, voice, lead_in)
        try:
            os.replace(building, target)
        except OSError:  # another process won the race; its copy is identical
            shutil.rmtree(building, ignore_errors=True)
    if video and not (target / "talk.mp4").exists():
        _render_video(target)
    return _load(target)


def _render_video(directory: Path) -> None:
    """The talk's audio over a test pattern, written beside the WAV as talk.mp4."""
    partial = directory / f"talk.{os.getpid()}.part.mp4"
    subprocess.run(
        [_require("ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-i", str(directory / "talk.wav"),
         "-map", "0:v", "-map", "1:a", "-shortest",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "64k", str(partial)],
        check=True,
    )  # fmt: skip
    os.replace(partial, directory / "talk.mp4")


def _render(
    workdir: Path,
    script: Sequence[ScriptTopic],
    pauses: Sequence[float],
    voice: Voice,
    lead_in: float,
) -> None:
    pieces: list[np.ndarray] = [np.zeros(int(lead_in * SAMPLE_RATE), np.float32)]
    cursor = len(pieces[0])
    sentences: list[dict[str, object]] = []
    for topic_index, topic in enumerate(script):
        for position, text in enumerate(topic.sentences):
            if sentences:
                gap = np.zeros(round(pauses[len(sentences) - 1] * SAMPLE_RATE), np.float32)
                pieces.append(gap)
                cursor += len(gap)
            speech = _speak(text, workdir, voice)
            sentences.append({
                "index": len(sentences), "text": text, "topic": topic_index,
                "start": cursor / SAMPLE_RATE, "end": (cursor + len(speech)) / SAMPLE_RATE,
                "is_hook": position in topic.hooks, "is_leadin": position in topic.leadins,
            })  # fmt: skip
            pieces.append(speech)
            cursor += len(speech)
    pieces.append(np.zeros(int(lead_in * SAMPLE_RATE), np.float32))
    audio = np.concatenate(pieces)
    (workdir / "sentence.wav").unlink(missing_ok=True)
    (workdir / "sentence16k.wav").unlink(missing_ok=True)
    wav = workdir / "talk.wav"
    write_wav(wav, audio)
    manifest = {"duration": len(audio) / SAMPLE_RATE, "sentences": sentences}
    (workdir / "talk.json").write_text(json.dumps(manifest, indent=1))


def _load(directory: Path) -> Talk:
    manifest = json.loads((directory / "talk.json").read_text())
    sentences = tuple(TalkSentence(**item) for item in manifest["sentences"])
    topics = sorted({s.topic for s in sentences})
    ranges = tuple(
        (
            min(s.start for s in sentences if s.topic == t),
            max(s.end for s in sentences if s.topic == t),
        )
        for t in topics
    )
    return Talk(
        wav=directory / "talk.wav",
        mp4=directory / "talk.mp4",
        duration=float(manifest["duration"]),
        sentences=sentences,
        topic_ranges=ranges,
    )


_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(value: int) -> str:
    """Spell out 0..999,999 the way espeak-ng says digits ("90" -> "ninety")."""
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(value, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def normalize_for_wer(text: str) -> str:
    """Lower case, digits spelled out, "%" as "percent", punctuation and hyphens gone."""

    text = text.lower().replace("%", " percent ").replace("-", " ")
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    return " ".join(text.replace("'", "").split())
