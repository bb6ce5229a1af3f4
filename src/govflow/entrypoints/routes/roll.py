"""``/v1/councils/{code}``: the council, its roll and its tokens (kept by the clerk)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from govflow.application import commands as c
from govflow.application.views import CouncilView
from govflow.domain.access import HolderKind, Scope
from govflow.domain.area import ExclusiveArea
from govflow.domain.council import Body
from govflow.domain.money import Yuan
from govflow.entrypoints.api_bodies import Name, Strict, Text
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}", tags=["councils"])
PersonId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class MemberBody(Strict):
    member_id: PersonId
    name: Name = Field(min_length=1, max_length=100)
    roles: list[Literal["clerk", "auditor", "officer"]] = Field(default_factory=list)
    bodies: list[Body] = Field(default_factory=list)
    chairs: list[Body] = Field(default_factory=list)


class HouseholdBody(Strict):
    unit: Name = Field(min_length=1, max_length=64)
    exclusive_area: ExclusiveArea
    owner_id: PersonId = Field(description="votes for the unit (the joint owners' representative)")
    bodies: list[Body] = Field(default_factory=lambda: [Body.OWNERS_ASSEMBLY])
    co_owners: list[PersonId] = Field(
        default_factory=list,
        max_length=50,
        description="the other joint owners (共有人): enrolled members, recorded, not voting",
    )


class ThresholdBody(Strict):
    threshold: Yuan


class TokenBody(Strict):
    holder: PersonId = Field(description="a member id, or an integration's name")
    kind: HolderKind = HolderKind.PERSON
    scopes: list[Scope] = Field(default_factory=list, max_length=10)


class NewToken(BaseModel):
    token: str = Field(description="shown this once; only its keyed digest is kept")
    token_id: str


@router.get("")
def get_council(code: str, caller: Caller, app: App) -> CouncilView:
    reader(caller, code)
    return app.get_council(code)


@router.post("/members", status_code=201)
async def enroll(code: str, body: MemberBody, caller: Caller, door: Door) -> dict[str, str]:
    """As the clerk, enroll a member with roles, bodies and the bodies they chair."""
    command = c.EnrollMember(
        council=code,
        member_id=body.member_id,
        name=body.name,
        roles=tuple(body.roles),
        bodies=tuple(body.bodies),
        chairs=tuple(body.chairs),
    )
    return {"member_id": await door.handle(command, caller)}


class MemberChangeBody(Strict):
    roles: list[Literal["clerk", "auditor", "officer"]] = Field(default_factory=list)
    bodies: list[Body] = Field(default_factory=list)
    chairs: list[Body] = Field(default_factory=list)


@router.put("/members/{member_id}")
async def change(
    code: str, member_id: str, body: MemberChangeBody, caller: Caller, door: Door
) -> dict[str, str]:
    """As the clerk, give a member other roles, bodies or chairs (the whole set, replacing the
    old): every later command is decided with them, in stages already open too."""
    command = c.ChangeMember(
        council=code,
        member_id=member_id,
        roles=tuple(body.roles),
        bodies=tuple(body.bodies),
        chairs=tuple(body.chairs),
    )
    return {"changed": await door.handle(command, caller)}


@router.delete("/members/{member_id}")
async def remove(code: str, member_id: str, caller: Caller, door: Door) -> dict[str, str]:
    """As the clerk, record that a member left: every token of that enrolment stops working,
    even if the member id is enrolled again later for someone else."""
    command = c.RemoveMember(council=code, member_id=member_id)
    return {"removed": await door.handle(command, caller)}


@router.post("/households", status_code=201)
async def household(code: str, body: HouseholdBody, caller: Caller, door: Door) -> dict[str, str]:
    """As the clerk, register a household (unit, exclusive area in m², owner, the bodies
    whose roll it is on: the owners' assembly by default, the residents' assembly …)."""
    command = c.RegisterHousehold(
        council=code,
        unit=body.unit,
        exclusive_area=body.exclusive_area,
        owner_id=body.owner_id,
        bodies=tuple(body.bodies),
        co_owners=tuple(body.co_owners),
    )
    return {"unit": await door.handle(command, caller)}


@router.put("/spending-threshold")
async def threshold(code: str, body: ThresholdBody, caller: Caller, door: Door) -> dict[str, str]:
    """As the clerk, change the threshold above which spending needs the review."""
    command = c.ChangeThreshold(council=code, spending_threshold=body.threshold)
    return {"threshold": await door.handle(command, caller)}


@router.post("/tokens", status_code=201, tags=["access"])
async def issue_token(
    code: str, body: TokenBody, caller: Caller, door: Door, response: Response
) -> NewToken:
    """As the clerk, issue a member's token (it belongs to that enrolment) or an
    integration's, with scopes. The token is shown this once (``Cache-Control: no-store``:
    a retry with the same Idempotency-Key gets 409 ``idempotency.not_replayable``)."""
    response.headers["Cache-Control"] = "no-store"
    command = c.IssueToken(
        council=code, holder=body.holder, kind=body.kind, scopes=tuple(body.scopes)
    )
    token: str = await door.handle(command, caller)
    return NewToken(token=token, token_id=token.split("_")[1])


@router.delete("/tokens/{token_id}", tags=["access"])
async def revoke_token(
    code: str,
    token_id: str,
    caller: Caller,
    door: Door,
    reason: Annotated[Text, Query(min_length=1, max_length=1_000)] = "revoked by the clerk",
) -> dict[str, bool]:
    """As the clerk, revoke a token of the council (the reason is recorded)."""
    await door.handle(c.RevokeToken(council=code, token_id=token_id, reason=reason), caller)
    return {"revoked": True}
