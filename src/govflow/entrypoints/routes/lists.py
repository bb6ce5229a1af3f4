"""``/v1/councils/{code}``: the lists (items, notices, meetings, spending) and the events
feed, for the council's readers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StringConstraints

from govflow.application.views import FeedEvent
from govflow.domain.council import Body
from govflow.entrypoints.api_bodies import Instant
from govflow.entrypoints.deps import App, Caller, reader

router = APIRouter(prefix="/v1/councils/{code}")


class IssueRowView(BaseModel):
    id: UUID
    number: int
    title: str
    procedure: str
    body: str | None
    category: str | None
    proposed_at: datetime
    stage: str | None
    deadline: datetime | None
    outcome: str | None


class NoticeRowView(BaseModel):
    id: UUID
    subject: str
    subject_number: int | None
    kind: str
    title: str
    posted_at: datetime
    display_until: datetime
    objection_until: datetime | None
    objections: int
    open_objections: int
    withdrawn: bool


class MeetingRowView(BaseModel):
    id: UUID
    number: int
    body: str
    title: str
    scheduled_for: datetime


class SpendingRowView(BaseModel):
    id: UUID
    number: int
    purpose: str
    payee: str
    amount: Decimal
    status: str
    approved_amount: Decimal
    disbursed: Decimal
    actual_cost: Decimal | None
    disclosures: dict[str, UUID]


class EventsPage(BaseModel):
    events: list[FeedEvent]
    next_after: int = Field(description="pass as ?after= to continue")


MAX_POSITION = 2**63 - 1  # notification ids are 64-bit
Limit = Annotated[int, Query(ge=1, le=500)]
TopicName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Offset = Annotated[int, Query(ge=0)]


# -- lists ---------------------------------------------------------------------------------


@router.get("/issues", tags=["issues"])
def list_issues(
    code: str,
    caller: Caller,
    app: App,
    stage: str | None = None,
    body: Body | None = None,
    open: bool = False,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[IssueRowView]:
    """Issues newest first; filter by open stage, acting body, proposal date."""
    reader(caller, code)
    rows = app.list_issues(
        code,
        stage=stage,
        body=body.value if body else None,
        open_only=open,
        since=since,
        until=until,
    )
    return [
        IssueRowView.model_validate(r, from_attributes=True) for r in rows[offset : offset + limit]
    ]


@router.get("/notices", tags=["notices"])
def list_notices(
    code: str,
    caller: Caller,
    app: App,
    current: bool = True,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[NoticeRowView]:
    """Notices newest first (by default only those on display now)."""
    reader(caller, code)
    rows = app.list_notices(code, current_at=app.now() if current else None, limit=offset + limit)
    return [
        NoticeRowView.model_validate(r, from_attributes=True) for r in rows[offset : offset + limit]
    ]


@router.get("/meetings", tags=["meetings"])
def list_meetings(
    code: str, caller: Caller, app: App, limit: Limit = 100, offset: Offset = 0
) -> list[MeetingRowView]:
    reader(caller, code)
    return [
        MeetingRowView.model_validate(r, from_attributes=True)
        for r in app.list_meetings(code)[offset : offset + limit]
    ]


@router.get("/spending", tags=["spending"])
def list_spending(
    code: str, caller: Caller, app: App, limit: Limit = 100, offset: Offset = 0
) -> list[SpendingRowView]:
    """The spending ledger: every request with its amounts and disclosures."""
    reader(caller, code)
    return [
        SpendingRowView.model_validate(r, from_attributes=True)
        for r in app.list_spending(code)[offset : offset + limit]
    ]


# -- the events feed -----------------------------------------------------------------------


@router.get("/events", tags=["events"])
def events(
    code: str,
    caller: Caller,
    app: App,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Limit = 100,
    topic: Annotated[list[TopicName] | None, Query()] = None,
) -> EventsPage:
    """The council's events in log order after the cursor ``after`` (a notification id).
    Continue with ``next_after``; the notification id is each event's idempotency key."""
    reader(caller, code)
    found, position = app.read_council_feed(code, after, limit, tuple(topic or ()))
    return EventsPage(events=found, next_after=position)
