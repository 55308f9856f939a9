"""In-memory stand-ins for the shorts seams, shipped in the package so pipelines can test fast.

``FakeTranscriber`` returns a prepared transcript (with the same progress and cancel behaviour
as the real one); ``transcript_from_sentences`` builds a plausible word-timed transcript from
plain text, for unit tests and the analysis benchmark.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from clipmill.cancellation import CancelSignal
from clipmill.errors import BrokenMedia, JobCancelled
from clipmill.shorts.job_schemas import frame_size
from clipmill.shorts.seams import RenderedClip, RenderRequest
from clipmill.shorts.transcribe import ProgressCallback, Transcriber
from clipmill.shorts.transcript import Segment, Transcript, Word


class FakeTranscriber:
    """A ``Transcriber`` that returns ``transcript`` for any existing file."""

    def __init__(self, transcript: Transcript, *, require_file: bool = True) -> None:
        self.transcript = transcript
        self.require_file = require_file
        self.calls: list[Path] = []

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> Transcript:
        self.calls.append(audio_path)
        if self.require_file and not Path(audio_path).is_file():
            raise BrokenMedia(f"Audio file not found: {Path(audio_path).name}")
        duration = self.transcript.duration or 1.0
        for segment in self.transcript.segments:
            if cancel is not None and cancel.is_set():
                raise JobCancelled("Transcription was cancelled.")
            if on_progress is not None:
                on_progress(min(1.0, segment.end / duration))
        if cancel is not None and cancel.is_set():
            raise JobCancelled("Transcription was cancelled.")
        if on_progress is not None:
            on_progress(1.0)
        return self.transcript


def transcript_from_sentences(
    sentences: Sequence[str],
    *,
    word_duration: float = 0.3,
    word_gap: float = 0.05,
    sentence_pause: float = 0.4,
    pauses: dict[int, float] | None = None,
    start: float = 0.5,
    language: str = "en",
) -> Transcript:
    """Lay sentences out in time, one segment each; ``pauses[i]`` overrides the gap before i."""
    segments: list[Segment] = []
    cursor = start
    for index, sentence in enumerate(sentences):
        if index > 0:
            cursor += (pauses or {}).get(index, sentence_pause)
        words: list[Word] = []
        for token in sentence.split():
            words.append(Word(start=cursor, end=cursor + word_duration, text=token))
            cursor += word_duration + word_gap
        cursor -= word_gap
        if words:
            segments.append(
                Segment(start=words[0].start, end=words[-1].end, text=sentence, words=tuple(words))
            )
    return Transcript(language=language, duration=cursor + start, segments=tuple(segments))


class FakeTranscribers:
    """A `TranscriberFactory` that hands out one transcriber for every model name."""

    def __init__(self, transcriber: Transcriber) -> None:
        self.transcriber = transcriber

    def check(self, model: str | None) -> None:
        return None

    def __call__(self, model: str | None, *, workdir: Path | None = None) -> Transcriber:
        return self.transcriber


class FakeRenderer:
    """A `ClipRenderer` that writes placeholder files at once (for API and pipeline tests that
    are not about the pictures); ``calls`` records each request, ``hold`` pauses renders."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.calls: list[RenderRequest] = []
        self.hold = hold

    def render(
        self,
        request: RenderRequest,
        *,
        cancel: CancelSignal,
        on_progress: Callable[[float], None] | None = None,
    ) -> list[RenderedClip]:
        self.calls.append(request)
        request.output_dir.mkdir(parents=True, exist_ok=True)
        out = []
        for number, aspect in enumerate(request.aspect_ratios, start=1):
            while self.hold is not None and not self.hold.wait(0.02):
                if cancel.is_set():
                    raise JobCancelled("render cancelled")
            if cancel.is_set():
                raise JobCancelled("render cancelled")
            stem = aspect.value.replace(":", "x")
            video, thumbnail = (
                request.output_dir / f"{stem}.mp4",
                request.output_dir / f"{stem}.jpg",
            )
            video.write_bytes(f"fake {request.clip_id} {aspect.value} video".encode())
            thumbnail.write_bytes(b"\xff\xd8\xff fake thumbnail")
            width, height = frame_size(aspect, request.resolution)
            duration = round(request.end - request.start, 3)
            size = video.stat().st_size
            out.append(RenderedClip(aspect, video, thumbnail, width, height, duration, size))
            if on_progress is not None:
                on_progress(number / len(request.aspect_ratios))
        return out
