"""``/v1/notices`` and ``/v1/audit``: notices by id, histories, state as of a time, the
export, checkpoints and the chain's verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel

from govflow.application.audit import PROVES
from govflow.application.views import HistoryEntry, NoticeView
from govflow.domain.errors import NotFoundError
from govflow.domain.policy import Action, authorize
from govflow.entrypoints.deps import App, Caller, reader

router = APIRouter(prefix="/v1")


class CheckpointView(BaseModel):
    position: int
    notification_id: int
    digest: str
    published: str  # the digest first handed out for this position (kept outside the store)
    rewritten: bool  # the store's digest is no longer the one handed out before


class VerifyView(BaseModel):
    ok: bool
    checked: int
    unsealed: int
    checkpoints_checked: int
    published_checked: int
    problem: dict[str, Any] | None
    verified_at: datetime
    proves: str = PROVES


@router.get("/notices/{notice_id}", tags=["notices"])
def get_notice(notice_id: UUID, caller: Caller, app: App) -> NoticeView:
    row = app.directory.notice(notice_id)
    if row is None:
        raise NotFoundError("notice not found", id=str(notice_id))
    reader(caller, row.council)
    return app.get_notice(notice_id)


@router.get("/audit/history/{aggregate_id}", tags=["audit"])
def get_history(
    aggregate_id: UUID,
    caller: Caller,
    app: App,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="a version")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> list[HistoryEntry]:
    """The events of one aggregate of the caller's council, in pages: what, when, who.
    Continue with ``after`` = the last version received."""
    council = app.council_of(aggregate_id)
    if council is None:
        raise NotFoundError("no such aggregate", id=str(aggregate_id))
    reader(caller, council)
    return app.get_history(aggregate_id, after=after, limit=limit)


@router.get("/audit/as-of/{aggregate_id}", tags=["audit"])
def get_as_of(aggregate_id: UUID, at: AwareDatetime, caller: Caller, app: App) -> dict[str, Any]:
    """An aggregate's state made of its events recorded up to ``at``."""
    council = app.council_of(aggregate_id)
    if council is None:
        raise NotFoundError("no such aggregate", id=str(aggregate_id))
    reader(caller, council)
    return app.get_state_as_of(aggregate_id, at)


@router.get(
    "/audit/export",
    tags=["audit"],
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "JSON lines"}},
)
def export(caller: Caller, app: App) -> StreamingResponse:
    """The caller's council's public events as JSON lines (its auditors and clerk), streamed,
    as its feed shows them: no private record, no choice of an open or secret vote. The
    whole log is the operator's (``govflow audit export``)."""
    authorize(caller, Action.EXPORT, caller.council)
    lines = app.export_council_lines(caller.council)
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.get("/audit/checkpoints", tags=["audit"])
def list_checkpoints(app: App) -> list[CheckpointView]:
    """The checkpoints (public). Each digest handed out here is kept among the published
    digests; one that differs from what was handed out before is flagged ``rewritten``."""
    return [
        CheckpointView(
            position=s.checkpoint.position,
            notification_id=s.checkpoint.notification_id,
            digest=s.checkpoint.digest,
            published=s.published,
            rewritten=s.rewritten,
        )
        for s in app.show_checkpoints("api")
    ]


@router.get("/audit/verify", tags=["audit"])
def verify(caller: Caller, app: App) -> VerifyView:
    """The store checked against itself and against every digest published before (made at
    most once a minute, shared by every caller). ``proves`` says what that is worth."""
    reader(caller, caller.council)
    report, verified_at = app.verify_cached()
    return VerifyView(
        ok=report.ok,
        checked=report.checked,
        unsealed=report.unsealed,
        checkpoints_checked=report.checkpoints_checked,
        published_checked=report.published_checked,
        problem=report.problem.__dict__ if report.problem else None,
        verified_at=verified_at,
    )
