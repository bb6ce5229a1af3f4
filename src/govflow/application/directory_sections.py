"""The directory's lists: their rows and the sections that keep them from the log
(councils, webhook subscriptions, items and their votes, meetings, spending, funds, annual
ratings, rectification orders and inspections, notices). To add a list, add its rows and
section here and put the section in ``SECTIONS`` (see :mod:`govflow.application.directory`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from govflow.application.directory_rows import Row, Rows, Section, vote_key
from govflow.domain import annual_rating as ar
from govflow.domain import council as c
from govflow.domain import fund as f
from govflow.domain import issue as i
from govflow.domain import meeting as mt
from govflow.domain import notice as n
from govflow.domain import rectification as rc
from govflow.domain import spending as s
from govflow.domain import webhook as w
from govflow.domain.base import DomainEvent


class CouncilRow(Row):
    KIND = "council"
    id: UUID
    code: str
    name: str
    registered_at: datetime

    def key(self) -> str:
        return self.code

    def council_code(self) -> str:
        return self.code

    def ref(self) -> str:
        return self.id.hex


class CouncilIdRow(Row):
    """A council's aggregate id, to find the council of its own events."""

    KIND = "council_id"
    id: UUID
    council: str

    def key(self) -> str:
        return self.id.hex


class IssueRow(Row):
    KIND = "issue"
    id: UUID
    council: str
    number: int
    title: str
    procedure: str
    body: str | None
    category: str | None
    proposed_at: datetime
    stage: str | None = None
    deadline: datetime | None = None
    outcome: str | None = None
    updated_at: datetime | None = None
    grid: str | None = None  # the grid named at proposal, or routed to since

    def key(self) -> str:
        return self.id.hex

    def active(self) -> bool:
        return self.outcome is None and self.stage is not None


class MeetingRow(Row):
    KIND = "meeting"
    id: UUID
    council: str
    number: int
    body: str
    title: str
    scheduled_for: datetime
    issue_id: UUID | None = None  # the item the meeting decides, if any

    def key(self) -> str:
        return self.id.hex


class SpendingRow(Row):
    KIND = "spending"
    id: UUID
    council: str
    number: int
    purpose: str
    payee: str
    amount: Decimal
    requires_review: bool
    requested_at: datetime
    status: str = "requested"
    approved_amount: Decimal = Decimal(0)
    disbursed: Decimal = Decimal(0)
    actual_cost: Decimal | None = None
    disclosures: dict[str, UUID] = Field(default_factory=dict)

    def key(self) -> str:
        return self.id.hex


class NoticeRow(Row):
    KIND = "notice"
    id: UUID
    council: str
    subject_id: UUID
    subject: str  # "issue" | "meeting" | "spending" | "annual_rating" | "other"
    subject_number: int | None
    kind: str
    title: str
    posted_at: datetime
    display_until: datetime
    objection_until: datetime | None
    objections: int = 0
    open_objections: int = 0
    corrected: bool = False
    withdrawn: bool = False
    text: str = ""  # as posted, or as last corrected

    def key(self) -> str:
        return self.id.hex

    def ref(self) -> str:
        return self.subject_id.hex

    def showing(self, at: datetime) -> bool:
        """On display at ``at`` (a notice posted at a later workflow time, as in fast-forwarded
        demos and drills, counts as on display)."""
        return not self.withdrawn and at < self.display_until


class VoteRow(Row):
    """A voting round as far as showing its ballots goes."""

    KIND = "vote"
    issue_id: UUID
    ballot_key: str
    council: str = ""
    open: bool
    secret: bool

    def key(self) -> str:
        return vote_key(self.issue_id, self.ballot_key)


class WebhookRow(Row):
    KIND = "webhook"
    id: UUID
    council: str

    def key(self) -> str:
        return self.id.hex


class CouncilSection(Section):
    NAME, TOPICS, ROWS = "councils", (c.CouncilRegistered.TOPIC,), (CouncilRow, CouncilIdRow)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, c.CouncilRegistered):
            rows.add(CouncilIdRow(id=event.originator_id, council=event.code))
            rows.add(
                CouncilRow(
                    id=event.originator_id,
                    code=event.code,
                    name=event.name,
                    registered_at=event.timestamp,
                )
            )


class WebhookSection(Section):
    NAME, TOPICS, ROWS = "webhooks", (w.Subscribed.TOPIC,), (WebhookRow,)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, w.Subscribed):
            rows.add(WebhookRow(id=event.originator_id, council=event.council))


class IssueSection(Section):
    NAME = "issues"
    VERSION = 2  # 2: the grid (proposed, routed, re-routed)
    TOPICS = tuple(
        cls.TOPIC
        for cls in (
            i.IssueProposed, i.StageOpened, i.StageClosed, i.Escalated, i.IssueReopened,
            i.VotingOpened, i.VotingClosed, i.IssueWithdrawn, i.IssueClosed,
            i.IssueRouted, i.IssueRerouted,
        )
    )  # fmt: skip
    ROWS = (IssueRow, VoteRow)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        oid, at = event.originator_id, event.timestamp
        if isinstance(event, i.IssueProposed):
            rows.add(
                IssueRow(
                    id=oid, council=event.council, number=event.number, title=event.title,
                    procedure=f"{event.procedure_name}@{event.procedure_version}",
                    body=event.body, category=event.category, proposed_at=at, updated_at=at,
                    grid=event.grid,
                )
            )  # fmt: skip
            return
        issue = rows.get(IssueRow, oid.hex)
        if issue is None:
            return
        issue.updated_at = at
        match event:
            case i.StageOpened():
                issue.stage, issue.deadline = event.stage, event.deadline
            case i.StageClosed():
                issue.deadline = None
            case i.Escalated() if event.new_deadline:
                issue.deadline = event.new_deadline
            case i.IssueReopened():
                issue.stage, issue.outcome = event.at_stage, None
            case i.IssueWithdrawn():
                issue.outcome, issue.deadline = "withdrawn", None
            case i.IssueClosed():
                issue.outcome, issue.stage, issue.deadline = event.outcome.value, None, None
            case i.VotingOpened():
                rows.add(
                    VoteRow(
                        issue_id=oid, ballot_key=event.ballot_key, council=issue.council,
                        open=True, secret=event.secret,
                    )
                )  # fmt: skip
            case i.VotingClosed():
                if vote := rows.get(VoteRow, vote_key(oid, event.ballot_key)):
                    vote.open = False
            case i.IssueRouted():
                issue.grid = event.grid
            case i.IssueRerouted():
                issue.grid = event.to_grid


class MeetingSection(Section):
    NAME, TOPICS, ROWS = "meetings", (mt.MeetingScheduled.TOPIC,), (MeetingRow,)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, mt.MeetingScheduled):
            rows.add(
                MeetingRow(
                    id=event.originator_id, council=event.council, number=event.number,
                    body=event.body.value, title=event.title,
                    scheduled_for=event.scheduled_for, issue_id=event.issue_id,
                )
            )  # fmt: skip


class SpendingSection(Section):
    NAME = "spending"
    TOPICS = tuple(
        cls.TOPIC
        for cls in (
            s.SpendingRequested, s.SpendingApproved, s.SpendingRejected, s.DisclosureRecorded,
            s.Disbursed, s.SpendingCompleted, s.SpendingSettled,
        )
    )  # fmt: skip
    ROWS = (SpendingRow,)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, s.SpendingRequested):
            rows.add(
                SpendingRow(
                    id=event.originator_id, council=event.council, number=event.number,
                    purpose=event.purpose, payee=event.payee, amount=event.amount,
                    requires_review=event.requires_review, requested_at=event.timestamp,
                )
            )  # fmt: skip
            return
        row = rows.get(SpendingRow, event.originator_id.hex)
        match event:
            case s.SpendingApproved() if row:
                row.status, row.approved_amount = "approved", event.amount
            case s.SpendingRejected() if row:
                row.status = "rejected"
            case s.DisclosureRecorded() if row:
                row.disclosures[event.kind.value] = event.notice_id
            case s.Disbursed() if row:
                row.status, row.disbursed = "disbursed", row.disbursed + event.amount
            case s.SpendingCompleted() if row:
                row.status, row.actual_cost = "completed", event.actual_cost
            case s.SpendingSettled() if row:
                row.status = "settled"


class NoticeSection(Section):
    NAME = "notices"
    TOPICS = tuple(
        cls.TOPIC
        for cls in (
            n.NoticePosted, n.ObjectionFiled, n.ObjectionAnswered, n.NoticeCorrected,
            n.NoticeWithdrawn,
        )
    )  # fmt: skip
    ROWS = (NoticeRow,)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, n.NoticePosted):
            council, subject, number = _subject(rows, event.subject_id)
            rows.add(
                NoticeRow(
                    id=event.originator_id, council=council, subject_id=event.subject_id,
                    subject=subject, subject_number=number, kind=event.kind.value,
                    title=event.title, posted_at=event.timestamp,
                    display_until=event.display_until, objection_until=event.objection_until,
                    text=event.text,
                )
            )  # fmt: skip
            return
        notice = rows.get(NoticeRow, event.originator_id.hex)
        match event:
            case n.ObjectionFiled() if notice:
                notice.objections += 1
                notice.open_objections += 1
            case n.ObjectionAnswered() if notice:
                notice.open_objections -= 1
            case n.NoticeCorrected() if notice:
                notice.corrected, notice.display_until = True, event.display_until
                notice.text = event.text
                notice.objection_until = event.objection_until
            case n.NoticeWithdrawn() if notice:
                notice.withdrawn = True


class FundRow(Row):
    """A fund (信托制物业) as the council's list of funds shows it."""

    KIND = "fund"
    id: UUID
    council: str
    number: int
    name: str
    kind: str
    schedule: str
    opened_at: datetime
    balance: Decimal = Decimal("0.00")
    lines: int = 0
    incomes: Decimal = Decimal("0.00")
    expenses: Decimal = Decimal("0.00")
    pending: int = 0  # expenses awaiting a second keyholder
    last_statement: str | None = None
    updated_at: datetime | None = None

    def key(self) -> str:
        return self.id.hex


class FundDrawsRow(Row):
    """What every fund paid against one spending (its council, for the feed)."""

    KIND = "fund_draws"
    id: UUID
    council: str
    spending_number: int
    total: Decimal

    def key(self) -> str:
        return self.id.hex


class FundSection(Section):
    NAME = "funds"
    VERSION = 2  # 2: payments against a spending (SpendingDrawn)
    TOPICS = tuple(
        cls.TOPIC
        for cls in (
            f.FundOpened, f.FundExpenseInitiated, f.FundExpenseWithdrawn, f.FundLineRecorded,
            f.FundStatementPosted, f.SpendingDrawn,
        )
    )  # fmt: skip
    ROWS = (FundRow, FundDrawsRow)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, f.FundOpened):
            rows.add(
                FundRow(
                    id=event.originator_id, council=event.council, number=event.number,
                    name=event.name, kind=event.kind.value, schedule=event.schedule.value,
                    opened_at=event.timestamp, updated_at=event.timestamp,
                )
            )  # fmt: skip
            return
        if isinstance(event, f.SpendingDrawn):
            draws = rows.get(FundDrawsRow, event.originator_id.hex)
            if draws is None:  # its council is the spending's, named by the fund's handler
                draws = FundDrawsRow(
                    id=event.originator_id, council=event.council,
                    spending_number=event.spending_number, total=event.total,
                )  # fmt: skip
                rows.add(draws)
            draws.total = event.total
            return
        row = rows.get(FundRow, event.originator_id.hex)
        if row is None:
            return
        row.updated_at = event.timestamp
        match event:
            case f.FundExpenseInitiated():
                row.pending += 1
            case f.FundExpenseWithdrawn():
                row.pending -= 1
            case f.FundLineRecorded():
                row.balance, row.lines = event.balance, row.lines + 1
                if event.direction is f.Direction.INCOME:
                    row.incomes += event.amount
                else:
                    row.expenses += event.amount
                if event.expense_no is not None:
                    row.pending -= 1
            case f.FundStatementPosted():
                row.last_statement = max(row.last_statement or "", event.period)


class OrderRow(Row):
    """A rectification order (限期整改) as the council's list of orders shows it."""

    KIND = "rectification_order"
    id: UUID
    council: str
    number: int
    what: str
    assignee_kind: str
    assignee: str
    ordered_by: str
    escalate_to: str
    source_kind: str
    deadline: datetime
    issued_at: datetime
    status: str = "open"  # open | completed | verified
    round: int = 1
    escalations: int = 0
    escalated: bool = False  # the current round's deadline passed undone
    updated_at: datetime | None = None

    def key(self) -> str:
        return self.id.hex

    def active(self) -> bool:
        return self.status != "verified"


class InspectionRow(Row):
    """A recorded inspection (检查), an order's possible source."""

    KIND = "inspection"
    id: UUID
    council: str
    number: int
    finding: str
    recorded_at: datetime

    def key(self) -> str:
        return self.id.hex


class OrderSection(Section):
    NAME = "rectification_orders"
    TOPICS = tuple(
        cls.TOPIC
        for cls in (
            rc.InspectionRecorded, rc.OrderIssued, rc.OrderEscalated, rc.OrderCompleted,
            rc.OrderVerified, rc.OrderSentBack,
        )
    )  # fmt: skip
    ROWS = (OrderRow, InspectionRow)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, rc.InspectionRecorded):
            rows.add(
                InspectionRow(
                    id=event.originator_id, council=event.council, number=event.number,
                    finding=event.finding, recorded_at=event.timestamp,
                )
            )  # fmt: skip
            return
        if isinstance(event, rc.OrderIssued):
            rows.add(
                OrderRow(
                    id=event.originator_id, council=event.council, number=event.number,
                    what=event.what, assignee_kind=event.assignee_kind.value,
                    assignee=event.assignee, ordered_by=event.ordered_by.value,
                    escalate_to=event.escalate_to.value, source_kind=event.source_kind.value,
                    deadline=event.deadline, issued_at=event.timestamp,
                    updated_at=event.timestamp,
                )
            )  # fmt: skip
            return
        row = rows.get(OrderRow, event.originator_id.hex)
        if row is None:
            return
        row.updated_at = event.timestamp
        match event:
            case rc.OrderEscalated():
                row.escalations, row.escalated = row.escalations + 1, True
            case rc.OrderCompleted():
                row.status = "completed"
            case rc.OrderVerified():
                row.status = "verified"
            case rc.OrderSentBack():
                row.status, row.round, row.deadline = "open", event.round, event.deadline
                row.escalated = False


class AnnualRatingRow(Row):
    """A council's rating (分类定级) of one year, as the list of its years shows it."""

    KIND = "annual_rating"
    id: UUID
    council: str
    year: int
    procedure: str
    opened_at: datetime
    status: str = "open"  # open | published | revising
    grade: str | None = None
    score: Decimal | None = None
    revisions: int = 0
    notice_id: UUID | None = None
    updated_at: datetime | None = None

    def key(self) -> str:
        return self.id.hex


class AnnualRatingSection(Section):
    NAME = "annual_ratings"
    TOPICS = tuple(
        cls.TOPIC
        for cls in (
            ar.AnnualRatingOpened, ar.AnnualRatingPublished, ar.AnnualRatingObjectionUpheld,
            ar.AnnualRatingRevised,
        )
    )  # fmt: skip
    ROWS = (AnnualRatingRow,)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, ar.AnnualRatingOpened):
            rows.add(
                AnnualRatingRow(
                    id=event.originator_id, council=event.council, year=event.year,
                    procedure=f"{event.procedure_name}@{event.procedure_version}",
                    opened_at=event.timestamp, updated_at=event.timestamp,
                )
            )  # fmt: skip
            return
        row = rows.get(AnnualRatingRow, event.originator_id.hex)
        if row is None:
            return
        row.updated_at = event.timestamp
        match event:
            case ar.AnnualRatingPublished():
                row.status, row.grade, row.score = "published", event.grade.value, event.score
                row.notice_id = event.notice_id
            case ar.AnnualRatingObjectionUpheld():
                row.status = "revising"
            case ar.AnnualRatingRevised():
                row.status, row.grade, row.score = "published", event.grade.value, event.score
                row.revisions += 1


def _subject(rows: Rows, subject_id: UUID) -> tuple[str, str, int | None]:
    if issue := rows.get(IssueRow, subject_id.hex):
        return issue.council, "issue", issue.number
    if meeting := rows.get(MeetingRow, subject_id.hex):
        return meeting.council, "meeting", meeting.number
    if spending := rows.get(SpendingRow, subject_id.hex):
        return spending.council, "spending", spending.number
    if fund := rows.get(FundRow, subject_id.hex):
        return fund.council, "fund", fund.number
    if rating := rows.get(AnnualRatingRow, subject_id.hex):
        return rating.council, "annual_rating", rating.year
    if order := rows.get(OrderRow, subject_id.hex):
        return order.council, "order", order.number
    return "", "other", None


SECTIONS: tuple[Section, ...] = (
    CouncilSection(),
    WebhookSection(),
    IssueSection(),
    MeetingSection(),
    SpendingSection(),
    FundSection(),
    AnnualRatingSection(),
    OrderSection(),  # before NoticeSection: an escalation's notice is about an order
    NoticeSection(),
)
