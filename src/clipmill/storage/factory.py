"""Which storage a process uses, from settings (the composition root calls this)."""

from __future__ import annotations

from clipmill.config import Settings, StorageBackend
from clipmill.errors import DependencyMissing
from clipmill.storage.base import Storage
from clipmill.storage.local import LocalStorage


def make_storage(settings: Settings) -> Storage:
    """Local files in ``files_dir``, or the S3 bucket the ``s3_*`` settings name."""
    if settings.storage_backend is StorageBackend.LOCAL:
        return LocalStorage(settings.files_dir)
    try:
        from clipmill.storage.s3 import S3Storage  # boto3 comes with the `scaled` extra
    except ImportError as exc:
        raise DependencyMissing(
            "CLIPMILL_STORAGE_BACKEND=s3 needs boto3: pip install 'clipmill[scaled]'."
        ) from exc
    return S3Storage.from_settings(settings)
