"""Untrusted bytes never steer ffmpeg: playlists and manifests posing as media are refused.

The attack: an origin serves ``something.mp4`` (Content-Type video/mp4) whose content is an HLS
playlist, a DASH manifest, an ffconcat script or an SDP description naming a file on the
server. ffmpeg picks its demuxer by content, so without the whitelists it reads the named file
and the job delivers the server's own bytes. Each attack stays here as a test:

- the first-bytes sniff, on many disguises (pure Python);
- the whole matrix playlist kind x target kind at the ffprobe/ffmpeg level, through
  ``probe_file``, ``run_ffmpeg`` (sniff bypassed) and the wrapper scripts yt-dlp runs, each with
  a control showing that the payload is live against an unguarded ffprobe;
- real download jobs for every option that runs ffmpeg, the payloads rotated so that every
  kind and target appears; each must fail with ``unsupported_media`` and deliver nothing.

The positive controls (legitimate formats still probe, convert and download) are here and in
tests/media/test_download.py and tests/downloads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.bootstrap import Container
from clipmill.errors import BrokenMedia, UnsupportedMedia
from clipmill.media import containers, ffmpeg
from clipmill.media.options import DownloadOptions, to_ytdlp_params
from tests.media.conftest import make_settings
from tests.support.api import api_client
from tests.support.containers import make_container, wait_for
from tests.support.media_factory import MediaFiles, ffmpeg_exe
from tests.support.media_server import MediaServer

KINDS = ("hls", "dash", "ffconcat", "sdp")
TARGETS = ("marker_mp4", "ts", "job_file", "relative")
TRACE = {"hls": "hls", "dash": "dash", "ffconcat": "concat", "sdp": "rtp"}
"""The demuxer (or, for SDP, the protocol it opens) an unguarded ffprobe shows for each kind."""
MARKER_SIZE = (96, 48)  # no other test media has this size


# --- payloads ---------------------------------------------------------------------------------


def payload(kind: str, target: str) -> str:
    """A playlist of ``kind`` naming ``target``: an absolute path or a relative one."""
    uri = f"file://{target}" if target.startswith("/") else target
    if kind == "hls":
        return (
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:8\n"
            f"#EXTINF:8.0,\n{uri}\n#EXT-X-ENDLIST\n"
        )
    if kind == "dash":
        return f"""<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S"
     minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
 <Period><AdaptationSet mimeType="video/mp4">
  <Representation id="1" bandwidth="1000"><BaseURL>{uri}</BaseURL></Representation>
 </AdaptationSet></Period>
</MPD>
"""
    if kind == "ffconcat":
        return f"ffconcat version 1.0\nfile '{target}'\n"
    if kind == "sdp":  # no file to name: an SDP makes ffmpeg listen for RTP instead
        return (
            "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=clipmill\nc=IN IP4 127.0.0.1\nt=0 0\n"
            "m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
        )
    raise ValueError(kind)


def _encode(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True, capture_output=True
    )


def make_marker(dst: Path) -> Path:
    """A faststart MP4 only this module makes (96x48), so reading it shows in ffprobe."""
    width, height = MARKER_SIZE
    _encode(
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=10:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=777:duration=2", "-c:v", "libx264",
        "-preset", "ultrafast", "-c:a", "aac", "-movflags", "+faststart",
        "-metadata", "comment=clipmill-secret-marker", str(dst),
    )  # fmt: skip
    return dst


def fingerprints(path: Path) -> list[bytes]:
    """Three 32-byte pieces from inside ``path``'s media data (inside one TS packet for .ts)."""
    data = path.read_bytes()
    spots = [len(data) // 3, len(data) // 2, 2 * len(data) // 3]
    if path.suffix == ".ts":
        spots = [s // 188 * 188 + 60 for s in spots]
    return [data[s : s + 32] for s in spots]


@dataclass(frozen=True)
class Targets:
    """Files an attacker would like to read, as seen from the directory ``base``."""

    base: Path
    marker: Path
    ts: Path
    job_file: Path

    def name(self, target: str) -> str:
        """How a payload in ``base`` names ``target``."""
        if target == "marker_mp4":
            return str(self.marker)
        if target == "ts":
            return str(self.ts)
        if target == "job_file":
            return str(self.job_file)
        return os.path.relpath(self.marker, self.base)  # "relative"


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Targets:
    root = tmp_path_factory.mktemp("untrusted")
    (root / "targets").mkdir()
    marker = make_marker(root / "targets" / "marker.mp4")
    ts = root / "targets" / "marker.ts"
    _encode("-i", str(marker), "-c", "copy", "-f", "mpegts", str(ts))
    job_file = root / "data" / "files" / "0123456789ab" / "media.mp4"
    job_file.parent.mkdir(parents=True)
    shutil.copyfile(marker, job_file)
    return Targets(base=root, marker=marker, ts=ts, job_file=job_file)


# --- the sniff --------------------------------------------------------------------------------

HLS = "#EXTM3U\n#EXTINF:8.0,\nfile:///srv/secret.mp4\n#EXT-X-ENDLIST\n"


def _id3(body: bytes) -> bytes:
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + body


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (HLS.encode(), "an HLS playlist"),
        (b"\xef\xbb\xbf  \r\n" + HLS.encode(), "an HLS playlist"),  # BOM and blank lines
        (_id3(b"\0" * 40) + HLS.encode(), "an HLS playlist"),  # ffmpeg skips ID3 tags too
        (HLS.encode() + b"\0\x01binary tail", "an HLS playlist"),  # a NUL does not hide it
        (payload("dash", "/srv/x.mp4").encode(), "a DASH manifest"),
        (b"<MPD xmlns='urn:mpeg:dash:schema:mpd:2011'>", "a DASH manifest"),
        (b"<?xml version='1.0'?><SmoothStreamingMedia>", "a Smooth Streaming manifest"),
        (b"<?xml version='1.0'?>\n<CompositionPlaylist>", "an IMF composition playlist"),
        (b"ffconcat version 1.0\nfile '/srv/x.mp4'\n", "an ffconcat script"),
        (b"FFCONCAT version 1.0\n", "an ffconcat script"),
        (payload("sdp", "").encode(), "an SDP session description"),
        (b"s=x\nc=IN IP4 10.0.0.1\n", "an SDP session description"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "an HTML page"),
        (b"<html lang=en>", "an HTML page"),
        (b"<?xml version='1.0'?><rss/>", "an XML document"),
        (b";FFMETADATA1\ntitle=x\n", "a text file"),
        ("just words, ünïcödé too\n".encode() * 300, "a text file"),
        ("#EXTM3U".encode("utf-16"), "a text file"),
        (b"", "an empty file"),
    ],
)
def test_sniff_names_what_is_not_media(head: bytes, kind: str) -> None:
    assert containers.describe_content(head[: containers.HEAD_BYTES]) == kind


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00",  # MP4
        b"\x1aE\xdf\xa3\x9fB\x86\x81\x01",  # Matroska
        b"G@\x11\x10\x00B\xf0%\x00\x01\xc1\x00\x00\xff\x01\xff\x00\x01\xfc\x80",  # MPEG-TS
        b"ID3\x04\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\xff\xfb\x90\x64",  # MP3
        b"OggS\x00\x02",
        b"fLaC\x00\x00\x00\x22",
        b"RIFF\x24\x08\x00\x00WAVEfmt ",
        b"\xff\xf1\x50\x80",  # ADTS AAC
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_sniff_leaves_binary_media_to_ffmpeg(head: bytes) -> None:
    assert containers.describe_content(head) is None


def test_subtitles_may_be_text_but_not_playlists() -> None:
    vtt = b"WEBVTT\n\n00:00.500 --> 00:02.500\nHello\n"
    ttml = b"<?xml version='1.0'?><tt xmlns='http://www.w3.org/ns/ttml'></tt>"
    assert containers.describe_content(vtt, text_ok=True) is None
    assert containers.describe_content(ttml, text_ok=True) is None
    assert containers.describe_content(vtt) == "a text file"
    assert containers.describe_content(HLS.encode(), text_ok=True) == "an HLS playlist"


def test_refusal_names_the_file_not_the_server_path(tmp_path: Path) -> None:
    path = tmp_path / "talk.mp4"
    path.write_text(HLS)
    with pytest.raises(UnsupportedMedia) as caught:
        containers.refuse_unless_media(path)
    assert caught.value.code == "unsupported_media"
    assert caught.value.message == "talk.mp4 is an HLS playlist, not an audio or video file."


# --- the matrix at the ffprobe / ffmpeg level -------------------------------------------------


def _unguarded_probe(path: Path) -> tuple[dict[str, Any], str]:
    tools = ffmpeg.find_ffmpeg()
    exe = tools.ffprobe or pytest.skip("needs ffprobe")
    done = subprocess.run(
        [exe, "-v", "error", "-protocol_whitelist", "file", "-print_format", "json",
         "-show_format", "-show_streams", f"file:{path}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return json.loads(done.stdout or "{}"), done.stderr


def _reads(kind: str, target: str) -> bool:
    """Whether an unguarded ffprobe really opens the target (concat's safe mode refuses
    absolute and ``..`` names; SDP names no file)."""
    return kind in ("hls", "dash") or (kind == "ffconcat" and target == "relative")


@pytest.fixture(scope="module")
def guard_dir(targets: Targets) -> Path:
    return Path(ffmpeg.guarded_tools_dir(targets.base / "data"))


@pytest.mark.integration
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", KINDS)
def test_payload_is_refused_by_every_reader(
    targets: Targets, guard_dir: Path, tmp_path: Path, kind: str, target: str
) -> None:
    evil = targets.base / f"{kind}-{target}.mp4"
    evil.write_text(payload(kind, targets.name(target)))

    # control: without the whitelists, ffmpeg runs the dangerous demuxer (and reads the file)
    found, stderr = _unguarded_probe(evil)
    trace = TRACE[kind]
    assert found.get("format", {}).get("format_name") == trace or f"[{trace} @" in stderr
    if _reads(kind, target):
        sizes = {(s.get("width"), s.get("height")) for s in found.get("streams", [])}
        assert MARKER_SIZE in sizes, (found, stderr)

    # our probe: the sniff refuses it before ffprobe runs
    with pytest.raises(UnsupportedMedia):
        ffmpeg.probe_file(evil)

    # our ffmpeg, which does not sniff: the format whitelist refuses it
    out = tmp_path / "out.mkv"
    with pytest.raises(UnsupportedMedia) as caught:
        ffmpeg.run_ffmpeg(["-i", ffmpeg.file_arg(evil), "-c", "copy", ffmpeg.file_arg(out)])
    assert "0x" not in caught.value.message and str(targets.base) not in caught.value.message
    assert not out.exists()

    # what yt-dlp runs: the wrapper scripts
    copied = subprocess.run(
        [str(guard_dir / "ffmpeg"), "-v", "error", "-y", "-i", f"file:{evil}", "-c", "copy",
         str(out)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert copied.returncode != 0 and "Format not on whitelist" in copied.stderr
    assert not out.exists()
    if (guard_dir / "ffprobe").exists():
        probed = subprocess.run(
            [str(guard_dir / "ffprobe"), "-v", "error", "-show_streams", f"file:{evil}"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert probed.returncode != 0 and "Format not on whitelist" in probed.stderr
        assert "width=96" not in probed.stdout


# --- the wrapper scripts ----------------------------------------------------------------------

_ECHO = "#!/bin/sh\nfor arg do printf '%s\\0' \"$arg\"; done\n"

ARG_LISTS = [
    ["-version"],
    ["-y", "-loglevel", "repeat+info", "-i", "file:/w/media.f1.mp4", "-i", "file:/w/media.f2.m4a",
     "-c", "copy", "-map", "0:v:0", "-map", "1:a:0", "-movflags", "+faststart",
     "file:/w/media.temp.mp4"],
    ["-y", "-f", "image2", "-pattern_type", "none", "-i", "file:/w/media.png", "-update", "1",
     "-bsf:v", "mjpeg2jpeg", "file:/w/media.jpg"],
    ["-y", "-i", "file:/w/media.mp4", "-i", "file:/w/media.JPG", "-map", "0", "-map", "1",
     "-c", "copy", "-disposition:v:1", "attached_pic", "file:/w/out.mp4"],
    ["-y", "-f", "mp3", "-i", "file:/w/x.jpeg", "-f", "adts", "file:/w/x.aac"],
    ["-i", "file:/w/a b/it's $HOME `id` *.mp4", "-metadata", "title=-i \"quoted\"\nline",
     "-f", "null", "-"],
    ["-i"],
    ["-i", "file:/w/x.mp4", "-f"],
    ["-y", "-pattern_type"],
]  # fmt: skip


def test_ffmpeg_wrapper_matches_the_python_guard(tmp_path: Path) -> None:
    echo = tmp_path / "echo"
    echo.write_text(_ECHO)
    echo.chmod(0o700)
    bin_dir = containers.write_guard_scripts(tmp_path / "bin", ffmpeg=str(echo), ffprobe=str(echo))
    for args in ARG_LISTS:
        out = subprocess.run([str(bin_dir / "ffmpeg"), *args], capture_output=True, check=True)
        assert out.stdout.split(b"\0")[:-1] == [
            a.encode() for a in containers.guard_ffmpeg_args(args)
        ], args
        out = subprocess.run([str(bin_dir / "ffprobe"), *args], capture_output=True, check=True)
        assert out.stdout.split(b"\0")[:-1] == [
            a.encode() for a in containers.guard_ffprobe_args(args)
        ], args
    guarded = containers.guard_ffmpeg_args(ARG_LISTS[2])
    assert "image2" not in guarded and "-pattern_type" not in guarded
    assert guarded.count("-format_whitelist") == 1


def test_wrappers_are_private_rewritten_and_follow_the_tools(tmp_path: Path) -> None:
    bin_dir = tmp_path / "data" / "bin"
    containers.write_guard_scripts(bin_dir, ffmpeg="/usr/bin/ffmpeg", ffprobe="/usr/bin/ffprobe")
    assert bin_dir.stat().st_mode & 0o777 == 0o700
    script = bin_dir / "ffmpeg"
    assert script.stat().st_mode & 0o777 == 0o700
    original = script.read_text()
    script.write_text('#!/bin/sh\nexec /usr/bin/ffmpeg "$@"\n')  # tampered or stale
    containers.write_guard_scripts(bin_dir, ffmpeg="/usr/bin/ffmpeg", ffprobe="/usr/bin/ffprobe")
    assert script.read_text() == original
    # the imageio-ffmpeg wheel has no ffprobe: yt-dlp must then fall back to the ffmpeg wrapper
    containers.write_guard_scripts(bin_dir, ffmpeg="/opt/ffmpeg-linux64", ffprobe=None)
    assert not (bin_dir / "ffprobe").exists()
    assert "exec /opt/ffmpeg-linux64 " in script.read_text()
    assert sorted(p.name for p in bin_dir.iterdir()) == ["ffmpeg"]  # no temp files left


def test_ytdlp_params_use_the_wrappers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    params = to_ytdlp_params(DownloadOptions(), workdir=tmp_path / "w", settings=settings)
    location = Path(params["ffmpeg_location"])
    assert location == (settings.data_dir / "bin").absolute() and location.is_dir()
    text = (location / "ffmpeg").read_text()
    assert containers.FORMAT_WHITELIST in text and ffmpeg.find_ffmpeg().ffmpeg in text


# --- error messages ---------------------------------------------------------------------------


def test_error_messages_hide_addresses_and_server_paths() -> None:
    text = (
        "[hls @ 0x55b6d7360280] Opening 'file:///srv/clipmill/data/files/ab/media.mp4' | "
        "file:/srv/clipmill/data/jobs/cd/media.mp4: Invalid data found, 1/1000 at 0:01"
    )
    cleaned = ffmpeg.clean_message(text, ["/srv/clipmill/data/jobs/cd/media.mp4"])
    assert "@ 0x" not in cleaned and "/srv" not in cleaned, cleaned
    assert cleaned.startswith("[hls] Opening")
    assert "media.mp4: Invalid data found, 1/1000 at 0:01" in cleaned


@pytest.mark.integration
def test_broken_media_message_has_no_server_path(tmp_path: Path) -> None:
    bad = tmp_path / "deep" / "dir" / "clip.mp4"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    with pytest.raises(BrokenMedia) as caught:
        ffmpeg.probe_file(bad)
    with pytest.raises(BrokenMedia) as ran:
        ffmpeg.run_ffmpeg(["-i", ffmpeg.file_arg(bad), ffmpeg.file_arg(tmp_path / "o.mkv")])
    for message in (caught.value.message, ran.value.message):
        assert str(tmp_path) not in message and "@ 0x" not in message, message


# --- positive controls: what real downloads need still reads ----------------------------------

SAMPLES: dict[str, list[str]] = {
    "mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    "mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    "webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    "ts": ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", "mpegts"],
    "flv": ["-c:v", "flv", "-c:a", "mp3"],
    "avi": ["-c:v", "mpeg4", "-c:a", "mp3"],
    "mpg": ["-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpeg"],
    "mp3": ["-vn", "-c:a", "libmp3lame"],
    "aac": ["-vn", "-c:a", "aac", "-f", "adts"],
    "opus": ["-vn", "-c:a", "libopus"],
    "wav": ["-vn", "-c:a", "pcm_s16le"],
    "flac": ["-vn", "-c:a", "flac"],
    "jpg": ["-an", "-frames:v", "1"],
    "png": ["-an", "-frames:v", "1"],
    "webp": ["-an", "-frames:v", "1"],
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("legit")
    made = {}
    for ext, args in SAMPLES.items():
        made[ext] = root / f"sample.{ext}"
        _encode(
            "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
            "-f", "lavfi", "-i", "sine=duration=1", "-shortest", *args, str(made[ext]),
        )  # fmt: skip
    for ext, text in (("vtt", "WEBVTT\n\n00:00.000 --> 00:00.900\nHi\n"),
                      ("srt", "1\n00:00:00,000 --> 00:00:00,900\nHi\n")):  # fmt: skip
        made[ext] = root / f"sample.{ext}"
        made[ext].write_text(text)
    made["ass"] = root / "sample.ass"
    _encode("-i", str(made["srt"]), str(made["ass"]))
    made["meta"] = root / "chapters.meta"
    made["meta"].write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=a\n")
    return made


@pytest.mark.integration
@pytest.mark.parametrize("ext", list(SAMPLES))
def test_legitimate_formats_still_probe(samples: dict[str, Path], ext: str) -> None:
    probe = ffmpeg.probe_file(samples[ext])
    assert probe.streams


@pytest.mark.integration
@pytest.mark.parametrize("ext", [*SAMPLES, "vtt", "srt", "ass"])
def test_legitimate_formats_still_convert_through_the_wrapper(
    samples: dict[str, Path], guard_dir: Path, tmp_path: Path, ext: str
) -> None:
    args = ["-i", f"file:{samples[ext]}", "-f", "null", "-"]
    if ext == "mp4":  # yt-dlp's embed_metadata: the media plus its chapter file
        args = ["-i", f"file:{samples[ext]}", "-i", f"file:{samples['meta']}", "-map", "0",
                "-map_metadata", "1", "-c", "copy", str(tmp_path / "out.mp4")]  # fmt: skip
    elif ext in ("png", "webp"):  # yt-dlp's thumbnail conversion, its image2 options and all
        args = ["-f", "image2", "-pattern_type", "none", "-i", f"file:{samples[ext]}",
                "-update", "1", str(tmp_path / "out.jpg")]  # fmt: skip
    elif ext in ("vtt", "srt", "ass"):  # yt-dlp's subtitle conversion
        args = ["-i", f"file:{samples[ext]}", str(tmp_path / "out.srt")]
    done = subprocess.run(
        [str(guard_dir / "ffmpeg"), "-v", "error", "-y", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


# --- real download jobs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    """One download job: its options, and the payload its media URL serves."""

    name: str
    options: dict[str, Any]
    kind: str
    target: str
    page: str | None = None
    """``subtitles`` / ``thumbnail``: a page with <track> or og:image around the payload."""


ATTACKS = [
    Attack("default", {}, "hls", "marker_mp4"),
    Attack("mp4", {"container": "mp4"}, "dash", "ts"),
    Attack("mkv", {"container": "mkv"}, "ffconcat", "relative"),
    Attack("webm", {"container": "webm"}, "sdp", "job_file"),
    Attack("mp3", {"audio_format": "mp3"}, "hls", "job_file"),
    Attack("m4a", {"audio_format": "m4a", "audio_bitrate": "128k"}, "dash", "relative"),
    Attack("opus", {"audio_format": "opus"}, "ffconcat", "marker_mp4"),
    Attack("sections", {"sections": [{"start": 0.5, "end": 1.5}]}, "hls", "relative"),
    Attack("metadata", {"embed_metadata": True}, "dash", "marker_mp4"),
    Attack("subtitles", {"container": "mkv", "subtitles": {"languages": ["en"], "embed": True}},
           "sdp", "ts", page="subtitles"),
    Attack("thumbnail", {"container": "mp4", "thumbnail": {"write": True, "embed": True}},
           "hls", "ts", page="thumbnail"),
    Attack("hls-segments", {}, "hls", "job_file", page="hls"),
]  # fmt: skip
"""Every download option that runs ffmpeg; every playlist kind and target kind appears."""


def test_attacks_cover_every_kind_and_target() -> None:
    assert {a.kind for a in ATTACKS} == set(KINDS)
    assert {a.target for a in ATTACKS} == set(TARGETS)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = make_container(tmp_path / "data", None, max_concurrent_jobs=2)
    yield c
    c.stop()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with api_client(container) as c:
        yield c


def _finish(client: TestClient, job_id: str) -> dict[str, Any]:
    def done() -> bool:
        status = client.get(f"/api/v1/download/{job_id}").json()["status"]
        return status in ("completed", "failed", "cancelled")

    wait_for(done, 120, 0.1)
    return client.get(f"/api/v1/download/{job_id}").json()


def _serve(attack: Attack, root: Path, evil: str, media_files: MediaFiles) -> str:
    """Write the attack's files under the media server's ``root``; the URL path to start."""
    folder = root / "hostile" / attack.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clip.mp4").write_text(evil)
    if attack.page == "hls":  # a real HLS stream whose one segment is the playlist
        (folder / "seg0.ts").write_text(evil)
        (folder / "index.m3u8").write_text(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n#EXT-X-ENDLIST\n"
        )
        return f"hostile/{attack.name}/index.m3u8"
    if attack.page is not None:
        shutil.copyfile(media_files.vtt, folder / "clip.en.vtt")
        shutil.copyfile(media_files.thumbnail, folder / "thumb.jpg")
        (folder / "page.html").write_text(
            '<html><head><meta property="og:title" content="Hostile">'
            '<meta property="og:image" content="thumb.jpg"></head><body>'
            '<video src="clip.mp4"><track kind="subtitles" src="clip.en.vtt" srclang="en">'
            "</video></body></html>"
        )
        return f"hostile/{attack.name}/page.html"
    return f"hostile/{attack.name}/clip.mp4"


@pytest.mark.integration
def test_download_jobs_refuse_every_disguised_playlist(
    client: TestClient,
    container: Container,
    media_server: MediaServer,
    media_files: MediaFiles,
    media_url: Callable[[Path | str], str],
    targets: Targets,
) -> None:
    data_dir = container.settings.data_dir
    # another job's file: a finished download's stored file (an .mp4: ffmpeg's HLS demuxer
    # only opens segments with media extensions)
    first = client.post("/api/v1/download", json={"url": media_url(media_files.mp4)}).json()
    assert _finish(client, first["id"])["status"] == "completed"
    (stored,) = [p for p in (data_dir / "files").rglob("*") if p.is_file()]
    workdir = data_dir / "jobs" / "any-job-id" / "download"  # where a job's download lands
    names = {
        "marker_mp4": str(targets.marker),
        "ts": str(targets.ts),
        "job_file": str(stored),
        "relative": os.path.relpath(targets.marker, workdir),
    }
    jobs = {}
    for attack in ATTACKS:
        path = _serve(attack, media_files.root, payload(attack.kind, names[attack.target]),
                      media_files)  # fmt: skip
        body = {"url": media_server.url(path), **attack.options}
        response = client.post("/api/v1/download", json=body)
        assert response.status_code == 202, response.text
        jobs[attack.name] = response.json()["id"]

    for name, job_id in jobs.items():
        job = _finish(client, job_id)
        assert job["status"] == "failed", (name, job)
        assert job["error"]["code"] == "unsupported_media", (name, job["error"])
        assert job["files"] == [], name
        message = job["error"]["message"]
        assert "@ 0x" not in message and str(data_dir) not in message, message

    # nothing delivered: the only stored file is the first job's, and no target's bytes are
    # anywhere under the data dir but in that file itself
    assert [p for p in (data_dir / "files").rglob("*") if p.is_file()] == [stored]
    secrets = [*fingerprints(targets.marker), *fingerprints(targets.ts), *fingerprints(stored)]
    for path in data_dir.rglob("*"):
        if path.is_file() and path != stored:
            data = path.read_bytes()
            assert not any(secret in data for secret in secrets), path
    assert (data_dir / "bin" / "ffmpeg").stat().st_mode & 0o777 == 0o700


@pytest.mark.integration
def test_hostile_subtitles_and_thumbnails_are_not_followed(
    client: TestClient,
    container: Container,
    media_server: MediaServer,
    media_files: MediaFiles,
    targets: Targets,
) -> None:
    """The side files yt-dlp hands to ffmpeg are untrusted too."""
    folder = media_files.root / "hostile" / "side-files"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(media_files.mp4, folder / "clip.mp4")
    (folder / "clip.en.vtt").write_text(payload("hls", str(targets.marker)))
    (folder / "thumb.jpg").write_text(payload("hls", str(targets.marker)))
    (folder / "subs.html").write_text(
        '<html><body><video src="clip.mp4"><track kind="subtitles" src="clip.en.vtt" '
        'srclang="en"></video></body></html>'
    )
    (folder / "thumb.html").write_text(
        '<html><head><meta property="og:image" content="thumb.jpg"></head>'
        '<body><video src="clip.mp4"></video></body></html>'
    )
    subs = client.post("/api/v1/download", json={
        "url": media_server.url("hostile/side-files/subs.html"), "container": "mkv",
        "subtitles": {"languages": ["en"], "format": "srt", "embed": True},
    }).json()  # fmt: skip
    thumb = client.post("/api/v1/download", json={
        "url": media_server.url("hostile/side-files/thumb.html"), "container": "mp4",
        "thumbnail": {"write": False, "embed": True},
    }).json()  # fmt: skip
    written = client.post("/api/v1/download", json={
        "url": media_server.url("hostile/side-files/thumb.html"), "thumbnail": {"write": True},
    }).json()  # fmt: skip
    subs_job, thumb_job = _finish(client, subs["id"]), _finish(client, thumb["id"])
    # a thumbnail delivered as a file is checked too: text posing as a JPEG is not delivered
    written_job = _finish(client, written["id"])
    assert written_job["status"] == "completed", written_job["error"]
    assert [f["role"] for f in written_job["files"]] == ["media"]
    assert (subs_job["status"], subs_job["error"]["code"]) == ("failed", "unsupported_media")
    # the thumbnail is read as one JPEG, fails to embed and is left out; the video is kept
    assert thumb_job["status"] == "completed", thumb_job["error"]
    assert [f["role"] for f in thumb_job["files"]] == ["media"]
    secrets = fingerprints(targets.marker)
    for path in container.settings.data_dir.rglob("*"):
        assert not (path.is_file() and any(s in path.read_bytes() for s in secrets)), path
