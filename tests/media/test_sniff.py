"""Durations from HLS playlists and file headers, with a fake fetch (no network)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from clipmill.media import sniff
from tests.support.media_factory import MediaFiles

MASTER = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nlow/index.m3u8\n"
VOD = "#EXTM3U\n#EXTINF:4.0,\na.ts\n#EXTINF:2.5,\nb.ts\n#EXT-X-ENDLIST\n"
LIVE = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:90\n#EXTINF:4.0,\na.ts\n"


def fake(pages: dict[str, bytes]) -> sniff.Fetch:
    def fetch(url: str, headers: Mapping[str, str], limit: int) -> bytes:
        return pages[url][: limit + 1]

    return fetch


def test_vod_playlist_through_master() -> None:
    fetch = fake({"https://o/m.m3u8": MASTER.encode(), "https://o/low/index.m3u8": VOD.encode()})
    assert sniff.hls_duration(fetch, "https://o/m.m3u8", {}) == (6.5, False)


def test_live_playlist_is_endless() -> None:
    assert sniff.hls_duration(fake({"u": LIVE.encode()}), "u", {}) == (4.0, True)


def test_huge_playlist_is_unknown() -> None:
    huge = VOD.encode() + b"#" * sniff.MANIFEST_BYTES
    assert sniff.hls_duration(fake({"u": huge}), "u", {}) == (None, False)


def test_file_header_duration(media_files: MediaFiles) -> None:
    seen: list[Mapping[str, str]] = []

    def fetch(url: str, headers: Mapping[str, str], limit: int) -> bytes:
        seen.append(headers)
        return media_files.mp4.read_bytes()  # an origin that ignores Range

    duration = sniff.file_duration(fetch, "u", {"User-Agent": "x"}, "mp4")
    assert duration == pytest.approx(media_files.mp4_duration, abs=0.1)
    assert seen[0]["Range"] == f"bytes=0-{sniff.SNIFF_BYTES - 1}"


def test_unreadable_header_is_unknown() -> None:
    assert sniff.file_duration(fake({"u": b"not media"}), "u", {}, "mp4") is None


def _ranged(path: Path) -> sniff.Fetch:
    """A fetch that honours ``Range: bytes=a-b`` on a local file, as an origin does."""
    data = path.read_bytes()

    def fetch(url: str, headers: Mapping[str, str], limit: int) -> bytes:
        first, _, last = headers.get("Range", "bytes=0-").removeprefix("bytes=").partition("-")
        end = int(last) + 1 if last else len(data)
        return data[int(first) : end][: limit + 1]

    return fetch


@pytest.mark.parametrize("name", ["mp4", "big"])
def test_an_index_at_the_end_of_an_mp4_is_read_from_its_own_bytes(
    media_files: MediaFiles, tmp_path: Path, name: str
) -> None:
    """A direct link whose moov follows the media data: the head's box sizes say where the
    index begins and two small range reads give the duration (ClipX preview had none)."""
    source = getattr(media_files, name)
    late = tmp_path / f"late-{name}.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy",
         "-movflags", "-faststart", str(late)],
        check=True,
    )  # fmt: skip
    assert late.read_bytes()[4:8] == b"ftyp" and b"moov" not in late.read_bytes()[:64]
    expected = getattr(media_files, f"{name}_duration")
    got = sniff.file_duration(_ranged(late), "u", {}, "mp4")
    assert got == pytest.approx(expected, abs=0.1)


def test_an_origin_that_ignores_range_gives_no_duration_not_a_wrong_one(
    media_files: MediaFiles, tmp_path: Path
) -> None:
    late = tmp_path / "late.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(media_files.big), "-c", "copy",
         "-movflags", "-faststart", str(late)],
        check=True,
    )  # fmt: skip
    data = late.read_bytes()

    def no_ranges(url: str, headers: Mapping[str, str], limit: int) -> bytes:
        return data[: limit + 1]

    assert sniff.file_duration(no_ranges, "u", {}, "mp4") is None
