"""Transcription in a killable child process.

faster-whisper's batched pipeline hands back segments one batch (about two minutes of audio) at a
time and spends that time in native code, so a cooperative cancel waits up to a batch. In a
child process (`clipmill.childproc`) a cancel kills it within a second, a crash of the native
code cannot take the server down, and the model's memory is returned when the job ends. The
child dies with the server (a SIGKILL included); given the job's ``workdir``, a new attempt
also kills an older attempt's decoder that still runs there (`clipmill.childproc.fence`).
"""

from __future__ import annotations

from pathlib import Path

from clipmill.cancellation import CancelSignal
from clipmill.childproc import Emit, run_in_child
from clipmill.config import Settings
from clipmill.shorts.transcribe import ProgressCallback, WhisperTranscriber, resolve_model
from clipmill.shorts.transcript import Transcript


class IsolatedTranscriber:
    """A `Transcriber` that runs `WhisperTranscriber` in a child process."""

    def __init__(
        self,
        model: str | None = None,
        *,
        settings: Settings,
        batched: bool = True,
        batch_size: int = 4,
        workdir: Path | None = None,
    ) -> None:
        """``workdir``: the job's work dir, where the running decoder is recorded (no fencing
        without it: an audio file's own directory may be shared, e.g. a test cache)."""
        resolve_model(model, settings)  # an unknown name fails here, not in the child
        self.model, self.settings = model, settings
        self.batched, self.batch_size = batched, batch_size
        self.workdir = workdir

    def transcribe(
        self,
        audio_path: Path,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> Transcript:
        def relay(kind: str, payload: object) -> None:
            if kind == "progress" and on_progress is not None and isinstance(payload, float):
                on_progress(payload)

        result = run_in_child(
            "clipmill.shorts.isolated:_transcribe_in_child",
            (self.model, self.settings, audio_path, language, self.batched, self.batch_size),
            cancel=cancel,
            on_message=relay,
            workdir=self.workdir,
        )
        assert isinstance(result, Transcript)
        return result


def _transcribe_in_child(
    emit: Emit,
    model: str | None,
    settings: Settings,
    audio_path: Path,
    language: str | None,
    batched: bool,
    batch_size: int,
) -> Transcript:
    transcriber = WhisperTranscriber(
        model, settings=settings, batched=batched, batch_size=batch_size
    )
    return transcriber.transcribe(
        audio_path, language=language, on_progress=lambda f: emit("progress", float(f))
    )
