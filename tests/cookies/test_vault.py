"""The vault through the API and the services: names and domains out, values never; owners only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.bootstrap import Container
from clipmill.cookies.jobfile import PRIVATE_DIR_PREFIX, private_cookie_file, remove_leftovers
from clipmill.cookies.netscape import parse_cookie_file
from clipmill.errors import NotFound
from clipmill.media.options import DownloadOptions
from clipmill.playlists.schemas import BatchDownloadRequest
from clipmill.shorts.job_schemas import JobCreate
from tests.cookies.support import SECRET, add_user, cookies_txt, files_containing

URL = "http://127.0.0.1:9/video.mp4"  # never fetched: the workers are not started


def upload(client: TestClient, data: bytes, **params: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/cookies",
        content=data,
        params=params,
        headers={"Content-Type": "text/plain"},
    )


def test_an_upload_lists_its_name_and_domains_never_a_value(
    client: TestClient, container: Container
) -> None:
    response = upload(client, cookies_txt(), name="my site")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "my site"
    assert body["domains"] == ["127.0.0.1", "example.com"]
    assert body["count"] == 2
    listed = client.get("/api/v1/auth/cookies")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    for text in (response.text, listed.text):
        assert SECRET not in text and "session" not in text


def test_multipart_uploads_take_the_file_name_or_the_name_field(client: TestClient) -> None:
    named = client.post(
        "/api/v1/auth/cookies",
        files={"file": ("youtube.txt", cookies_txt(), "text/plain")},
        data={"name": "YouTube"},
    )
    assert named.status_code == 201, named.text
    assert named.json()["name"] == "YouTube"
    unnamed = client.post(
        "/api/v1/auth/cookies", files={"file": ("exported.txt", cookies_txt(), "text/plain")}
    )
    assert unnamed.json()["name"] == "exported.txt"
    missing = client.post("/api/v1/auth/cookies", files={"other": ("x.txt", b"x", "text/plain")})
    assert missing.status_code == 422
    assert "'file'" in missing.json()["error"]["message"]


def test_nothing_stored_holds_a_value_in_plaintext(
    client: TestClient, container: Container
) -> None:
    assert upload(client, cookies_txt()).status_code == 201
    container.engine.dispose()  # the SQLite file and its WAL, as written
    data_dir = container.settings.data_dir
    assert list(data_dir.glob("*.db")), "the database lives in the data dir"
    assert files_containing(data_dir, SECRET.encode()) == []
    assert files_containing(data_dir, b"session\t") == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"example.com FALSE / FALSE 0 name value\n", "line 1: expected 7 tab-separated"),
        (b"# Netscape HTTP Cookie File\n", "no cookies"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        (cookies_txt(extra="a.com\tFALSE\t/\tFALSE\tsoon\tn\tv\n"), "line 6: the fifth field"),
    ],
)
def test_malformed_uploads_are_422_invalid_cookies(
    client: TestClient, data: bytes, words: str
) -> None:
    response = upload(client, data)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_cookies"
    assert words in error["message"]
    assert client.get("/api/v1/auth/cookies").json()["items"] == []


def test_an_oversized_upload_is_413_before_it_is_read_whole(client: TestClient) -> None:
    response = upload(client, b"a" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_another_users_cookie_file_is_a_404_and_no_job_is_made(container: Container) -> None:
    alice, bob = add_user(container, "alice"), add_user(container, "bob")
    mine = container.cookies.add(alice, cookies_txt(), "alice's")
    attempts = [
        lambda: container.downloads.start(bob, URL, DownloadOptions(cookies_id=mine.id)),
        lambda: container.shorts.create(
            bob, JobCreate(source_url=URL, options={"cookies_id": mine.id})
        ),
        lambda: container.shorts.create(
            bob,
            JobCreate(youtube_url=URL, job_type="download_only", options={"cookies_id": mine.id}),
        ),
        lambda: container.parents.start_batch(
            bob, BatchDownloadRequest(urls=[URL, URL + "?2"], cookies_id=mine.id)
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound) as caught:
            attempt()
        assert caught.value.code == "not_found"
    assert container.jobs.list_jobs(LOCAL_USER).total == 0  # the admin sees every job
    assert container.cookies.list_files(bob) == []
    with pytest.raises(NotFound):
        container.cookies.delete(bob, mine.id)
    assert [f.id for f in container.cookies.list_files(alice)] == [mine.id]
    # the owner may use it
    job = container.downloads.start(alice, URL, DownloadOptions(cookies_id=mine.id))
    assert job.options["download"]["cookies_id"] == mine.id
    assert SECRET not in str(job.options)


def test_a_deleted_cookie_file_is_gone_for_later_jobs(
    client: TestClient, container: Container
) -> None:
    cookie_id = upload(client, cookies_txt()).json()["id"]
    assert client.delete(f"/api/v1/auth/cookies/{cookie_id}").status_code == 204
    assert client.get("/api/v1/auth/cookies").json()["items"] == []
    again = client.delete(f"/api/v1/auth/cookies/{cookie_id}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    response = client.post("/api/v1/download", json={"url": URL, "cookies_id": cookie_id})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert container.jobs.list_jobs(LOCAL_USER).total == 0


def test_the_job_file_is_private_and_removed_however_the_block_ends(tmp_path: Path) -> None:
    parsed = parse_cookie_file(cookies_txt())
    with private_cookie_file(parsed, tmp_path) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.parent.parent == tmp_path and path.parent.name.startswith(PRIVATE_DIR_PREFIX)
        assert SECRET in path.read_text()
        path.write_text(path.read_text() + "# yt-dlp writes the jar back on close\n")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), private_cookie_file(parsed, tmp_path):
        raise RuntimeError("the download failed")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_attempts_leftover_is_removed(tmp_path: Path) -> None:
    leftover = tmp_path / f"{PRIVATE_DIR_PREFIX}abc"
    leftover.mkdir(mode=0o700)
    (leftover / "cookies.txt").write_text("x")
    (tmp_path / "media.mp4.part").write_bytes(b"kept for the resume")
    remove_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media.mp4.part"]
    assert os.access(tmp_path, os.W_OK)
