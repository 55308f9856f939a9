"""The storage seam."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    """Where finished files live. Keys are made from job and file ids, never from titles.

    Failures of the backend are `OSError`s (a missing file: `FileNotFoundError`), whichever
    backend it is, so callers such as the retention sweeper handle one kind of error.
    """

    def put(self, key: str, src: Path, *, content_type: str) -> int:
        """Move `src` into storage under `key`; return its size in bytes."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A path the server can stream from, or None when the file lives elsewhere (S3)."""
        ...

    def presigned_url(self, key: str, *, download_name: str, ttl: int) -> str | None:
        """A direct link from the backend (S3), or None when clipmill serves the file itself."""
        ...

    def copy_to(self, key: str, dst: Path) -> None:
        """Put a copy of the stored file at ``dst`` (a hard link where that is possible)."""
        ...

    def iter_bytes(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The stored bytes, read when iterated (a ZIP streams its members through this)."""
        ...

    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
