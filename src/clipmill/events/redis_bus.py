"""Job events across processes: Redis pub/sub on one channel, delivered locally by each process.

A process publishes an event to its own subscribers and listeners at once (so a worker's own
runner and a lone process never wait on Redis), and hands it to a sender thread that publishes
it on the ``clipmill:events`` channel. One listener thread per process reads that channel and
delivers what *other* processes published to this process's WebSocket/SSE subscribers and to
its listeners, except those added with ``local_only`` (metrics and webhook triggers count an
event once, in the process that made it).

Pub/sub is fire and forget, and that is the contract of the bus: a subscriber that misses an
event (Redis restarting) still reads the job's state from the store when it (re)connects. After
a lost connection both threads reconnect with a capped backoff; publishing never blocks a job
(a full send buffer drops the oldest ticks).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from clipmill.events.bus import InMemoryEventBus, JobEventMessage, Listener, Subscription

log = logging.getLogger(__name__)

CHANNEL = "clipmill:events"
_BACKOFF_MAX = 5.0


def encode(message: JobEventMessage, origin: str) -> bytes:
    return json.dumps({"origin": origin, "event": message.to_dict()}, default=str).encode()


def decode(raw: bytes) -> tuple[str, JobEventMessage]:
    body: dict[str, Any] = json.loads(raw)
    event = dict(body["event"])
    event["timestamp"] = datetime.fromisoformat(event["timestamp"])
    return str(body["origin"]), JobEventMessage(**event)


class RedisEventBus:
    """The scaled `EventBus`: this process's events at once, every other process's via Redis."""

    def __init__(self, url: str, *, channel: str = CHANNEL, buffer: int = 10_000) -> None:
        self._url = url
        self._channel = channel
        self._origin = uuid.uuid4().hex
        self._local = InMemoryEventBus()
        self._remote = InMemoryEventBus()
        """Only the listeners that also want other processes' events."""
        self._outbox: queue.Queue[bytes | None] = queue.Queue(buffer)
        self._stop = threading.Event()
        self._client = Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=15
        )
        self._subscribed = threading.Event()
        self._threads = [
            threading.Thread(target=self._send_loop, name="clipmill-bus-send", daemon=True),
            threading.Thread(target=self._listen_loop, name="clipmill-bus-listen", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- EventBus -------------------------------------------------------------------------------
    def publish(self, message: JobEventMessage) -> None:
        self._local.publish(message)
        raw = encode(message, self._origin)
        while True:
            try:
                self._outbox.put_nowait(raw)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):  # drop the oldest: the store keeps state
                    self._outbox.get_nowait()

    def subscribe(self, job_id: str) -> Subscription:
        return self._local.subscribe(job_id)

    def add_listener(self, listener: Listener, *, local_only: bool = False) -> Callable[[], None]:
        remove_local = self._local.add_listener(listener)
        if local_only:
            return remove_local
        remove_remote = self._remote.add_listener(listener)

        def remove() -> None:
            remove_local()
            remove_remote()

        return remove

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._outbox.put_nowait(None)
        for thread in self._threads:
            thread.join(5)
        self._client.close()
        self._local.close()
        self._remote.close()

    def wait_subscribed(self, timeout: float) -> bool:
        """Whether the listener is subscribed (tests and start-up checks)."""
        return self._subscribed.wait(timeout)

    # -- threads --------------------------------------------------------------------------------
    def _send_loop(self) -> None:
        backoff = 0.1
        pending: bytes | None = None
        while not self._stop.is_set():
            if pending is None:
                pending = self._outbox.get()
                if pending is None:
                    return
            try:
                self._client.publish(self._channel, pending)
                pending, backoff = None, 0.1
            except RedisError:
                log.warning("event bus: Redis unreachable; retrying in %.1fs", backoff)
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, _BACKOFF_MAX)

    def _listen_loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                self._subscribed.set()
                backoff = 0.1
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=0.5)
                    if item is not None and item.get("type") == "message":
                        self._deliver(item["data"])
            except RedisError:
                self._subscribed.clear()
                log.warning("event bus: lost Redis; resubscribing in %.1fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
            finally:
                with contextlib.suppress(RedisError):
                    pubsub.close()

    def _deliver(self, raw: bytes) -> None:
        try:
            origin, message = decode(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("event bus: dropped a malformed message")
            return
        if origin == self._origin:
            return  # delivered locally when it was published
        self._local.deliver_to_subscribers(message)
        self._remote.publish(message)
