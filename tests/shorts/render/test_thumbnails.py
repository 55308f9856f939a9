from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from clipmill.shorts.job_schemas import AspectRatio, Resolution
from clipmill.shorts.render.encode import FixedCrop
from clipmill.shorts.render.thumbnails import candidate_times, sharpness, write_thumbnail

pytestmark = pytest.mark.integration

SHARP = (2.4, 2.9)  # the only stretch of the source not blurred


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    path = tmp_path_factory.mktemp("thumb-src") / "blurry.mp4"
    subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=s=640x360:r=25:d=4,boxblur=8:enable='not(between(t,{SHARP[0]},{SHARP[1]}))'",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10", "-pix_fmt", "yuv420p",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def read_jpeg(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        assert container.format.name in {"jpeg_pipe", "image2"}
        frame = next(container.decode(video=0))
        assert frame.format.name in {"yuvj420p", "yuv420p", "yuvj444p"}
        return frame.to_ndarray(format="gray")


@dataclass(frozen=True)
class Face:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class FaceSample:
    time: float
    faces: tuple[Face, ...]


def test_the_sharp_frame_is_chosen_over_blurred_ones(source: Path, tmp_path: Path) -> None:
    output = tmp_path / "thumb.jpg"

    thumbnail = write_thumbnail(
        source, output, start=1.0, end=4.0, aspect=AspectRatio.VERTICAL,
        resolution=Resolution.P480,
    )  # fmt: skip

    assert output.read_bytes()[:3] == b"\xff\xd8\xff"
    image = read_jpeg(output)
    assert image.shape == (854, 480)
    assert (thumbnail.width, thumbnail.height) == (480, 854)
    assert SHARP[0] <= 1.0 + thumbnail.time < SHARP[1]
    assert not thumbnail.with_face
    blurred = write_thumbnail(source, tmp_path / "blurred.jpg", start=0.0, end=2.0,
                              aspect=AspectRatio.VERTICAL, resolution=Resolution.P480)  # fmt: skip
    assert sharpness(image) > 3 * sharpness(read_jpeg(blurred.path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blurred.jpg", "thumb.jpg"]


def test_a_frame_with_a_face_in_the_window_is_preferred(source: Path, tmp_path: Path) -> None:
    window = FixedCrop(202, 360, 0, 0)  # the left part of the frame
    in_view = FaceSample(1.5, (Face(0.05, 0.2, 0.15, 0.3),))  # blurred moment, face on the left
    out_of_view = FaceSample(2.6, (Face(0.7, 0.2, 0.15, 0.3),))  # sharp moment, face on the right

    thumbnail = write_thumbnail(
        source, tmp_path / "face.jpg", start=1.0, end=4.0, aspect=AspectRatio.VERTICAL,
        resolution=Resolution.P480, crop=window, faces=[in_view, out_of_view],
    )  # fmt: skip

    assert thumbnail.with_face
    assert thumbnail.time == pytest.approx(0.5)
    assert read_jpeg(thumbnail.path).shape == (854, 480)


def test_faces_outside_the_crop_fall_back_to_spread_instants() -> None:
    faces = [FaceSample(t, (Face(0.8, 0.1, 0.1, 0.2),)) for t in (10.5, 11.0, 12.0)]

    times, with_face = candidate_times(
        3.0, crop=FixedCrop(202, 360, 0, 0), fit=False, source_size=(640, 360), faces=faces,
        clip_start=10.0, count=4,
    )  # fmt: skip

    assert not with_face
    assert len(times) == 4 and all(0 < t < 3.0 for t in times)
    times, with_face = candidate_times(
        3.0, crop=None, fit=True, source_size=(640, 360), faces=faces, clip_start=10.0
    )
    assert with_face and times == pytest.approx([0.5, 1.0, 2.0])


def test_square_thumbnail_of_a_fitted_clip(source: Path, tmp_path: Path) -> None:
    thumbnail = write_thumbnail(source, tmp_path / "square.jpg", start=0.0, end=4.0,
                                aspect=AspectRatio.SQUARE, resolution=Resolution.P480,
                                fit=True)  # fmt: skip

    assert read_jpeg(thumbnail.path).shape == (480, 480)
