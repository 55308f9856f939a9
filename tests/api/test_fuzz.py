"""Schemathesis over the OpenAPI description: no 5xx, and every answer matches the schema.

`make test` runs a bounded number of cases per operation; `make fuzz` runs many more
(``CLIPMILL_FUZZ_EXAMPLES``). Jobs the fuzzer creates run no-op pipelines and the media fetcher
is a fake, so no case reaches yt-dlp or the network; every check is on the API itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from clipmill.api.app import create_app
from clipmill.jobs.enums import JobKind
from clipmill.media.testing import FakeFetcher
from clipmill.pipeline.context import JobContext
from tests.support.containers import make_container

EXAMPLES = int(os.environ.get("CLIPMILL_FUZZ_EXAMPLES", "25"))

pytestmark = pytest.mark.skipif(
    os.environ.get("CLIPMILL_TEST_AUTH", "none") != "none",
    reason="fuzzed once, in the embedded mode; in users mode it would fuzz 401s",
)

#: a schema-valid request may still be refused for what no schema can say: a URL that does not
#: resolve or points at a private address, a job in the wrong state, media that is not media
SEMANTIC = [positive_data_acceptance]


def _nothing(ctx: JobContext) -> None:
    ctx.result = {"fuzzed": True}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = Path(tmp_path_factory.mktemp("fuzz"))
    container = make_container(
        data,
        {kind: _nothing for kind in JobKind},
        fetcher=FakeFetcher({}),
        max_concurrent_jobs=2,
        max_upload_size=1024 * 1024,
    )
    app = create_app(container=container)
    container.start(sweeper=False)
    yield app
    container.stop()


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_api_answers_within_its_schema(
    fuzz_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every operation, ``EXAMPLES`` generated cases each; a failure names the case to replay."""
    failures: list[str] = []
    calls = 0
    operations = _operations(fuzz_app)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(excluded_checks=SEMANTIC)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    with capsys.disabled():
        print(f"\nfuzz: {calls} cases over {len(operations)} operations, {len(failures)} failing")
    assert not failures, "\n\n".join(failures)
