"""An hour-long talk into ten finished vertical clips: time and peak memory per stage.

The source is a synthetic 60-minute talk, 1280x720: the espeak-ng test talk looped under the
moving-face test video looped (both from tests/support), made once and cached. The job is an
upload through the API with real seams (Whisper in a child, the planner, the renderer with
faces, camera, captions and encode), asking for 10 clips, 9:16 at 1080p, bold captions. The
baseline beside it in the same run is faster-whisper alone on the same audio, the part no
pipeline can skip: the ratio says what everything else costs on top.

    .venv/bin/python bench/shorts_hour.py [--minutes 60] [--clips 10] [--resolution 1080p]

Peak memory is the largest summed RSS of the server process and all its descendants, sampled
every 0.2 s, per stage.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from tests.support.containers import make_container, wait_terminal
from tests.support.face_video import build_face_video, default_scene
from tests.support.talk import build_talk

from clipmill.accounts.principal import LOCAL_USER
from clipmill.api.app import create_app


def make_source(folder: Path, minutes: int) -> Path:
    out = folder / f"hour-{minutes}.mp4"
    if out.exists():
        return out
    talk = build_talk(folder, video=False)
    face = build_face_video(default_scene())
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(face.path),
         "-stream_loop", "-1", "-i", str(talk.wav), "-t", str(minutes * 60),
         "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "26",
         "-c:a", "aac", "-b:a", "96k", str(out)],
        check=True,
    )  # fmt: skip
    return out


def tree_rss(pid: int) -> int:
    """Summed RSS (bytes) of ``pid`` and every descendant."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(entry.name))
        rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack += children.get(current, [])
    return total


def baseline_whisper(audio: Path) -> float:
    """faster-whisper alone, as clipmill configures it, in a fresh process."""
    code = (
        "import time,sys;from pathlib import Path;from clipmill.config import Settings;"
        "from clipmill.shorts.transcribe import WhisperTranscriber;"
        "t=WhisperTranscriber(settings=Settings(_env_file=None));s=time.perf_counter();"
        f"t.transcribe(Path({str(audio)!r}),language='en');print(time.perf_counter()-s)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--resolution", default="1080p")
    args = parser.parse_args()
    cache = Path(os.environ.get("CLIPMILL_BENCH_CACHE", tempfile.gettempdir())) / "clipmill-bench"
    cache.mkdir(parents=True, exist_ok=True)
    source = make_source(cache, args.minutes)
    with tempfile.TemporaryDirectory() as tmp:
        container = make_container(Path(tmp) / "data", max_concurrent_jobs=1)
        options = {
            "max_clips": args.clips, "aspect_ratios": ["9:16"], "resolution": args.resolution,
            "caption_style": "bold", "language": "en",
        }  # fmt: skip
        peaks: dict[str, int] = defaultdict(int)
        stage = {"now": "queued"}
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peaks[stage["now"]] = max(peaks[stage["now"]], tree_rss(os.getpid()))

        def follow(message: object) -> None:
            stage["now"] = getattr(message, "stage", stage["now"])

        container.bus.add_listener(follow)  # type: ignore[arg-type]
        sampler = threading.Thread(target=sample, daemon=True)
        with TestClient(create_app(container=container)) as client:
            sampler.start()
            started = time.perf_counter()
            with source.open("rb") as handle:
                job_id = client.post(
                    "/api/v1/jobs/upload",
                    data={
                        "job_type": "full_processing",
                        "options": __import__("json").dumps(options),
                    },
                    files={"file": ("hour.mp4", handle, "video/mp4")},
                ).json()["id"]
            job = wait_terminal(container, job_id, timeout=4 * 3600)
            total = time.perf_counter() - started
            stop.set()
            events = container.jobs.events(LOCAL_USER, job_id)
        container.stop()
        audio = Path(tmp) / "audio.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-ac", "1", "-ar",
                        "16000", str(audio)], check=True)  # fmt: skip
        whisper = baseline_whisper(audio)
    print(f"job {job.status.value}: {len((job.result or {}).get('generated_clips') or [])} clips")
    stamps = [(e.stage, e.created_at) for e in events if e.type == "stage"]
    print(f"{'stage':20}{'seconds':>10}{'peak RSS MiB':>14}")
    for (name, at), (_next, then) in zip(stamps, [*stamps[1:], ("end", job.finished_at)],
                                        strict=False):  # fmt: skip
        if then is None:
            continue
        print(f"{name:20}{(then - at).total_seconds():>10.1f}{peaks.get(name, 0) / 2**20:>14.0f}")
    media = args.minutes * 60
    print(f"{'total':20}{total:>10.1f}{max(peaks.values(), default=0) / 2**20:>14.0f}")
    print(f"real-time factor: {media / total:.1f}x (goal: 12x, 5 min for an hour)")
    print(f"baseline faster-whisper alone: {whisper:.1f} s; job / baseline = {total / whisper:.2f}")


if __name__ == "__main__":
    main()
