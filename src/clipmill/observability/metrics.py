"""Prometheus metrics, fed by the job event bus (so every job kind is counted the same way).

Each container has its own registry: tests build many containers in one process.

In scaled mode every process serves its own metrics (docs/scaling.md): counters listen to the
events this process published only (``local_only``), so summing all processes counts each event
once; the gauges read the database or the queue, the same value everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from clipmill.events.bus import EventBus, JobEventMessage
from clipmill.jobs.stats import JobStats

if TYPE_CHECKING:
    from clipmill.queue.base import JobQueue

_TERMINAL = {"completed", "failed", "cancelled"}


class Metrics:
    def __init__(
        self,
        bus: EventBus,
        queue: JobQueue,
        stats: JobStats,
        *,
        running: Callable[[], int] | None = None,
    ) -> None:
        """``running`` counts the jobs running now (default: this process's queue's)."""
        self.registry = CollectorRegistry()
        self.stats = stats
        self.events = Counter(
            "clipmill_job_events_total",
            "Job events by type and status.",
            ["type", "status"],
            registry=self.registry,
        )
        self.finished = Counter(
            "clipmill_jobs_finished_total",
            "Jobs that reached a final status.",
            ["status"],
            registry=self.registry,
        )
        self.failures = Counter(
            "clipmill_job_failures_total",
            "Failed jobs by error code.",
            ["code"],
            registry=self.registry,
        )
        self.download_speed = Histogram(
            "clipmill_download_speed_bytes_per_second",
            "Download speed samples.",
            buckets=(1e4, 1e5, 1e6, 1e7, 5e7, 1e8, 1e9),
            registry=self.registry,
        )
        self.duration = Histogram(
            "clipmill_job_duration_seconds",
            "Run time of finished jobs (started to finished), by kind and final status.",
            ["kind", "status"],
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "clipmill_job_queue_wait_seconds",
            "Time from a job's creation to the start of its first attempt, by kind.",
            ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
            registry=self.registry,
        )
        self.bytes_out = Counter(
            "clipmill_job_output_bytes_total",
            "Bytes of the files completed jobs produced, by kind.",
            ["kind"],
            registry=self.registry,
        )
        stored_bytes = Gauge(
            "clipmill_storage_bytes", "Bytes of files kept now.", registry=self.registry
        )
        stored_bytes.set_function(lambda: stats.stored()[1])
        stored_files = Gauge("clipmill_storage_files", "Files kept now.", registry=self.registry)
        stored_files.set_function(lambda: stats.stored()[0])
        count_running = running
        running_gauge = Gauge("clipmill_jobs_running", "Jobs running now.", registry=self.registry)
        running_gauge.set_function(count_running or (lambda: len(queue.running())))
        queued = Gauge("clipmill_jobs_queued", "Jobs waiting for a worker.", registry=self.registry)
        queued.set_function(queue.depth)
        self._unsubscribe = bus.add_listener(self._observe, local_only=True)

    def _observe(self, msg: JobEventMessage) -> None:
        self.events.labels(msg.type, msg.status).inc()
        if msg.type == "status" and msg.status in _TERMINAL:
            self.finished.labels(msg.status).inc()
            self._finished(msg)
            error = msg.data.get("error")
            if msg.status == "failed" and isinstance(error, dict):
                self.failures.labels(str(error.get("code"))).inc()
        speed = msg.data.get("speed")
        if msg.type == "progress" and isinstance(speed, int | float) and speed > 0:
            self.download_speed.observe(speed)

    def _finished(self, msg: JobEventMessage) -> None:
        facts = self.stats.facts(msg.job_id)
        if facts is None:
            return
        kind, wait, run, size = facts
        if wait is not None:
            self.queue_wait.labels(kind).observe(max(0.0, wait))
        if run is not None:
            self.duration.labels(kind, msg.status).observe(max(0.0, run))
        if msg.status == "completed" and size:
            self.bytes_out.labels(kind).inc(size)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def close(self) -> None:
        self._unsubscribe()
