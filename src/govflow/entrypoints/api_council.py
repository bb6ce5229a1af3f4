"""``/v1`` routes of a council's roll, its lists, its events feed and its webhooks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StringConstraints

from govflow.application import Governance
from govflow.application.views import FeedEvent
from govflow.application.webhooks import NewWebhook, WebhookView
from govflow.domain.access import Scope
from govflow.domain.council import Body
from govflow.entrypoints.api_auth import Caller, clerk, reader, scoped
from govflow.entrypoints.api_bodies import Strict


class MemberBody(Strict):
    member_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=100)
    roles: list[Literal["clerk", "auditor", "officer"]] = Field(default_factory=list)
    bodies: list[Body] = Field(default_factory=list)
    chairs: list[Body] = Field(default_factory=list)


class HouseholdBody(Strict):
    unit: str = Field(min_length=1, max_length=64)
    exclusive_area: Decimal = Field(gt=0, le=100_000, decimal_places=2)
    owner_id: str = Field(min_length=1, max_length=64)
    bodies: list[Body] = Field(default_factory=lambda: [Body.OWNERS_ASSEMBLY])


class ThresholdBody(Strict):
    threshold: str = Field(description="yuan as a string, e.g. 10000.00")


class WebhookBody(Strict):
    url: str = Field(min_length=1, max_length=2000)
    topics: list[str] = Field(default=[], max_length=100)
    from_start: bool = False


class ReasonBody(Strict):
    reason: str = Field(min_length=1, max_length=1000)


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


def council_router(app: Governance) -> APIRouter:
    router = APIRouter(prefix="/v1/councils/{code}")

    # -- the roll (the clerk) --------------------------------------------------------------

    @router.post("/members", tags=["councils"], status_code=201)
    def enroll(code: str, body: MemberBody, caller: Caller) -> dict[str, str]:
        """As the clerk, enroll a member with roles, bodies and the bodies they chair."""
        app.enroll_member(
            code,
            body.member_id,
            body.name,
            actor=clerk(caller, code),
            roles=tuple(body.roles),
            bodies=tuple(body.bodies),
            chairs=tuple(body.chairs),
        )
        return {"member_id": body.member_id}

    @router.delete("/members/{member_id}", tags=["councils"])
    def remove(code: str, member_id: str, caller: Caller) -> dict[str, str]:
        """As the clerk, record that a member left (their tokens stop working)."""
        app.remove_member(code, member_id, actor=clerk(caller, code))
        return {"removed": member_id}

    @router.post("/households", tags=["councils"], status_code=201)
    def household(code: str, body: HouseholdBody, caller: Caller) -> dict[str, str]:
        """As the clerk, register a household (unit, exclusive area in m², owner)."""
        app.register_household(
            code,
            body.unit,
            body.exclusive_area,
            body.owner_id,
            actor=clerk(caller, code),
            bodies=tuple(body.bodies),
        )
        return {"unit": body.unit}

    @router.put("/spending-threshold", tags=["councils"])
    def threshold(code: str, body: ThresholdBody, caller: Caller) -> dict[str, str]:
        """As the clerk, change the threshold above which spending needs the review."""
        app.change_spending_threshold(code, body.threshold, actor=clerk(caller, code))
        return {"threshold": str(app.council(code).spending_threshold)}

    # -- lists ---------------------------------------------------------------------------------

    @router.get("/issues", tags=["issues"])
    def list_issues(
        code: str,
        caller: Caller,
        stage: str | None = None,
        body: Body | None = None,
        open: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
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
            IssueRowView.model_validate(r, from_attributes=True)
            for r in rows[offset : offset + limit]
        ]

    @router.get("/notices", tags=["notices"])
    def list_notices(
        code: str, caller: Caller, current: bool = True, limit: Limit = 100, offset: Offset = 0
    ) -> list[NoticeRowView]:
        """Notices newest first (by default only those on display now)."""
        reader(caller, code)
        rows = app.list_notices(code, current_at=app.now() if current else None)
        return [
            NoticeRowView.model_validate(r, from_attributes=True)
            for r in rows[offset : offset + limit]
        ]

    @router.get("/meetings", tags=["meetings"])
    def list_meetings(
        code: str, caller: Caller, limit: Limit = 100, offset: Offset = 0
    ) -> list[MeetingRowView]:
        reader(caller, code)
        return [
            MeetingRowView.model_validate(r, from_attributes=True)
            for r in app.list_meetings(code)[offset : offset + limit]
        ]

    @router.get("/spending", tags=["spending"])
    def list_spending(
        code: str, caller: Caller, limit: Limit = 100, offset: Offset = 0
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
        after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
        limit: Limit = 100,
        topic: Annotated[list[TopicName] | None, Query()] = None,
    ) -> EventsPage:
        """The council's events in log order after the cursor ``after`` (a notification id).
        Continue with ``next_after``; the notification id is each event's idempotency key."""
        reader(caller, code)
        found, position = app.read_council_feed(code, after, limit, tuple(topic or ()))
        return EventsPage(events=found, next_after=position)

    # -- webhooks ------------------------------------------------------------------------------

    @router.post("/webhooks", tags=["webhooks"], status_code=201)
    async def subscribe(code: str, body: WebhookBody, caller: Caller) -> NewWebhook:
        """Subscribe a URL to the council's events (the clerk, or an integration with the
        ``webhooks:manage`` scope). The signing secret is returned this once only."""
        actor = scoped(caller, code, Scope.WEBHOOKS, person="clerk")
        return await run_in_threadpool(
            lambda: app.subscribe_webhook(
                code, body.url, tuple(body.topics), actor=actor, from_start=body.from_start
            )
        )

    @router.get("/webhooks", tags=["webhooks"])
    def list_webhooks(code: str, caller: Caller) -> list[WebhookView]:
        """Subscriptions with their delivery status (cursor, delivered, failing attempts)."""
        scoped(caller, code, Scope.WEBHOOKS, person="clerk")
        return app.list_webhooks(code)

    @router.get("/webhooks/{subscription_id}", tags=["webhooks"])
    def get_webhook(code: str, subscription_id: UUID, caller: Caller) -> WebhookView:
        """One subscription with its recent delivery failures."""
        scoped(caller, code, Scope.WEBHOOKS, person="clerk")
        return app.get_webhook(code, subscription_id)

    @router.delete("/webhooks/{subscription_id}", tags=["webhooks"])
    def unsubscribe(code: str, subscription_id: UUID, caller: Caller) -> dict[str, bool]:
        actor = scoped(caller, code, Scope.WEBHOOKS, person="clerk")
        app.unsubscribe_webhook(code, subscription_id, "unsubscribed through the API", actor=actor)
        return {"active": False}

    return router
