"""Retention in Chromium: a finished card says when its files go, "Keep longer" moves the date,
a file close to deletion is flagged, and after the sweep the card says "Deleted on" with no link.

The server's time is a `FakeClock` the test moves (and sweeps); the browser's clock stays real.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import expect

from clipmill.accounts.principal import LOCAL_USER
from clipmill.clock import FakeClock
from clipmill.jobs.enums import JobKind
from clipmill.pipeline.context import JobContext
from tests.e2e.conftest import Served
from tests.support.containers import wait_terminal

DAY = 86400.0


def producing(ctx: JobContext) -> None:
    ctx.set_title("Kept talk")
    src = ctx.workdir / "out.bin"
    src.write_bytes(b"x" * 2048)
    ctx.save_file(src, role="media", name="Kept talk.mp4", content_type="video/mp4")


def _finished(app: Served) -> str:
    job = app.container.jobs.create(
        LOCAL_USER, JobKind.DOWNLOAD, {"url": "https://example.test/talk"},
        source_url="https://example.test/talk",
    )  # fmt: skip
    wait_terminal(app.container, job.id)
    return job.id


def _shown(page: Any, iso: str) -> str:
    """The date as the page writes it (the browser's locale and zone)."""
    text: str = page.evaluate(
        "(iso) => new Date(iso).toLocaleString(undefined, "
        "{dateStyle: 'medium', timeStyle: 'short'})",
        iso,
    )
    return text


def test_a_finished_card_says_when_its_files_go_keeps_them_longer_then_says_deleted(
    served: Callable[..., Served], page: Any
) -> None:
    clock = FakeClock()
    app = served({JobKind.DOWNLOAD: producing}, clock=clock)
    job_id = _finished(app)
    before = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()["retention"]["expires_at"]

    page.goto(app.at("/"))
    card = page.locator(f'[data-queue] li.job[data-job-id="{job_id}"]')
    expect(card.locator("[data-job-status]")).to_have_text("Finished")
    line = card.locator("[data-retention]")
    expect(line).to_have_attribute("data-retention", "kept")  # a week left: no warning
    expect(line.locator("[data-retention-text]")).to_have_text(
        f"Kept until {_shown(page, before)}."
    )
    expect(card.locator("a[data-file=media]")).to_be_visible()

    card.locator("[data-action=keep]").click()
    after = (datetime.fromisoformat(before) + timedelta(days=7)).isoformat()
    expect(line.locator("[data-retention-text]")).to_have_text(f"Kept until {_shown(page, after)}.")
    stored = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()["retention"]["expires_at"]
    assert datetime.fromisoformat(stored) == datetime.fromisoformat(after)

    clock.advance(15 * DAY)  # past the week it was kept longer by
    assert app.container.sweeper.sweep() == 1
    page.reload()
    expect(card.locator("[data-retention]")).to_have_attribute("data-retention", "deleted")
    expect(card.locator("[data-retention]")).to_contain_text("Deleted on ")
    expect(card.locator("[data-job-status]")).to_have_text("Finished")
    expect(card.locator("a[data-file]")).to_have_count(0)  # never a dead link
    expect(card.locator("[data-action=keep]")).to_have_count(0)

    page.goto(app.at("/history"))
    row = page.locator(f'[data-history] li.job[data-job-id="{job_id}"]')
    expect(row.locator("[data-retention]")).to_contain_text("Deleted on ")
    expect(row.locator("a[data-file]")).to_have_count(0)


def test_files_close_to_deletion_are_flagged_and_stop_at_the_servers_maximum(
    served: Callable[..., Served], page: Any
) -> None:
    # an operator keeping files 12 hours, at most 2 days: the card warns at once
    app = served({JobKind.DOWNLOAD: producing}, retention_seconds=12 * 3600,
                 retention_max_seconds=2 * 86400)  # fmt: skip
    job_id = _finished(app)
    page.goto(app.at("/history"))
    row = page.locator(f'[data-history] li.job[data-job-id="{job_id}"]')
    expect(row.locator("[data-retention]")).to_have_attribute("data-retention", "soon")
    expect(row.locator("[data-retention-text]")).to_contain_text("Files deleted soon: kept until")
    for _ in range(4):  # 12 h more each time, until the 2-day maximum
        if row.locator("[data-action=keep]").count() == 0:
            break
        was = row.locator("[data-retention-text]").inner_text()
        row.locator("[data-action=keep]").click()
        expect(row.locator("[data-retention-text]")).not_to_have_text(was)
    expect(row.locator("[data-action=keep]")).to_have_count(0)
    expect(row.locator("[data-retention]")).to_contain_text("The longest this server keeps files.")
    limit = httpx.get(app.at(f"/api/v1/jobs/{job_id}")).json()["retention"]
    assert limit["expires_at"] == limit["keep_limit"] and not limit["can_keep_longer"]
