"""Files in a local directory."""

from __future__ import annotations

import shutil
from pathlib import Path

from clipmill.errors import InvalidRequest


class LocalStorage:
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
        shutil.move(src, dst)
        return dst.stat().st_size

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def presigned_url(self, key: str, *, download_name: str, ttl: int) -> str | None:
        return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


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

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def delete_prefix(self, prefix: str) -> None:
        for key in [k for k in self.blobs if k.startswith(prefix.rstrip("/") + "/")]:
            del self.blobs[key]
