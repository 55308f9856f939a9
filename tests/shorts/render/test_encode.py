from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from skimage.transform import resize

from clipmill.errors import BrokenMedia, JobCancelled
from clipmill.shorts.job_schemas import AspectRatio, CaptionStyle, Resolution
from clipmill.shorts.render.captions import write_ass
from clipmill.shorts.render.encode import (
    EncodeSettings,
    FixedCrop,
    SampledCrop,
    output_size,
    render_clip,
    render_clip_in_child,
    sendcmd_text,
    source_video,
)
from clipmill.shorts.transcript import Word

pytestmark = pytest.mark.integration

MARKER_SIZE = 40
MARKER_SPEED = 120.0  # source pixels a second
MARKER_X0 = 40.0
_TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]


def _ffmpeg(*args: str) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True)  # fmt: skip


@dataclass(frozen=True)
class Sources:
    chart: Path  # testsrc2 640x360 at 30 fps, 4 s, with a tone
    chart720: Path  # testsrc2 1280x720, 1.5 s
    flash: Path  # black; white frames and a beep together at 2.0-2.2 s
    marker: Path  # a white square moving right on black, 25 fps
    long: Path  # 12 s, for cancelling


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    root = tmp_path_factory.mktemp("encode-src")
    tone = _TONE
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-shortest"]  # fmt: skip
    made = Sources(*(root / f"{n}.mp4" for n in ("chart", "chart720", "flash", "marker", "long")))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=4", *tone, *x264, "-g", "60",
            str(made.chart))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=1.5", *tone, *x264, str(made.chart720))
    _ffmpeg(
        "-f", "lavfi", "-i",
        "color=c=black:s=320x180:r=30:d=4,drawbox=c=white:t=fill:enable='gte(t,2)*lt(t,2.2)'",
        "-f", "lavfi", "-i", "aevalsrc='if(gte(t,2)*lt(t,2.2),sin(2*PI*1000*t),0)':s=48000:d=4",
        *x264, "-g", "90", str(made.flash),
    )  # fmt: skip
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:s=640x360:r=25:d=4",
        "-f", "lavfi", "-i", f"color=c=white:s={MARKER_SIZE}x{MARKER_SIZE}:r=25:d=4",
        *tone, "-filter_complex",
        f"[0:v][1:v]overlay=x='{MARKER_X0}+{MARKER_SPEED}*t':y=160:eval=frame[v]",
        "-map", "[v]", "-map", "2:a", *x264, str(made.marker),
    )  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=12", *tone, *x264, str(made.long))
    return made


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)], check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def top_level_boxes(path: Path) -> list[str]:
    boxes, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def gray_frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield float(frame.time or 0.0), frame.to_ndarray(format="gray").astype(np.int16)


def frame_at(path: Path, t: float) -> np.ndarray:
    return min(gray_frames(path), key=lambda item: abs(item[0] - t))[1]


# --- output shape and codecs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aspect", "resolution", "size"),
    [
        (AspectRatio.VERTICAL, Resolution.P1080, (1080, 1920)),
        (AspectRatio.SQUARE, Resolution.P1080, (1080, 1080)),
        (AspectRatio.PORTRAIT, Resolution.P1080, (1080, 1350)),
        (AspectRatio.LANDSCAPE, Resolution.P1080, (1920, 1080)),
        (AspectRatio.VERTICAL, Resolution.P720, (720, 1280)),
        (AspectRatio.PORTRAIT, Resolution.P720, (720, 900)),
        (AspectRatio.LANDSCAPE, Resolution.P720, (1280, 720)),
        (AspectRatio.VERTICAL, Resolution.P480, (480, 854)),
        (AspectRatio.LANDSCAPE, Resolution.P480, (854, 480)),
    ],
)
def test_output_sizes(aspect: AspectRatio, resolution: Resolution, size: tuple[int, int]) -> None:
    assert output_size(aspect, resolution) == size


def test_a_vertical_1080p_clip_is_h264_high_aac_faststart_and_frame_accurate(
    sources: Sources, tmp_path: Path
) -> None:
    start, end = 0.217, 1.251  # not on the 30 fps grid
    output = tmp_path / "clip.mp4"

    rendered = render_clip(
        sources.chart720, output, start=start, end=end,
        aspect=AspectRatio.VERTICAL, resolution=Resolution.P1080,
    )  # fmt: skip

    info = ffprobe(output)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (1080, 1920)
    assert audio["codec_name"] == "aac"
    frame = 1 / 30
    assert abs(float(info["format"]["duration"]) - (end - start)) <= frame
    assert abs(float(video["duration"]) - (end - start)) <= frame
    assert abs(float(audio["duration"]) - (end - start)) <= frame
    boxes = top_level_boxes(output)
    assert boxes.index("moov") < boxes.index("mdat")
    assert (rendered.width, rendered.height) == (1080, 1920)
    assert rendered.size == output.stat().st_size
    assert abs(rendered.duration - (end - start)) <= frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no leftovers


@pytest.mark.parametrize(
    "aspect", [AspectRatio.SQUARE, AspectRatio.PORTRAIT, AspectRatio.LANDSCAPE]
)
def test_every_shape_is_rendered_at_its_size(
    aspect: AspectRatio, sources: Sources, tmp_path: Path
) -> None:
    output = tmp_path / "clip.mp4"

    rendered = render_clip(sources.chart, output, start=1.0, end=1.5, aspect=aspect,
                           resolution=Resolution.P480)  # fmt: skip

    video = ffprobe(output)["streams"][0]
    assert (video["width"], video["height"]) == output_size(aspect, Resolution.P480)
    assert (rendered.width, rendered.height) == (video["width"], video["height"])


def test_webm_clips_are_vp9_and_opus(sources: Sources, tmp_path: Path) -> None:
    output = tmp_path / "clip.webm"

    render_clip(sources.chart, output, start=0.5, end=1.0, aspect=AspectRatio.VERTICAL,
                resolution=Resolution.P480)  # fmt: skip

    codecs = {s["codec_type"]: s["codec_name"] for s in ffprobe(output)["streams"]}
    assert codecs == {"video": "vp9", "audio": "opus"}


@pytest.mark.parametrize("start", [1.234, 1.25, 1.3])
def test_picture_and_sound_stay_together_within_a_frame(
    start: float, sources: Sources, tmp_path: Path
) -> None:
    output = tmp_path / "clip.mp4"
    rendered = render_clip(sources.flash, output, start=start, end=3.0,
                           aspect=AspectRatio.SQUARE, resolution=Resolution.P480)  # fmt: skip

    flash = next(t for t, image in gray_frames(output) if image.mean() > 128)
    with av.open(str(output)) as container:
        beep = None
        for frame in container.decode(audio=0):
            loud = np.flatnonzero(np.abs(frame.to_ndarray()[0]) > 0.1)
            if loud.size:
                beep = float(frame.time or 0.0) + loud[0] / frame.sample_rate
                break
    assert beep is not None
    assert abs(rendered.start - start) <= 0.5 / 30  # moved onto the frame grid, no further
    expected = 2.0 - rendered.start
    assert abs(beep - expected) < 0.005
    assert abs(flash - beep) <= 1 / 30 + 0.001


def test_a_clip_outside_the_source_is_refused(sources: Sources, tmp_path: Path) -> None:
    with pytest.raises(BrokenMedia):
        render_clip(sources.chart, tmp_path / "a.mp4", start=9.0, end=10.0,
                    aspect=AspectRatio.SQUARE, resolution=Resolution.P480)  # fmt: skip
    with pytest.raises(BrokenMedia):
        render_clip(sources.chart, tmp_path / "b.mp4", start=2.0, end=1.0,
                    aspect=AspectRatio.SQUARE, resolution=Resolution.P480)  # fmt: skip


# --- the moving crop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowMarker:
    """A stub camera path: keeps the moving square in the middle of a 9:16 window."""

    clip_start: float
    width: int = 202
    height: int = 360

    def window_size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def position_at(self, t: float) -> tuple[int, int]:
        centre = MARKER_X0 + MARKER_SPEED * (self.clip_start + t) + MARKER_SIZE / 2
        return (round(centre - self.width / 2), 0)


def marker_columns(path: Path) -> list[tuple[float, np.ndarray]]:
    return [(t, np.flatnonzero((image > 128).any(axis=0))) for t, image in gray_frames(path)]


def test_the_crop_follows_the_camera_path(sources: Sources, tmp_path: Path) -> None:
    start, end = 0.5, 3.0
    followed, fixed = tmp_path / "followed.mp4", tmp_path / "fixed.mp4"
    common = {"start": start, "end": end, "aspect": AspectRatio.VERTICAL,
              "resolution": Resolution.P480}  # fmt: skip

    render_clip(sources.marker, followed, crop=FollowMarker(start), **common)
    render_clip(sources.marker, fixed, crop=FixedCrop(202, 360, 0, 0), **common)

    width = output_size(AspectRatio.VERTICAL, Resolution.P480)[0]
    seen = marker_columns(followed)
    assert len(seen) == math.ceil((end - start) * 25)  # the frames in [start, end)
    for _, columns in seen:
        assert columns.size, "the marker left the frame"
        assert columns.min() > 0 and columns.max() < width - 1
        assert abs((columns.min() + columns.max()) / 2 - width / 2) < 0.05 * width
    # without the path the square walks out of the same window
    assert not marker_columns(fixed)[-1][1].size


def test_sendcmd_names_the_camera_crop_and_skips_still_frames() -> None:
    path = SampledCrop(100, 100, 10.0, ((0, 0), (0, 0), (10, 4), (10, 4), (900, 4)))

    text = sendcmd_text(path, fps=10.0, duration=0.5, bounds=(640, 360))

    assert text.splitlines() == [
        "0.150000 crop@cam x 10, crop@cam y 4;",
        "0.350000 crop@cam x 540, crop@cam y 4;",  # clamped into the frame
    ]


# --- fit and captions --------------------------------------------------------------------------


def laplacian_variance(image: np.ndarray) -> float:
    lap = (
        4 * image[1:-1, 1:-1]
        - image[:-2, 1:-1]
        - image[2:, 1:-1]
        - image[1:-1, :-2]
        - image[1:-1, 2:]
    )
    return float(lap.var())


def test_fit_shows_the_whole_frame_over_a_blurred_copy(sources: Sources, tmp_path: Path) -> None:
    output = tmp_path / "fit.mp4"
    render_clip(sources.chart, output, start=1.0, end=1.5, aspect=AspectRatio.VERTICAL,
                resolution=Resolution.P480, fit=True)  # fmt: skip

    width, height = output_size(AspectRatio.VERTICAL, Resolution.P480)
    image = frame_at(output, 0.0)
    band_h = round(width * 9 / 16)
    top = (height - band_h) // 2
    band = image[top + 2 : top + band_h - 2]
    source = frame_at(sources.chart, 1.0)
    expected = resize(source.astype(float), (band_h, width), preserve_range=True)[2:-2]
    assert np.abs(band - expected).mean() < 12  # the whole source frame, scaled
    above, below = image[: top - 4], image[top + band_h + 4 :]
    for letterbox in (above, below):
        assert letterbox.mean() > 15  # a picture, not black bars
        assert laplacian_variance(letterbox) < 0.1 * laplacian_variance(band)


def test_burned_captions_change_the_caption_area_only(sources: Sources, tmp_path: Path) -> None:
    odd = tmp_path / "we'ird, [dir]; a:b=c \\ x"
    odd.mkdir()
    width, height = output_size(AspectRatio.VERTICAL, Resolution.P480)
    ass = write_ass(
        [Word(1.0, 1.4, "Hello"), Word(1.45, 1.9, "captions")], clip_start=1.0, clip_end=2.0,
        style=CaptionStyle.BOLD, width=width, height=height, path=odd / "cap's.ass",
    )  # fmt: skip
    assert ass is not None
    common = {"start": 1.0, "end": 2.0, "aspect": AspectRatio.VERTICAL,
              "resolution": Resolution.P480}  # fmt: skip

    render_clip(sources.chart, odd / "with.mp4", ass=ass, **common)
    render_clip(sources.chart, tmp_path / "without.mp4", **common)

    captioned, plain = frame_at(odd / "with.mp4", 0.5), frame_at(tmp_path / "without.mp4", 0.5)
    diff = np.abs(captioned - plain)
    caption_area = diff[int(0.55 * height) : int(0.8 * height)]
    assert (caption_area > 60).mean() > 0.02
    assert diff[: int(0.5 * height)].mean() < 2
    assert diff[int(0.85 * height) :].mean() < 2


# --- cancel and the child process --------------------------------------------------------------


def ffmpeg_writing(path: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(path.parent).encode() in cmdline and b"ffmpeg" in cmdline:
                pids.append(int(entry.name))
    return pids


def test_cancel_stops_the_encoder_at_once(sources: Sources, tmp_path: Path) -> None:
    cancel = threading.Event()
    output = tmp_path / "out" / "clip.mp4"

    with pytest.raises(JobCancelled):
        render_clip(
            sources.long, output, start=0.0, end=12.0, aspect=AspectRatio.VERTICAL,
            resolution=Resolution.P1080, settings=EncodeSettings(preset="slow"),
            cancel=cancel, on_progress=lambda seconds: cancel.set(),
        )  # fmt: skip

    assert ffmpeg_writing(output) == []
    assert not output.exists()
    assert list(output.parent.iterdir()) == []


def test_render_in_a_child_with_any_camera_type(sources: Sources, tmp_path: Path) -> None:
    output = tmp_path / "clip.mp4"
    seen: list[float] = []

    rendered = render_clip_in_child(
        sources.marker, output, workdir=tmp_path, cancel=threading.Event(),
        on_progress=seen.append, start=0.5, end=1.5, aspect=AspectRatio.VERTICAL,
        resolution=Resolution.P480, crop=FollowMarker(0.5),
    )  # fmt: skip

    assert (rendered.width, rendered.height) == (480, 854)
    assert output.is_file()
    width = rendered.width
    for _, columns in marker_columns(output):
        assert abs((columns.min() + columns.max()) / 2 - width / 2) < 0.05 * width


def test_cancel_kills_the_child_and_its_ffmpeg(sources: Sources, tmp_path: Path) -> None:
    cancel = threading.Event()
    output = tmp_path / "out" / "clip.mp4"

    with pytest.raises(JobCancelled):
        render_clip_in_child(
            sources.long, output, workdir=tmp_path, cancel=cancel,
            on_progress=lambda seconds: cancel.set(), start=0.0, end=12.0,
            aspect=AspectRatio.VERTICAL, resolution=Resolution.P1080,
            settings=EncodeSettings(preset="slow"),
        )  # fmt: skip

    assert ffmpeg_writing(output) == []
    assert list(output.parent.iterdir()) == []


def test_a_sideways_phone_video_is_cropped_upright(tmp_path: Path) -> None:
    stored = tmp_path / "stored.mp4"
    rotated = tmp_path / "rotated.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", *_TONE, "-c:v", "libx264",
            "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(stored))  # fmt: skip
    _ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))

    assert (source_video(rotated).width, source_video(rotated).height) == (180, 320)
    rendered = render_clip(rotated, tmp_path / "clip.mp4", start=0.0, end=0.5,
                           aspect=AspectRatio.VERTICAL, resolution=Resolution.P480,
                           crop=FixedCrop(180, 320, 0, 0))  # fmt: skip
    assert (rendered.width, rendered.height) == (480, 854)
