import pytest

from clipmill.errors import InvalidTransition
from clipmill.jobs.enums import JobStatus as S
from clipmill.jobs.statemachine import can_transition, check_transition

LEGAL = {
    (S.PENDING, S.QUEUED),
    (S.QUEUED, S.PROCESSING),
    (S.PROCESSING, S.COMPLETED),
    (S.PROCESSING, S.FAILED),
    (S.PENDING, S.CANCELLED),
    (S.QUEUED, S.CANCELLED),
    (S.PROCESSING, S.CANCELLED),
    (S.FAILED, S.QUEUED),
    (S.CANCELLED, S.QUEUED),
    (S.PROCESSING, S.QUEUED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_pair_matches_the_design(current: S, target: S) -> None:
    assert can_transition(current, target) == ((current, target) in LEGAL)


def test_illegal_move_names_both_states() -> None:
    with pytest.raises(InvalidTransition) as err:
        check_transition(S.COMPLETED, S.CANCELLED)
    assert err.value.code == "invalid_transition"
    assert "completed" in err.value.message and "cancelled" in err.value.message
