"""Downloads end to end through the service: API in, real yt-dlp and ffmpeg, files out."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.bootstrap import Container
from clipmill.downloads.schemas import DownloadRequest
from tests.support.api import api_client
from tests.support.containers import make_container, wait_for, wait_terminal
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = make_container(tmp_path / "data", None, max_filesize=3_000_000)
    yield c
    c.stop()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with api_client(container) as c:
        yield c


def ffprobe(path: Path) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def finish(client: TestClient, job_id: str, timeout: float = 90) -> dict:  # type: ignore[type-arg]
    wait_for(
        lambda: (
            client.get(f"/api/v1/download/{job_id}").json()["status"]
            in ("completed", "failed", "cancelled")
        ),
        timeout,
        0.1,
    )
    return client.get(f"/api/v1/download/{job_id}").json()  # type: ignore[no-any-return]


def child_pids() -> set[int]:
    me = str(os.getpid())
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                pids.add(int(entry.name))
    return pids


def test_preview_shows_title_duration_and_formats(
    client: TestClient, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    body = client.get("/api/v1/metadata", params={"url": media_url(media_files.hls_master)}).json()
    assert body["duration"] == pytest.approx(media_files.hls_duration, abs=0.5)
    heights = sorted({f["height"] for f in body["formats"] if f["height"]})
    assert heights == sorted(media_files.hls_heights)
    formats = client.get("/api/v1/formats", params={"url": media_url(media_files.mp4)}).json()
    (fmt,) = formats["formats"]
    assert fmt["ext"] == "mp4" and fmt["format_id"]


def test_download_mp4_through_the_api_and_fetch_the_file(
    client: TestClient, media_url: Callable[..., str], media_files: MediaFiles, tmp_path: Path
) -> None:
    resp = client.post(
        "/api/v1/download", json={"url": media_url(media_files.page), "quality": "360p"}
    )
    assert resp.status_code == 202
    job = finish(client, resp.json()["id"])
    assert job["status"] == "completed", (
        job["error"],
        client.get(f"/api/v1/download/{job['id']}/logs").json(),
    )
    assert job["title"].startswith(media_files.page_title) and job["progress"]["percent"] == 100.0
    media = [f for f in job["files"] if f["role"] == "media"]
    assert len(media) == 1 and media[0]["name"].endswith(".mp4")
    got = client.get(media[0]["url"])
    assert got.status_code == 200 and len(got.content) == media[0]["size"]
    assert media_files.page_title in got.headers["content-disposition"]
    out = tmp_path / "got.mp4"
    out.write_bytes(got.content)
    video = next(s for s in ffprobe(out)["streams"] if s["codec_type"] == "video")
    assert video["codec_name"] == "h264" and video["height"] == 360
    logs = client.get(f"/api/v1/download/{job['id']}/logs").json()["lines"]
    assert logs, "the job keeps its yt-dlp log lines"
    stages = [
        e.stage
        for e in client.app.state.container.jobs.events(  # type: ignore[attr-defined]
            __import__("clipmill.accounts.principal").accounts.principal.LOCAL_USER, job["id"]
        )
    ]
    assert "downloading" in stages and "finalizing" in stages


def test_websocket_sequence_for_a_real_download(
    client: TestClient, throttled_url: Callable[..., str], media_files: MediaFiles
) -> None:
    job_id = client.post(
        "/api/v1/download", json={"url": throttled_url(media_files.mp4, 400_000)}
    ).json()["id"]
    with client.websocket_connect(f"/ws/{job_id}") as ws:
        envelopes = []
        while True:
            env = ws.receive_json()
            envelopes.append(env)
            if env["type"] in ("job_completed", "job_failed"):
                break
    types = [e["type"] for e in envelopes]
    assert types[0] == "initial_status" and types[-1] == "job_completed"
    ticks = [e["data"] for e in envelopes if e["data"].get("event") == "progress"]
    assert ticks and any(t.get("downloaded_bytes") for t in ticks)
    percents = [t["progress"] for t in ticks]
    assert percents == sorted(percents)
    times = [e["data"]["timestamp"] for e in envelopes if e["data"].get("event") == "progress"]
    assert len(times) <= 4 * 10, "progress is throttled"


@pytest.mark.parametrize(
    ("make_url", "code"),
    [
        (lambda s, m: s.url(m.rel(m.nomedia_page)), "unsupported_url"),
        (lambda s, m: s.status_url(404), "page_not_found"),
        (lambda s, m: s.url(m.rel(m.big)), "file_too_large"),
        (lambda s, m: s.chunked_url(m.rel(m.big)), "file_too_large"),
    ],
    ids=["non-media-page", "404-origin", "over-size", "over-size-chunked"],
)
def test_bad_sources_fail_with_stable_codes(
    client: TestClient,
    media_server: MediaServer,
    media_files: MediaFiles,
    make_url: Callable[[MediaServer, MediaFiles], str],
    code: str,
) -> None:
    job_id = client.post(
        "/api/v1/download", json={"url": make_url(media_server, media_files)}
    ).json()["id"]
    job = finish(client, job_id)
    assert job["status"] == "failed" and job["error"]["code"] == code, job
    assert job["files"] == []


def test_bad_requests_are_refused_before_a_job_exists(client: TestClient, tmp_path: Path) -> None:
    resp = client.post("/api/v1/download", json={"url": "not a url"})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_url"
    resp = client.post("/api/v1/download", json={"url": "http://x.test/v", "quality": "999p"})
    assert resp.status_code == 422 and resp.json()["error"]["fields"][0]["field"] == "quality"
    resp = client.post(
        "/api/v1/download",
        json={"url": "http://x.test/v", "audio_bitrate": "5k", "quality": "audio"},
    )
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_option"
    assert client.get("/api/v1/jobs").json()["total"] == 0


def test_private_addresses_are_blocked_by_default(
    tmp_path: Path, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    c = make_container(tmp_path / "strict", None, allow_private_networks=False)
    with api_client(c) as client:
        for url in (
            media_url(media_files.mp4),
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/x",
            "http://10.0.0.1/a.mp4",
        ):
            resp = client.post("/api/v1/download", json={"url": url})
            assert resp.status_code == 422 and resp.json()["error"]["code"] == "blocked_address", (
                url
            )
        resp = client.get("/api/v1/metadata", params={"url": media_url(media_files.mp4)})
        assert resp.json()["error"]["code"] == "blocked_address"
    c.stop()


def test_cancel_mid_download_stops_it_and_leaves_nothing(
    client: TestClient,
    container: Container,
    throttled_url: Callable[..., str],
    media_files: MediaFiles,
) -> None:
    before = child_pids()
    url = throttled_url(media_files.mp4, 20_000)  # would take many seconds
    job_id = client.post("/api/v1/download", json={"url": url}).json()["id"]
    wait_for(
        lambda: (
            (
                client.get(f"/api/v1/download/{job_id}").json()["progress"].get("downloaded_bytes")
                or 0
            )
            > 0
        ),
        30,
        0.05,
    )
    resp = client.delete(f"/api/v1/download/{job_id}")
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    # how fast is bench/cancel_latency.py's business; this only guards against a hang
    wait_for(lambda: job_id not in container.queue.running(), 30, 0.02)
    assert not (container.settings.jobs_dir / job_id).exists(), "partial files removed"
    wait_for(lambda: child_pids() <= before, 3, 0.05)
    job = client.get(f"/api/v1/download/{job_id}").json()
    assert job["status"] == "cancelled" and job["files"] == []


def test_restart_mid_download_completes_the_job(
    tmp_path: Path,
    throttled_url: Callable[..., str],
    media_files: MediaFiles,
    media_server: MediaServer,
) -> None:
    data = tmp_path / "restart"
    first = make_container(data, None)
    first.start()
    job_id = first.downloads.submit(
        LOCAL_USER, DownloadRequest(url=throttled_url(media_files.mp4, 60_000))
    ).id
    wait_for(
        lambda: (
            (first.lifecycle.load(job_id).progress_info or {}).get("downloaded_bytes", 0) > 50_000
        ),
        30,
        0.05,
    )
    first.stop()  # the process goes away mid-download
    assert first.lifecycle.load(job_id).status.value == "processing"

    second = make_container(data, None)
    second.start()
    try:
        job = wait_terminal(second, job_id, 90)
        assert job.status.value == "completed", job.error_message
        assert job.attempts == 2
        (file,) = [f for f in second.lifecycle.files_of([job_id])[job_id] if f.role == "media"]
        assert file.size == media_files.mp4.stat().st_size
        ranges = [r.headers.get("Range") for r in media_server.requests_for(media_files.mp4.name)]
        assert any(r and not r.startswith("bytes=0-") for r in ranges), "the second run resumed"
    finally:
        second.stop()


def test_clipx_aliases(
    client: TestClient, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    preview = client.post("/api/preview", json={"url": media_url(media_files.mp4)}).json()
    assert preview["status"] == "success"
    assert set(preview["data"]) == {"title", "thumbnail", "duration", "formats"}
    started = client.post(
        "/api/download",
        json={"url": media_url(media_files.mp4), "format": "mp3", "resolution": "best"},
    )
    assert started.status_code == 202 and started.json()["status"] in ("queued", "processing")
    download_id = started.json()["downloadId"]
    wait_for(
        lambda: client.get(f"/api/download/status/{download_id}").json()["status"] == "completed",
        60,
        0.1,
    )
    status = client.get(f"/api/download/status/{download_id}").json()
    assert status["progress"] == 100.0 and status["fileUrl"]
    assert client.get(status["fileUrl"]).headers["content-type"] == "audio/mpeg"
    other = client.post("/api/download", json={"url": media_url(media_files.webm)}).json()[
        "downloadId"
    ]
    assert client.post("/api/download/cancel", json={"downloadId": other}).json() in (
        {"status": "cancelled"},
    )


def test_a_page_with_several_videos_is_a_playlist_of_them(
    client: TestClient, container: Container, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    """A page with three <video> tags listed its three entries as none ("entries": [], and
    the download failed no_items)."""
    page = media_files.root / "three-videos.html"
    page.write_text(
        "<html><head><title>Three clips</title></head><body>"
        + "".join(f'<video src="{media_files.mp4.name}?take={n}"></video>' for n in (1, 2, 3))
        + "</body></html>"
    )
    preview = client.get("/api/v1/playlist/preview", params={"url": media_url(page)}).json()
    assert preview["entry_count"] == 3
    assert [e["index"] for e in preview["entries"]] == [1, 2, 3]
    assert all(e["url"].endswith(f"take={e['index']}") for e in preview["entries"])
    job = client.post("/api/v1/playlist/download", json={"url": media_url(page)}).json()
    wait_terminal(container, job["id"], 120)
    done = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["status"] == "completed", done
    assert done["counts"]["completed"] == 3


def test_clipx_preview_knows_the_duration_of_an_mp4_indexed_at_its_end(
    client: TestClient, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    late = media_files.root / "moov-last.mp4"
    if not late.exists():
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(media_files.big), "-c", "copy",
             "-movflags", "-faststart", str(late)],
            check=True,
        )  # fmt: skip
    preview = client.post("/api/preview", json={"url": media_url(late)}).json()
    assert preview["data"]["duration"] == pytest.approx(media_files.big_duration, abs=0.1)
