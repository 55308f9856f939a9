"""Signed links live as long as their file unless the operator sets a lifetime; presigned (S3)
links last until the file goes, within SigV4's seven days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clipmill.clock import FakeClock
from clipmill.errors import Forbidden
from clipmill.storage.signing import PRESIGNED_MAX_SECONDS, LinkSigner, link_ttl


def test_without_a_lifetime_a_link_a_month_old_still_verifies() -> None:
    clock = FakeClock()
    signer = LinkSigner("k", ttl=None, clock=clock)
    token = signer.sign("file-1")
    clock.advance(30 * 86400)
    assert signer.verify(token) == "file-1"  # the file route answers 410 once the file is gone


def test_an_operators_lifetime_still_applies() -> None:
    clock = FakeClock()
    signer = LinkSigner("k", ttl=60, clock=clock)
    token = signer.sign("file-1")
    clock.advance(61)
    with pytest.raises(Forbidden) as err:
        signer.verify(token)
    assert err.value.code == "link_expired"


@pytest.mark.parametrize(
    ("remaining", "cap", "expected"),
    [
        (timedelta(days=2), None, 2 * 86400),  # until the file goes
        (timedelta(days=30), None, PRESIGNED_MAX_SECONDS),  # SigV4's limit
        (timedelta(days=2), 3600, 3600),  # the operator's lifetime
        (timedelta(seconds=-5), None, 60),  # due but not swept yet: a short, working link
    ],
)
def test_presigned_links_last_until_the_file_goes(
    remaining: timedelta, cap: int | None, expected: int
) -> None:
    assert link_ttl(remaining, cap) == expected
