"""The delivery workers: take due deliveries from the outbox, sign them, send them, record.

Retries back off exponentially with jitter (about 10 s, 30 s, 2 min, 10 min, 30 min, then
hourly with the default base) until ``max_attempts``; a blocked address, a malformed URL, an
endpoint that is gone (410) or one its owner switched off ends a delivery at once.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from clipmill import __version__
from clipmill.clock import Clock
from clipmill.webhooks.outbox import Claimed, Outbox
from clipmill.webhooks.sender import Outcome, WebhookSender
from clipmill.webhooks.signing import signature

log = logging.getLogger(__name__)

BACKOFF_STEPS = (1, 3, 12, 60, 180, 360)
"""Multiples of the backoff base before each retry; the last one repeats."""
IDLE_WAIT = 5.0
"""Longest sleep between looks at the outbox (real seconds), so a moved test clock is seen."""
USER_AGENT = f"clipmill-webhooks/{__version__}"
GONE = 410


def backoff_delay(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), ±20 % jitter."""
    step = BACKOFF_STEPS[min(max(attempt, 1), len(BACKOFF_STEPS)) - 1]
    return base * step * (rng or random.Random()).uniform(0.8, 1.2)


@dataclass(frozen=True)
class Target:
    """Where a claimed delivery goes now and the secret that signs it."""

    url: str
    secret: str


Resolve = Callable[[Claimed], "Target | Outcome"]
"""Finds a delivery's current target, or a final outcome (its endpoint was switched off)."""


def signed_request(claimed: Claimed, secret: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt."""
    body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Clipmill-Event": claimed.event,
        "X-Clipmill-Delivery": claimed.id,
        "X-Clipmill-Timestamp": str(timestamp),
        "X-Clipmill-Signature": signature(secret, timestamp, body),
    }
    return body, headers


class Dispatcher:
    """A few daemon threads sending due deliveries; `wake` when a new one is queued."""

    def __init__(
        self,
        outbox: Outbox,
        sender: WebhookSender,
        resolve: Resolve,
        clock: Clock,
        *,
        max_attempts: int,
        backoff_base: float,
        workers: int,
        lease: float,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.resolve = resolve
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.lease = lease
        self._workers = workers
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        for n in range(self._workers):
            thread = threading.Thread(target=self._loop, name=f"webhooks-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self.wake()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the workers; an attempt in flight ends on its own (its lease covers it)."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> bool:
        """Send one due delivery; False when none was due."""
        claimed = self.outbox.claim_due(self.lease)
        if claimed is None:
            return False
        self._deliver(claimed)
        return True

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before looking, so a wake during the look is not lost
            try:
                while not self._stopping.is_set() and self.run_once():
                    pass
                due = self.outbox.seconds_until_due()
            except Exception:  # the database went away for a moment: look again later
                log.exception("webhook delivery loop failed")
                due = IDLE_WAIT
            wait = IDLE_WAIT if due is None else min(max(due, 0.01), IDLE_WAIT)
            self._wake.wait(wait)

    def _deliver(self, claimed: Claimed) -> None:
        target = self.resolve(claimed)
        if isinstance(target, Outcome):
            self.outbox.settle(claimed, target, retry_in=None, url=claimed.url)
            return
        body, headers = signed_request(claimed, target.secret, int(self.clock.time()))
        outcome = self.sender.post(target.url, body, headers)
        gone = outcome.status_code == GONE
        retry_in = None
        retryable = not outcome.delivered and outcome.retry and not gone
        if retryable and claimed.attempt < self.max_attempts:
            retry_in = backoff_delay(claimed.attempt, self.backoff_base)
        if not outcome.delivered:
            log.info(
                "webhook %s attempt %d to %s: %s",
                claimed.id,
                claimed.attempt,
                target.url,
                outcome.status_code or outcome.error,
            )
        self.outbox.settle(
            claimed,
            outcome,
            retry_in=retry_in,
            url=target.url,
            disable_endpoint=gone and claimed.endpoint_id is not None,
        )
