"""View models returned by queries: plain data, never aggregates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class MemberView(View):
    member_id: str
    name: str
    roles: list[str]
    bodies: list[str]
    chairs: list[str]


class CouncilView(View):
    id: UUID
    code: str
    name: str
    spending_threshold: Decimal
    timezone: str
    members: list[MemberView]
    households: int


class TallyView(View):
    ballot_key: str
    yes: int
    no: int
    abstain: int
    participating: int
    quorum_met: bool
    passed: bool
    rule: str


class StageStarted(View):
    deadline: datetime
    chairs: list[str]


class BallotReceipt(View):
    """What a voter keeps: the ballot's id and position in the log, to check against the tally."""

    ballot_id: UUID
    ballot_key: str
    notification_id: int
    all_voted: bool


class IssueView(View):
    id: UUID
    council: str
    number: int
    title: str
    procedure: str
    stages: list[str]
    open_stage: str | None
    next_stage: str | None
    deadline: datetime | None
    voting_open: bool
    resolved: bool
    outcome: str | None
    version: int
    grid: str | None = None  # the grid named at proposal, or routed to since (网格)


class NoticeView(View):
    id: UUID
    subject_id: UUID
    kind: str
    title: str
    text: str
    posted_at: datetime
    display_until: datetime
    objection_until: datetime | None
    open_objections: int
    withdrawn: bool


class PendingDisbursement(View):
    """A payment one officer asked for, awaiting another officer's approval."""

    amount: Decimal
    reference: str
    requested_by: str


class SpendingView(View):
    id: UUID
    number: int
    amount: Decimal
    threshold: Decimal
    requires_review: bool
    review_passed: bool
    status: str
    approved_amount: Decimal
    disbursed: Decimal
    actual_cost: Decimal | None
    disclosures: dict[str, UUID]
    pending_disbursements: dict[int, PendingDisbursement] = {}


class MeetingView(View):
    id: UUID
    body: str
    scheduled_for: datetime
    notice_period_met: bool | None
    quorum_met: bool | None
    motions: dict[int, bool]
    evidence: dict[str, str] = {}  # sha256 -> file name
    members_of_record: int | None = None  # the body's roll when attendance was taken
    expected: int | None = None  # 应到: the roll less those excused
    present: int | None = None  # 实到 in person
    excused: dict[str, str] = {}  # member id -> reason
    by_proxy: dict[str, str] = {}  # 委托出席: member id -> the proxy who attended for them


class HistoryEntry(View):
    """One recorded event: what, when and by whom."""

    version: int
    topic: str
    timestamp: datetime
    actor: str
    data: dict[str, Any]


class FeedEvent(View):
    """One event of the feed: its notification id is the cursor and the idempotency key."""

    id: int
    topic: str
    aggregate_id: UUID
    version: int
    timestamp: datetime
    actor: str
    data: dict[str, Any]


class ReceiptCheck(View):
    """What checking a ballot receipt found (never the choice: the receipt holder knows it)."""

    in_log: bool
    ballot_key: str | None
    tallied: bool
    counted: bool
