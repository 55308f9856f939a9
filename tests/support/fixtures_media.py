"""Pytest plugin: generated test media and a local server for it (see media_factory and
media_server). Registered from tests/conftest.py.

Fixtures:
    media_files     (session) MediaFiles: paths of the generated media and facts about them
    media_server    (session) MediaServer on 127.0.0.1: .url(path), .slow_url(path, bps),
                    .chunked_url(path), .redirect_url(url), .status_url(code), .requests
    media_url       (session) shortcut: media_url(media_files.mp4) -> full URL
    throttled_url   (function) throttled_url(path_or_file, bytes_per_second=50_000) -> URL;
                    the server's request log is cleared first so tests see only their requests
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.media_factory import MediaFiles, make_media
from tests.support.media_server import MediaServer


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def media_server(media_files: MediaFiles) -> Iterator[MediaServer]:
    with MediaServer(media_files.root) as server:
        yield server


def _url_path(media_files: MediaFiles, target: Path | str) -> str:
    return media_files.rel(target) if isinstance(target, Path) else "/" + target.lstrip("/")


@pytest.fixture(scope="session")
def media_url(media_files: MediaFiles, media_server: MediaServer) -> Callable[[Path | str], str]:
    def make(target: Path | str) -> str:
        return media_server.url(_url_path(media_files, target))

    return make


@pytest.fixture
def throttled_url(media_files: MediaFiles, media_server: MediaServer) -> Callable[..., str]:
    media_server.clear_requests()

    def make(target: Path | str, bytes_per_second: int = 50_000) -> str:
        return media_server.slow_url(_url_path(media_files, target), bytes_per_second)

    return make
