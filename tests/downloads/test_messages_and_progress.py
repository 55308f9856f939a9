"""What a user reads about a download: errors that say what to do, progress that means something.

Real yt-dlp and ffmpeg against the local media server, through the API (issue 15, items 8-9).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.bootstrap import Container
from clipmill.media.sizes import human_bytes
from tests.downloads.test_download_service import finish
from tests.support.api import api_client
from tests.support.containers import make_container
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration

MB = 1_000_000


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = make_container(tmp_path / "data", None, max_filesize=MB)
    yield c
    c.stop()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with api_client(container) as c:
        yield c


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _error(answer: Any) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()["error"]
    return body


# -- item 8: errors that say what to do ----------------------------------------------------


@pytest.mark.parametrize("auth", ["none", "users"])
def test_a_private_address_names_the_setting_or_the_operator(
    tmp_path: Path, media_url: Callable[..., str], media_files: MediaFiles, auth: str
) -> None:
    c = make_container(tmp_path / auth, None, allow_private_networks=False, auth=auth)
    try:
        with api_client(c) as client:
            for answer in (
                client.post("/api/v1/download", json={"url": media_url(media_files.mp4)}),
                client.get("/api/v1/metadata", params={"url": media_url(media_files.mp4)}),
            ):
                error = _error(answer)
                assert answer.status_code == 422 and error["code"] == "blocked_address"
                if auth == "none":  # the user runs the server: say what to set
                    assert "CLIPMILL_ALLOWED_NETWORKS='[\"127.0.0.1/32\"]'" in error["message"]
                    assert "CLIPMILL_ALLOW_PRIVATE_NETWORKS=true" in error["message"]
                else:
                    assert "Ask the server's operator" in error["message"]
                    assert "CLIPMILL_" not in error["message"]
    finally:
        c.stop()


def test_a_404_says_the_page_was_not_found(client: TestClient, media_server: MediaServer) -> None:
    url = media_server.url("missing/video.mp4")
    answer = client.get("/api/v1/metadata", params={"url": url})
    error = _error(answer)
    assert answer.status_code == 502 and error["code"] == "page_not_found"
    assert (
        error["message"] == f"The site has no page at {url} (HTTP 404 Not Found): check the link."
    )
    job = finish(client, client.post("/api/v1/download", json={"url": url}).json()["id"])
    assert job["error"]["code"] == "page_not_found"


def test_a_closed_port_says_the_site_does_not_answer(client: TestClient) -> None:
    port = _closed_port()
    answer = client.get("/api/v1/metadata", params={"url": f"http://127.0.0.1:{port}/v.mp4"})
    error = _error(answer)
    assert answer.status_code == 502 and error["code"] == "origin_unreachable"
    assert error["message"].startswith(f"Nothing answers at 127.0.0.1:{port}")
    assert "moment" not in error["message"]


@pytest.mark.parametrize("typed", ["localhost:{port}/sample.mp4", "//localhost:{port}/sample.mp4"])
def test_a_link_without_https_is_completed_not_refused(
    client: TestClient, media_server: MediaServer, typed: str
) -> None:
    link = typed.format(port=media_server.port)
    answer = client.post("/api/v1/download", json={"url": link})
    assert answer.status_code == 202, answer.json()
    assert answer.json()["url"] == f"https://localhost:{media_server.port}/sample.mp4"
    batch = client.post("/api/v1/batch/download", json={"urls": [link]})
    assert batch.status_code == 202, batch.json()
    for refused in ("not a link", "file:///etc/passwd", "javascript:alert(1)", "ftp://a.org/x"):
        answer = client.post("/api/v1/download", json={"url": refused})
        assert answer.status_code == 422 and _error(answer)["code"] == "invalid_url", refused


# -- item 9: progress that means something --------------------------------------------------


def _envelopes(client: TestClient, job_id: str) -> list[dict[str, Any]]:
    envelopes = []
    with client.websocket_connect(f"/ws/{job_id}") as ws:
        while True:
            envelope = ws.receive_json()
            envelopes.append(envelope)
            if envelope["type"] in ("job_completed", "job_failed"):
                return envelopes


def test_hls_progress_goes_by_fragments_with_stages_in_words(
    client: TestClient, throttled_url: Callable[..., str], media_files: MediaFiles
) -> None:
    url = throttled_url(media_files.hls_master, 20_000)
    job_id = client.post("/api/v1/download", json={"url": url, "quality": "360p"}).json()["id"]
    envelopes = _envelopes(client, job_id)
    assert envelopes[-1]["type"] == "job_completed", envelopes[-1]
    data = [e["data"] for e in envelopes[1:]]
    percents = [d["progress"] for d in data]
    assert percents == sorted(percents), "never backwards"
    between = [p for p in percents if 0 < p < 90]
    assert between, f"intermediate values while the fragments arrive: {percents}"
    stored = client.app.state.container.jobs.events(LOCAL_USER, job_id)  # type: ignore[attr-defined]
    stages = [e.stage for e in stored if e.type == "stage"]
    assert stages == ["probing", "downloading", "postprocessing", "finalizing"], stages
    messages = {d["message"] for d in data if d.get("message")}
    messages |= {e.message for e in stored if e.message}
    assert "Reading the page…" in messages
    assert "Converting: joining the stream's pieces…" in messages
    for message in messages:
        assert (
            ".part" not in message and "media." not in message and "Postprocessing" not in message
        )
    ticks = [d for d in data if d.get("event") == "progress"]
    assert any(t.get("fragment_count") for t in ticks)
    converting = [t for t in ticks if t["stage"] == "postprocessing"]
    assert converting and all(t.get("downloaded_bytes") is None for t in converting), (
        "no stale byte counts while converting"
    )


def _megabytes(text: str, before: str) -> float:
    found = re.search(rf"{before} ([\d.]+) (kB|MB)", text)
    assert found, text
    return float(found.group(1)) * (1 if found.group(2) == "MB" else 0.001)


def test_file_too_large_says_where_it_stopped_in_mb(
    client: TestClient, media_server: MediaServer, media_files: MediaFiles
) -> None:
    size = media_files.big.stat().st_size
    assert size > MB
    rel = media_files.rel(media_files.big)
    stated = finish(client, client.post(
        "/api/v1/download", json={"url": media_server.url(rel)}).json()["id"])  # fmt: skip
    error = stated["error"]
    assert error["code"] == "file_too_large"
    # the origin stated the size: that is the number said, and where it stopped is separate
    assert error["message"].startswith(f"The file is {human_bytes(size)}, over this server's "
                                       "limit of 1 MB (")  # fmt: skip
    assert (
        _megabytes(error["message"], "stopped at") < 1.0
        or "nothing downloaded" in (error["message"])
    )

    counted = finish(client, client.post(
        "/api/v1/download", json={"url": media_server.chunked_url(rel)}).json()["id"])  # fmt: skip
    error = counted["error"]
    assert error["code"] == "file_too_large"
    assert error["message"].startswith("Stopped at ") and ": the limit is 1 MB." in error["message"]
    assert 1.0 <= _megabytes(error["message"], "Stopped at") <= 1.1  # just past the limit
