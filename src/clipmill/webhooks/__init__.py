"""Webhooks: signed JSON events about jobs, sent to the job's own URL and the owner's endpoints."""
