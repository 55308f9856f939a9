"""Fixtures for the media tests: settings that let jobs reach the loopback media server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clipmill.config import Settings
from clipmill.media import workfiles, ytdlp
from clipmill.media.models import DownloadProgress, DownloadResult
from clipmill.media.netguard import NetGuard
from clipmill.media.options import DownloadOptions


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        # only the media server's address: redirects to other private addresses stay blocked
        "allowed_networks": ["127.0.0.1/32"],
        "socket_timeout": 10,
    }
    values.update(overrides)
    build: Any = Settings  # _env_file is a pydantic-settings init argument mypy does not know
    settings: Settings = build(_env_file=None, **values)
    return settings


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def guard(media_settings: Settings) -> NetGuard:
    return NetGuard.from_settings(media_settings)


@pytest.fixture
def download(tmp_path: Path, media_settings: Settings) -> Callable[..., DownloadResult]:
    """download(url, settings=None, **option_fields) in-process, into a fresh work dir.

    After a failure it removes the partial files as its supervisor would
    (`isolation.run_download`); ``ytdlp.download`` itself never does."""
    counter = iter(range(1000))

    def run(url: str, settings: Settings | None = None, **fields: Any) -> DownloadResult:
        chosen = settings or media_settings
        progress: list[DownloadProgress] = []
        workdir = tmp_path / f"work{next(counter)}"
        try:
            return ytdlp.download(
                url,
                DownloadOptions(**fields),
                workdir,
                settings=chosen,
                guard=NetGuard.from_settings(chosen),
                on_progress=progress.append,
                on_log=lambda line: None,
                cancel=threading.Event(),
            )
        except Exception:
            workfiles.remove_download_files(workdir)
            raise

    return run
