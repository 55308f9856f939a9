"""S3 storage against a real S3 API (moto's server on loopback): objects, multipart uploads,
presigned links with the download name, and clipmill end to end on a bucket (a real download,
its signed link, a ZIP streamed from the bucket, retention)."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from botocore.config import Config

from clipmill.accounts.principal import LOCAL_USER
from clipmill.bootstrap import Container
from clipmill.clock import FakeClock
from clipmill.config import StorageBackend
from clipmill.errors import InvalidRequest
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.pipeline.context import JobContext
from clipmill.storage.disposition import content_disposition
from clipmill.storage.factory import make_storage
from clipmill.storage.s3 import ObjectStoreError, S3Storage
from tests.playlists.conftest import FakeDownloads
from tests.support.api import api_client
from tests.support.containers import make_container, make_settings, wait_terminal
from tests.support.feeds import TEST_EXTRACTORS, FeedSite
from tests.support.media_factory import MediaFiles
from tests.support.s3 import S3Server

MiB = 1024 * 1024


def s3_storage(s3_server: S3Server, bucket: str, tmp_path: Path, **overrides: object) -> S3Storage:
    storage = make_storage(
        make_settings(tmp_path / "data", **s3_server.settings(bucket, **overrides))
    )
    assert isinstance(storage, S3Storage)
    return storage


def blob(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_put_exists_copy_to_iter_bytes_and_delete(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(s3_server, s3_bucket, tmp_path, s3_prefix="clips/")
    src = blob(tmp_path / "a.mp4", b"video bytes" * 1000)
    assert storage.put("job1/a.mp4", src, content_type="video/mp4") == 11_000
    assert not src.exists(), "put moves the file, as local storage does"
    assert s3_server.keys(s3_bucket) == ["clips/job1/a.mp4"]
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="clips/job1/a.mp4")
    assert head["ContentType"] == "video/mp4"

    assert storage.exists("job1/a.mp4") and not storage.exists("job1/b.mp4")
    assert storage.local_path("job1/a.mp4") is None
    storage.copy_to("job1/a.mp4", tmp_path / "copy.mp4")
    assert (tmp_path / "copy.mp4").read_bytes() == b"video bytes" * 1000
    assert b"".join(storage.iter_bytes("job1/a.mp4", 4096)) == b"video bytes" * 1000

    storage.delete("job1/a.mp4")
    storage.delete("job1/a.mp4")  # deleting twice is fine, as unlink(missing_ok=True)
    assert not storage.exists("job1/a.mp4") and s3_server.keys(s3_bucket) == []
    with pytest.raises(FileNotFoundError):
        storage.copy_to("job1/a.mp4", tmp_path / "gone.mp4")


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/abs", "a//b", "", "a/./b"])
def test_keys_that_climb_out_of_the_prefix_are_refused(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, key: str
) -> None:
    storage = s3_storage(s3_server, s3_bucket, tmp_path, s3_prefix="clips/")
    with pytest.raises(InvalidRequest) as err:
        storage.put(key, blob(tmp_path / "x", b"x"), content_type="text/plain")
    assert err.value.code == "invalid_key"
    assert s3_server.keys(s3_bucket) == []


def test_a_file_above_the_threshold_goes_up_in_parts(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(
        s3_server, s3_bucket, tmp_path, s3_multipart_threshold=5 * MiB,
        s3_multipart_chunksize=5 * MiB,
    )  # fmt: skip
    data = os.urandom(6 * MiB + 123)
    assert storage.put("big/file.bin", blob(tmp_path / "big.bin", data),
                       content_type="application/octet-stream") == len(data)  # fmt: skip
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="big/file.bin")
    assert head["ETag"].strip('"').endswith("-2"), "a multipart upload of two parts"
    storage.copy_to("big/file.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data


def test_presigned_link_serves_the_bytes_under_the_download_name(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    storage = s3_storage(s3_server, s3_bucket, tmp_path)
    storage.put("j/media.mp4", blob(tmp_path / "m", b"\x00mp4"), content_type="video/mp4")
    name = 'Ünïcode "clip" ✓ 1/2.mp4'
    url = storage.presigned_url("j/media.mp4", download_name=name, ttl=60)
    assert url is not None and url.startswith(s3_server.endpoint)
    got = httpx.get(url, trust_env=False)
    assert got.status_code == 200 and got.content == b"\x00mp4"
    assert got.headers["content-disposition"] == content_disposition(name)
    assert got.headers["content-type"] == "video/mp4"
    tampered = url.replace("j/media.mp4", "j/other.mp4")
    assert httpx.get(tampered, trust_env=False).status_code == 403


def test_presigned_links_may_name_a_public_endpoint(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """clipmill reaches the store at one address, clients at another (compose: minio:9000)."""
    public = s3_server.endpoint.replace("127.0.0.1", "localhost")
    storage = s3_storage(s3_server, s3_bucket, tmp_path, s3_public_endpoint_url=public)
    storage.put("j/a.txt", blob(tmp_path / "a", b"hello"), content_type="text/plain")
    url = storage.presigned_url("j/a.txt", download_name="a.txt", ttl=60)
    assert url is not None and url.startswith(public + "/")
    assert httpx.get(url, trust_env=False).content == b"hello"


def test_an_unreachable_store_fails_as_an_os_error(tmp_path: Path) -> None:
    import boto3

    client = boto3.session.Session().client(
        "s3", endpoint_url="http://127.0.0.1:9", aws_access_key_id="k",
        aws_secret_access_key="s", config=Config(region_name="us-east-1",
                                                 retries={"max_attempts": 1}),
    )  # fmt: skip
    storage = S3Storage(client, "nowhere")
    with pytest.raises(ObjectStoreError) as err:
        storage.delete("j/a.mp4")
    assert isinstance(err.value, OSError)  # the sweeper's "try again next sweep" path
    with pytest.raises(OSError):
        storage.exists("j/a.mp4")


def test_s3_needs_a_bucket(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", storage_backend="s3")
    assert settings.storage_backend is StorageBackend.S3
    with pytest.raises(Exception) as err:
        make_storage(settings)
    assert getattr(err.value, "code", "") == "s3_unconfigured"


# clipmill end to end on a bucket


@pytest.fixture
def s3_container(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> Iterator[Callable[..., Container]]:
    made: list[Container] = []

    def make(**kwargs: object) -> Container:
        container = make_container(
            tmp_path / "data", kwargs.pop("pipelines", None),  # type: ignore[arg-type]
            **s3_server.settings(s3_bucket), **kwargs,
        )  # fmt: skip
        assert isinstance(container.storage, S3Storage)
        container.start()
        made.append(container)
        return container

    yield make
    for container in made:
        container.stop()


def local_files(container: Container) -> list[Path]:
    root = container.settings.files_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.integration
def test_a_download_lands_in_the_bucket_and_its_link_redirects_to_it(
    s3_container: Callable[..., Container], s3_server: S3Server, s3_bucket: str,
    media_url: Callable[..., str], media_files: MediaFiles,
) -> None:  # fmt: skip
    c = s3_container()
    with api_client(c) as client:
        job_id = client.post("/api/v1/download", json={"url": media_url(media_files.mp4)}).json()[
            "id"
        ]
        assert wait_terminal(c, job_id, 90).status is JobStatus.COMPLETED
        job = client.get(f"/api/v1/download/{job_id}").json()
        media = next(f for f in job["files"] if f["role"] == "media")
        assert f"{job_id}/" in " ".join(s3_server.keys(s3_bucket))
        assert local_files(c) == [], "nothing stored on the API's disk"

        # the job lists a presigned link straight to the bucket
        assert media["url"].startswith(s3_server.endpoint)
        direct = httpx.get(media["url"], trust_env=False)
        assert direct.status_code == 200 and len(direct.content) == media["size"]

        # a signed clipmill link redirects to a fresh presigned one
        token = c.signer.sign(media["id"])
        hop = client.get(f"/files/{token}", follow_redirects=False)
        assert hop.status_code in (302, 307)
        assert hop.headers["location"].startswith(s3_server.endpoint)
        got = httpx.get(hop.headers["location"], trust_env=False)
        assert got.status_code == 200 and got.content == direct.content
        assert got.headers["content-disposition"] == content_disposition(media["name"])
        assert got.headers["content-type"] == media["content_type"]
        assert got.content == media_files.mp4.read_bytes()


def test_a_zip_of_a_playlist_streams_from_the_bucket(
    s3_container: Callable[..., Container], s3_server: S3Server, s3_bucket: str,
    feed_site: FeedSite,
) -> None:  # fmt: skip
    c = s3_container(pipelines={JobKind.DOWNLOAD: FakeDownloads()}, extractors=TEST_EXTRACTORS)
    url = feed_site.numbered_feed("s3zip", 3)
    with api_client(c) as client:
        job_id = client.post("/api/v1/playlist/download", json={"url": url, "zip": True}).json()[
            "id"
        ]
        assert wait_terminal(c, job_id).status is JobStatus.COMPLETED
        assert len(s3_server.keys(s3_bucket)) == 3 and local_files(c) == []
        got = client.get(f"/api/v1/jobs/{job_id}/zip")
        assert got.status_code == 200
        assert int(got.headers["content-length"]) == len(got.content)
        with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
            assert zf.testzip() is None
            assert zf.namelist() == [
                "001 - Episode 1.mp4", "002 - Episode 2.mp4", "003 - Episode 3.mp4"
            ]  # fmt: skip
            assert zf.read("002 - Episode 2.mp4").decode().endswith("/nothing/s3zip-2.mp4\n")


def _two_files(ctx: JobContext) -> None:
    for name in ("clip.mp4", "clip.srt"):
        path = ctx.workdir / name
        path.write_bytes(b"bytes of " + name.encode())
        ctx.save_file(path, role="media", name=name)


def test_retention_deletes_the_objects_and_keeps_the_job(
    s3_container: Callable[..., Container], s3_server: S3Server, s3_bucket: str
) -> None:
    clock = FakeClock()
    c = s3_container(pipelines={JobKind.DOWNLOAD: _two_files}, clock=clock)
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://x"})
    assert wait_terminal(c, job.id).status is JobStatus.COMPLETED
    assert s3_server.keys(s3_bucket) == [f"{job.id}/clip.mp4", f"{job.id}/clip.srt"]
    assert c.sweeper.sweep() == 0  # not yet
    clock.advance(c.settings.retention_seconds + 600)  # the fake clock started before the files
    assert c.sweeper.sweep() == 2
    assert s3_server.keys(s3_bucket) == []
    with api_client(c) as client:
        files = client.get(f"/api/v1/jobs/{job.id}").json()["files"]
        assert [f["expired"] for f in files] == [True, True] and files[0]["url"] is None
        resp = client.get(f"/files/{c.signer.sign(files[0]['id'])}", follow_redirects=False)
        assert resp.status_code == 410 and resp.json()["error"]["code"] == "file_expired"
