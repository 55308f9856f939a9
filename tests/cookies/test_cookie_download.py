"""A download that needs a login: real yt-dlp in its child, against an origin that wants a cookie.

The cookie value must reach the origin and nowhere else: not the job's options, logs, JSON or
files, not the server's log records, not the data dir after the job.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.bootstrap import Container
from clipmill.cookies.jobfile import PRIVATE_DIR_PREFIX
from clipmill.errors import DownloadFailed
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.media import ytdlp
from clipmill.media.options import DownloadOptions
from clipmill.pipeline.context import JobContext
from tests.cookies.support import SECRET, CookieOrigin, cookies_txt, files_containing
from tests.support.containers import make_container, wait_terminal
from tests.support.media_factory import MediaFiles

pytestmark = pytest.mark.integration

URL = "http://127.0.0.1:9/video.mp4"


@pytest.fixture
def origin(media_files: MediaFiles) -> Iterator[CookieOrigin]:
    with CookieOrigin(media_files.mp4) as server:
        yield server


def start(client: TestClient, url: str, **fields: object) -> str:
    response = client.post("/api/v1/download", json={"url": url, **fields})
    assert response.status_code in (201, 202), response.text
    return str(response.json()["id"])


def test_a_job_with_cookies_downloads_what_needs_them_and_leaks_them_nowhere(
    client: TestClient,
    container: Container,
    origin: CookieOrigin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    without = wait_terminal(container, start(client, origin.url))
    assert without.status is JobStatus.FAILED  # the origin really wants the cookie

    cookie_id = client.post(
        "/api/v1/auth/cookies",
        files={"file": ("cookies.txt", cookies_txt(), "text/plain")},
    ).json()["id"]
    job_id = start(client, origin.url, cookies_id=cookie_id)
    job = wait_terminal(container, job_id, timeout=90)
    assert job.status is JobStatus.COMPLETED, job.error
    assert f"session={SECRET}" in (origin.cookies_seen[-1] or "")
    files = container.jobs.files(LOCAL_USER, job_id)
    assert [f.role for f in files] == ["media"]

    # the decrypted copy is gone with the job, and the work dir holds no leftover
    workdir = container.settings.jobs_dir / job_id
    assert not list(workdir.glob(f"{PRIVATE_DIR_PREFIX}*")) if workdir.exists() else True
    assert not list(container.settings.jobs_dir.rglob(f"{PRIVATE_DIR_PREFIX}*"))

    # only the id is stored with the job
    assert job.options["download"]["cookies_id"] == cookie_id
    shown = [
        client.get(f"/api/v1/download/{job_id}").text,
        client.get(f"/api/v1/jobs/{job_id}").text,
        client.get(f"/api/v1/download/{job_id}/logs").text,
        client.get(f"/api/v1/jobs/{job_id}/logs").text,
        json.dumps(
            [line.model_dump(mode="json") for line in container.jobs.logs(LOCAL_USER, job_id)]
        ),
        json.dumps(job.model_dump(mode="json")),
    ]
    for text in shown:
        assert SECRET not in text
    container.engine.dispose()
    assert files_containing(container.settings.data_dir, SECRET.encode()) == []
    records = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert not [r for r in records if SECRET in r]


def test_a_cookie_echoed_into_a_log_line_or_an_error_is_masked(tmp_path: Path) -> None:
    """Should a fetcher ever echo a cookie (a debug line, an error), the job shows a mask."""
    seen: list[Path] = []

    def echoing(ctx: JobContext) -> None:
        with ctx.cookie_file(ctx.options["download"]["cookies_id"]) as path:
            assert path is not None
            seen.append(path)
            ctx.log(f"sending {path.read_text()}")
        raise DownloadFailed(f"the origin said: bad cookie session={SECRET}")

    container = make_container(tmp_path / "data", {JobKind.DOWNLOAD: echoing})
    try:
        container.start(sweeper=False)
        cookie_id = container.cookies.add(LOCAL_USER, cookies_txt(), "site").id
        job = container.downloads.start(LOCAL_USER, URL, DownloadOptions(cookies_id=cookie_id))
        done = wait_terminal(container, job.id)
    finally:
        container.stop()
    assert done.status is JobStatus.FAILED and done.error_code == "download_failed"
    assert SECRET not in json.dumps(done.model_dump(mode="json"))
    assert "session=[cookie]" in (done.error_message or "")
    lines = [line.line for line in container.jobs.logs(LOCAL_USER, job.id)]
    assert any("[cookie]" in line for line in lines)
    assert not [line for line in lines if SECRET in line]
    assert seen and not seen[0].exists() and not seen[0].parent.exists()


def test_cookies_yt_dlp_copies_into_the_info_are_forgotten() -> None:
    info = {
        "cookies": f"session={SECRET}",
        "formats": [
            {"url": "u", "cookies": f"session={SECRET}", "http_headers": {"Cookie": SECRET,
                                                                        "User-Agent": "ua"}},
        ],
        "requested_downloads": [{"http_headers": {"cookie": SECRET}}],
    }  # fmt: skip
    cleaned = ytdlp.forget_cookies(info)
    assert SECRET not in json.dumps(cleaned)
    assert cleaned["formats"][0]["http_headers"] == {"User-Agent": "ua"}


def test_the_next_attempt_removes_what_a_killed_worker_left(tmp_path: Path) -> None:
    """A SIGKILLed worker leaves its decrypted copy behind; the job's next attempt removes it
    before its pipeline starts."""
    found: list[list[str]] = []

    def look(ctx: JobContext) -> None:
        found.append([p.name for p in ctx.workdir.iterdir()])

    container = make_container(tmp_path / "data", {JobKind.DOWNLOAD: look})
    try:
        job = container.downloads.start(LOCAL_USER, URL, DownloadOptions())
        leftover = container.settings.jobs_dir / job.id / f"{PRIVATE_DIR_PREFIX}killed"
        leftover.mkdir(parents=True, mode=0o700)
        (leftover / "cookies.txt").write_text(f"x\tFALSE\t/\tFALSE\t0\tsession\t{SECRET}\n")
        container.start(sweeper=False)
        assert wait_terminal(container, job.id).status is JobStatus.COMPLETED
    finally:
        container.stop()
    assert found == [[]]
    assert not leftover.exists()
