"""Stop the work a request started when its client goes away.

A preview probes a URL for up to ``probe_timeout`` seconds in a child process. A client that
gives up earlier would otherwise leave it running, reading from the origin for nobody; so the
route runs the (blocking) service call in a worker thread with a cancel event and sets it as
soon as the ASGI server reports the disconnect.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from starlette.requests import Request

T = TypeVar("T")

DISCONNECT_POLL = 0.25
"""Seconds between looks at whether the client is still there."""


async def until_disconnected(request: Request, work: Callable[[threading.Event], T]) -> T:
    """``work(cancel)`` in a worker thread; ``cancel`` is set when the client disconnects.

    Returns what ``work`` returns or raises what it raises (JobCancelled, typically, after a
    disconnect; nobody is left to see that answer).
    """
    cancel = threading.Event()

    async def watch() -> None:
        while not await request.is_disconnected():
            await anyio.sleep(DISCONNECT_POLL)
        cancel.set()

    outcome: list[T] = []
    failure: list[Exception] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch)
        try:
            outcome.append(await anyio.to_thread.run_sync(work, cancel))
        except Exception as exc:  # raised below, outside the group (which would wrap it)
            failure.append(exc)
        tasks.cancel_scope.cancel()
    if failure:
        raise failure[0]
    return outcome[0]
