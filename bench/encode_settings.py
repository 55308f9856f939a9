"""x264 preset and CRF for rendered shorts: time, size and quality, to choose the default.

Renders a 9:16 1080x1920 clip from a 720p source through `render_clip` (a panning camera crop,
upscaled as a real short is) with several presets and CRFs, and compares each result with a
lossless render of the same frames (same crop, same scaling): SSIM (all planes) and PSNR (the
average) from ffmpeg's filters. Times are wall clock and the CPU seconds of ffmpeg (the machine
may be shared, so CPU time is the steadier figure); ratios are against the current default.

Sources, made here: a photo (scikit-image's astronaut) slowly panned and zoomed, clean
(``photo``: a talking head from a decent camera) and with moving sensor grain
(``photo-grain``); and ffmpeg's testsrc2 chart with grain, hard edges and text
(``chart-grain``: slides or a screen filmed by a noisy camera, the hardest case).

    .venv/bin/python bench/encode_settings.py [--seconds 4] [--rounds 1] [--sources photo,...]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clipmill.shorts.job_schemas import AspectRatio, Resolution
from clipmill.shorts.render.encode import (
    DEFAULT_SETTINGS,
    EncodeSettings,
    output_size,
    render_clip,
    sendcmd_text,
    shape_filters,
)

CONFIGS = [
    *(EncodeSettings(preset=p, crf=c) for c in (21, 23)
      for p in ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")),
    EncodeSettings(preset="veryfast", crf=18),
    EncodeSettings(preset="veryfast", crf=20),
    EncodeSettings(preset="veryfast", crf=26),
]  # fmt: skip


@dataclass(frozen=True)
class Pan:
    """A camera that pans the 9:16 window across the 1280x720 frame."""

    duration: float
    width: int = 405
    height: int = 720

    def window_size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def position_at(self, t: float) -> tuple[int, int]:
        return (round(100 + 600 * t / self.duration), 0)


def ffmpeg(*args: str) -> str:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-y", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return done.stderr


def make_sources(root: Path, seconds: float, names: list[str]) -> dict[str, Path]:
    from skimage import data, io

    photo = root / "astronaut.png"
    io.imsave(photo, data.astronaut(), check_contrast=False)
    frames = round(seconds * 30)
    pan = (
        "scale=2560:2560,zoompan=z='1.6+0.0015*on':x='iw/2-iw/zoom/2+on':y='ih/3-ih/zoom/3':"
        f"d=1:s=1280x720:fps=30,trim=end_frame={frames}"
    )
    still = ["-loop", "1", "-framerate", "30", "-i", str(photo)]
    inputs = {
        "photo": (still, pan),
        "photo-grain": (still, f"{pan},noise=alls=5:allf=t"),
        "chart-grain": (["-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=30:d={seconds}"],
                        "noise=alls=8:allf=t"),
    }  # fmt: skip
    sources = {}
    for name in names:
        sources[name] = root / f"{name}.mp4"
        picture, filters = inputs[name]
        ffmpeg(
            "-loglevel", "error", *picture, "-f", "lavfi", "-i", f"sine=d={seconds}",
            "-map", "0:v", "-map", "1:a", "-vf", filters,
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "10", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(sources[name]),
        )  # fmt: skip
    return sources


def lossless_reference(source: Path, out: Path, seconds: float, work: Path) -> None:
    """The frames `render_clip` encodes, before encoding (x264 lossless, same filters)."""
    size = output_size(AspectRatio.VERTICAL, Resolution.P1080)
    camera = Pan(seconds)
    commands = work / "reference.cmd"
    commands.write_text(sendcmd_text(camera, fps=30, duration=seconds, bounds=(1280, 720)))
    shape = shape_filters(source_size=(1280, 720), size=size, crop=camera, fit=False,
                          commands=commands)  # fmt: skip
    ffmpeg(
        "-loglevel", "error", "-i", str(source), "-filter_complex",
        f"[0:v]trim=end={seconds},{shape},format=yuv420p[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(out),
    )  # fmt: skip


def quality(candidate: Path, reference: Path) -> tuple[float, float]:
    log = ffmpeg(
        "-loglevel", "info", "-i", str(candidate), "-i", str(reference), "-filter_complex",
        # frames paired by number: the two containers round timestamps differently
        "[0:v]setpts=N/FRAME_RATE/TB,split[a][b];[1:v]setpts=N/FRAME_RATE/TB,split[c][d];"
        "[a][c]ssim;[b][d]psnr", "-f", "null", "-",
    )  # fmt: skip
    ssim = re.search(r"SSIM .*All:([\d.]+)", log)
    psnr = re.search(r"PSNR .*average:([\d.]+|inf)", log)
    if ssim is None or psnr is None:
        raise RuntimeError(log[-1000:])
    return float(ssim.group(1)), float(psnr.group(1))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sources", default="photo,photo-grain,chart-grain")
    options = parser.parse_args()
    seconds = options.seconds
    with tempfile.TemporaryDirectory(prefix="encode-bench-") as tmp:
        root = Path(tmp)
        for name, source in make_sources(root, seconds, options.sources.split(",")).items():
            reference = root / f"{name}-reference.mkv"
            lossless_reference(source, reference, seconds, root)
            rows = []
            for settings in CONFIGS:
                walls, cpus = [], []
                for _ in range(options.rounds):
                    output = root / f"{name}-{settings.preset}-{settings.crf}.mp4"
                    cpu, began = children_cpu(), time.perf_counter()
                    render_clip(
                        source, output, start=0.0, end=seconds, aspect=AspectRatio.VERTICAL,
                        resolution=Resolution.P1080, crop=Pan(seconds), settings=settings,
                    )  # fmt: skip
                    walls.append(time.perf_counter() - began)
                    cpus.append(children_cpu() - cpu)
                ssim, psnr = quality(output, reference)
                kbps = output.stat().st_size * 8 / seconds / 1000
                rows.append((settings, min(walls), min(cpus), kbps, ssim, psnr))
            base = next(r for r in rows if r[0] == DEFAULT_SETTINGS)
            print(f"\n{name}: 9:16 1080x1920, {seconds:g} s at 30 fps from 1280x720, "
                  f"ratios vs {DEFAULT_SETTINGS.preset}/CRF {DEFAULT_SETTINGS.crf}")  # fmt: skip
            print("| preset | CRF | wall s | CPU s | CPU ratio | kbit/s | size ratio | SSIM "
                  "| PSNR dB |")  # fmt: skip
            print("|---|---|---|---|---|---|---|---|---|")
            for settings, wall, cpu, kbps, ssim, psnr in rows:
                print(
                    f"| {settings.preset} | {settings.crf} | {wall:.1f} | {cpu:.1f} "
                    f"| {cpu / base[2]:.2f} | {kbps:.0f} | {kbps / base[3]:.2f} | {ssim:.4f} "
                    f"| {psnr:.2f} |"
                )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
