"""The signed-in user's remembered choices: ``GET``/``PUT /api/v1/me/preferences``.

With ``auth=none`` they belong to the local user, like everything else.
"""

from __future__ import annotations

from fastapi import APIRouter

from clipmill.accounts.preferences import PreferencesIn, PreferencesOut
from clipmill.api.deps import ContainerDep, PrincipalDep

router = APIRouter(prefix="/api/v1/me/preferences", tags=["accounts"])


@router.get("", response_model=PreferencesOut, summary="Your remembered choices")
def get_preferences(container: ContainerDep, principal: PrincipalDep) -> PreferencesOut:
    return container.preferences.get(principal.user_id)


@router.put("", response_model=PreferencesOut, summary="Replace your remembered choices")
def put_preferences(
    body: PreferencesIn, container: ContainerDep, principal: PrincipalDep
) -> PreferencesOut:
    return container.preferences.put(principal.user_id, body)
