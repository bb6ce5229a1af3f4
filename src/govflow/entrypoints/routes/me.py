"""``/v1/me``: who the token is, as the council's record says now."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from govflow.entrypoints.deps import Caller

router = APIRouter(prefix="/v1", tags=["access"])


class Me(BaseModel):
    council: str
    holder: str
    kind: str
    roles: list[str]
    bodies: list[str]
    chairs: list[str]
    scopes: list[str]


@router.get("/me")
async def me(caller: Caller) -> Me:
    """The caller: a member with roles, bodies and chairs, or an integration with scopes."""
    return Me(
        council=caller.council,
        holder=caller.holder,
        kind=caller.kind.value,
        roles=sorted(caller.roles),
        bodies=sorted(caller.bodies),
        chairs=sorted(caller.chairs),
        scopes=sorted(s.value for s in caller.scopes),
    )
