"""Files cut short are refused, whole ones pass: MP4 (index first or last, fragmented), MOV,
Matroska and WebM (declared and unknown Segment size), and a download whose origin sent a cut
file with a matching Content-Length."""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path

import pytest

from clipmill.errors import BrokenMedia
from clipmill.media import ffmpeg
from clipmill.media.integrity import check_complete
from tests.support.api import api_client
from tests.support.containers import make_container
from tests.support.media_factory import MediaFiles, ffmpeg_exe
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration

CUTS = (0.02, 0.3, 0.5, 0.64, 0.9, 0.999)
"""Where files are cut, as fractions of their length (inside the index, mid-data, near the end)."""


@pytest.fixture(scope="module")
def variants(media_files: MediaFiles, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same media in every layout the check knows, remuxed without re-encoding."""
    out = tmp_path_factory.mktemp("layouts")
    layouts: dict[str, Path] = {"mp4-faststart": media_files.mp4, "webm": media_files.webm}

    def remux(name: str, src: Path, *args: str, pipe: bool = False) -> None:
        dst = out / name
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-c", "copy", *args]
        if pipe:  # not seekable: the muxer cannot go back to write sizes
            with dst.open("wb") as fh:
                subprocess.run([*cmd, "pipe:1"], stdout=fh, check=True)
        else:
            subprocess.run([*cmd, str(dst)], check=True)
        layouts[name.replace(".", "-")] = dst

    remux("moov-last.mp4", media_files.mp4)
    remux("fragmented.mp4", media_files.mp4, "-movflags", "frag_keyframe+empty_moov")
    remux("sample.mov", media_files.mp4)
    remux("sample.mkv", media_files.mp4)
    remux("live.webm", media_files.webm, "-f", "webm", pipe=True)
    return layouts


LAYOUTS = ("mp4-faststart", "moov-last-mp4", "fragmented-mp4", "sample-mov", "sample-mkv",
           "webm", "live-webm")  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_whole_file_passes(variants: dict[str, Path], layout: str) -> None:
    check_complete(variants[layout])


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_file_cut_short_is_broken_media(
    variants: dict[str, Path], layout: str, cut: float, tmp_path: Path
) -> None:
    data = variants[layout].read_bytes()
    truncated = tmp_path / f"cut{variants[layout].suffix}"
    truncated.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(BrokenMedia) as caught:
        check_complete(truncated)
    assert caught.value.code == "broken_media"
    assert "cut short" in caught.value.message


def test_ffprobe_alone_accepts_a_faststart_mp4_cut_in_half(
    media_files: MediaFiles, tmp_path: Path
) -> None:
    """Why the check exists: the index at the front still describes the whole file."""
    data = media_files.mp4.read_bytes()
    truncated = tmp_path / "half.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    probe = ffmpeg.probe_file(truncated)
    assert probe.duration is not None and probe.duration > media_files.mp4_duration - 1
    with pytest.raises(BrokenMedia):
        check_complete(truncated)


def _with_mdat_size_zero(data: bytes) -> bytes:
    """The file with its mdat box saying "runs to the end of the file" (as streaming muxers
    write it), so only the sample tables can tell how long the file should be."""
    patched, offset = bytearray(data), 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"mdat":
            patched[offset : offset + 4] = bytes(4)
            return bytes(patched)
        offset += size
    raise AssertionError("no mdat box")


@pytest.mark.parametrize("cut", (0.3, 0.9, 0.9995))
def test_the_sample_tables_catch_a_cut_the_boxes_do_not_show(
    media_files: MediaFiles, tmp_path: Path, cut: float
) -> None:
    data = _with_mdat_size_zero(media_files.mp4.read_bytes())
    whole = tmp_path / "whole.mp4"
    whole.write_bytes(data)
    check_complete(whole)
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(BrokenMedia, match="last chunk of samples"):
        check_complete(truncated)


def test_zero_padding_after_the_last_box_is_not_a_cut(
    media_files: MediaFiles, tmp_path: Path
) -> None:
    path = tmp_path / "padded.mp4"
    path.write_bytes(media_files.mp4.read_bytes() + bytes(4))
    check_complete(path)


def test_an_image_in_an_mp4_style_container_is_left_to_ffprobe(tmp_path: Path) -> None:
    """AVIF/HEIF: ftyp, meta and mdat, no moov; the image check after this one reports it."""
    boxes = [
        struct.pack(">I4s", 16, b"ftyp") + b"avif" + bytes(4),
        struct.pack(">I4s", 8, b"meta"),
        struct.pack(">I4s", 12, b"mdat") + bytes(4),
    ]
    path = tmp_path / "image.avif"
    path.write_bytes(b"".join(boxes))
    check_complete(path)


@pytest.mark.parametrize("junk", (b"", b"\x00" * 3, b"ID3\x03 not media at all"))
def test_files_it_does_not_know_are_left_to_ffprobe(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(junk)
    check_complete(path)


def test_a_cut_header_and_a_box_smaller_than_its_header(
    media_files: MediaFiles, tmp_path: Path
) -> None:
    data = media_files.mp4.read_bytes()
    path = tmp_path / "x.mp4"
    path.write_bytes(data[:36])  # ftyp (32 bytes), then half of the moov header
    with pytest.raises(BrokenMedia, match="box header"):
        check_complete(path)
    path.write_bytes(data[:32] + struct.pack(">I4s", 4, b"moov") + data[40:])
    with pytest.raises(BrokenMedia, match="malformed"):
        check_complete(path)


def test_a_download_of_a_file_cut_short_fails_as_broken_media(
    media_files: MediaFiles, tmp_path: Path
) -> None:
    """The origin sends 300 kB of a faststart MP4 with a Content-Length of 300 kB."""
    origin_root = tmp_path / "origin"
    origin_root.mkdir()
    (origin_root / "cut.mp4").write_bytes(media_files.mp4.read_bytes()[:300_000])
    container = make_container(tmp_path / "data")
    with MediaServer(origin_root) as origin, api_client(container) as api:
        created = api.post("/api/v1/download", json={"url": origin.url("cut.mp4")})
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + 60  # a hang guard, not a timing
        while time.monotonic() < deadline:
            job = api.get(f"/api/v1/jobs/{job_id}").json()
            if job["status"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.1)
        served = [r for r in origin.requests_for("/cut.mp4") if r.method == "GET"]
    container.stop()
    assert served, "the origin was never asked for the file"
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "broken_media"
    assert "cut short" in job["error"]["message"]
    assert job.get("files") in (None, [])
