"""A download job end to end in scaled mode: the API sends it, a worker process runs it.

The test is the embedded suite's own (tests/downloads); only the `client` fixture differs: an
API on PostgreSQL + Redis with two `clipmill worker` processes.
"""

from __future__ import annotations

import pytest

from tests.downloads.test_download_service import (
    test_download_mp4_through_the_api_and_fetch_the_file as _download_mp4,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

test_download_mp4_scaled = _download_mp4
