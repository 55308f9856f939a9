"""The stage artifacts of one shorts or transcribe job, kept in its work dir.

Work dir layout (``settings.jobs_dir/<job id>/``)::

    stages.json           which stages finished, and the files each one wrote
    source/media.<ext>    the downloaded or uploaded media          (downloading)
    source/metadata.json  title, duration, chapters, origin          (downloading)
    audio.wav             16 kHz mono PCM                            (extracting_audio)
    transcript.json       segments with word timestamps              (transcribing)
    transcript.txt/.srt/.vtt  the whole video's text and subtitles   (transcribing)
    analysis.json         the clip plan: sentences, topics, scores   (analyzing)
    clips.json            the planned clips and their asset files    (generating_clips)
    clips/<clip id>/r<revision>/  per clip: captions.srt/.vtt (timed from 0), and per shape
                          a video and a thumbnail (9x16.mp4, 9x16.jpg)   (generating_clips)

    outbox/               copies on their way into storage            (finalizing)

A stage counts as done only when ``stages.json`` says so *and* every file it listed still
exists, so a retry resumes after the last stage that really finished, and a half-written or
deleted artifact makes its stage run again. Every write goes to a temporary name first and is
renamed into place: a crash never leaves a truncated transcript that looks finished.

`publish_results` is finalizing's half: it copies the user-facing artifacts into storage
(copies, because ``save_file`` moves its file and the work dir must stay whole for retries)
and assembles the job's result. It is idempotent, so finalizing can simply run again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipmill.jobs.enums import JobStage
from clipmill.media.naming import safe_download_name
from clipmill.pipeline.context import JobContext
from clipmill.shorts.job_schemas import (
    PlannedClip,
    ShortsResults,
    SourceMetadata,
    TranscriptSegmentOut,
)
from clipmill.shorts.transcript import Transcript

STATE_FILE = "stages.json"
STATE_VERSION = 1


class ArtifactStore:
    """Read and write one job's stage outputs, and remember which stages finished."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir

    # -- stages ---------------------------------------------------------------------------------
    def done(self, stage: JobStage) -> bool:
        """True when ``stage`` finished and all of its files are still there."""
        entry = self._state()["stages"].get(stage.value)
        if entry is None:
            return False
        return all(self.path(name).is_file() for name in entry.get("files", []))

    def mark_done(self, stage: JobStage, files: Iterable[str] = ()) -> None:
        """Record that ``stage`` finished, having written ``files`` (names relative to the dir)."""
        names = list(files)
        for name in names:
            if not self.path(name).is_file():
                raise FileNotFoundError(f"{stage.value} did not write {name}")
        state = self._state()
        state["stages"][stage.value] = {"files": names}
        self._write_bytes(STATE_FILE, json.dumps(state, indent=1).encode())

    def finished(self) -> list[JobStage]:
        """Stages recorded as finished (in the order they finished)."""
        return [JobStage(name) for name in self._state()["stages"] if self.done(JobStage(name))]

    def _state(self) -> dict[str, Any]:
        path = self.path(STATE_FILE)
        try:
            state = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"version": STATE_VERSION, "stages": {}}
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            return {"version": STATE_VERSION, "stages": {}}  # unknown layout: start over
        return state

    # -- files ----------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """The path of an artifact; names are fixed by the pipeline and never leave the dir."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"artifact name escapes the work dir: {name}")
        return path

    def write_json(self, name: str, data: Any) -> Path:
        return self._write_bytes(name, json.dumps(data, ensure_ascii=False, indent=1).encode())

    def read_json(self, name: str) -> Any:
        return json.loads(self.path(name).read_text(encoding="utf-8"))

    def write_text(self, name: str, text: str) -> Path:
        return self._write_bytes(name, text.encode("utf-8"))

    def read_text(self, name: str) -> str:
        return self.path(name).read_text(encoding="utf-8")

    def _write_bytes(self, name: str, data: bytes) -> Path:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        return path


# -- publishing (the finalizing stage) -------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """One artifact offered to the user: its stored role, download name and content type."""

    name: str
    role: str
    title: str
    content_type: str

    @property
    def download_name(self) -> str:
        return safe_download_name(self.title, self.name.rpartition(".")[2], fallback="video")


def publish(
    ctx: JobContext,
    store: ArtifactStore,
    items: list[Publication],
    on_progress: Callable[[float], None] | None = None,
    *,
    job_id: str | None = None,
) -> dict[str, str]:
    """Store each artifact; return artifact name -> file id.

    The work dir keeps its own name for every artifact (a retry needs them), and storage gets
    another: a hard link where both are on one file system, so a clip's video is never copied.
    An artifact stored by an earlier attempt (finalizing failed halfway) keeps its file record
    and gets fresh bytes, so a retry never lists a file twice. ``job_id`` stores the files as
    another job's (a re-render stores an edited clip's files as its shorts job's).
    """
    target = job_id or ctx.job_id
    stored = {f.key: f for f in ctx.jobs.files_of([target])[target]}
    outbox = store.path("outbox")
    outbox.mkdir(exist_ok=True)
    ids: dict[str, str] = {}
    for done, item in enumerate(items, start=1):
        ctx.check_cancelled()
        copy = outbox / item.name.replace("/", "-")
        copy.unlink(missing_ok=True)
        try:
            os.link(store.path(item.name), copy)
        except OSError:  # another file system, or no hard links
            shutil.copyfile(store.path(item.name), copy)
        key = f"{target}/{copy.name}"  # the key `JobContext.save_file` gives it
        if key in stored:
            ctx.storage.put(key, copy, content_type=item.content_type)
            ids[item.name] = stored[key].id
        elif target == ctx.job_id:
            record = ctx.save_file(copy, role=item.role, name=item.download_name,
                                   content_type=item.content_type)  # fmt: skip
            ids[item.name] = record.id
        else:
            size = ctx.storage.put(key, copy, content_type=item.content_type)
            record = ctx.jobs.add_file(target, None, role=item.role, key=key,
                                       name=item.download_name, size=size,
                                       content_type=item.content_type)  # fmt: skip
            ids[item.name] = record.id
        if on_progress is not None:
            on_progress(done / len(items))
    return ids


_TRANSCRIPT_FILES = ("transcript.json", "transcript.txt", "transcript.srt", "transcript.vtt")
_CONTENT_TYPES = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
}


def publish_results(
    ctx: JobContext,
    store: ArtifactStore,
    *,
    with_clips: bool,
    on_progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Publish the transcript (and, for shorts, the analysis and clips); return the result."""
    metadata = SourceMetadata.model_validate(store.read_json("source/metadata.json"))
    transcript = Transcript.from_dict(store.read_json("transcript.json"))
    title = metadata.title or ctx.job.title or "video"
    items = [
        Publication(
            "transcript.json", "transcript", f"{title} - transcript", _CONTENT_TYPES["json"]
        ),
        Publication("transcript.txt", "transcript", title, _CONTENT_TYPES["txt"]),
        Publication("transcript.srt", "subtitles", title, _CONTENT_TYPES["srt"]),
        Publication("transcript.vtt", "subtitles", title, _CONTENT_TYPES["vtt"]),
    ]
    clips: list[PlannedClip] = []
    analysis: dict[str, Any] | None = None
    if with_clips:
        analysis = store.read_json("analysis.json")
        clips = [PlannedClip.model_validate(c) for c in store.read_json("clips.json")["clips"]]
        items.append(Publication("analysis.json", "analysis", f"{title} - analysis",
                                 _CONTENT_TYPES["json"]))  # fmt: skip
        items.append(Publication("clips.json", "clips", f"{title} - clips", _CONTENT_TYPES["json"]))
        for clip in clips:
            items += clip_publications(clip, title)
    ids = publish(ctx, store, items, on_progress)
    results = ShortsResults(
        video_title=title,
        duration=metadata.duration or transcript.duration,
        language=transcript.language,
        transcript=transcript.text,
        transcript_segments=[
            TranscriptSegmentOut(start=round(s.start, 3), end=round(s.end, 3), text=s.text)
            for s in transcript.segments
        ],
        analysis_results=analysis_summary(analysis) if analysis is not None else None,
        generated_clips=[stored_clip(c, ids) for c in clips] if with_clips else None,
        transcript_files={n.rpartition(".")[2]: ids[n] for n in _TRANSCRIPT_FILES},
    )  # fmt: skip
    return results.model_dump(mode="json", exclude_none=True)


def clip_publications(clip: PlannedClip, title: str) -> list[Publication]:
    """What of a clip reaches storage: its captions, and each shape's video and thumbnail."""
    named = f"{title} - {clip.title or clip.clip_id}"
    items = [
        Publication(name, "clip_subtitles", named, _CONTENT_TYPES[fmt])
        for fmt, name in clip.assets.items()
    ]
    for r in clip.renditions:
        shape = r.aspect_ratio.value.replace(":", "x")
        items.append(Publication(r.video, "clip_video", f"{named} ({shape})", "video/mp4"))
        items.append(Publication(r.thumbnail, "clip_thumbnail", f"{named} ({shape})", "image/jpeg"))
    return items


def stored_clip(clip: PlannedClip, ids: dict[str, str]) -> PlannedClip:
    """A clip of clips.json with its artifact names replaced by the stored files' ids."""
    return clip.model_copy(
        update={
            "assets": {fmt: ids[name] for fmt, name in clip.assets.items()},
            "renditions": [
                r.model_copy(update={"video": ids[r.video], "thumbnail": ids[r.thumbnail]})
                for r in clip.renditions
            ],
        }
    )


def analysis_summary(analysis: dict[str, Any]) -> dict[str, Any]:
    """The analysis as the detail view shows it; analysis.json keeps sentences and scores."""
    return {
        "candidate_count": analysis.get("candidate_count", 0),
        "clip_count": len(analysis.get("clips", [])),
        "note": analysis.get("note"),  # why fewer clips than asked, when there are
        "ranked_by": analysis.get("ranked_by"),
        "keywords": analysis.get("keywords", []),
        "sentence_count": len(analysis.get("sentences", [])),
        "topics": analysis.get("topics", []),
    }
