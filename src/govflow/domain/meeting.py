"""A deliberation meeting (议事会议): notice, attendance and quorum, motions, minutes, evidence."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.council import Body
from govflow.domain.errors import (
    AlreadyExistsError,
    InvalidInputError,
    MeetingStateError,
    QuorumNotMetError,
)
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


class MemberExcused(DomainEvent):
    """A member of the body's roll was excused (请假) before the meeting, with a reason: they
    are not expected (应到 = members of record less those excused)."""

    TOPIC = "govflow.meeting.member_excused"
    member_id: str
    reason: str


class AttendanceRecorded(DomainEvent):
    """Who attended in person (``present``) and who through a proxy who attended
    (``by_proxy``: principal -> proxy, 委托出席); quorum counts both."""

    TOPIC = "govflow.meeting.attendance_recorded"
    present: tuple[str, ...]
    members_of_record: int
    expected: int
    quorum_met: bool
    by_proxy: dict[str, str] = Field(default_factory=dict)

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no proxies: nobody attended through one."""
        state.setdefault("by_proxy", {})

    @property
    def attending(self) -> int:
        """How many members of the body attended, in person or through a proxy."""
        return len(self.present) + len(self.by_proxy)


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
                self.number = event.number
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
                self.excused: dict[str, str] = {}  # member id -> reason
            case MemberExcused():
                self.excused[event.member_id] = event.reason
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

    def excuse(
        self, member_id: str, reason: str, *, roll: frozenset[str], at: datetime, actor: str
    ) -> None:
        """Excuse a member of the body's roll before attendance is taken."""
        if self.attendance is not None:
            raise MeetingStateError("attendance is recorded: excuse members before it")
        if member_id not in roll:
            raise InvalidInputError(
                f"{member_id} is not on the roll of {self.body.value}", member_id=member_id
            )
        if member_id in self.excused:
            raise AlreadyExistsError(f"{member_id} is already excused", member_id=member_id)
        if not reason.strip():
            raise InvalidInputError("an excuse needs a reason")
        self._trigger(MemberExcused, at=at, actor=actor, member_id=member_id, reason=reason)

    def record_attendance(
        self,
        present: tuple[str, ...],
        *,
        roll: frozenset[str],
        at: datetime,
        actor: str,
        by_proxy: Mapping[str, str] | None = None,
    ) -> bool:
        """Record who attended, against the body's roll as recorded: members of record are
        the roll, expected (应到) the roll less those excused. ``by_proxy`` (principal ->
        proxy, from live appointments) counts a member whose proxy attended and who did not
        attend themself. Returns whether quorum is met."""
        represented = dict(by_proxy or {})
        if self.attendance is not None:
            raise MeetingStateError("attendance is already recorded")
        if len(set(present)) != len(present):
            raise InvalidInputError("an attendee is listed twice")
        strangers = sorted(set(present) - roll)
        if strangers:
            raise InvalidInputError(
                f"not on the roll of {self.body.value}: {', '.join(strangers)}",
                not_on_roll=strangers,
            )
        excused_present = sorted(set(present) & set(self.excused))
        if excused_present:
            raise InvalidInputError(
                f"excused but listed as present: {', '.join(excused_present)}",
                excused=excused_present,
            )
        for principal, proxy in represented.items():
            if principal in present or proxy not in present or principal not in roll:
                raise InvalidInputError(
                    f"{principal} attends through {proxy} only if {proxy} attends and "
                    f"{principal} does not",
                    principal=principal,
                )
            if principal in self.excused:
                raise InvalidInputError(f"{principal} was excused", principal=principal)
        members_of_record = len(roll)
        expected = members_of_record - len(set(self.excused) & roll)
        electorate = Electorate(members_of_record=members_of_record, expected=expected)
        attending = len(present) + len(represented)
        decision = decide(self.rule, electorate, Counts(present=attending, yes=0))
        self._trigger(
            AttendanceRecorded,
            at=at,
            actor=actor,
            present=present,
            members_of_record=members_of_record,
            expected=expected,
            quorum_met=decision.quorum_met,
            by_proxy=represented,
        )
        return decision.quorum_met

    def motion_passed(self, motion_no: int) -> bool:
        """Whether motion ``motion_no`` passed (refused if the meeting has no such motion)."""
        if motion_no not in self.motion_results:
            raise MeetingStateError(
                f"meeting {self.number} has no motion {motion_no}", motion_no=motion_no
            )
        return self.motion_results[motion_no]

    def record_motion(
        self, text: str, *, yes: int, no: int, abstain: int, at: datetime, actor: str
    ) -> MotionRecorded:
        """Record a motion's counts; refused without a quorum. Flags a missed notice period."""
        attendance = self.attendance
        if attendance is None:
            raise MeetingStateError("record attendance before any motion")
        if not attendance.quorum_met:
            raise QuorumNotMetError("the meeting has no quorum: no motion can be carried")
        if min(yes, no, abstain) < 0 or yes + no + abstain > attendance.attending:
            raise InvalidInputError(
                "the counts must be non-negative and within those attending (in person or "
                "through a proxy)"
            )
        electorate = Electorate(
            members_of_record=attendance.members_of_record, expected=attendance.expected
        )
        decision = decide(
            self.rule,
            electorate,
            Counts(present=attendance.attending, yes=yes, no=no, abstain=abstain),
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
