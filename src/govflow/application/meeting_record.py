"""A meeting's record as people read it (the app's meeting page), and the rolls it is held on.

The meeting aggregate keeps only what its rules need (counts, results, digests); the record a
reader wants (the title, who attended, each motion's text and counts, the minutes) is read
from its recorded events. Spending's disbursements likewise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from govflow.domain import meeting as mt
from govflow.domain import spending as sp
from govflow.domain.council import Body
from govflow.domain.ids import meeting_id, spending_id

if TYPE_CHECKING:
    from govflow.application.governance import Governance


@dataclass(frozen=True)
class MotionLine:
    motion_no: int
    text: str
    yes: int
    no: int
    abstain: int
    passed: bool
    rule: str


@dataclass(frozen=True)
class EvidenceLine:
    name: str
    sha256: str
    size: int
    at: datetime
    actor: str


@dataclass
class MeetingRecord:
    number: int
    body: str
    kind: str
    title: str
    scheduled_for: datetime
    notice_days_required: int
    rule: dict[str, object]
    issue_id: UUID | None
    scheduled_by: str
    notice_given_at: datetime | None = None
    notice_period_met: bool | None = None
    excused: dict[str, str] = field(default_factory=dict)
    present: tuple[str, ...] | None = None
    members_of_record: int | None = None
    expected: int | None = None
    quorum_met: bool | None = None
    motions: list[MotionLine] = field(default_factory=list)
    minutes: list[tuple[datetime, str]] = field(default_factory=list)
    evidence: list[EvidenceLine] = field(default_factory=list)


def read_meeting(app: Governance, code: str, number: int) -> MeetingRecord:
    """Meeting ``number`` of council ``code`` as recorded (``not_found`` if none)."""
    app.meeting(code, number)  # not_found, in plain words
    record: MeetingRecord | None = None
    for event in app.domain_events(meeting_id(code, number)):
        match event:
            case mt.MeetingScheduled():
                record = MeetingRecord(
                    number=event.number,
                    body=event.body.value,
                    kind=event.kind,
                    title=event.title,
                    scheduled_for=event.scheduled_for,
                    notice_days_required=event.notice_days_required,
                    rule=event.rule.model_dump(mode="json"),
                    issue_id=event.issue_id,
                    scheduled_by=event.actor,
                )
            case _ if record is None:
                continue
            case mt.MeetingNoticeIssued():
                record.notice_given_at = event.timestamp
                record.notice_period_met = event.notice_period_met
            case mt.MemberExcused():
                record.excused[event.member_id] = event.reason
            case mt.AttendanceRecorded():
                record.present = event.present
                record.members_of_record = event.members_of_record
                record.expected = event.expected
                record.quorum_met = event.quorum_met
            case mt.MotionRecorded():
                record.motions.append(
                    MotionLine(
                        event.motion_no,
                        event.text,
                        event.yes,
                        event.no,
                        event.abstain,
                        event.passed,
                        event.rule,
                    )
                )
            case mt.MinutesRecorded():
                record.minutes.append((event.timestamp, event.text))
            case mt.EvidenceAttached():
                record.evidence.append(
                    EvidenceLine(event.name, event.sha256, event.size, event.timestamp, event.actor)
                )
    assert record is not None
    return record


def body_roll(app: Governance, code: str, body: Body) -> list[tuple[str, str]]:
    """Who is on ``body``'s roll now (member id, name), as attendance is taken against it."""
    council = app.council_to_read(code)
    return [
        (mid, council.members[mid].name if mid in council.members else mid)
        for mid in council.roll_of(body).weights
    ]


@dataclass(frozen=True)
class DisbursementLine:
    disbursement_no: int | None
    amount: Decimal
    reference: str
    requested_by: str
    approved_by: str | None
    at: datetime


@dataclass
class SpendingRecord:
    purpose: str
    payee: str
    budget_line: str
    requested_by: str
    requested_at: datetime
    disbursements: list[DisbursementLine] = field(default_factory=list)


def read_spending(app: Governance, code: str, number: int) -> SpendingRecord:
    """Spending ``number``'s request and its disbursements as recorded (money moved: each
    with the officer who asked and the one who approved)."""
    app.spending(code, number)  # not_found, in plain words
    record: SpendingRecord | None = None
    for event in app.domain_events(spending_id(code, number)):
        match event:
            case sp.SpendingRequested():
                record = SpendingRecord(
                    event.purpose, event.payee, event.budget_line, event.actor, event.timestamp
                )
            case sp.Disbursed() if record is not None:
                asked, approved = event.approved_by
                record.disbursements.append(
                    DisbursementLine(
                        event.disbursement_no,
                        event.amount,
                        event.reference,
                        asked,
                        approved,
                        event.timestamp,
                    )
                )
    assert record is not None
    return record
