"""Durations an origin did not announce, found from as few bytes as possible.

``max_duration`` must be checked before downloading, but direct links and many HLS streams
come without a duration. An HLS media playlist states it (the sum of ``#EXTINF``) and whether
it ends (``#EXT-X-ENDLIST``; without it the stream is live and endless). A file usually states
it in its header (MP4 with the index up front, WebM, MP3...), so ffprobe on the first 256 KiB
often knows; an MP4 whose index comes last is read from the index's own few bytes (the head's
box sizes say where it starts). All of it is best effort: the finished file is checked again.

``Fetch`` is yt-dlp's guarded ``urlopen`` bound by the caller, so these requests go through
the same network guard, headers and cookies as the download itself.
"""

from __future__ import annotations

import contextlib
import re
import struct
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from clipmill.config import MAX_PAGE_BYTES
from clipmill.errors import ClipmillError
from clipmill.media import ffmpeg

SNIFF_BYTES = 256 * 1024
MANIFEST_BYTES = MAX_PAGE_BYTES
"""The most of a manifest read here. The fetch the caller binds also stops at the
``max_page_bytes`` setting, raising ResponseTooLarge (see ``ytdlp._fetcher``)."""

Fetch = Callable[[str, Mapping[str, str], int], bytes]
"""fetch(url, headers, limit) -> at most ``limit + 1`` bytes of the response body."""


def hls_duration(fetch: Fetch, url: str, headers: Mapping[str, str]) -> tuple[float | None, bool]:
    """(seconds, endless) of an HLS playlist; a master playlist is judged by its first variant."""
    data = fetch(url, headers, MANIFEST_BYTES)
    text = data.decode("utf-8", "replace")
    if "#EXT-X-STREAM-INF" in text:
        variant = next(
            (ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")),
            None,
        )
        if variant is None:
            return None, False
        data = fetch(urllib.parse.urljoin(url, variant), headers, MANIFEST_BYTES)
        text = data.decode("utf-8", "replace")
    if len(data) > MANIFEST_BYTES:  # cut off: cannot tell where it ends
        return None, False
    total = sum(float(v) for v in re.findall(r"#EXTINF:\s*([0-9.]+)", text))
    return (total or None), "#EXT-X-ENDLIST" not in text


def file_duration(
    fetch: Fetch, url: str, headers: Mapping[str, str], ext: str | None
) -> float | None:
    """Seconds, if the first ``SNIFF_BYTES`` of the file (and, for an MP4 with its index at the
    end, the index's header) tell."""
    ranged = {**headers, "Range": f"bytes=0-{SNIFF_BYTES - 1}"}
    data = fetch(url, ranged, SNIFF_BYTES)[:SNIFF_BYTES]  # origins may ignore Range
    suffix = "." + re.sub(r"[^a-z0-9]", "", (ext or "bin").lower())[:8]
    with tempfile.TemporaryDirectory(prefix="clipmill-sniff-") as tmp:
        path = Path(tmp) / f"head{suffix}"
        path.write_bytes(data)
        with contextlib.suppress(ClipmillError):
            duration = ffmpeg.probe_file(path, timeout=20).duration
            if duration:
                return duration
    offset = _moov_after(data)
    if offset is None:
        return None
    index = fetch(url, {**headers, "Range": f"bytes={offset}-{offset + INDEX_BYTES - 1}"},
                  INDEX_BYTES)  # fmt: skip
    return _mvhd_duration(index[:INDEX_BYTES])


INDEX_BYTES = 64 * 1024
"""Of an MP4 index read from the end of a file: its header and ``mvhd`` come first."""


def _boxes(data: bytes, start: int = 0) -> list[tuple[bytes, int, int | None]]:
    """(type, offset, size) of the ISO BMFF boxes that begin in ``data`` (size None: "to the
    end of the file"); stops at the first header it cannot read."""
    found: list[tuple[bytes, int, int | None]] = []
    at = start
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            if at + 16 > len(data):
                break
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        if not kind.isalnum() and kind != b"uuid":
            break
        if size == 0:
            found.append((kind, at, None))
            break
        if size < 8:
            break
        found.append((kind, at, size))
        at += size
    return found


def _moov_after(head: bytes) -> int | None:
    """Where an MP4's ``moov`` should begin when it is not in ``head``: right after the last
    top-level box that ``head`` starts but does not hold (the media data)."""
    boxes = _boxes(head)
    if not boxes or boxes[0][0] not in (b"ftyp", b"free", b"mdat", b"wide"):
        return None
    if any(kind == b"moov" for kind, _, _ in boxes):
        return None  # the index is in the head; ffprobe could not read it, nor can we
    _kind, at, size = boxes[-1]
    if size is None or at + size <= len(head):
        return None
    return at + size


def _mvhd_duration(index: bytes) -> float | None:
    boxes = _boxes(index)
    if not boxes or boxes[0][0] != b"moov":
        return None  # the origin ignored the Range, or the layout is not the usual one
    for kind, at, _size in _boxes(index, 8):
        if kind != b"mvhd":
            continue
        body = index[at + 8 :]
        if body[:1] == b"\x01" and len(body) >= 32:
            timescale, duration = struct.unpack(">IQ", body[20:32])
        elif len(body) >= 20:
            timescale, duration = struct.unpack(">II", body[12:20])
        else:
            return None
        return duration / timescale if timescale and duration else None
    return None
