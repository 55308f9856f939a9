"""Durations from HLS playlists and file headers, with a fake fetch (no network)."""

from __future__ import annotations

from collections.abc import Mapping

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
