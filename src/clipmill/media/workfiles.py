"""The files a download leaves in its work dir, and how to clean up after a failure.

Everything a download writes starts with ``MEDIA_STEM + "."`` (yt-dlp's ``.part``, ``.ytdl``
and fragment files included), so a failed or cancelled job can be wiped without touching
anything else the job keeps in the same directory. A process that is *killed* leaves its
``.part`` behind on purpose: the next attempt resumes it. Only the supervising side removes
files (`clipmill.media.isolation`), never the child that downloads: after a restart, a child that
outlived its parent would delete what the new attempt is resuming. The child's record
(``.child.json``, see `clipmill.childproc.fence`) does not start with the stem, so it is not a
download file.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from clipmill.media.options import MEDIA_STEM

_PARTIAL = re.compile(r"\.(part|ytdl|temp|tmp|sniff)(\.|-|$)|-Frag\d+")


def is_partial(path: Path) -> bool:
    """True for yt-dlp's in-progress files and our own scratch files."""
    return bool(_PARTIAL.search(path.name))


def download_files(workdir: Path) -> list[Path]:
    """Every file a download wrote into ``workdir``."""
    if not workdir.is_dir():
        return []
    return sorted(p for p in workdir.glob(f"{MEDIA_STEM}.*") if p.is_file())


def finished_files(workdir: Path) -> list[Path]:
    return [p for p in download_files(workdir) if not is_partial(p)]


def remove_download_files(workdir: Path) -> None:
    """Delete everything a (failed or cancelled) download wrote."""
    for path in download_files(workdir):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
