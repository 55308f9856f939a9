"""Keep longer is the owner's: another user's job is a 404 and stays as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clipmill.jobs.enums import JobKind
from tests.accounts.conftest import AuthApp


def test_another_users_job_cannot_be_kept_longer(
    make_app: Callable[..., AuthApp], tmp_path: Path
) -> None:
    app = make_app()
    alice, bob = app.user("alice"), app.user("bob")
    me = app.client.get("/api/v1/auth/me", headers=alice).json()
    owner = app.container.accounts.principal_for(me["id"])
    job = app.container.jobs.create(owner, JobKind.DOWNLOAD, {"url": "http://x"}, enqueue=False)
    src = tmp_path / "a.mp4"
    src.write_bytes(b"x" * 100)
    key = f"{job.id}/a.mp4"
    size = app.container.storage.put(key, src, content_type="video/mp4")
    app.container.lifecycle.add_file(
        job.id, None, role="media", key=key, name="a.mp4", size=size, content_type="video/mp4"
    )

    refused = app.client.post(f"/api/v1/jobs/{job.id}/keep", json={"days": 7}, headers=bob)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert app.container.lifecycle.load(job.id).keep_until is None

    kept = app.client.post(f"/api/v1/jobs/{job.id}/keep", json={"days": 7}, headers=alice)
    assert kept.status_code == 200, kept.text
    assert app.container.lifecycle.load(job.id).keep_until is not None
