"""Use cases: public notices (公示), objections, replies and corrections."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from govflow.application.core import GovernanceCore
from govflow.application.views import NoticeView
from govflow.domain.base import Aggregate
from govflow.domain.calendar import deadline
from govflow.domain.ids import spending_id
from govflow.domain.issue import Issue, ResolutionRecorded, VotingTallied
from govflow.domain.meeting import MotionRecorded
from govflow.domain.notice import Notice, NoticeKind, NoticePeriod
from govflow.domain.spending import Spending


class NoticeCases(GovernanceCore):
    def _until(self, start: datetime, days: int | None, period: NoticePeriod) -> datetime | None:
        if days is None:
            return None
        return deadline(
            start, days, period.day_type, calendar=self.holiday_calendar, timezone=self.timezone
        )

    def _new_notice(
        self,
        subject_id: UUID,
        kind: NoticeKind,
        seq: int,
        title: str,
        text: str,
        period: NoticePeriod,
        *,
        actor: str,
        step: str | None,
    ) -> Notice:
        at = self.now()
        display_until = self._until(at, period.display_days, period)
        assert display_until is not None
        return Notice.post(
            subject_id,
            kind,
            seq,
            title,
            text,
            period=period,
            display_until=display_until,
            objection_until=self._until(at, period.objection_days, period),
            at=at,
            actor=actor,
            step=step,
        )

    def post_issue_notice(
        self,
        code: str,
        number: int,
        stage: str,
        kind: NoticeKind,
        title: str,
        text: str,
        period: NoticePeriod,
        *,
        actor: str,
        step: str | None = None,
        spending_number: int | None = None,
    ) -> UUID:
        """Post a notice about an issue and link it to the issue, in one transaction.

        With ``spending_number`` the notice is also recorded as that spending's disclosure.
        """
        issue = self.issue(code, number)
        if step is not None and issue.has_applied(step):
            return issue.notices[-1]
        if text == title:  # the procedure gave only a title: say what the notice is about
            text = self._statement(issue, title, kind)
        notice = self._new_notice(
            issue.id, kind, len(issue.notices) + 1, title, text, period, actor=actor, step=step
        )
        issue.link_notice(
            stage, notice.id, kind.value, at=notice.created_on, actor=actor, step=step
        )
        changed: list[Aggregate] = [notice, issue]
        if spending_number is not None:
            spending = self._get(Spending, spending_id(code, spending_number), "spending")
            spending.record_disclosure(
                kind, notice.id, at=notice.created_on, actor=actor, step=step
            )
            changed.append(spending)
        self._save_new(*changed, what="notice")
        return notice.id

    def _statement(self, issue: Issue, title: str, kind: NoticeKind) -> str:
        """A notice's text from the record: the council and the item, and for a resolution or
        a result what was decided (the last tally, or the meeting's motion named as the
        resolution): 新华社区第3号议题「口袋公园改造」决议公开。表决结果：赞成 5，反对 1 …"""
        council = self.council_to_read(issue.council)
        text = f"{council.name}第{issue.number}号议题「{issue.title}」{title}。"
        if kind not in (NoticeKind.RESOLUTION, NoticeKind.RESULT):
            return text
        decided: str | None = None
        for event in self.domain_events(issue.id):
            if isinstance(event, VotingTallied):
                decided = (
                    f"表决结果：赞成 {event.yes}，反对 {event.no}，弃权 {event.abstain}，"
                    f"{'通过' if event.passed else '未通过'}。"
                )
            elif isinstance(event, ResolutionRecorded):
                decided = self._motion_statement(event) or decided
        return text + (decided or "")

    def _motion_statement(self, event: ResolutionRecorded) -> str | None:
        for motion in self.domain_events(event.meeting_id):
            if isinstance(motion, MotionRecorded) and motion.motion_no == event.motion_no:
                return (
                    f"会议决议：「{motion.text}」赞成 {motion.yes}，反对 {motion.no}，"
                    f"弃权 {motion.abstain}，{'通过' if motion.passed else '未通过'}。"
                )
        return None

    def notice(self, notice_id: UUID) -> Notice:
        return self._get(Notice, notice_id, "notice")

    def file_objection(
        self, notice_id: UUID, text: str, *, actor: str, step: str | None = None
    ) -> int:
        """File an objection (only council members and owners may); returns its number."""
        notice = self.notice(notice_id)
        subject: Any = self.repository.get(notice.subject_id)
        self.council(subject.council).member(actor)
        at = self.now()
        reply_days = notice.period.reply_days if notice.period.reply_days is not None else 5
        reply_due = deadline(
            at,
            reply_days,
            notice.period.day_type,
            calendar=self.holiday_calendar,
            timezone=self.timezone,
        )
        number = notice.file_objection(text, reply_due=reply_due, at=at, actor=actor, step=step)
        self._save(notice)
        return number

    def answer_objection(
        self,
        notice_id: UUID,
        objection_no: int,
        reply: str,
        *,
        upheld: bool,
        actor: str,
        step: str | None = None,
    ) -> None:
        notice = self.notice(notice_id)
        notice.answer_objection(
            objection_no, reply, upheld=upheld, at=self.now(), actor=actor, step=step
        )
        self._save(notice)

    def correct_notice(self, notice_id: UUID, text: str, *, actor: str) -> None:
        """Correct a notice's text; its display period and objection window start again."""
        notice = self.notice(notice_id)
        at = self.now()
        display_until = self._until(at, notice.period.display_days, notice.period)
        assert display_until is not None
        notice.correct(
            text,
            display_until=display_until,
            objection_until=self._until(at, notice.period.objection_days, notice.period),
            at=at,
            actor=actor,
        )
        self._save(notice)

    def withdraw_notice(self, notice_id: UUID, reason: str, *, actor: str) -> None:
        notice = self.notice(notice_id)
        notice.withdraw(reason, at=self.now(), actor=actor)
        self._save(notice)

    def get_notice(self, notice_id: UUID) -> NoticeView:
        notice = self.notice(notice_id)
        return NoticeView(
            id=notice.id,
            subject_id=notice.subject_id,
            kind=notice.kind.value,
            title=notice.title,
            text=notice.text,
            posted_at=notice.posted_at,
            display_until=notice.display_until,
            objection_until=notice.objection_until,
            open_objections=len(notice.open_objections),
            withdrawn=notice.withdrawn,
        )
