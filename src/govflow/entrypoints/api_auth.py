"""Who may call what: bearer tokens, and the policy every endpoint applies.

- Reads of a council need a token of that council: any member (auditors included) or an
  integration with the ``read`` scope.
- Members act as themselves; auditors read everything and write nothing.
- The clerk (role ``clerk``) keeps the roll: members, households, threshold, webhooks.
- A meeting is run by the chair of its body (or the clerk).
- A disbursement needs two distinct officers (role ``officer``), each with their own token.
- Integrations act only within their scopes (``issues:propose``, ``webhooks:manage``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from govflow.application import Governance
from govflow.application.access import Principal
from govflow.domain.access import HolderKind, Scope
from govflow.domain.base import INTEGRATION_ACTOR_PREFIX
from govflow.domain.errors import AuthenticationError, ForbiddenError

_bearer = HTTPBearer(auto_error=False)


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token (401 without a valid one)."""
    if credentials is None:
        raise AuthenticationError("send Authorization: Bearer <token>")
    app: Governance = request.app.state.governance
    return await run_in_threadpool(app.authenticate, credentials.credentials)


Caller = Annotated[Principal, Depends(principal)]


def _same_council(caller: Principal, code: str) -> None:
    if caller.council != code:
        raise ForbiddenError("the token belongs to another council")


def reader(caller: Principal, code: str) -> None:
    """Any member of the council, or an integration with the read scope."""
    _same_council(caller, code)
    if caller.kind is HolderKind.INTEGRATION and Scope.READ not in caller.scopes:
        raise ForbiddenError("the token lacks the read scope")


def member(caller: Principal, code: str) -> str:
    """The acting member: a person of this council who is not a read-only auditor."""
    _same_council(caller, code)
    if caller.kind is not HolderKind.PERSON:
        raise ForbiddenError("only a member can take this action")
    if caller.is_auditor:
        raise ForbiddenError("auditors read everything and write nothing")
    return caller.holder


def clerk(caller: Principal, code: str) -> str:
    holder = member(caller, code)
    if not caller.is_clerk:
        raise ForbiddenError("only the council's clerk can take this action")
    return holder


def chair_of(caller: Principal, code: str, body: str) -> str:
    """The chair of ``body`` (or the clerk, who records for any body)."""
    holder = member(caller, code)
    if body not in caller.chairs and not caller.is_clerk:
        raise ForbiddenError(f"only the chair of {body} can take this action")
    return holder


def officer(caller: Principal, code: str) -> str:
    holder = member(caller, code)
    if "officer" not in caller.roles:
        raise ForbiddenError("only an officer can approve a disbursement")
    return holder


def scoped(caller: Principal, code: str, scope: Scope, person: str = "member") -> str:
    """An integration with ``scope`` (acting as ``integration:<id>``), or a person who passes
    ``person`` (``member`` or ``clerk``)."""
    if caller.kind is HolderKind.INTEGRATION:
        _same_council(caller, code)
        if scope not in caller.scopes:
            raise ForbiddenError(f"the token lacks the {scope.value} scope")
        return f"{INTEGRATION_ACTOR_PREFIX}{caller.holder}"
    return clerk(caller, code) if person == "clerk" else member(caller, code)
