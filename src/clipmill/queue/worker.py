"""`clipmill worker`: one process that runs jobs from the Celery queue (scaled mode).

It builds the same container as the API (`bootstrap`), marks it as running jobs, and runs a
Celery worker in this process with a *thread* pool of ``worker_concurrency``: the heavy work of
a job already runs in child processes (downloads, renders), and threads share the container
(database pool, lease keeper, event bus) the way the embedded pool does.

A warm shutdown (SIGTERM) sets the runner's shutdown signal: running jobs stop at once, keep
their work dirs, release their leases and are queued again by the next recovery, elsewhere.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from celery.signals import worker_shutting_down
from prometheus_client import start_http_server

from clipmill.bootstrap import bootstrap
from clipmill.config import QueueBackend, Settings
from clipmill.errors import DependencyMissing
from clipmill.queue.celery import QUEUE_NAME, CeleryQueue, register_runner

log = logging.getLogger(__name__)


def run_worker(settings: Settings, **seams: Any) -> int:
    """Run until told to stop; return the worker's exit code. ``seams`` go to `bootstrap`."""
    if settings.queue is not QueueBackend.CELERY:
        raise DependencyMissing("clipmill worker needs CLIPMILL_QUEUE=celery (and a Redis URL).")
    container = bootstrap(settings, **seams)
    container.runs_jobs = True
    queue = container.queue
    assert isinstance(queue, CeleryQueue)
    shutdown = threading.Event()
    register_runner(queue.app, container.runner.run, shutdown)

    def stop_jobs(**_: Any) -> None:
        shutdown.set()

    worker_shutting_down.connect(stop_jobs, weak=False)
    if settings.worker_metrics_port:
        start_http_server(
            settings.worker_metrics_port, addr=settings.host, registry=container.metrics.registry
        )
    container.start()
    try:
        worker = queue.app.Worker(
            pool="threads",
            concurrency=settings.worker_concurrency,
            hostname=f"clipmill-{os.getpid()}@{socket.gethostname()}",
            queues=[QUEUE_NAME],
            without_mingle=True,
            without_gossip=True,
            loglevel="INFO",
            quiet=True,
        )
        worker.start()
        return int(worker.exitcode or 0)
    finally:
        shutdown.set()
        container.stop()
