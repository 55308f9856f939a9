"""Rate limits shared through Redis: two API processes spend one budget.

The Redis part runs against a real ``redis-server`` on a free loopback port, and is skipped
where the binary is missing (``make test`` installs it).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from clipmill.accounts.limits import RateLimiter, limits_storage_uri
from tests.support.containers import make_settings
from tests.support.redis_server import RedisServer


def test_counters_live_in_redis_when_clipmill_has_one(tmp_path: Path) -> None:
    assert limits_storage_uri(make_settings(tmp_path)) == "memory://"
    with_redis = make_settings(tmp_path, redis_url="redis://cache:6379/0")
    assert limits_storage_uri(with_redis) == "redis://cache:6379/0"
    chosen = make_settings(tmp_path, redis_url="redis://cache:6379/0",
                           rate_limit_storage="redis://limits:6379/3")  # fmt: skip
    assert limits_storage_uri(chosen) == "redis://limits:6379/3"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def test_two_processes_share_one_budget(redis_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url=redis_url, rate_limit_jobs="3/minute")
    api_a, api_b = RateLimiter(settings), RateLimiter(settings)  # as two API processes would
    try:
        assert "redis" in type(api_a.storage).__name__.lower()
        spent = [api_a.hit(api_a.jobs, "jobs", "user:1"), api_b.hit(api_b.jobs, "jobs", "user:1"),
                 api_a.hit(api_a.jobs, "jobs", "user:1")]  # fmt: skip
        assert [v.allowed for v in spent] == [True, True, True]
        refused = api_b.hit(api_b.jobs, "jobs", "user:1")
        assert not refused.allowed and refused.remaining == 0
        assert int(refused.headers()["Retry-After"]) >= 1
        assert api_b.hit(api_b.jobs, "jobs", "user:2").allowed, "budgets are per caller"
    finally:
        api_a.reset()


def test_a_container_with_redis_limits_refuses_the_fourth_job(
    redis_url: str, tmp_path: Path
) -> None:
    from clipmill.accounts.principal import LOCAL_USER
    from clipmill.errors import RateLimited
    from clipmill.jobs.enums import JobKind
    from tests.support.containers import make_container

    first = make_container(tmp_path / "a", redis_url=redis_url, rate_limit_jobs="2/minute")
    second = make_container(tmp_path / "b", redis_url=redis_url, rate_limit_jobs="2/minute")
    try:
        first.limiter.reset()
        first.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://x"})
        second.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://x"})
        with pytest.raises(RateLimited):
            first.jobs.create(LOCAL_USER, JobKind.DOWNLOAD, {"url": "http://x"})
    finally:
        first.limiter.reset()
        first.stop()
        second.stop()
