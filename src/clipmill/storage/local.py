"""Files in a local directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from clipmill.errors import InvalidRequest


class LocalStorage:
    """Files under one directory (embedded mode); clipmill serves them itself."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise InvalidRequest("Storage key escapes the storage root.", code="invalid_key")
        return path

    def put(self, key: str, src: Path, *, content_type: str) -> int:
        dst = self._path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        # in by rename, never by writing into an existing file: a hard link to the old bytes
        # (`copy_to`) keeps them
        incoming = dst.with_name(f".{dst.name}.incoming")
        shutil.move(src, incoming)
        os.replace(incoming, dst)
        return dst.stat().st_size

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def presigned_url(self, key: str, *, download_name: str, ttl: int) -> str | None:
        return None

    def copy_to(self, key: str, dst: Path) -> None:
        src = self._path(key)
        try:
            os.link(src, dst)  # stored files are never written in place, so sharing is safe
        except OSError:  # another file system, or no hard links
            shutil.copyfile(src, dst)

    def iter_bytes(self, key: str, chunk_size: int) -> Iterator[bytes]:
        with self._path(key).open("rb") as file:
            while chunk := file.read(chunk_size):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class MemoryStorage:
    """Keeps files in a dict; the test double for pipelines that only need to store bytes."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, key: str, src: Path, *, content_type: str) -> int:
        data = src.read_bytes()
        src.unlink()
        self.blobs[key] = data
        return len(data)

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, *, download_name: str, ttl: int) -> str | None:
        return f"memory://{key}" if key in self.blobs else None

    def copy_to(self, key: str, dst: Path) -> None:
        dst.write_bytes(self.blobs[key])

    def iter_bytes(self, key: str, chunk_size: int) -> Iterator[bytes]:
        data = self.blobs[key]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)
