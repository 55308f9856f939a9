"""GET /api/v1/thumbnail: preview thumbnails fetched by the server through the network guard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clipmill.errors import BlockedAddress, ResponseTooLarge
from clipmill.media.netguard import NetGuard
from clipmill.media.thumbnails import ThumbnailProxy
from tests.support.api import api_client
from tests.support.containers import make_container
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

Client = Callable[..., Any]


@pytest.fixture
def client(tmp_path: Path) -> Client:
    def make(**settings: Any) -> Any:
        return api_client(make_container(tmp_path / f"data{len(settings)}", **settings))

    return make


def test_the_thumbnail_comes_back_as_the_image_it_is(
    client: Client, media_files: MediaFiles, media_url: Callable[[Path], str]
) -> None:
    with client() as api:
        answer = api.get("/api/v1/thumbnail", params={"url": media_url(media_files.thumbnail)})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.content == media_files.thumbnail.read_bytes()
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_private_address_is_refused_unless_private_networks_are_allowed(
    client: Client, media_files: MediaFiles, media_url: Callable[[Path], str]
) -> None:
    with client(allow_private_networks=False) as api:
        for url in (
            media_url(media_files.thumbnail),
            "http://localhost:1/thumb.jpg",
            "http://[::1]/thumb.jpg",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/x.jpg",
        ):
            answer = api.get("/api/v1/thumbnail", params={"url": url})
            assert answer.status_code == 422, url
            assert answer.json()["error"]["code"] == "blocked_address", url


def test_a_redirect_to_a_blocked_address_is_refused(
    media_files: MediaFiles, media_server: MediaServer
) -> None:
    # the media server (127.0.0.1) is allowed; where its redirect points (127.0.0.2) is not
    proxy = ThumbnailProxy(NetGuard.create(allowed_networks=["127.0.0.1/32"]))
    target = f"http://127.0.0.2:{media_server.port}/thumb.jpg"

    with pytest.raises(BlockedAddress):
        proxy.fetch(media_server.redirect_url(target))
    assert proxy.fetch(media_server.redirect_url(media_server.url("thumb.jpg"))).content == (
        media_files.thumbnail.read_bytes()
    )


@pytest.mark.parametrize("name", ["page.html", "sample.mp4", "sample.en.vtt"])
def test_anything_but_an_image_is_refused(
    client: Client, media_server: MediaServer, name: str
) -> None:
    with client() as api:
        answer = api.get("/api/v1/thumbnail", params={"url": media_server.url(name)})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "unsupported_media"


def test_an_image_type_with_other_bytes_is_refused(client: Client, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "fake.jpg").write_text("<svg onload='alert(1)'></svg>")
    (tmp_path / "site" / "vector.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    with MediaServer(tmp_path / "site") as site, client() as api:
        for name in ("fake.jpg", "vector.svg"):
            answer = api.get("/api/v1/thumbnail", params={"url": site.url(name)})
            assert answer.status_code == 422, name
            assert answer.json()["error"]["code"] == "unsupported_media", name


def test_an_image_over_the_size_cap_is_refused(tmp_path: Path, media_files: MediaFiles) -> None:
    (tmp_path / "site").mkdir()
    big = tmp_path / "site" / "huge.jpg"
    big.write_bytes(media_files.thumbnail.read_bytes() + b"\0" * 3_000_000)
    with MediaServer(tmp_path / "site") as site:
        proxy = ThumbnailProxy(NetGuard.create(allow_private=True))

        with pytest.raises(ResponseTooLarge):
            proxy.fetch(site.url("huge.jpg"))
        with pytest.raises(ResponseTooLarge):
            proxy.fetch(site.chunked_url("huge.jpg"))  # no Content-Length: counted as it arrives


def test_errors_of_the_origin_read_as_errors(client: Client, media_server: MediaServer) -> None:
    with client() as api:
        missing = api.get("/api/v1/thumbnail", params={"url": media_server.status_url(404)})
        assert missing.status_code == 502 and missing.json()["error"]["code"] == "origin_error"
        for url in ("file:///etc/passwd", "ftp://example.com/x.jpg", "not a url"):
            answer = api.get("/api/v1/thumbnail", params={"url": url})
            assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_url"


def test_a_thumbnail_is_fetched_once_then_served_from_the_cache(
    media_files: MediaFiles, media_server: MediaServer
) -> None:
    now = [0.0]
    proxy = ThumbnailProxy(NetGuard.create(allow_private=True), clock=lambda: now[0])
    url = media_server.url("thumb.jpg")
    media_server.clear_requests()
    first, second = proxy.fetch(url), proxy.fetch(url)
    assert first == second
    assert len(media_server.requests_for("thumb.jpg")) == 1
    now[0] += 3600  # past the cache's lifetime: fetched again
    proxy.fetch(url)
    assert len(media_server.requests_for("thumb.jpg")) == 2
