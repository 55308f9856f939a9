"""The job state machine, shared by every kind.

pending -> queued -> processing -> completed | failed
pending | queued | processing -> cancelled
failed | cancelled -> queued          (retry)
processing -> queued                  (recovery: the worker running it was lost)
"""

from __future__ import annotations

from clipmill.errors import InvalidTransition
from clipmill.jobs.enums import JobStatus

S = JobStatus

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.PENDING: frozenset({S.QUEUED, S.CANCELLED}),
    S.QUEUED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.QUEUED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset({S.QUEUED}),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: JobStatus, target: JobStatus) -> None:
    """Raise `InvalidTransition` unless `current -> target` is a legal move."""
    if not can_transition(current, target):
        raise InvalidTransition(
            f"A {current.value} job cannot become {target.value}.",
            current=current.value,
            target=target.value,
        )


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """Every status from which `target` may be reached (used in conditional updates)."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
