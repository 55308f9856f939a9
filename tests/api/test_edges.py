"""The API's edges: every answer is the JSON envelope, sizes are bounded, OPTIONS and the
OpenAPI description tell the truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clipmill.accounts.principal import LOCAL_USER
from clipmill.downloads.schemas import DownloadRequest
from clipmill.jobs.enums import JobKind
from tests.support.api import api_client
from tests.support.containers import Gate, make_container, wait_for


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def client(tmp_path: Path, gate: Gate) -> Iterator[TestClient]:
    container = make_container(
        tmp_path, {JobKind.DOWNLOAD: gate}, max_body_bytes=64 * 1024, max_header_bytes=8192
    )
    with api_client(container, raise_server_exceptions=False) as c:
        c.container = container  # type: ignore[attr-defined]
        yield c
    container.stop()


def error(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()["error"]
    assert set(body) >= {"code", "message"}
    return body


@pytest.mark.parametrize(
    "query",
    ["offset=9223372036854775808", "offset=-1", "limit=0", "limit=99999999999999999999",
     "parent_id=", "status=nope", "type=nope"],
)  # fmt: skip
def test_bad_list_queries_are_422_envelopes(client: TestClient, query: str) -> None:
    response = client.get(f"/api/v1/jobs?{query}")
    assert response.status_code == 422
    assert error(response)["code"] == "invalid_option"


def test_clipx_download_with_a_bad_resolution_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/download", json={"url": "http://127.0.0.1/x.mp4", "resolution": "4k"}
    )
    assert response.status_code == 422
    assert "quality" in error(response)["message"]


def test_a_huge_json_body_is_413_before_it_is_parsed(client: TestClient) -> None:
    big = b'{"url": "http://127.0.0.1/x", "filename": "' + b"a" * 200_000 + b'"}'
    response = client.post(
        "/api/v1/download", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and error(response)["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"url": "http://127.0.0.1/x", "filename": "'
        for _ in range(20):
            yield b"a" * 10_000
        yield b'"}'

    response = client.post(
        "/api/v1/download", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and error(response)["code"] == "payload_too_large"


def test_huge_headers_are_431(client: TestClient) -> None:
    response = client.get("/api/v1/jobs", headers={"x-padding": "a" * 20_000})
    assert response.status_code == 431 and error(response)["code"] == "headers_too_large"


def test_unexpected_errors_are_500_envelopes_without_details(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = client.container  # type: ignore[attr-defined]

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internals at /srv/clipmill/data")

    monkeypatch.setattr(container.jobs, "list_jobs", broken)
    response = client.get("/api/v1/jobs")
    assert response.status_code == 500
    body = error(response)
    assert body["code"] == "internal_error" and "/srv" not in body["message"]


def test_options_names_the_methods_of_the_path(client: TestClient) -> None:
    response = client.options("/api/v1/jobs")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    job = client.options("/api/v1/jobs/some-id/cancel")
    assert set(job.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    missing = client.options("/api/v1/nothing-here")
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"
    wrong = client.delete("/api/v1/jobs")
    assert wrong.status_code == 405 and error(wrong)["code"] == "method_not_allowed"


def test_only_failed_or_cancelled_jobs_can_be_retried(client: TestClient, gate: Gate) -> None:
    container = client.container  # type: ignore[attr-defined]
    job = container.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://x"})
    wait_for(lambda: job.id in gate.started)
    response = client.post(f"/api/v1/jobs/{job.id}/retry", json={"force": True})
    assert response.status_code == 409 and error(response)["code"] == "invalid_transition"
    assert client.get(f"/api/v1/jobs/{job.id}").json()["status"] == "processing"
    gate.release.set()


@pytest.mark.parametrize(
    ("url", "code"),
    [("ftp://127.0.0.1/x.mp4", "invalid_url"), ("file:///etc/passwd", "invalid_url"),
     ("not a url", "invalid_url"), ("http://10.0.0.1/x.mp4", "blocked_address")],
)  # fmt: skip
def test_bad_urls_have_stable_codes(tmp_path: Path, url: str, code: str) -> None:
    container = make_container(tmp_path, allow_private_networks=False)
    with api_client(container) as c:
        response = c.post("/api/v1/download", json={"url": url})
    container.stop()
    assert response.status_code == 422 and error(response)["code"] == code


def test_every_operation_documents_its_errors_with_the_envelope(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "ErrorEnvelope" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            codes = {int(c) for c in operation["responses"] if c.isdigit()}
            assert {422, 500} <= codes, (method, path)
            if "{" in path:
                assert 404 in codes, (method, path)
            for code in codes - {200, 201, 202, 204}:
                schema = operation["responses"][str(code)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path)


def test_the_documented_request_examples_are_valid(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    examples = spec["components"]["schemas"]["DownloadRequest"]["examples"]
    assert examples
    for example in examples:
        DownloadRequest.model_validate(example)
        response = client.post("/api/v1/download", json=example)
        # refused only because example.com cannot be reached from here
        assert response.status_code in (422, 502)
        assert error(response)["code"] in ("blocked_address", "unknown_host"), example
