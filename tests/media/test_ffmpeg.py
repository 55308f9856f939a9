"""ffmpeg helpers on real generated media: probe, cut, extract, thumbnails, cancel, no network."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clipmill.errors import BrokenMedia, JobCancelled, UnsupportedMedia
from clipmill.media import ffmpeg
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration


def test_find_ffmpeg() -> None:
    tools = ffmpeg.find_ffmpeg()
    assert Path(tools.ffmpeg).is_file()
    assert tools.source in ("system", "imageio-ffmpeg")
    assert tools.version != "unknown"
    assert ffmpeg.find_ffmpeg() is tools  # cached


def test_probe_mp4(media_files: MediaFiles) -> None:
    probe = ffmpeg.probe_file(media_files.mp4)
    assert probe.duration == pytest.approx(media_files.mp4_duration, abs=0.1)
    assert probe.format_name and "mp4" in probe.format_name
    assert probe.video and probe.video.codec_name == "h264"
    assert (probe.video.width, probe.video.height) == (640, 360)
    assert probe.audio and probe.audio.codec_name == "aac"
    assert probe.audio.sample_rate == 44100 and probe.audio.channels == 1


def test_probe_webm(media_files: MediaFiles) -> None:
    probe = ffmpeg.probe_file(media_files.webm)
    assert probe.video and probe.video.codec_name == "vp9"
    assert probe.audio and probe.audio.codec_name == "opus"
    assert probe.duration == pytest.approx(media_files.webm_duration, abs=0.1)


def test_probe_without_ffprobe_parses_ffmpeg_output(media_files: MediaFiles) -> None:
    """The imageio-ffmpeg fallback has no ffprobe; the `ffmpeg -i` parser gives the same facts."""
    probe = ffmpeg._probe_with_ffmpeg(ffmpeg.find_ffmpeg().ffmpeg, media_files.mp4, 30)
    assert probe.duration == pytest.approx(media_files.mp4_duration, abs=0.1)
    assert probe.video and (probe.video.codec_name, probe.video.height) == ("h264", 360)
    assert probe.audio and probe.audio.sample_rate == 44100


def test_probe_rejects_non_media(media_files: MediaFiles, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match=r"page\.html is an HTML page"):
        ffmpeg.probe_file(media_files.page)
    with pytest.raises(BrokenMedia):
        ffmpeg.probe_file(tmp_path / "missing.mp4")
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(bytes(range(256)) * 64)  # binary, so only ffprobe can tell
    with pytest.raises(BrokenMedia) as caught:
        ffmpeg.probe_file(noise)
    assert str(tmp_path) not in caught.value.message


@pytest.mark.parametrize(("source", "ext"), [("mp4", "mp4"), ("webm", "webm"), ("mp4", "m4a")])
def test_cut_section_is_accurate(
    media_files: MediaFiles, tmp_path: Path, source: str, ext: str
) -> None:
    src = media_files.mp4 if source == "mp4" else media_files.webm
    start, end = 0.7, 2.3
    seen: list[float] = []
    dst = ffmpeg.cut_section(src, tmp_path / f"cut.{ext}", start, end, on_progress=seen.append)
    probe = ffmpeg.probe_file(dst)
    assert probe.duration == pytest.approx(end - start, abs=0.2)
    assert probe.has_audio
    assert probe.has_video == (ext != "m4a")


def test_extract_audio_for_speech(media_files: MediaFiles, tmp_path: Path) -> None:
    dst = ffmpeg.extract_audio(media_files.mp4, tmp_path / "speech.wav")
    probe = ffmpeg.probe_file(dst)
    assert not probe.has_video
    assert probe.audio is not None
    assert (probe.audio.codec_name, probe.audio.sample_rate, probe.audio.channels) == (
        "pcm_s16le", 16000, 1,
    )  # fmt: skip


def test_make_thumbnail(media_files: MediaFiles, tmp_path: Path) -> None:
    dst = ffmpeg.make_thumbnail(media_files.mp4, tmp_path / "thumb.jpg", at_seconds=99)
    probe = ffmpeg.probe_file(dst)
    assert probe.streams[0].codec_name == "mjpeg"
    assert probe.streams[0].height == 360


def test_run_ffmpeg_cancel_kills_it(media_files: MediaFiles) -> None:
    cancel = threading.Event()
    seen: list[float] = []
    threading.Timer(0.8, cancel.set).start()
    with pytest.raises(JobCancelled):
        # -re: read at native speed, so this would take 20 s
        ffmpeg.run_ffmpeg(
            ["-re", "-i", ffmpeg.file_arg(media_files.big), "-f", "null", "-"],
            cancel=cancel, on_progress=seen.append,
        )  # fmt: skip
    assert seen, "progress was reported while ffmpeg ran"


def test_run_ffmpeg_reports_failure(tmp_path: Path) -> None:
    with pytest.raises(BrokenMedia, match="ffmpeg failed"):
        ffmpeg.run_ffmpeg(["-i", ffmpeg.file_arg(tmp_path / "nope.mp4"), str(tmp_path / "x.mp4")])


def test_ffmpeg_never_opens_the_network(
    media_files: MediaFiles, media_server: MediaServer, tmp_path: Path
) -> None:
    url = media_server.url("sample.mp4?from-ffmpeg")
    with pytest.raises(BrokenMedia, match="whitelist"):
        ffmpeg.run_ffmpeg(["-i", url, "-c", "copy", str(tmp_path / "out.mp4")])
    assert not [r for r in media_server.requests if "from-ffmpeg" in r.path]
