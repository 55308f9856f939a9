"""Shorts jobs never let a playlist posing as media steer ffmpeg: uploads and URL jobs.

A 100-byte HLS playlist named ``talk.mp4`` (or a DASH manifest, an ffconcat script, an SDP
description, each also behind an ID3 tag or a byte-order mark) must be refused as
``unsupported_media`` at upload time, before a job exists; and a ``transcribe_only`` job whose
URL serves one must fail the same way before anything is transcribed. The payloads and targets
are those of tests/media/test_untrusted_media.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media.test_untrusted_media import KINDS, make_marker, payload
from tests.shorts_api.conftest import ShortsApp
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration

DISGUISES: dict[str, Callable[[bytes], bytes]] = {
    "plain": lambda body: body,
    "bom": lambda body: b"\xef\xbb\xbf\n" + body,
    "id3": lambda body: b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\0" * 10 + body,
}


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_marker(tmp_path_factory.mktemp("secret") / "marker.mp4")


def _held_bytes(app: ShortsApp, data: bytes) -> list[Path]:
    """Files under the data dir whose content is ``data``."""
    root = app.container.settings.data_dir
    return [p for p in root.rglob("*") if p.is_file() and p.read_bytes() == data]


@pytest.mark.parametrize("disguise", list(DISGUISES))
@pytest.mark.parametrize("kind", KINDS)
def test_an_uploaded_playlist_is_refused_before_a_job_exists(
    shorts_app: ShortsApp, tmp_path: Path, marker: Path, kind: str, disguise: str
) -> None:
    body = DISGUISES[disguise](payload(kind, str(marker)).encode())
    upload = tmp_path / "talk.mp4"
    upload.write_bytes(body)
    response = shorts_app.upload(upload, job_type="transcribe_only")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media"
    assert "talk.mp4" in error["message"] and str(tmp_path) not in error["message"]
    assert shorts_app.client.get("/api/v1/jobs").json()["total"] == 0
    assert _held_bytes(shorts_app, body) == []


@pytest.mark.parametrize("kind", ["hls", "dash"])
def test_a_transcribe_only_url_serving_a_playlist_fails_unsupported(
    make_shorts_app: Callable[..., ShortsApp],
    media_server: MediaServer,
    media_files: MediaFiles,
    marker: Path,
    kind: str,
) -> None:
    shorts_app = make_shorts_app(real_fetcher=True)  # yt-dlp and ffmpeg, not the fake fetcher
    folder = media_files.root / "hostile-shorts"
    folder.mkdir(exist_ok=True)
    (folder / f"{kind}-talk.mp4").write_text(payload(kind, str(marker)))
    url = media_server.url(f"hostile-shorts/{kind}-talk.mp4")
    shorts_app.start_workers()
    response = shorts_app.client.post(
        "/api/v1/jobs", json={"source_url": url, "job_type": "transcribe_only"}
    )
    assert response.status_code == 201, response.text
    detail = shorts_app.wait(response.json()["id"], timeout=90)
    assert detail["status"] == "failed", detail
    assert detail["error"]["code"] == "unsupported_media", detail["error"]
    data_dir = shorts_app.container.settings.data_dir
    secret = marker.read_bytes()
    middle = secret[len(secret) // 2 : len(secret) // 2 + 32]
    for path in data_dir.rglob("*"):
        assert not (path.is_file() and middle in path.read_bytes()), path
