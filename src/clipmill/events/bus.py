"""The event bus seam: publish from any thread, subscribe from asyncio or from plain callbacks."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobEventMessage:
    """What subscribers see for every status, stage, progress or log change of a job."""

    job_id: str
    owner_id: str
    type: str
    status: str
    stage: str
    progress: float
    message: str | None
    timestamp: datetime
    parent_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["timestamp"] = self.timestamp.isoformat()
        return body


Listener = Callable[[JobEventMessage], None]


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[JobEventMessage]: ...
    async def get(self, timeout: float | None = None) -> JobEventMessage | None: ...
    def close(self) -> None: ...


class EventBus(Protocol):
    """Publishes job events to whoever listens; never blocks the publisher."""

    def publish(self, message: JobEventMessage) -> None: ...
    def subscribe(self, job_id: str) -> Subscription: ...
    def add_listener(self, listener: Listener, *, local_only: bool = False) -> Callable[[], None]:
        """Call ``listener`` for every event, in the publishing thread (so keep it quick); an
        exception it raises is logged and dropped. Returns a function that removes it.

        With ``local_only``, only events published in this process (a bus that spans processes
        delivers the others too): what must happen once per event, like counting it."""
        ...

    def close(self) -> None: ...


class _AsyncSubscription:
    """A queue bound to the subscriber's event loop; filled thread-safely by the bus."""

    def __init__(self, bus: InMemoryEventBus, job_id: str, maxsize: int = 1000) -> None:
        self._bus = bus
        self.job_id = job_id
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[JobEventMessage] = asyncio.Queue(maxsize)

    def deliver(self, message: JobEventMessage) -> None:
        def put() -> None:
            if self.queue.full():  # a slow consumer loses old ticks, never the newest state
                self.queue.get_nowait()
            self.queue.put_nowait(message)

        try:
            self.loop.call_soon_threadsafe(put)
        except RuntimeError:  # the subscriber's loop is closed
            self.close()

    async def get(self, timeout: float | None = None) -> JobEventMessage | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[JobEventMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[JobEventMessage]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        self._bus._remove(self)


class InMemoryEventBus:
    """Broadcast within one process: the embedded default and the test double."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[_AsyncSubscription]] = defaultdict(set)
        self._listeners: list[Listener] = []

    def publish(self, message: JobEventMessage) -> None:
        self.deliver_to_subscribers(message)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(message)
            except Exception:  # one broken listener must not stop the publisher (a job's end)
                log.exception("event listener %r failed", listener)

    def deliver_to_subscribers(self, message: JobEventMessage) -> None:
        """Hand ``message`` to the job's subscribers only (not to listeners)."""
        with self._lock:
            subs = list(self._subs.get(message.job_id, ()))
        for sub in subs:
            sub.deliver(message)

    def subscribe(self, job_id: str) -> Subscription:
        sub = _AsyncSubscription(self, job_id)
        with self._lock:
            self._subs[job_id].add(sub)
        return sub

    def add_listener(self, listener: Listener, *, local_only: bool = False) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _remove(self, sub: _AsyncSubscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.job_id]

    def close(self) -> None:
        with self._lock:
            self._subs.clear()
            self._listeners.clear()
