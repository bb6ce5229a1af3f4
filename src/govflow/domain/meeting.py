"""A deliberation meeting (议事会议): notice, attendance and quorum, motions, minutes, evidence."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import AwareDatetime

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.council import Body
from govflow.domain.errors import InvalidInputError, MeetingStateError, QuorumNotMetError
from govflow.domain.ids import meeting_id
from govflow.domain.voting import Counts, Electorate, VotingRule, decide


class MeetingScheduled(DomainEvent):
    TOPIC = "govflow.meeting.scheduled"
    council: str
    number: int
    body: Body
    kind: str
    title: str
    scheduled_for: AwareDatetime
    notice_days_required: int
    rule: VotingRule
    issue_id: UUID | None = None


class MeetingNoticeIssued(DomainEvent):
    TOPIC = "govflow.meeting.notice_issued"
    notice_period_met: bool


class AttendanceRecorded(DomainEvent):
    TOPIC = "govflow.meeting.attendance_recorded"
    present: tuple[str, ...]
    members_of_record: int
    expected: int
    quorum_met: bool


class MotionRecorded(DomainEvent):
    TOPIC = "govflow.meeting.motion_recorded"
    motion_no: int
    text: str
    yes: int
    no: int
    abstain: int
    passed: bool
    rule: str
    notice_period_met: bool


class MinutesRecorded(DomainEvent):
    TOPIC = "govflow.meeting.minutes_recorded"
    text: str


class EvidenceAttached(DomainEvent):
    TOPIC = "govflow.meeting.evidence_attached"
    name: str
    sha256: str
    size: int


class Meeting(Aggregate):
    created_by = (MeetingScheduled,)

    @classmethod
    def schedule(
        cls,
        council: str,
        number: int,
        body: Body,
        kind: str,
        title: str,
        *,
        scheduled_for: datetime,
        notice_days_required: int,
        rule: VotingRule,
        at: datetime,
        actor: str,
        issue_id: UUID | None = None,
    ) -> Meeting:
        if notice_days_required < 0:
            raise InvalidInputError("a notice period cannot be negative")
        return cls._create(
            MeetingScheduled,
            meeting_id(council, number),
            at=at,
            actor=actor,
            council=council,
            number=number,
            body=body,
            kind=kind,
            title=title,
            scheduled_for=scheduled_for,
            notice_days_required=notice_days_required,
            rule=rule,
            issue_id=issue_id,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case MeetingScheduled():
                self.body = event.body
                self.rule = event.rule
                self.scheduled_for: datetime = event.scheduled_for
                self.notice_days_required = event.notice_days_required
                self.notice_period_met: bool | None = None
                self.attendance: AttendanceRecorded | None = None
                self.motions = 0
                self.motion_results: dict[int, bool] = {}
                self.issue_id = event.issue_id
                self.evidence: dict[str, str] = {}  # sha256 -> name
            case MeetingNoticeIssued():
                self.notice_period_met = event.notice_period_met
            case AttendanceRecorded():
                self.attendance = event
            case MotionRecorded():
                self.motions = event.motion_no
                self.motion_results[event.motion_no] = event.passed
            case EvidenceAttached():
                self.evidence[event.sha256] = event.name

    def issue_notice(self, *, at: datetime, actor: str) -> bool:
        """Record that notice was given now; returns whether the statutory period was met."""
        met = self.scheduled_for - at >= timedelta(days=self.notice_days_required)
        self._trigger(MeetingNoticeIssued, at=at, actor=actor, notice_period_met=met)
        return met

    def record_attendance(
        self,
        present: tuple[str, ...],
        *,
        members_of_record: int,
        expected: int,
        at: datetime,
        actor: str,
    ) -> bool:
        """Record who attended; quorum follows the body's rule. Returns whether it was met."""
        if len(set(present)) != len(present):
            raise InvalidInputError("an attendee is listed twice")
        if len(present) > members_of_record:
            raise InvalidInputError("more attendees than members of record")
        electorate = Electorate(members_of_record=members_of_record, expected=expected)
        decision = decide(self.rule, electorate, Counts(present=len(present), yes=0))
        self._trigger(
            AttendanceRecorded,
            at=at,
            actor=actor,
            present=present,
            members_of_record=members_of_record,
            expected=expected,
            quorum_met=decision.quorum_met,
        )
        return decision.quorum_met

    def record_motion(
        self, text: str, *, yes: int, no: int, abstain: int, at: datetime, actor: str
    ) -> MotionRecorded:
        """Record a motion's counts; refused without a quorum. Flags a missed notice period."""
        attendance = self.attendance
        if attendance is None:
            raise MeetingStateError("record attendance before any motion")
        if not attendance.quorum_met:
            raise QuorumNotMetError("the meeting has no quorum: no motion can be carried")
        if min(yes, no, abstain) < 0 or yes + no + abstain > len(attendance.present):
            raise InvalidInputError("the counts must be non-negative and within those present")
        electorate = Electorate(
            members_of_record=attendance.members_of_record, expected=attendance.expected
        )
        decision = decide(
            self.rule,
            electorate,
            Counts(present=len(attendance.present), yes=yes, no=no, abstain=abstain),
        )
        event = self._trigger(
            MotionRecorded,
            at=at,
            actor=actor,
            motion_no=self.motions + 1,
            text=text,
            yes=yes,
            no=no,
            abstain=abstain,
            passed=decision.passed,
            rule=decision.rule,
            notice_period_met=bool(self.notice_period_met),
        )
        assert isinstance(event, MotionRecorded)
        return event

    def record_minutes(self, text: str, *, at: datetime, actor: str) -> None:
        self._trigger(MinutesRecorded, at=at, actor=actor, text=text)

    def attach_evidence(
        self, name: str, sha256: str, size: int, *, at: datetime, actor: str
    ) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise InvalidInputError("evidence is identified by its lowercase hex sha256")
        self._trigger(EvidenceAttached, at=at, actor=actor, name=name, sha256=sha256, size=size)
