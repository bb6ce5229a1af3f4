"""The directory: lists of councils, issues, meetings, spending and notices, for the board,
the list endpoints and the events feed.

It is a read model that follows the notification log: each read first catches up on the
records appended since its last position (only the topics it needs, through the fast log
reader), so lists never lag behind a write that has returned. It holds only what lists show;
detail pages load the aggregate itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from govflow.application.log_reader import LogReader, Record, scan
from govflow.application.views import FeedEvent
from govflow.domain import ballot as b
from govflow.domain import council as c
from govflow.domain import issue as i
from govflow.domain import meeting as mt
from govflow.domain import notice as n
from govflow.domain import spending as s
from govflow.domain import webhook as w
from govflow.domain.base import DomainEvent
from govflow.domain.paper import PaperBatchEntered

# the records that hold a choice: withheld while a vote is open, and always in a secret vote
_CHOICE_TOPICS = frozenset(
    {
        b.BallotCast.TOPIC,
        b.ProxyBallotCast.TOPIC,
        b.PaperBallotCast.TOPIC,
        b.SecretChoiceCast.TOPIC,
    }
)


@dataclass
class CouncilRow:
    id: UUID
    code: str
    name: str
    registered_at: datetime


@dataclass
class IssueRow:
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


@dataclass
class MeetingRow:
    id: UUID
    council: str
    number: int
    body: str
    title: str
    scheduled_for: datetime
    issue_id: UUID | None = None  # the item the meeting decides, if any


@dataclass
class SpendingRow:
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
    disclosures: dict[str, UUID] = field(default_factory=dict)


@dataclass
class NoticeRow:
    id: UUID
    council: str
    subject_id: UUID
    subject: str  # "issue" | "meeting" | "spending" | "other"
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

    def showing(self, at: datetime) -> bool:
        """On display at ``at`` (a notice posted at a later workflow time, as in fast-forwarded
        demos and drills, counts as on display)."""
        return not self.withdrawn and at < self.display_until


@dataclass
class VoteRow:
    """A voting round as far as showing its ballots goes."""

    open: bool
    secret: bool


TOPICS = tuple(
    cls.TOPIC
    for cls in (
        c.CouncilRegistered,
        i.IssueProposed,
        i.StageOpened,
        i.StageClosed,
        i.Escalated,
        i.IssueReopened,
        i.VotingOpened,
        i.VotingClosed,
        i.IssueWithdrawn,
        i.IssueClosed,
        mt.MeetingScheduled,
        s.SpendingRequested,
        s.SpendingApproved,
        s.SpendingRejected,
        s.DisclosureRecorded,
        s.Disbursed,
        s.SpendingCompleted,
        s.SpendingSettled,
        n.NoticePosted,
        n.ObjectionFiled,
        n.ObjectionAnswered,
        n.NoticeCorrected,
        n.NoticeWithdrawn,
        w.Subscribed,
    )
)


class Directory:
    """Lists kept current from the notification log (thread-safe)."""

    def __init__(self, reader: LogReader, decode: Callable[[Record], DomainEvent]) -> None:
        self._reader, self._decode = reader, decode
        self._lock = threading.Lock()
        self.position = 0
        self.councils: dict[str, CouncilRow] = {}
        self.issues: dict[UUID, IssueRow] = {}
        self.meetings: dict[UUID, MeetingRow] = {}
        self.spending: dict[UUID, SpendingRow] = {}
        self.notices: dict[UUID, NoticeRow] = {}  # in posting order
        self.notices_of: dict[UUID, list[NoticeRow]] = {}  # by subject, in posting order
        self.webhooks: dict[UUID, str] = {}  # subscription -> council
        self.votes: dict[tuple[UUID, str], VoteRow] = {}  # (issue, ballot key) -> round
        self._council_ids: dict[UUID, str] = {}

    def refresh(self) -> int:
        """Catch up with the log; returns the position reached. Nothing new costs one short
        query, and what was scanned is not scanned again even where none of it was ours."""
        last = self._reader.last_id()
        if last <= self.position:
            return self.position
        with self._lock:
            for record in scan(self._reader, self.position, stop=last, topics=TOPICS):
                self._apply(self._decode(record))
            self.position = max(self.position, last)
            return self.position

    def council_of(self, event: FeedEvent) -> str | None:
        """The council an event of the feed belongs to (None if it belongs to none)."""
        return self.council_of_aggregate(event.aggregate_id, event.data)

    def council_of_aggregate(self, oid: UUID, data: dict[str, object]) -> str | None:
        """The council of aggregate ``oid``, whose (first) event carries ``data``."""
        for rows in (self.issues, self.meetings, self.spending, self.notices):
            if (row := rows.get(oid)) is not None:
                return row.council
        if (code := self._council_ids.get(oid)) is not None:
            return code
        issue = data.get("issue_id")  # ballots and ratings name their issue
        if isinstance(issue, str) and (row := self.issues.get(UUID(issue))) is not None:
            return row.council
        # Nothing else is believed: an event's own ``council`` field is what its author
        # claimed, not where the aggregate was created.
        return None

    def choice_withheld(self, issue: UUID, ballot_key: str) -> str | None:
        """Why a ballot's choice may not be shown now (None: it may, a named vote closed)."""
        vote = self.votes.get((issue, ballot_key))
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

    def _subject(self, subject_id: UUID) -> tuple[str, str, int | None]:
        if row := self.issues.get(subject_id):
            return row.council, "issue", row.number
        if meeting := self.meetings.get(subject_id):
            return meeting.council, "meeting", meeting.number
        if spending := self.spending.get(subject_id):
            return spending.council, "spending", spending.number
        return "", "other", None

    def _apply(self, event: DomainEvent) -> None:
        oid, at = event.originator_id, event.timestamp
        issue = self.issues.get(oid)
        if issue is not None:
            issue.updated_at = at
        match event:
            case c.CouncilRegistered():
                self.councils[event.code] = CouncilRow(oid, event.code, event.name, at)
                self._council_ids[oid] = event.code
            case w.Subscribed():
                self.webhooks[oid] = event.council
            case i.IssueProposed():
                self.issues[oid] = IssueRow(
                    oid,
                    event.council,
                    event.number,
                    event.title,
                    f"{event.procedure_name}@{event.procedure_version}",
                    event.body,
                    event.category,
                    at,
                    updated_at=at,
                )
            case i.StageOpened() if issue:
                issue.stage, issue.deadline = event.stage, event.deadline
            case i.StageClosed() if issue:
                issue.deadline = None
            case i.Escalated() if issue and event.new_deadline:
                issue.deadline = event.new_deadline
            case i.IssueReopened() if issue:
                issue.stage, issue.outcome = event.at_stage, None
            case i.IssueWithdrawn() if issue:
                issue.outcome, issue.deadline = "withdrawn", None
            case i.IssueClosed() if issue:
                issue.outcome, issue.stage, issue.deadline = event.outcome.value, None, None
            case mt.MeetingScheduled():
                self.meetings[oid] = MeetingRow(
                    oid, event.council, event.number, event.body.value, event.title,
                    event.scheduled_for, event.issue_id,
                )  # fmt: skip
            case s.SpendingRequested():
                self.spending[oid] = SpendingRow(
                    oid, event.council, event.number, event.purpose, event.payee, event.amount,
                    event.requires_review, at,
                )  # fmt: skip
            case n.NoticePosted():
                council, subject, number = self._subject(event.subject_id)
                self.notices[oid] = row = NoticeRow(
                    oid, council, event.subject_id, subject, number, event.kind.value,
                    event.title, at, event.display_until, event.objection_until, text=event.text,
                )  # fmt: skip
                self.notices_of.setdefault(event.subject_id, []).append(row)
            case _:
                self._apply_change(event)

    def _apply_change(self, event: DomainEvent) -> None:
        spending, notice = (
            self.spending.get(event.originator_id),
            self.notices.get(event.originator_id),
        )
        match event:
            case i.VotingOpened():
                self.votes[(event.originator_id, event.ballot_key)] = VoteRow(True, event.secret)
            case i.VotingClosed():
                if vote := self.votes.get((event.originator_id, event.ballot_key)):
                    vote.open = False
            case s.SpendingApproved() if spending:
                spending.status, spending.approved_amount = "approved", event.amount
            case s.SpendingRejected() if spending:
                spending.status = "rejected"
            case s.DisclosureRecorded() if spending:
                spending.disclosures[event.kind.value] = event.notice_id
            case s.Disbursed() if spending:
                spending.status, spending.disbursed = "disbursed", spending.disbursed + event.amount
            case s.SpendingCompleted() if spending:
                spending.status, spending.actual_cost = "completed", event.actual_cost
            case s.SpendingSettled() if spending:
                spending.status = "settled"
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
