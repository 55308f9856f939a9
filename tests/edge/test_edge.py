"""The web edge, tried from outside: forged hosts, cross-site posts, headers, CORS, compression."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from clipmill.accounts.principal import LOCAL_USER
from clipmill.api.edge import host_allowed, trusted_hosts
from clipmill.jobs.enums import JobKind
from clipmill.pipeline.context import JobContext
from tests.support.api import api_client
from tests.support.containers import make_container, make_settings, wait_terminal

JOB = {"url": "http://127.0.0.1:9/video"}


def producing(ctx: JobContext) -> None:
    src = ctx.workdir / "out.bin"
    src.write_bytes(b"x" * 4096)
    ctx.save_file(src, role="media", name="clip.mp4", content_type="video/mp4")


def _client(tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    """The edge in the embedded mode, where a local service's only "credential" is where the
    request comes from (tests/accounts tries the Origin check with session cookies)."""
    settings.setdefault("auth", "none")
    container = make_container(tmp_path, {JobKind.DOWNLOAD: producing}, **settings)
    with api_client(container) as client:
        client.container = container  # type: ignore[attr-defined]
        yield client
    container.stop()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(
        tmp_path,
        base_url="https://media.example.org",
        trusted_hosts=["media.example.org", "testserver"],
        cors_origins=["https://app.example.org"],
    )


def _jobs(client: TestClient) -> int:
    return client.container.jobs.list_jobs(LOCAL_USER).total  # type: ignore[attr-defined,no-any-return]


# -- hosts -------------------------------------------------------------------------------------
def test_a_forged_host_is_refused_before_anything_runs(client: TestClient) -> None:
    for host in ("evil.example", "media.example.org.evil.example", "127.0.0.2", ""):
        response = client.get("/api/v1/jobs", headers={"host": host})
        assert response.status_code == 400, host
        assert response.json()["error"]["code"] == "untrusted_host"
    assert client.get("/api/v1/jobs", headers={"host": "media.example.org:443"}).status_code == 200


def test_signed_links_use_the_configured_base_url_not_the_host(client: TestClient) -> None:
    job = client.post("/api/v1/download", json=JOB).json()
    job_id = job.get("id") or job.get("job_id")
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    body = client.get(f"/api/v1/jobs/{job_id}", headers={"host": "testserver"}).json()
    urls = [f["url"] for f in body["files"]]
    assert urls and all(u.startswith("https://media.example.org/files/") for u in urls)


def test_default_hosts_are_loopback_plus_the_base_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, trusted_hosts=[], base_url="https://clips.example.net/")
    hosts = trusted_hosts(settings)
    assert "clips.example.net" in hosts and "localhost" in hosts and "127.0.0.1" in hosts
    assert host_allowed("[::1]:8000", hosts) and host_allowed("LOCALHOST:8000", hosts)
    assert not host_allowed("clips.example.net.attacker.io", hosts)
    assert not host_allowed("evil", hosts)
    wildcard = ["*.example.net"]
    assert host_allowed("a.example.net", wildcard) and not host_allowed("example.net.io", wildcard)


# -- cross-site requests -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "https://media.example.org.evil.example"},
        {"origin": "http://media.example.org"},  # scheme differs from the base URL's
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_a_cross_site_post_creates_nothing(client: TestClient, headers: dict[str, str]) -> None:
    before = _jobs(client)
    response = client.post("/api/v1/download", json=JOB, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cross_site_request"
    assert _jobs(client) == before


def test_a_cross_site_form_post_of_an_upload_is_refused_too(client: TestClient) -> None:
    response = client.post(
        "/api/v1/jobs/upload",
        files={"file": ("a.mp4", b"\x00" * 10, "video/mp4")},
        headers={"origin": "http://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "https://media.example.org"},
        {"origin": "http://testserver"},
        {"origin": "https://app.example.org"},
        {"sec-fetch-site": "same-origin"},
        {"origin": "http://evil.example", "x-api-key": "cm_x"},  # explicit, not ambient
    ],
)
def test_same_site_and_explicit_credentials_pass(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/download", json=JOB, headers=headers)
    assert response.status_code in (200, 201, 202), response.text


def test_reads_are_not_origin_checked(client: TestClient) -> None:
    assert client.get("/api/v1/jobs", headers={"origin": "http://evil.example"}).status_code == 200


def test_a_cross_site_websocket_is_refused(client: TestClient) -> None:
    job = client.container.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, JOB)  # type: ignore[attr-defined]
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/ws/{job.id}", headers={"origin": "http://evil.example"}) as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 4403


# -- headers, CORS, compression ----------------------------------------------------------------
def test_security_headers_on_every_kind_of_response(client: TestClient) -> None:
    for path, status in (("/api/v1/jobs", 200), ("/api/v1/jobs/nope", 404), ("/healthz", 200)):
        response = client.get(path)
        assert response.status_code == status
        h = response.headers
        assert h["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "script-src 'self'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]
        assert h["referrer-policy"] == "no-referrer"
        assert h["strict-transport-security"].startswith("max-age=")  # base URL is https


def test_no_hsts_over_plain_http(tmp_path: Path) -> None:
    for c in _client(tmp_path):
        assert "strict-transport-security" not in c.get("/healthz").headers


def test_the_api_docs_run_without_inline_script(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.text
    assert "<script>" not in html and "<script >" not in html
    assert all('src="' in tag for tag in html.split("<script")[1:])
    assert client.get("/api/docs/init.js").status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_cors_answers_the_allowlist_only(client: TestClient) -> None:
    def preflight(origin: str) -> Any:
        return client.options(
            "/api/v1/download",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-api-key",
            },
        )

    ok = preflight("https://app.example.org")
    assert ok.headers.get("access-control-allow-origin") == "https://app.example.org"
    assert preflight("http://evil.example").headers.get("access-control-allow-origin") is None
    simple = client.get("/api/v1/jobs", headers={"origin": "http://evil.example"})
    assert simple.headers.get("access-control-allow-origin") is None


def test_json_is_compressed_and_files_are_not(client: TestClient) -> None:
    for _ in range(12):
        client.post("/api/v1/download", json=JOB)
    listing = client.get("/api/v1/jobs?limit=50", headers={"accept-encoding": "gzip"})
    assert listing.headers.get("content-encoding") == "gzip"
    assert listing.json()["items"]  # httpx decoded it: it was valid gzip
    job_id = listing.json()["items"][0]["id"]
    wait_terminal(client.container, job_id)  # type: ignore[attr-defined]
    url = client.get(f"/api/v1/jobs/{job_id}").json()["files"][0]["url"]
    path = url.split("media.example.org", 1)[1]
    served = client.get(path, headers={"accept-encoding": "gzip"})
    assert served.status_code == 200
    assert "content-encoding" not in served.headers
    assert served.content == b"x" * 4096
