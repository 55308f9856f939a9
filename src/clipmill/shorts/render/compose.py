"""One clip, every shape: the render modules put together (runs in the renderer's child).

What is shared by the shapes of a clip is found once: the span it shows (the planned span on the
output's frame grid, `encode.clip_span`, which the captions and the camera use as well as the
encode), its shot cuts and its faces (both decode that span of the source). Then, per shape:
the camera's path, the captions as ASS, the encode, and the thumbnail, into
``RenderRequest.output_dir`` as ``9x16.mp4``, ``9x16.jpg``...
"""

from __future__ import annotations

from collections.abc import Callable

from clipmill.media.ffmpeg import probe_file
from clipmill.shorts.job_schemas import AspectRatio, Framing, frame_size
from clipmill.shorts.render.camera import CameraPath, plan_camera
from clipmill.shorts.render.captions import write_ass
from clipmill.shorts.render.encode import clip_span, render_clip, source_video
from clipmill.shorts.render.faces import FaceTrack, detect_faces
from clipmill.shorts.render.shots import detect_shots
from clipmill.shorts.render.thumbnails import write_thumbnail
from clipmill.shorts.seams import RenderedClip, RenderRequest

# shares of one shape's time, for progress: the encode dominates
_ENCODE, _THUMBNAIL = 0.9, 0.1


class ClipComposer:
    """Renders the shapes of one clip; the source's shots and faces are read on first need."""

    def __init__(self, request: RenderRequest) -> None:
        self.request = request
        probe = probe_file(request.source)
        self._picture = source_video(request.source, probe)
        self.span = clip_span(
            request.start, request.end, picture=self._picture, source_duration=probe.duration
        )
        self.start, self.end = self.span.start, self.span.end
        self._analysis: tuple[list[float], FaceTrack] | None = None

    def render(
        self, aspect: AspectRatio, *, on_progress: Callable[[float], None] | None = None
    ) -> RenderedClip:
        request = self.request
        stem = aspect.value.replace(":", "x")
        video, thumbnail = request.output_dir / f"{stem}.mp4", request.output_dir / f"{stem}.jpg"
        width, height = frame_size(aspect, request.resolution)
        camera = self._camera(aspect)
        fit = request.framing is Framing.FIT
        captions = write_ass(
            request.words,
            clip_start=self.start,
            clip_end=self.end,
            style=request.caption_style,
            width=width,
            height=height,
            path=request.output_dir / f"{stem}.ass",
        )
        span = self.span.duration

        def encoded(seconds: float) -> None:
            if on_progress is not None and span > 0:
                on_progress(_ENCODE * min(1.0, seconds / span))

        rendered = render_clip(
            request.source,
            video,
            start=self.start,
            end=self.end,
            aspect=aspect,
            resolution=request.resolution,
            crop=camera,
            fit=fit,
            ass=captions,
            on_progress=encoded,
            new_session=False,  # stay in the renderer child's process group
        )
        faces = self._faces().samples if self._analysis is not None else ()
        write_thumbnail(
            request.source,
            thumbnail,
            start=self.start,
            end=self.end,
            aspect=aspect,
            resolution=request.resolution,
            crop=camera,
            fit=fit,
            faces=faces,
            new_session=False,
        )
        if on_progress is not None:
            on_progress(1.0)
        return RenderedClip(
            aspect_ratio=aspect,
            video=video,
            thumbnail=thumbnail,
            width=rendered.width,
            height=rendered.height,
            duration=rendered.duration,
            size=video.stat().st_size,
            start=rendered.start,
            end=rendered.end,
        )

    def _camera(self, aspect: AspectRatio) -> CameraPath | None:
        """The crop window over time; None where the picture is not cropped."""
        request = self.request
        if aspect is AspectRatio.LANDSCAPE or request.framing is Framing.FIT:
            return None
        source_size = (self._picture.width, self._picture.height)
        if request.framing is Framing.CENTER:
            shots, track = [], FaceTrack(self.start, self.end, 1.0, ())
        else:
            shots, track = self._shots(), self._faces()
        return plan_camera(
            track,
            shots,
            source_size=source_size,
            aspect=aspect,
            start=self.start,
            end=self.end,
            fps=float(self.span.rate),
            mode=request.framing,
        )

    def _shots(self) -> list[float]:
        return self._analyse()[0]

    def _faces(self) -> FaceTrack:
        return self._analyse()[1]

    def _analyse(self) -> tuple[list[float], FaceTrack]:
        if self._analysis is None:
            source = self.request.source
            shots = detect_shots(source, self.start, self.end)
            track = detect_faces(source, self.start, self.end)
            self._analysis = (shots, track)
        return self._analysis
