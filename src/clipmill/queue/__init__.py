"""Queues: the in-process worker pool (embedded) and Celery on Redis (scaled)."""
