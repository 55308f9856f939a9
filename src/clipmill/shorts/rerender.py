"""The pipeline of a ``render`` job: one edited clip of a finished shorts job, rendered again.

It works in the shorts job's work dir (its source, transcript and the clip folders): the new
revision goes into ``clips/<clip id>/r<revision>/``, is stored as the shorts job's files, and
only then replaces the clip in the shorts job's result and clips.json; the previous revision's
files are expired after that. An older revision finishing after a newer one changes nothing.
"""

from __future__ import annotations

from typing import Any

from clipmill.errors import ClipmillError, FileExpired, JobCancelled, Superseded
from clipmill.jobs.enums import JobStage
from clipmill.pipeline.context import JobContext
from clipmill.shorts.artifacts import ArtifactStore, clip_publications, publish, stored_clip
from clipmill.shorts.clip_files import write_clip_files
from clipmill.shorts.job_schemas import (
    ClipFailure,
    PlannedClip,
    ShortsJobOptions,
    SourceMetadata,
)
from clipmill.shorts.seams import ClipRenderer
from clipmill.shorts.stored_transcript import StoredTranscript


class RenderPipeline:
    def __init__(self, renderer: ClipRenderer) -> None:
        self.renderer = renderer

    def __call__(self, ctx: JobContext) -> None:
        shorts_id: str = ctx.options["job_id"]
        target = PlannedClip.model_validate(ctx.options["clip"])
        shorts = ctx.jobs.load(shorts_id)
        options = ShortsJobOptions.model_validate(shorts.options).shorts
        store = ArtifactStore(ctx.settings.jobs_dir / shorts_id)
        if not store.path("transcript.json").is_file():
            raise FileExpired(
                "The shorts job's source is no longer kept (retention).", code="source_expired"
            )
        metadata = SourceMetadata.model_validate(store.read_json("source/metadata.json"))
        # the stored transcript, not the work dir's: a word correction rewrites the stored one
        transcript = StoredTranscript(ctx.jobs, ctx.storage).load(shorts_id)
        ctx.stage(JobStage.GENERATING_CLIPS, f"Rendering clip {target.clip_id}.", progress=0.0)
        try:
            rendered = write_clip_files(
                target,
                store=store,
                transcript=transcript,
                source=store.path(metadata.media_file),
                options=options,
                renderer=self.renderer,
                cancel=ctx.cancel,
                on_progress=lambda f: ctx.progress(90 * f, message=f"Rendering {target.clip_id}."),
            )
        except ClipmillError as exc:
            if not isinstance(exc, JobCancelled | Superseded):
                _still_failed(ctx, shorts_id, target.clip_id, exc)
            raise
        ctx.stage(JobStage.FINALIZING, "Storing the clip.")
        title = metadata.title or shorts.title or "video"
        ids = publish(ctx, store, clip_publications(rendered, title), job_id=shorts_id)
        fresh = stored_clip(rendered, ids)
        replaced: list[PlannedClip] = []

        def swap(result: dict[str, Any]) -> dict[str, Any] | None:
            clips = [PlannedClip.model_validate(c) for c in result.get("generated_clips") or []]
            old = next((c for c in clips if c.clip_id == fresh.clip_id), None)
            if old is not None and old.revision >= fresh.revision:
                return None  # a newer edit of this clip finished first
            replaced.extend([old] if old is not None else [])
            kept = [c for c in clips if c.clip_id != fresh.clip_id]
            ordered = sorted([*kept, fresh], key=lambda c: c.start_time)
            return {**result, "generated_clips": [c.model_dump(mode="json") for c in ordered]}

        if not ctx.jobs.amend_result(shorts_id, swap):
            ctx.result = {"clip_id": fresh.clip_id, "superseded": True}
            return
        _rewrite_plan(store, rendered)
        for old in replaced:
            stale = [*old.assets.values()]
            for rendition in old.renditions:
                stale += [rendition.video, rendition.thumbnail]
            ctx.jobs.expire_files(shorts_id, stale, ctx.storage)
        ctx.jobs.note(
            shorts_id,
            f"Clip {fresh.clip_id} rendered again (revision {fresh.revision}).",
            {"clip_id": fresh.clip_id, "render_job_id": ctx.job_id},
        )
        ctx.result = {"clip_id": fresh.clip_id, "revision": fresh.revision}


def _still_failed(ctx: JobContext, shorts_id: str, clip_id: str, exc: ClipmillError) -> None:
    """A failed clip that failed again says the newest reason (a clip with files keeps them:
    only its edit failed, and the render job says so)."""
    error = ClipFailure(code=exc.code, message=exc.message).model_dump()

    def reason(result: dict[str, Any]) -> dict[str, Any] | None:
        clips = result.get("generated_clips") or []
        if not any(c.get("clip_id") == clip_id and c.get("status") == "failed" for c in clips):
            return None
        updated = [{**c, "error": error} if c.get("clip_id") == clip_id else c for c in clips]
        return {**result, "generated_clips": updated}

    ctx.jobs.amend_result(shorts_id, reason)


def _rewrite_plan(store: ArtifactStore, clip: PlannedClip) -> None:
    """clips.json (artifact names) follows the result, so a later edit starts from it."""
    plan = store.read_json("clips.json") if store.path("clips.json").is_file() else {"clips": []}
    clips = [c for c in plan.get("clips", []) if c.get("clip_id") != clip.clip_id]
    clips.append(clip.model_dump(mode="json"))
    plan["clips"] = sorted(clips, key=lambda c: c.get("start_time", 0))
    store.write_json("clips.json", plan)
