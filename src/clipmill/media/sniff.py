"""Durations an origin did not announce, found from as few bytes as possible.

``max_duration`` must be checked before downloading, but direct links and many HLS streams
come without a duration. An HLS media playlist states it (the sum of ``#EXTINF``) and whether
it ends (``#EXT-X-ENDLIST``; without it the stream is live and endless). A file usually states
it in its header (MP4 with the index up front, WebM, MP3...), so ffprobe on the first 256 KiB
often knows. Both are best effort: the finished file is checked again.

``Fetch`` is yt-dlp's guarded ``urlopen`` bound by the caller, so these requests go through
the same network guard, headers and cookies as the download itself.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from clipmill.errors import ClipmillError
from clipmill.media import ffmpeg

SNIFF_BYTES = 256 * 1024
MANIFEST_BYTES = 8 * 1024 * 1024

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
    """Seconds, if ffprobe can tell from the first ``SNIFF_BYTES`` of the file."""
    ranged = {**headers, "Range": f"bytes=0-{SNIFF_BYTES - 1}"}
    data = fetch(url, ranged, SNIFF_BYTES)[:SNIFF_BYTES]  # origins may ignore Range
    suffix = "." + re.sub(r"[^a-z0-9]", "", (ext or "bin").lower())[:8]
    with tempfile.TemporaryDirectory(prefix="clipmill-sniff-") as tmp:
        path = Path(tmp) / f"head{suffix}"
        path.write_bytes(data)
        with contextlib.suppress(ClipmillError):
            return ffmpeg.probe_file(path, timeout=20).duration
    return None
