"""The directory: lists of councils, issues, meetings, spending and notices, for the board,
the list endpoints and the events feed.

It is a projection of the notification log kept in the event store's database
(:mod:`govflow.application.directory_store`): rows and the position they are caught up to are
written in one transaction, so a process starts without replaying the log and any number of
processes serve the same lists. Each read first catches up on the records appended since the
stored position (only the topics the sections need), so lists never lag behind a write that
has returned; whichever process reads first does it, under the tracking row's lock.

Sections. Each list is a :class:`Section`: the topics it follows and how an event changes its
rows (:class:`Row` subclasses: a kind, a key, the council, optionally a reference, active or
not). To add a list, write a section (its rows and ``apply``), add it to ``SECTIONS`` and give
it a ``VERSION``: a changed set of sections (or a bumped version) rebuilds every row from the
start of the log on the next read. Read rows with :meth:`Directory.row` and
:meth:`Directory.rows`. The domain never sees rows: they are what lists show; detail pages load
the aggregate itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import orjson
import structlog
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from govflow.application.directory_store import DirectoryStore, Query, StoredRow, Writer
from govflow.application.log_reader import LogReader, Record
from govflow.application.views import FeedEvent
from govflow.domain import annual_rating as ar
from govflow.domain import ballot as b
from govflow.domain import council as c
from govflow.domain import fund as f
from govflow.domain import issue as i
from govflow.domain import meeting as mt
from govflow.domain import notice as n
from govflow.domain import rectification as rc
from govflow.domain import spending as s
from govflow.domain import webhook as w
from govflow.domain.base import DomainEvent
from govflow.domain.paper import PaperBatchEntered

log = structlog.get_logger(__name__)

# the records that hold a choice: withheld while a vote is open, and always in a secret vote
_CHOICE_TOPICS = frozenset(
    {
        b.BallotCast.TOPIC,
        b.ProxyBallotCast.TOPIC,
        b.PaperBallotCast.TOPIC,
        b.SecretChoiceCast.TOPIC,
    }
)

BATCH = 5_000  # records applied per transaction when catching up


class Row(BaseModel):
    """What one list shows of one thing. ``KIND`` names the rows' kind in the store."""

    model_config = ConfigDict(validate_assignment=False)
    KIND: ClassVar[str]
    _seq: int = PrivateAttr(default=0)  # the notification id that created it (list order)

    def key(self) -> str:
        raise NotImplementedError

    def council_code(self) -> str:
        return str(getattr(self, "council", ""))

    def ref(self) -> str | None:
        return None

    def active(self) -> bool:
        return True


R = TypeVar("R", bound=Row)


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


class _Unread:
    """Not read yet (a vote's row may be read as None: no such vote)."""


_UNREAD = _Unread()


def vote_key(issue: UUID, ballot_key: str) -> str:
    return f"{issue.hex}:{ballot_key}"


class Rows:
    """One catch-up batch's rows: read through (from the batch, else the store), changed in
    place, and written back at the end of the batch if they changed."""

    def __init__(self, writer: Writer, codec: Codec) -> None:
        self._writer, self._codec = writer, codec
        self._loaded: dict[tuple[str, str], tuple[Row | None, bytes | None]] = {}
        self.seq = 0  # the notification id of the record being applied

    def prefetch(self, keys: Sequence[str]) -> None:
        """Load the rows of these keys (of any kind) in one read."""
        wanted = {k for k in keys if (IssueRow.KIND, k) not in self._loaded}
        for stored in self._writer.by_keys(wanted):
            if (cls := _KINDS.get(stored.kind)) is not None:
                self._loaded[(stored.kind, stored.key)] = self._codec.load(cls, stored)
        for key in wanted:
            for kind in _KINDS:
                self._loaded.setdefault((kind, key), (None, None))

    def get(self, cls: type[R], key: str) -> R | None:
        slot = (cls.KIND, key)
        if slot not in self._loaded:
            stored = [r for r in self._writer.by_keys([key]) if r.kind == cls.KIND]
            self._loaded[slot] = self._codec.load(cls, stored[0]) if stored else (None, None)
        found = self._loaded[slot][0]
        return found if isinstance(found, cls) else None

    def add(self, row: Row) -> None:
        row._seq = self.seq
        self._loaded[(row.KIND, row.key())] = (row, None)

    def changed(self) -> list[StoredRow]:
        out: list[StoredRow] = []
        for row, before in self._loaded.values():
            if row is not None:
                plain = row.model_dump_json().encode()
                if plain != before:
                    out.append(self._codec.store(row, plain))
        return out


class Codec:
    """Rows to stored bytes and back: JSON, encrypted when the installation has a cipher."""

    def __init__(self, cipher: Any | None = None) -> None:
        self._cipher = cipher

    def store(self, row: Row, plain: bytes) -> StoredRow:
        data = self._cipher.encrypt(plain) if self._cipher is not None else plain
        return StoredRow(
            row.KIND, row.key(), row.council_code(), row.ref(), row._seq, row.active(), data
        )

    def load(self, cls: type[R], stored: StoredRow) -> tuple[R, bytes]:
        plain = self._cipher.decrypt(stored.data) if self._cipher is not None else stored.data
        row = cls.model_validate_json(plain)
        row._seq = stored.seq
        return row, plain

    def decode(self, cls: type[R], stored: StoredRow) -> R:
        return self.load(cls, stored)[0]


class Section:
    """A list kept from the log: ``TOPICS`` it follows, ``apply`` for each of their events."""

    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPICS: ClassVar[tuple[str, ...]]
    ROWS: ClassVar[tuple[type[Row], ...]]

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        raise NotImplementedError


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

_KINDS: dict[str, type[Row]] = {cls.KIND: cls for sec in SECTIONS for cls in sec.ROWS}
# rows whose key is not the id of an aggregate the council owns (for council_of)
_NOT_OWNED = frozenset({VoteRow.KIND, WebhookRow.KIND, CouncilRow.KIND})


def _version(sections: Sequence[Section]) -> str:
    names = ",".join(sorted(f"{sec.NAME}@{sec.VERSION}" for sec in sections))
    return hashlib.sha256(names.encode()).hexdigest()[:16]


class Directory:
    """Lists kept in the event store's database, caught up from the log on each read."""

    def __init__(
        self,
        reader: LogReader,
        decode: Callable[[Record], DomainEvent],
        store: DirectoryStore,
        *,
        cipher: Any | None = None,
        sections: Sequence[Section] = SECTIONS,
    ) -> None:
        self._reader, self._decode, self._store = reader, decode, store
        self._codec = Codec(cipher)
        self._sections = tuple(sections)
        self._version = _version(self._sections)
        self._by_topic: dict[str, list[Section]] = {}
        for section in self._sections:
            for topic in section.TOPICS:
                self._by_topic.setdefault(topic, []).append(section)
        self._topics = tuple(self._by_topic)
        self._lock = threading.Lock()
        self.position = 0  # caught up at least to here (in this process's knowledge)
        self._councils: OrderedDict[str, str] = (
            OrderedDict()
        )  # aggregate -> council (never changes)
        self._absent: set[str] = set()  # keys of no row, at self.position
        self._votes: dict[str, VoteRow | _Unread | None] = {}  # read at self.position

    # catching up

    def refresh(self) -> int:
        """Catch up with the log; returns the position reached. Nothing new costs one short
        query; a position another process reached is taken over, not scanned again."""
        last = self._reader.last_id()
        if last <= self.position:
            return self.position
        with self._lock:
            stored, version = self._store.tracking()
            if stored < last or version != self._version:
                stored = self._catch_up(last)
            self._advanced(stored)
            return self.position

    def _advanced(self, position: int) -> None:
        if position > self.position:
            self.position = position
            self._votes.clear()
            self._absent.clear()

    def _catch_up(self, last: int) -> int:
        while True:
            with self._store.writing() as writer:
                if writer.version != self._version:
                    log.info("directory.rebuild", sections=[sec.NAME for sec in self._sections])
                    writer.reset(self._version)
                if writer.position >= last:
                    return writer.position
                self._apply_batch(writer, last)
                reached = writer.position
            if reached >= last:
                return reached

    def _apply_batch(self, writer: Writer, last: int) -> None:
        records = self._reader.records(writer.position, BATCH, stop=last, topics=self._topics)
        if not records:
            writer.advance(last)
            return
        rows = Rows(writer, self._codec)
        rows.prefetch([r.originator for r in records])
        for record in records:
            rows.seq = record.id
            event = self._decode(record)
            for section in self._by_topic.get(record.topic, ()):
                section.apply(event, rows)
        writer.put(rows.changed())
        writer.advance(records[-1].id if len(records) == BATCH else last)

    # reading

    def row(self, cls: type[R], key: str) -> R | None:
        stored = self._store.get(cls.KIND, key)
        return self._codec.decode(cls, stored) if stored is not None else None

    def rows(
        self,
        cls: type[R],
        council: str | None = None,
        *,
        ref: str | None = None,
        active: bool | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[R]:
        """Rows of one kind (of a council, with a reference, active or not), in the order
        they were created (newest first if asked)."""
        query = Query(cls.KIND, council, ref, active, newest_first, None, limit)
        return [self._codec.decode(cls, r) for r in self._store.select(query)]

    def paged(self, cls: type[R], council: str | None = None, *, page: int = 200) -> Iterator[R]:
        """Rows of one kind, newest first, read a page at a time."""
        before: int | None = None
        while True:
            query = Query(cls.KIND, council, newest_first=True, before_seq=before, limit=page)
            batch = self._store.select(query)
            for stored in batch:
                yield self._codec.decode(cls, stored)
            if len(batch) < page:
                return
            before = batch[-1].seq

    def council(self, code: str) -> CouncilRow | None:
        return self.row(CouncilRow, code)

    def issue(self, oid: UUID) -> IssueRow | None:
        return self.row(IssueRow, oid.hex)

    def meeting(self, oid: UUID) -> MeetingRow | None:
        return self.row(MeetingRow, oid.hex)

    def spending(self, oid: UUID) -> SpendingRow | None:
        return self.row(SpendingRow, oid.hex)

    def notice(self, oid: UUID) -> NoticeRow | None:
        return self.row(NoticeRow, oid.hex)

    def webhooks(self) -> dict[UUID, str]:
        """Every subscription and its council."""
        return {row.id: row.council for row in self.rows(WebhookRow)}

    def council_of(self, event: FeedEvent) -> str | None:
        """The council an event of the feed belongs to (None if it belongs to none)."""
        return self.council_of_aggregate(event.aggregate_id, event.data)

    def council_of_aggregate(self, oid: UUID, data: dict[str, object]) -> str | None:
        """The council of aggregate ``oid``, whose (first) event carries ``data``."""
        code = self._council_by_key(oid.hex)
        issue = data.get("issue_id")  # ballots and ratings name their issue
        if code is None and isinstance(issue, str):
            code = self._council_by_key(UUID(issue).hex)
            if code is not None:
                self._remember(oid.hex, code)
        # Nothing else is believed: an event's own ``council`` field is what its author
        # claimed, not where the aggregate was created.
        return code

    def prime(self, keys: Sequence[str]) -> None:
        """Look up the councils of these aggregates (hex ids) in one read, for a batch."""
        wanted = {k for k in keys if k not in self._councils and k not in self._absent}
        if not wanted:
            return
        for stored in self._store.by_keys(wanted):
            if stored.kind not in _NOT_OWNED:
                self._remember(stored.key, stored.council)
        if len(self._absent) > 100_000:
            self._absent.clear()
        self._absent.update(k for k in wanted if k not in self._councils)

    def _council_by_key(self, key: str) -> str | None:
        if (code := self._councils.get(key)) is not None:
            return code
        if key not in self._absent:
            self.prime([key])
        return self._councils.get(key)

    def _remember(self, key: str, code: str) -> None:
        self._councils[key] = code
        if len(self._councils) > 100_000:
            self._councils.popitem(last=False)

    def choice_withheld(self, issue: UUID, ballot_key: str) -> str | None:
        """Why a ballot's choice may not be shown now (None: it may, a named vote closed)."""
        key = vote_key(issue, ballot_key)
        vote = self._votes.get(key, _UNREAD)  # one read (other threads may clear the memo)
        if vote is _UNREAD:
            if len(self._votes) > 10_000:
                self._votes.clear()
            vote = self._votes[key] = self.row(VoteRow, key)
        assert not isinstance(vote, _Unread)
        if vote is None or vote.open:
            return "voting_open"
        return "secret_ballot" if vote.secret else None

    def disclose(self, topic: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (an event's or a ballot's state) as it may be shown: while a vote is open
        no choice is shown, and a secret vote never shows one (only who took part: its choices,
        recorded apart, are withheld too, or their place in the log would pair them again)."""
        if topic == PaperBatchEntered.TOPIC:  # a batch of paper ballots: each entry's choice
            withheld = self.choice_withheld(UUID(str(data["issue_id"])), str(data["ballot_key"]))
            if withheld is not None:
                entries = data.get("entries") or []
                data["entries"] = [{**entry, "choice": None} for entry in entries]
                data["choice_withheld"] = withheld
            return data
        return self.disclose_ballot(data) if topic in _CHOICE_TOPICS else data

    def disclose_ballot(self, data: dict[str, Any]) -> dict[str, Any]:
        """A ballot's event data or state, its choice withheld unless it may be shown."""
        withheld = self.choice_withheld(UUID(str(data["issue_id"])), str(data["ballot_key"]))
        if withheld is not None:
            data["choice"], data["choice_withheld"] = None, withheld
        return data


def dumps(row: Row) -> bytes:
    """A row as JSON (for tests and exports)."""
    return orjson.dumps(row.model_dump(mode="json"))
