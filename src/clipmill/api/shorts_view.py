"""Shorts and transcribe jobs as the API shows them: the shorts design's result fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from clipmill.accounts.principal import Principal
from clipmill.api.presenters import file_url
from clipmill.bootstrap import Container
from clipmill.errors import Conflict, NotFound
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.schemas import JobRecord
from clipmill.shorts.job_schemas import JobType, PlannedClip

_SHOWN_AT_TOP = frozenset(
    {"transcript", "transcript_segments", "analysis_results", "generated_clips", "transcript_files"}
)


def shorts_detail(
    container: Container, owner: Principal, job: JobRecord, base: str
) -> dict[str, Any]:
    """The shorts design's result fields of ``GET /api/v1/jobs/{id}``, with signed links."""
    results = container.shorts.results(job)
    files = {f.id: f for f in container.lifecycle.files_of([job.id])[job.id]}

    def link(file_id: str) -> str | None:
        file = files.get(file_id)
        return file_url(container, file, base) if file is not None else None

    clips = None
    if results.generated_clips is not None:
        clips = [clip_out(clip, link) for clip in results.generated_clips]
    segments = results.transcript_segments
    summary = {k: v for k, v in (job.result or {}).items() if k not in _SHOWN_AT_TOP}
    return {
        "result": summary or None,  # the big parts are the fields below; not twice
        "youtube_url": job.source_url,
        "job_type": JobType.of_kind(job.kind),
        "video_title": results.video_title or job.title,
        "transcript": results.transcript,
        "transcript_segments": [s.model_dump() for s in segments] if segments is not None else None,
        "transcript_files": {k: link(v) for k, v in results.transcript_files.items()},
        "analysis_results": results.analysis_results,
        "generated_clips": clips,
    }


def clip_out(clip: PlannedClip, link: Callable[[str], str | None]) -> dict[str, Any]:
    """A clip with signed links: ``assets`` has the captions and the first shape's video and
    thumbnail at the top (the shorts design's fields) and every shape under ``renditions``."""
    renditions = [
        {
            "aspect_ratio": r.aspect_ratio.value,
            "video_url": link(r.video),
            "thumbnail_url": link(r.thumbnail),
            "width": r.width,
            "height": r.height,
            "duration": r.duration,
            "size": r.size,
        }
        for r in clip.renditions
    ]
    captions = {k: link(v) for k, v in clip.assets.items()}
    assets: dict[str, Any] = {
        **captions,
        "captions_srt_url": captions.get("srt"),
        "captions_vtt_url": captions.get("vtt"),
        **(renditions[0] if renditions else {}),
        "renditions": renditions,
    }
    body = clip.model_dump(mode="json", exclude={"assets", "renditions"})
    return {**body, "assets": assets}


class TranscriptWordOut(BaseModel):
    index: int = Field(description="The word's place in the transcript (corrections name it).")
    start: float
    end: float
    text: str


class TranscriptWordsOut(BaseModel):
    """The words of a job's transcript with their times: what the clip editor picks spans from
    (clip times snap to these words)."""

    job_id: str
    language: str
    duration: float
    words: list[TranscriptWordOut] = Field(description="In time order, within the asked window.")


def transcript_words(
    container: Container, owner: Principal, job_id: str, start: float, end: float | None
) -> TranscriptWordsOut:
    """The words spoken between ``start`` and ``end`` (None: to the end) of a shorts or
    transcribe job."""
    job = container.jobs.get(owner, job_id)
    if job.kind not in (JobKind.SHORTS, JobKind.TRANSCRIBE):
        raise NotFound(f"Job {job_id} has no transcript.", resource="transcript")
    if job.status is not JobStatus.COMPLETED:  # the stored transcript comes with finalizing
        raise Conflict("The transcript is not ready yet.", code="invalid_transition")
    transcript = container.clip_editor.transcripts.load(job.id)  # stored, corrections and all
    words = [
        TranscriptWordOut(index=i, start=round(w.start, 3), end=round(w.end, 3), text=w.text)
        for i, w in enumerate(transcript.words)
        if w.end > start and (end is None or w.start < end)
    ]
    return TranscriptWordsOut(
        job_id=job.id,
        language=transcript.language,
        duration=round(transcript.duration, 3),
        words=words,
    )
