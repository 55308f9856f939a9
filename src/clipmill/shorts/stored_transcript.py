"""The transcript of a finished job as Storage holds it: what every other process reads.

A job's work dir belongs to the worker that ran it, so the API (the transcript endpoint, clip
edits, word corrections) and a ``render`` job read the transcript from the files the job's
finalizing stage stored (``<job id>/transcript.json`` and its .txt/.srt/.vtt siblings), and a
word correction rewrites those same files in place: the links the user already has then serve
the corrected text.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from clipmill.errors import FileExpired
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.schemas import FileRecord
from clipmill.shorts.subtitles import to_srt, to_text, to_vtt
from clipmill.shorts.transcript import Transcript
from clipmill.storage.base import Storage

_FORMATS = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
}
_CHUNK = 1 << 16


class StoredTranscript:
    """Read and rewrite a job's stored transcript files."""

    def __init__(self, lifecycle: JobLifecycle, storage: Storage) -> None:
        self.lifecycle, self.storage = lifecycle, storage

    def load(self, job_id: str) -> Transcript:
        """The job's transcript; `FileExpired` (``source_expired``) once retention took it."""
        record = self._files(job_id).get("json")
        if record is None:
            raise _expired()
        try:
            data = b"".join(self.storage.iter_bytes(record.key, _CHUNK))
        except FileNotFoundError:
            raise _expired() from None
        return Transcript.from_dict(json.loads(data))

    def save(self, job_id: str, transcript: Transcript) -> dict[str, int]:
        """Rewrite every stored format of the transcript (same keys, same file records);
        return each file's new size by file id, for `record_sizes`."""
        files = self._files(job_id)
        if "json" not in files:
            raise _expired()
        texts = {
            "json": json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1),
            "txt": to_text(transcript),
            "srt": to_srt(transcript),
            "vtt": to_vtt(transcript),
        }
        sizes: dict[str, int] = {}
        with tempfile.TemporaryDirectory(prefix="clipmill-transcript-") as scratch:
            for fmt, record in files.items():
                path = Path(scratch) / f"transcript.{fmt}"
                path.write_text(texts[fmt], encoding="utf-8")
                sizes[record.id] = self.storage.put(record.key, path, content_type=_FORMATS[fmt])
        return sizes

    def record_sizes(self, job_id: str, sizes: dict[str, int]) -> None:
        """The file records follow the rewritten bytes (after the caller's transaction: the
        rewrite runs inside the job's result lock, and a nested write would wait on it)."""
        for file_id, size in sizes.items():
            self.lifecycle.resize_file(job_id, file_id, size)

    def _files(self, job_id: str) -> dict[str, FileRecord]:
        """The job's live transcript files by format (the keys finalizing gave them)."""
        names = {f"{job_id}/transcript.{fmt}": fmt for fmt in _FORMATS}
        return {
            names[f.key]: f
            for f in self.lifecycle.files_of([job_id])[job_id]
            if f.key in names and not f.expired
        }


def _expired() -> FileExpired:
    return FileExpired(
        "This job's transcript is no longer kept (retention); run the job again to edit it.",
        code="source_expired",
    )
