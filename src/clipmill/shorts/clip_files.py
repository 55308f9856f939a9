"""One clip's files in the work dir: its captions (SRT, VTT) and its renditions (a video and a
thumbnail per shape), under ``clips/<clip id>/r<revision>/``.

Shared by the generating_clips stage (every planned clip) and by the re-render of an edited
clip; both leave the clip as `PlannedClip` with artifact names in ``assets`` and
``renditions``. The captions are written after the render and timed from where the video really
starts: the renderer moves the span onto its frame grid (`RenderedClip.start`), and a caption
timed from the asked start would drift from the picture by up to half a frame. A new revision
writes a new folder, so an edit never touches the files the current revision still serves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from clipmill.cancellation import CancelSignal
from clipmill.shorts.artifacts import ArtifactStore
from clipmill.shorts.job_schemas import (
    AspectRatio,
    ClipStatus,
    PlannedClip,
    Rendition,
    ShortsOptions,
)
from clipmill.shorts.seams import ClipRenderer, RenderRequest
from clipmill.shorts.subtitles import clip_subtitles, to_srt, to_vtt
from clipmill.shorts.transcript import Transcript

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def clip_dir(clip: PlannedClip) -> str:
    """The artifact folder of a clip's current revision."""
    return f"clips/{clip.clip_id}/r{clip.revision}"


def write_clip_files(
    clip: PlannedClip,
    *,
    store: ArtifactStore,
    transcript: Transcript,
    source: Path,
    options: ShortsOptions,
    renderer: ClipRenderer,
    cancel: CancelSignal,
    on_progress: Callable[[float], None] | None = None,
) -> PlannedClip:
    """Write (or, on a retry, reuse) the clip's renditions and captions; return the clip, now
    ready, with their artifact names. ``clip.clip_id`` must be a safe id (see `safe_clip_id`).
    Whatever the renderer raises goes through: the caller decides what one clip's failure
    means."""
    folder = clip_dir(clip)
    shapes = tuple(clip.aspect_ratios or options.aspect_ratios)
    words = tuple(
        w for w in transcript.words if clip.start_time <= (w.start + w.end) / 2 <= clip.end_time
    )
    request = RenderRequest(
        source=source,
        clip_id=clip.clip_id,
        start=clip.start_time,
        end=clip.end_time,
        words=words,
        aspect_ratios=shapes,
        caption_style=clip.caption_style or options.caption_style,
        resolution=options.resolution,
        framing=options.framing,
        output_dir=store.path(folder),
    )
    rendered = renderer.render(request, cancel=cancel, on_progress=on_progress)
    start = next((r.start for r in rendered if r.start is not None), clip.start_time)
    end = next((r.end for r in rendered if r.end is not None), clip.end_time)
    cues = clip_subtitles(transcript, start, end)
    assets = {"srt": f"{folder}/captions.srt", "vtt": f"{folder}/captions.vtt"}
    store.write_text(assets["srt"], to_srt(cues))
    store.write_text(assets["vtt"], to_vtt(cues))
    renditions = [
        Rendition(
            aspect_ratio=r.aspect_ratio,
            video=_artifact(store, r.video),
            thumbnail=_artifact(store, r.thumbnail),
            width=r.width,
            height=r.height,
            duration=r.duration,
            size=r.size,
        )
        for r in rendered
    ]
    return clip.model_copy(
        update={
            "assets": assets,
            "renditions": renditions,
            "status": ClipStatus.READY,
            "error": None,
        }
    )


def clip_artifacts(clip: PlannedClip) -> list[str]:
    """Every artifact name a clip's files have (captions, videos, thumbnails)."""
    names = list(clip.assets.values())
    for rendition in clip.renditions:
        names += [rendition.video, rendition.thumbnail]
    return names


def safe_clip_id(candidate: str, number: int) -> str:
    """The planner's id when it is safe as a folder name, else ``clip-<number>``."""
    return candidate if SAFE_ID.fullmatch(candidate) else f"clip-{number:02d}"


def shape_label(aspect: AspectRatio) -> str:
    """``9:16`` -> ``9x16``: a shape as it may appear in a file name."""
    return aspect.value.replace(":", "x")


def _artifact(store: ArtifactStore, path: Path) -> str:
    return path.resolve().relative_to(store.root.resolve()).as_posix()
