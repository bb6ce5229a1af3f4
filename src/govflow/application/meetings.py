"""Use cases: meetings, their notice, attendance, motions, minutes and evidence."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

from govflow.application.proxies import ProxyCases
from govflow.application.views import MeetingView
from govflow.domain.council import Body
from govflow.domain.ids import meeting_id
from govflow.domain.meeting import Meeting
from govflow.domain.proxy import meeting_proxy_id
from govflow.domain.voting import VotingRule


class MeetingCases(ProxyCases):
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

    def excuse_member(
        self, code: str, number: int, member_id: str, reason: str, *, actor: str
    ) -> None:
        """Excuse a member of the meeting's body before attendance (not expected: 应到)."""
        council = self.council_to_read(code)
        meeting = self.meeting(code, number)
        roll = frozenset(council.roll_of(meeting.body).weights)
        meeting.excuse(member_id, reason, roll=roll, at=self.now(), actor=actor)
        self._save(meeting)

    def record_attendance(self, code: str, number: int, present: list[str], *, actor: str) -> bool:
        """Record attendance against the body's roll as recorded; returns quorum. A member
        who did not attend but whose proxy did attends through the proxy (委托出席), by the
        live appointments on record, never by the caller's word; those appointments are
        recorded as used in the same save (no revocation after)."""
        council = self.council_to_read(code)
        meeting = self.meeting(code, number)
        roll = frozenset(council.roll_of(meeting.body).weights)
        attending = set(present)
        used = [
            appointment
            for principal, held in sorted(self.meeting_appointments(code, number).items())
            if held.proxy in attending
            and principal not in attending
            and principal in roll
            and principal not in meeting.excused
            and (appointment := self._find(meeting_proxy_id(meeting.id, principal))) is not None
        ]
        for appointment in used:
            appointment.use(f"meeting:{number}", appointment.proxy, at=self.now())
        quorum = meeting.record_attendance(
            tuple(present),
            roll=roll,
            at=self.now(),
            actor=actor,
            by_proxy={a.principal: a.proxy for a in used},
        )
        self._save(meeting, *used)
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
            members_of_record=m.attendance.members_of_record if m.attendance else None,
            expected=m.attendance.expected if m.attendance else None,
            present=len(m.attendance.present) if m.attendance else None,
            by_proxy=dict(m.attendance.by_proxy) if m.attendance else {},
            excused=dict(m.excused),
            motions=dict(m.motion_results),
            evidence=dict(m.evidence),
        )
