"""Editing the clips of a finished shorts job: change one, add one from a span, remove one.

A change that alters the picture (times, shapes, caption style) is rendered by a ``render`` job
(`clipmill.shorts.rerender`), a child of the shorts job; until it finishes the clip keeps its old
files, and they are replaced only when the new ones are stored. The render job carries the
whole target clip with a raised ``revision``, so the newest edit wins however renders overlap.
A title alone changes at once. Times snap to word boundaries of the transcript.

A word correction (`correct_word`) rewrites the job's stored transcript and renders again only
the clips that show the word. Everything here reads the transcript from Storage
(`clipmill.shorts.stored_transcript`), never from the work dir of the worker that ran the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clipmill.accounts.principal import Principal
from clipmill.config import Settings
from clipmill.errors import Conflict, InvalidOption, NotFound
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.schemas import JobRecord
from clipmill.jobs.service import JobService
from clipmill.shorts.corrections import clean_text, corrected, follow_correction, holds
from clipmill.shorts.job_schemas import AspectRatio, CaptionStyle, PlannedClip, ShortsResults
from clipmill.shorts.stored_transcript import StoredTranscript
from clipmill.shorts.transcript import Transcript, Word
from clipmill.storage.base import Storage

MIN_CLIP_SECONDS = 1.0
MAX_CLIP_SECONDS = 300.0


class ClipEdit(BaseModel):
    """``PATCH /api/v1/jobs/{id}/clips/{clip_id}``: any of these."""

    model_config = ConfigDict(extra="forbid")

    start_time: float | None = Field(default=None, ge=0, le=86_400)
    end_time: float | None = Field(default=None, gt=0, le=86_400)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    caption_style: CaptionStyle | None = None
    aspect_ratios: list[AspectRatio] | None = Field(default=None, min_length=1, max_length=4)

    @model_validator(mode="after")
    def _something(self) -> ClipEdit:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        if self.aspect_ratios and len(set(self.aspect_ratios)) != len(self.aspect_ratios):
            raise ValueError("aspect_ratios must not repeat")
        return self

    @property
    def re_renders(self) -> bool:
        return bool(self.model_fields_set - {"title"})


class ClipAdd(BaseModel):
    """``POST /api/v1/jobs/{id}/clips``: a new clip from a span (a transcript selection)."""

    model_config = ConfigDict(extra="forbid")

    start_time: float = Field(ge=0, le=86_400)
    end_time: float = Field(gt=0, le=86_400)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    caption_style: CaptionStyle | None = None
    aspect_ratios: list[AspectRatio] | None = Field(default=None, min_length=1, max_length=4)


class ClipChange(BaseModel):
    """What an edit did: the clip as it will be, and the job rendering it (None: no render)."""

    clip: PlannedClip
    render_job_id: str | None = None


class WordCorrection(BaseModel):
    """What a word correction did: the word before and after, and each clip rendering again."""

    index: int
    word: Word
    previous_text: str
    changes: list[ClipChange]


def snap(words: Sequence[Word], start: float, end: float) -> tuple[float, float]:
    """A span widened to whole words: from the start of the word at (or after) ``start`` to the
    end of the word at (or before) ``end``."""
    inside = [w for w in words if w.end > start and w.start < end]
    if not inside:
        raise InvalidOption(
            f"No words are spoken between {start:.2f} s and {end:.2f} s.", field="start_time"
        )
    snapped = (inside[0].start, inside[-1].end)
    length = snapped[1] - snapped[0]
    if not MIN_CLIP_SECONDS <= length <= MAX_CLIP_SECONDS:
        raise InvalidOption(
            f"A clip lasts {MIN_CLIP_SECONDS:g} to {MAX_CLIP_SECONDS:g} s; this one would last "
            f"{length:.1f} s.",
            field="end_time",
        )
    return round(snapped[0], 3), round(snapped[1], 3)


class ClipEditor:
    """The owner-facing side of clip editing; the rendering is a job's."""

    def __init__(
        self, jobs: JobService, lifecycle: JobLifecycle, storage: Storage, settings: Settings
    ) -> None:
        self.jobs, self.lifecycle, self.storage, self.settings = jobs, lifecycle, storage, settings
        self.transcripts = StoredTranscript(lifecycle, storage)

    def edit(self, owner: Principal, job_id: str, clip_id: str, edit: ClipEdit) -> ClipChange:
        job, clips = self._clips(owner, job_id)
        current = _find(clips, clip_id)
        changes: dict[str, Any] = edit.model_dump(exclude_unset=True, exclude_none=True)
        if "start_time" in changes or "end_time" in changes:
            start = changes.get("start_time", current.start_time)
            end = changes.get("end_time", current.end_time)
            if end <= start:
                raise InvalidOption("end_time must be after start_time.", field="end_time")
            words = self._words(job)
            changes["start_time"], changes["end_time"] = snap(words, start, end)
            changes["duration"] = round(changes["end_time"] - changes["start_time"], 3)
            changes["transcript_segment"] = _text(words, *_span(changes))
        target = current.model_copy(update=changes)
        if not edit.re_renders:
            self._retitle(job.id, clip_id, target.title)
            return ClipChange(clip=target)
        return self._render(owner, job, target, f"Clip {clip_id} edited; rendering it again.")

    def add(self, owner: Principal, job_id: str, new: ClipAdd) -> ClipChange:
        job, clips = self._clips(owner, job_id)
        if new.end_time <= new.start_time:
            raise InvalidOption("end_time must be after start_time.", field="end_time")
        words = self._words(job)
        start, end = snap(words, new.start_time, new.end_time)
        taken = {c.clip_id for c in clips}
        number = len(clips) + 1
        while f"clip-{number:02d}" in taken:
            number += 1
        text = _text(words, start, end)
        clip = PlannedClip(
            clip_id=f"clip-{number:02d}",
            title=new.title or _title_from(text),
            description=text[:300],
            start_time=start,
            end_time=end,
            duration=round(end - start, 3),
            transcript_segment=text,
            score=0.0,
            reason="Added by hand.",
            caption_style=new.caption_style,
            aspect_ratios=new.aspect_ratios,
        )
        return self._render(owner, job, clip, f"Clip {clip.clip_id} added; rendering it.")

    def correct_word(self, owner: Principal, job_id: str, index: int, text: str) -> WordCorrection:
        """Word ``index`` of the transcript reads ``text`` from now on: the stored transcript
        files and the job's transcript text follow at once, and so do the titles of the clips
        that show the word; those clips (and only those) render again with the new captions."""
        job, _clips = self._clips(owner, job_id)
        new_text = clean_text(text)
        found: dict[str, Any] = {}

        def rewrite(result: dict[str, Any]) -> dict[str, Any]:
            # inside the result's lock: two corrections never overwrite each other's transcript
            transcript, old = corrected(self.transcripts.load(job.id), index, new_text)
            found["sizes"] = self.transcripts.save(job.id, transcript)
            clips = [PlannedClip.model_validate(c) for c in result.get("generated_clips") or []]
            touched = [
                follow_correction(c, transcript, old, new_text) for c in clips if holds(c, old)
            ]
            by_id = {c.clip_id: c for c in touched}
            found.update(old=old, word=transcript.words[index], touched=touched)
            return {
                **result,
                "transcript": transcript.text,
                "transcript_segments": [
                    {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
                    for s in transcript.segments
                ],
                "generated_clips": [by_id.get(c.clip_id, c).model_dump(mode="json") for c in clips],
            }

        self.lifecycle.amend_result(job.id, rewrite)
        self.transcripts.record_sizes(job.id, found["sizes"])
        old: Word = found["old"]
        self.lifecycle.note(
            job.id, f"Word {index} corrected: {old.text!r} -> {new_text!r}.", {"index": index}
        )
        changes = [
            self._render(
                owner, job, clip, f"Clip {clip.clip_id} shows a corrected word; rendering it again."
            )
            for clip in found["touched"]
        ]
        return WordCorrection(
            index=index, word=found["word"], previous_text=old.text, changes=changes
        )

    def delete(self, owner: Principal, job_id: str, clip_id: str) -> None:
        job, clips = self._clips(owner, job_id)
        gone = _find(clips, clip_id)

        def without(result: dict[str, Any]) -> dict[str, Any]:
            kept = [c for c in result.get("generated_clips") or [] if c.get("clip_id") != clip_id]
            return {**result, "generated_clips": kept}

        self.lifecycle.amend_result(job.id, without)
        file_ids = [*gone.assets.values()]
        for rendition in gone.renditions:
            file_ids += [rendition.video, rendition.thumbnail]
        self.lifecycle.expire_files(job.id, file_ids, self.storage)
        self.lifecycle.note(job.id, f"Clip {clip_id} removed.", {"clip_id": clip_id})

    # -- internals ------------------------------------------------------------------------------
    def _clips(self, owner: Principal, job_id: str) -> tuple[JobRecord, list[PlannedClip]]:
        job = self.jobs.get(owner, job_id)
        if job.kind is not JobKind.SHORTS:
            raise NotFound(f"Job {job_id} has no clips.", resource="clip")
        if job.status is not JobStatus.COMPLETED:
            raise Conflict(
                f"Clips can be edited once the job has completed; it is {job.status.value}.",
                code="invalid_transition",
            )
        clips = ShortsResults.model_validate(job.result or {}).generated_clips or []
        return job, clips

    def _transcript(self, job: JobRecord) -> Transcript:
        """The stored transcript (`FileExpired` ``source_expired`` once retention took it)."""
        return self.transcripts.load(job.id)

    def _words(self, job: JobRecord) -> list[Word]:
        return list(self._transcript(job).words)

    def _retitle(self, job_id: str, clip_id: str, title: str) -> None:
        def retitled(result: dict[str, Any]) -> dict[str, Any]:
            clips = [
                {**c, "title": title} if c.get("clip_id") == clip_id else c
                for c in result.get("generated_clips") or []
            ]
            return {**result, "generated_clips": clips}

        self.lifecycle.amend_result(job_id, retitled)
        self.lifecycle.note(job_id, f"Clip {clip_id} renamed.", {"clip_id": clip_id})

    def _render(
        self, owner: Principal, job: JobRecord, clip: PlannedClip, message: str
    ) -> ClipChange:
        self._transcript(job)  # what the render reads must still be kept
        pending = self._pending_revision(job)
        target = clip.model_copy(update={"revision": max(clip.revision, pending) + 1})
        render = self.lifecycle.create_child(
            job,
            JobKind.RENDER,
            {"job_id": job.id, "clip": target.model_dump(mode="json")},
            item_index=None,
            title=f"{job.title or 'Shorts'}: {target.title}",
        )
        self.lifecycle.note(
            job.id, message, {"clip_id": target.clip_id, "render_job_id": render.id}
        )
        return ClipChange(clip=target, render_job_id=render.id)

    def _pending_revision(self, job: JobRecord) -> int:
        """The highest revision any render of this job was asked for (renders may overlap)."""
        page = self.lifecycle.children_page(job.id, limit=500)
        revisions = [
            int((child.options.get("clip") or {}).get("revision") or 0) for child in page.items
        ]
        return max(revisions, default=0)


def _find(clips: list[PlannedClip], clip_id: str) -> PlannedClip:
    for clip in clips:
        if clip.clip_id == clip_id:
            return clip
    raise NotFound(f"No clip {clip_id}.", resource="clip")


def _span(changes: dict[str, Any]) -> tuple[float, float]:
    return changes["start_time"], changes["end_time"]


def _text(words: Sequence[Word], start: float, end: float) -> str:
    return " ".join(w.text for w in words if start <= (w.start + w.end) / 2 <= end)


def _title_from(text: str) -> str:
    words = text.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "") or "Clip"
