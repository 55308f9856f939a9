"""Which addresses may receive webhooks: checked when a job or an endpoint names one, and
again (at connect time) on every delivery."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from clipmill.accounts.principal import Principal
from clipmill.errors import InvalidOption, InvalidUrl, UnknownHost
from clipmill.jobs.enums import JobKind
from clipmill.jobs.service import WEBHOOK_OPTION, CreateCheck
from clipmill.media.netguard import NetGuard

MAX_URL_LENGTH = 2048


def check_webhook_url(guard: NetGuard, url: object, *, field: str = "url") -> str:
    """``url`` if it may receive webhooks; InvalidOption naming ``field`` if it is not an
    http(s) URL without credentials, or the guard's error (blocked_address, unknown_host)."""
    if not isinstance(url, str) or not url or url != url.strip():
        raise InvalidOption(f"{field} must be an http(s) URL (no spaces around it).", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise InvalidOption(f"{field} is longer than {MAX_URL_LENGTH} characters.", field=field)
    try:
        parts = urllib.parse.urlsplit(url)
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError as exc:
        raise InvalidOption(f"{field} is malformed: {exc}", field=field) from exc
    if has_credentials:
        raise InvalidOption(
            f"{field} must not carry credentials; deliveries are signed instead.", field=field
        )
    try:
        guard.check_url(url)
    except UnknownHost:
        raise
    except InvalidUrl as exc:
        raise InvalidOption(f"{field}: {exc.message}", field=field) from exc
    return url


def job_option_check(guard: NetGuard) -> CreateCheck:
    """A `JobService` check: a job's ``webhook_url``, if it has one, must pass the above."""

    def check(owner: Principal, kind: JobKind, options: Mapping[str, Any]) -> None:
        url = options.get(WEBHOOK_OPTION)
        if url is not None:
            check_webhook_url(guard, url, field=WEBHOOK_OPTION)

    return check
