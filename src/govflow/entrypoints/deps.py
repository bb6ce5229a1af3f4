"""The API's dependencies, declared once: who is calling, the application and the door.

Routes authenticate through :data:`Caller`, build a command and hand it to :data:`Door`; reads
ask the policy through :func:`reader`. No route decides a rule.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from govflow.application import Governance
from govflow.application.evidence_store import EvidenceStore
from govflow.domain.errors import AuthenticationError, WorkflowUnavailableError
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.client import IssueClient
from govflow.orchestration.door import CommandDoor

_bearer = HTTPBearer(auto_error=False)
CHECKED_PRINCIPAL = "govflow.principal"  # the caller the guard authenticated before the body
# The dependencies below are ``async`` although they do no I/O: FastAPI runs a plain ``def``
# dependency in its thread pool, a hand-off per request that a ballot cannot afford.


async def governance(request: Request) -> Governance:
    app: Governance = request.app.state.governance
    return app


async def door(request: Request) -> CommandDoor:
    found: CommandDoor = request.app.state.door
    return found


async def workflows(request: Request) -> IssueClient:
    issues: IssueClient | None = request.app.state.door.issues
    if issues is None:
        raise WorkflowUnavailableError("no workflow service is connected")
    return issues


async def evidence(request: Request) -> EvidenceStore | None:
    found: EvidenceStore | None = request.app.state.evidence
    return found


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token, as the council's record says now (401 without)."""
    if credentials is None:
        raise AuthenticationError("send Authorization: Bearer <token>")
    checked: Principal | None = request.scope.get("state", {}).get(CHECKED_PRINCIPAL)
    if checked is not None:
        return checked
    app: Governance = request.app.state.governance
    return await run_in_threadpool(app.authenticate, credentials.credentials)


async def credential(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | str:
    """The caller the guard authenticated before reading the body, or else the bearer token
    itself, for a route whose command authenticates it in the same hand-off to a thread as
    its work (a ballot): either way one authentication per request."""
    if credentials is None:
        raise AuthenticationError("send Authorization: Bearer <token>")
    checked: Principal | None = request.scope.get("state", {}).get(CHECKED_PRINCIPAL)
    return checked if checked is not None else credentials.credentials


Caller = Annotated[Principal, Depends(principal)]
Credential = Annotated[Principal | str, Depends(credential)]
App = Annotated[Governance, Depends(governance)]
Door = Annotated[CommandDoor, Depends(door)]
Workflows = Annotated[IssueClient, Depends(workflows)]
Evidence = Annotated[EvidenceStore | None, Depends(evidence)]


def reader(caller: Principal, code: str) -> None:
    """Any member of the council (auditors too), or an integration with the read scope."""
    authorize(caller, Action.READ, code)
