"""Prometheus metrics, fed by the job event bus (so every job kind is counted the same way).

Each container has its own registry: tests build many containers in one process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from clipmill.events.bus import EventBus, JobEventMessage

if TYPE_CHECKING:
    from clipmill.queue.local import LocalQueue

_TERMINAL = {"completed", "failed", "cancelled"}


class Metrics:
    def __init__(self, bus: EventBus, queue: LocalQueue) -> None:
        self.registry = CollectorRegistry()
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
        running = Gauge("clipmill_jobs_running", "Jobs running now.", registry=self.registry)
        running.set_function(lambda: len(queue.running()))
        queued = Gauge("clipmill_jobs_queued", "Jobs waiting for a worker.", registry=self.registry)
        queued.set_function(queue.depth)
        self._unsubscribe = bus.add_listener(self._observe)

    def _observe(self, msg: JobEventMessage) -> None:
        self.events.labels(msg.type, msg.status).inc()
        if msg.type == "status" and msg.status in _TERMINAL:
            self.finished.labels(msg.status).inc()
            error = msg.data.get("error")
            if msg.status == "failed" and isinstance(error, dict):
                self.failures.labels(str(error.get("code"))).inc()
        speed = msg.data.get("speed")
        if msg.type == "progress" and isinstance(speed, int | float) and speed > 0:
            self.download_speed.observe(speed)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def close(self) -> None:
        self._unsubscribe()
