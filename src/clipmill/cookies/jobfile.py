"""A job's cookie file on disk: decrypted into a private directory for one fetch, then gone.

The directory (mode 0700, made by ``mkdtemp``) lives in the job's work dir, the file in it is
0600, and both are removed when the fetch ends, however it ends; yt-dlp writes the jar back to
its cookie file when it closes, which lands in the same directory and goes with it. A worker
that was SIGKILLed cannot clean up: the job's next attempt removes what it left
(`remove_leftovers`, called by the runner before a pipeline starts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from clipmill.cookies.netscape import CookieFileText

PRIVATE_DIR_PREFIX = ".cookies-"
COOKIE_FILE_NAME = "cookies.txt"
MASK = "[cookie]"


class CookieSource(Protocol):
    """Where a running job gets its owner's cookie file (the `CookieVault`)."""

    def cookie_text(self, owner_id: str, cookie_id: str) -> CookieFileText: ...


@contextlib.contextmanager
def private_cookie_file(cookies: CookieFileText, workdir: Path) -> Iterator[Path]:
    """``cookies`` in a file only this user can read, for as long as the block runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=PRIVATE_DIR_PREFIX, dir=workdir))
    try:
        path = private / COOKIE_FILE_NAME
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(cookies.text)
        yield path
    finally:
        shutil.rmtree(private, ignore_errors=True)


def remove_leftovers(workdir: Path) -> None:
    """Remove cookie files an earlier attempt in ``workdir`` could not (it was killed)."""
    if not workdir.is_dir():
        return
    for leftover in workdir.glob(PRIVATE_DIR_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every cookie value in ``secrets`` replaced (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text
