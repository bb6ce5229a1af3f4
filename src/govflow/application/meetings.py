"""Use cases: meetings, their notice, attendance, motions, minutes and evidence."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

from govflow.application.core import GovernanceCore
from govflow.application.views import MeetingView
from govflow.domain.council import Body
from govflow.domain.ids import meeting_id
from govflow.domain.meeting import Meeting
from govflow.domain.voting import VotingRule


class MeetingCases(GovernanceCore):
    def schedule_meeting(
        self,
        code: str,
        number: int,
        body: Body,
        kind: str,
        title: str,
        *,
        scheduled_for: datetime,
        notice_days_required: int,
        rule: VotingRule,
        actor: str,
        issue_id: UUID | None = None,
    ) -> UUID:
        self.council_to_read(code)
        meeting = Meeting.schedule(
            code,
            number,
            body,
            kind,
            title,
            scheduled_for=scheduled_for,
            notice_days_required=notice_days_required,
            rule=rule,
            at=self.now(),
            actor=actor,
            issue_id=issue_id,
        )
        self._save_new(meeting, what=f"meeting {code}/{number}")
        return meeting.id

    def meeting(self, code: str, number: int) -> Meeting:
        return self._get(Meeting, meeting_id(code, number), f"meeting {code}/{number}")

    def issue_meeting_notice(self, code: str, number: int, *, actor: str) -> bool:
        meeting = self.meeting(code, number)
        met = meeting.issue_notice(at=self.now(), actor=actor)
        self._save(meeting)
        return met

    def record_attendance(
        self, code: str, number: int, present: list[str], *, actor: str, expected: int | None = None
    ) -> bool:
        """Record attendance against the body's members of record; returns quorum."""
        council = self.council_to_read(code)
        meeting = self.meeting(code, number)
        roll = council.roll_of(meeting.body)
        for member in present:
            council.member(member)
        quorum = meeting.record_attendance(
            tuple(present),
            members_of_record=roll.size,
            expected=roll.size if expected is None else expected,
            at=self.now(),
            actor=actor,
        )
        self._save(meeting)
        return quorum

    def record_motion(
        self, code: str, number: int, text: str, *, yes: int, no: int, abstain: int, actor: str
    ) -> int:
        meeting = self.meeting(code, number)
        motion = meeting.record_motion(
            text, yes=yes, no=no, abstain=abstain, at=self.now(), actor=actor
        )
        self._save(meeting)
        return motion.motion_no

    def record_minutes(self, code: str, number: int, text: str, *, actor: str) -> None:
        meeting = self.meeting(code, number)
        meeting.record_minutes(text, at=self.now(), actor=actor)
        self._save(meeting)

    def attach_evidence(
        self, code: str, number: int, name: str, content: bytes, *, actor: str
    ) -> str:
        """Attach evidence by its sha256 (the bytes are kept outside the event store)."""
        digest = hashlib.sha256(content).hexdigest()
        meeting = self.meeting(code, number)
        meeting.attach_evidence(name, digest, len(content), at=self.now(), actor=actor)
        self._save(meeting)
        return digest

    def get_meeting(self, code: str, number: int) -> MeetingView:
        m = self.meeting(code, number)
        return MeetingView(
            id=m.id,
            body=m.body.value,
            scheduled_for=m.scheduled_for,
            notice_period_met=m.notice_period_met,
            quorum_met=m.attendance.quorum_met if m.attendance else None,
            motions=dict(m.motion_results),
            evidence=dict(m.evidence),
        )
