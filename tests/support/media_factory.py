"""Test media made with ffmpeg: tiny, fast to generate, and varied enough for yt-dlp.

``make_media(root)`` writes everything once (a pytest session does it in a tmp dir) and returns
``MediaFiles``: paths plus the facts tests assert on (durations, HLS heights). Nothing here
touches the network; ``media_server`` serves the directory on 127.0.0.1.

    sample.mp4        H.264/AAC, 6 s, 640x360, moov at the front
    sample.webm       VP9/Opus, 3 s, 320x180
    sample.en.vtt     WebVTT subtitles for sample.mp4 (and sample.en.srt)
    thumb.jpg         320x180 JPEG
    page.html         <video> + og:title/og:image/og:video + <track> subtitles
    nomedia.html      an ordinary page without media
    hls/master.m3u8   VOD master playlist, variants 360p..2160p (2 s, muxed AAC audio)
    big.mp4           ~2 MB, 20 s, noisy 320x180 video for size limits, throttling, resume
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

MP4_DURATION = 6.0
WEBM_DURATION = 3.0
HLS_DURATION = 2.0
BIG_DURATION = 20.0
HLS_HEIGHTS = (360, 480, 720, 1080, 1440, 2160)
PAGE_TITLE = "Clipmill Test Page"
MP4_TITLE = "sample"


@dataclass(frozen=True)
class MediaFiles:
    """Paths of the generated media (all under ``root``) and facts about them."""

    root: Path
    mp4: Path
    webm: Path
    vtt: Path
    srt: Path
    thumbnail: Path
    page: Path
    nomedia_page: Path
    hls_master: Path
    big: Path
    mp4_duration: float = MP4_DURATION
    webm_duration: float = WEBM_DURATION
    hls_duration: float = HLS_DURATION
    big_duration: float = BIG_DURATION
    hls_heights: tuple[int, ...] = HLS_HEIGHTS
    page_title: str = PAGE_TITLE

    def rel(self, path: Path) -> str:
        """The URL path of ``path`` on the media server (``/hls/master.m3u8``)."""
        return "/" + path.relative_to(self.root).as_posix()


def ffmpeg_exe() -> str:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg(*args: str) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")


def _tone(duration: float, freq: int = 440) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=44100:duration={duration}"]


def make_mp4(dst: Path) -> None:
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={MP4_DURATION}",
        *_tone(MP4_DURATION), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "36", "-pix_fmt", "yuv420p",
        "-g", "25", "-c:a", "aac", "-b:a", "96k", "-shortest", "-movflags", "+faststart",
        "-metadata", f"title={MP4_TITLE}", str(dst),
    )  # fmt: skip


def make_webm(dst: Path) -> None:
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=15:duration={WEBM_DURATION}",
        *_tone(WEBM_DURATION, 660), "-map", "0:v", "-map", "1:a",
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
        "-c:a", "libopus", "-b:a", "48k", "-shortest", str(dst),
    )  # fmt: skip


def make_big(dst: Path) -> None:
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={BIG_DURATION},"
        "noise=alls=60:allf=t", *_tone(BIG_DURATION, 220), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "700k", "-maxrate", "700k",
        "-bufsize", "700k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest",
        "-movflags", "+faststart", str(dst),
    )  # fmt: skip


def make_thumbnail(dst: Path) -> None:
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=1", "-frames:v", "1", str(dst))


def make_hls_variant(hls_dir: Path, height: int) -> None:
    width = (height * 16 // 9 + 1) // 2 * 2
    out = hls_dir / f"v{height}"
    out.mkdir(parents=True, exist_ok=True)
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=10:duration={HLS_DURATION}",
        *_tone(HLS_DURATION, 330), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "45", "-pix_fmt", "yuv420p",
        "-g", "10", "-c:a", "aac", "-b:a", "48k", "-shortest",
        "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(out / "seg%03d.ts"), str(out / "index.m3u8"),
    )  # fmt: skip


def write_hls_master(hls_dir: Path) -> Path:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for height in HLS_HEIGHTS:
        width = (height * 16 // 9 + 1) // 2 * 2
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={height * 1000},RESOLUTION={width}x{height},"
            'CODECS="avc1.64002a,mp4a.40.2"',
            f"v{height}/index.m3u8",
        ]
    master = hls_dir / "master.m3u8"
    master.write_text("\n".join(lines) + "\n")
    return master


VTT = """WEBVTT

00:00:00.500 --> 00:00:02.500
Hello from clipmill.

00:00:03.000 --> 00:00:05.500
This is a test subtitle.
"""

SRT = """1
00:00:00,500 --> 00:00:02,500
Hello from clipmill.

2
00:00:03,000 --> 00:00:05,500
This is a test subtitle.
"""

PAGE = f"""<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>{PAGE_TITLE} | Example</title>
<meta property="og:title" content="{PAGE_TITLE}">
<meta property="og:type" content="video.other">
<meta property="og:image" content="thumb.jpg">
<meta property="og:video" content="sample.mp4">
<meta property="og:video:type" content="video/mp4">
<meta name="description" content="A page with one video for clipmill tests.">
</head><body>
<h1>{PAGE_TITLE}</h1>
<video src="sample.mp4" controls poster="thumb.jpg" width="640" height="360">
  <track kind="subtitles" src="sample.en.vtt" srclang="en" label="English">
</video>
</body></html>
"""

NOMEDIA = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Just words</title></head>
<body><p>Nothing to download here.</p></body></html>
"""


def make_media(root: Path) -> MediaFiles:
    """Generate every test file under ``root`` (a few seconds; encodes run in parallel)."""
    root.mkdir(parents=True, exist_ok=True)
    hls_dir = root / "hls"
    files = MediaFiles(
        root=root,
        mp4=root / "sample.mp4",
        webm=root / "sample.webm",
        vtt=root / "sample.en.vtt",
        srt=root / "sample.en.srt",
        thumbnail=root / "thumb.jpg",
        page=root / "page.html",
        nomedia_page=root / "nomedia.html",
        hls_master=hls_dir / "master.m3u8",
        big=root / "big.mp4",
    )
    jobs = [
        (make_mp4, files.mp4),
        (make_webm, files.webm),
        (make_big, files.big),
        (make_thumbnail, files.thumbnail),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(fn, path) for fn, path in jobs]
        futures += [pool.submit(make_hls_variant, hls_dir, h) for h in HLS_HEIGHTS]
        for future in futures:
            future.result()
    write_hls_master(hls_dir)
    files.vtt.write_text(VTT)
    files.srt.write_text(SRT)
    files.page.write_text(PAGE)
    files.nomedia_page.write_text(NOMEDIA)
    return files
