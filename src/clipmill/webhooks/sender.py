"""One HTTP attempt of one delivery, through the network guard.

The URL's host is resolved and checked first, and the connection is checked again at connect
time on the address really used (`clipmill.media.netguard.enforce`), so neither DNS rebinding
nor a redirect (never followed) can land a delivery on a private address.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from clipmill.errors import BlockedAddress, InvalidUrl, UnknownHost
from clipmill.media.netguard import NetGuard, enforce
from clipmill.observability.redact import redact

MAX_ERROR = 300


@dataclass(frozen=True)
class Outcome:
    """How an attempt went: ``status_code`` if the receiver answered, else ``error``."""

    status_code: int | None = None
    error: str | None = None
    retry: bool = True
    """False when trying again cannot help (the guard refused the address, a malformed URL)."""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """POSTs signed bodies; never follows redirects, never reads more than the status line."""

    def __init__(self, guard: NetGuard, *, timeout: float) -> None:
        self.guard = guard
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            self.guard.check_url(url)
        except BlockedAddress as exc:
            return Outcome(error=_short(f"{exc.code}: {exc.message}"), retry=False)
        except UnknownHost as exc:  # DNS may come back: try again later
            return Outcome(error=_short(f"{exc.code}: {exc.message}"))
        except InvalidUrl as exc:
            return Outcome(error=_short(f"{exc.code}: {exc.message}"), retry=False)
        with enforce(self.guard) as audit:
            try:
                with (
                    httpx.Client(
                        trust_env=False, follow_redirects=False, timeout=self.timeout
                    ) as client,
                    client.stream("POST", url, content=body, headers=headers) as response,
                ):
                    # the body is not ours to read: the status says all, and a huge or endless
                    # answer must not hold a worker
                    return Outcome(status_code=response.status_code)
            except httpx.HTTPError as exc:
                blocked = audit.first
                if blocked is not None:
                    return Outcome(error=_short(f"{blocked.code}: {blocked.message}"), retry=False)
                return Outcome(error=_short(f"{type(exc).__name__}: {exc}"))


def _short(text: str) -> str:
    text = redact(text.strip()) or "no answer"
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"
