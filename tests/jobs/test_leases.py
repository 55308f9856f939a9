"""Leases: recovery takes the jobs of lost workers only, and gives up on a job that keeps
losing its worker (the dead-letter state)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from clipmill.accounts.principal import LOCAL_USER
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.leases import LeaseKeeper, WorkerId, owner_gone
from clipmill.jobs.models import Job, utcnow
from clipmill.queue.celery import celery_priority
from tests.support.containers import make_container


def claimed_by(c, keeper: LeaseKeeper, **lease: object) -> str:  # type: ignore[no-untyped-def]
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
    c.lifecycle.submit(job.id)
    assert c.lifecycle.claim(job.id, lease_owner=keeper.owner, lease_until=keeper.expiry())
    if lease:
        with c.sessions() as session, session.begin():
            session.execute(update(Job).where(Job.id == job.id).values(**lease))
    return str(job.id)


def test_a_live_workers_jobs_stay_and_a_lost_workers_jobs_return(tmp_path: Path) -> None:
    c = make_container(tmp_path)
    live = LeaseKeeper(c.sessions, 60)
    live.start()
    try:
        running = claimed_by(c, live)
        expired = claimed_by(c, live, lease_expires_at=utcnow() - timedelta(seconds=1))
        other_host = claimed_by(c, live, lease_owner="elsewhere/1/1/abc")
        # a process of this host that has ended
        done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        gone = str(WorkerId(socket.gethostname(), int(done.stdout), "1", "x"))
        dead = claimed_by(c, live, lease_owner=gone)
        again = {j.id for j in c.lifecycle.requeue_lost(queued=False)}
        assert again == {expired, dead}
        statuses = {j: c.lifecycle.load(j).status for j in (running, other_host)}
        assert set(statuses.values()) == {JobStatus.PROCESSING}
        live.hold(running)
        assert live.renew() == 1
    finally:
        live.stop()
    # a stopped keeper in this very process is a lost worker too
    assert owner_gone(live.owner)
    assert {j.id for j in c.lifecycle.requeue_lost(queued=False)} == {running}
    c.stop()


def test_a_job_that_keeps_losing_its_worker_fails_too_many_attempts(tmp_path: Path) -> None:
    c = make_container(tmp_path)
    keeper = LeaseKeeper(c.sessions, 60)  # never started: its owner counts as gone
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
    c.lifecycle.submit(job.id)
    for attempt in (1, 2, 3):
        claimed = c.lifecycle.claim(job.id, lease_owner=keeper.owner, lease_until=keeper.expiry())
        assert claimed is not None and claimed.attempts == attempt
        again = c.lifecycle.requeue_lost(queued=False, max_lost=3)
        assert [j.id for j in again] == ([job.id] if attempt < 3 else [])
    ended = c.lifecycle.load(job.id)
    assert (ended.status, ended.error_code) == (JobStatus.FAILED, "too_many_attempts")
    # a user's retry starts a fresh count
    c.jobs.retry(LOCAL_USER, job.id)
    assert c.lifecycle.claim(job.id, lease_owner=keeper.owner, lease_until=keeper.expiry())
    assert [j.id for j in c.lifecycle.requeue_lost(queued=False, max_lost=3)] == [job.id]
    c.stop()


def test_a_clean_stop_is_not_a_lost_attempt(tmp_path: Path) -> None:
    c = make_container(tmp_path)
    keeper = LeaseKeeper(c.sessions, 60)
    job = c.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {}, enqueue=False)
    c.lifecycle.submit(job.id)
    for _ in range(5):
        claimed = c.lifecycle.claim(job.id, lease_owner=keeper.owner, lease_until=keeper.expiry())
        assert claimed is not None
        c.lifecycle.release(job.id, claimed.attempts)  # a worker's warm shutdown
        assert [j.id for j in c.lifecycle.requeue_lost(queued=False, max_lost=3)] == [job.id]
    assert c.lifecycle.load(job.id).status is JobStatus.QUEUED
    c.stop()


def test_job_priorities_map_onto_redis_priority_steps() -> None:
    steps = [celery_priority(p) for p in range(10, -11, -1)]
    assert steps[0] == 0 and steps[-1] == 9 and celery_priority(0) == 5
    assert steps == sorted(steps)  # a higher job priority is never served later
    assert celery_priority(99) == 0 and celery_priority(-99) == 9
