"""A public notice (公示): display period, objections and replies, corrections, withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.calendar import DayType
from govflow.domain.errors import InvalidInputError, NoticeStateError, ObjectionWindowClosedError
from govflow.domain.ids import notice_id


class NoticeKind(StrEnum):
    RESOLUTION = "resolution"  # 决议公开
    PROGRESS = "progress"  # 实施过程公开
    RESULT = "result"  # 实施结果公开
    MEETING = "meeting"  # 会议通知
    OTHER = "other"


@dataclass(frozen=True)
class NoticePeriod:
    """How long a notice stays up, and how long objections may be filed and answered."""

    display_days: int
    objection_days: int | None = None
    reply_days: int | None = None
    day_type: DayType = DayType.NATURAL


class NoticePosted(DomainEvent):
    TOPIC = "govflow.notice.posted"
    subject_id: UUID
    kind: NoticeKind
    seq: int
    title: str
    text: str
    display_days: int
    objection_days: int | None = None
    reply_days: int | None = None
    day_type: DayType = DayType.NATURAL
    display_until: AwareDatetime
    objection_until: AwareDatetime | None = None


class ObjectionFiled(DomainEvent):
    TOPIC = "govflow.notice.objection_filed"
    objection_no: int
    text: str
    reply_due: AwareDatetime


class ObjectionAnswered(DomainEvent):
    TOPIC = "govflow.notice.objection_answered"
    objection_no: int
    reply: str
    upheld: bool


class NoticeCorrected(DomainEvent):
    TOPIC = "govflow.notice.corrected"
    text: str
    display_until: AwareDatetime
    objection_until: AwareDatetime | None = None


class NoticeWithdrawn(DomainEvent):
    TOPIC = "govflow.notice.withdrawn"
    reason: str


class Notice(Aggregate):
    created_by = (NoticePosted,)

    @classmethod
    def post(
        cls,
        subject_id: UUID,
        kind: NoticeKind,
        seq: int,
        title: str,
        text: str,
        *,
        period: NoticePeriod,
        display_until: datetime,
        objection_until: datetime | None,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> Notice:
        if display_until <= at:
            raise InvalidInputError("a notice's display period must end after it is posted")
        return cls._create(
            NoticePosted,
            notice_id(subject_id, kind.value, seq),
            at=at,
            actor=actor,
            step=step,
            subject_id=subject_id,
            kind=kind,
            seq=seq,
            title=title,
            text=text,
            display_days=period.display_days,
            objection_days=period.objection_days,
            reply_days=period.reply_days,
            day_type=period.day_type,
            display_until=display_until,
            objection_until=objection_until,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case NoticePosted():
                self.subject_id = event.subject_id
                self.kind = event.kind
                self.title = event.title
                self.period = NoticePeriod(
                    event.display_days, event.objection_days, event.reply_days, event.day_type
                )
                self.text = event.text
                self.posted_at = event.timestamp
                self.display_until: datetime = event.display_until
                self.objection_until: datetime | None = event.objection_until
                self.objections = 0
                self.open_objections: dict[int, datetime] = {}
                self.objection_steps: dict[str, int] = {}
                self.upheld = 0
                self.withdrawn = False
            case ObjectionFiled():
                self.objections = event.objection_no
                self.open_objections[event.objection_no] = event.reply_due
                if event.step is not None:
                    self.objection_steps[event.step] = event.objection_no
            case ObjectionAnswered():
                del self.open_objections[event.objection_no]
                self.upheld += int(event.upheld)
            case NoticeCorrected():
                self.text = event.text
                self.display_until = event.display_until
                self.objection_until = event.objection_until
            case NoticeWithdrawn():
                self.withdrawn = True

    def _require_posted(self) -> None:
        if self.withdrawn:
            raise NoticeStateError("the notice was withdrawn")

    def file_objection(
        self, text: str, *, reply_due: datetime, at: datetime, actor: str, step: str | None = None
    ) -> int:
        if step is not None and step in self.objection_steps:
            return self.objection_steps[step]
        self._require_posted()
        if self.objection_until is None or at >= self.objection_until:
            raise ObjectionWindowClosedError("the objection window of this notice has closed")
        if not text.strip():
            raise InvalidInputError("an objection needs some text")
        number = self.objections + 1
        self._trigger(
            ObjectionFiled,
            at=at,
            actor=actor,
            step=step,
            objection_no=number,
            text=text,
            reply_due=reply_due,
        )
        return number

    def answer_objection(
        self,
        objection_no: int,
        reply: str,
        *,
        upheld: bool,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        if objection_no not in self.open_objections:
            raise NoticeStateError(f"objection {objection_no} is not awaiting a reply")
        self._trigger(
            ObjectionAnswered,
            at=at,
            actor=actor,
            step=step,
            objection_no=objection_no,
            reply=reply,
            upheld=upheld,
        )

    def correct(
        self,
        text: str,
        *,
        display_until: datetime,
        objection_until: datetime | None,
        at: datetime,
        actor: str,
    ) -> None:
        """Correct the text; the display period (and objection window) start again."""
        self._require_posted()
        if display_until <= at:
            raise InvalidInputError("a corrected notice's display period must end in the future")
        self._trigger(
            NoticeCorrected,
            at=at,
            actor=actor,
            text=text,
            display_until=display_until,
            objection_until=objection_until,
        )

    def withdraw(self, reason: str, *, at: datetime, actor: str) -> None:
        self._require_posted()
        self._trigger(NoticeWithdrawn, at=at, actor=actor, reason=reason)

    def is_displayed(self, at: datetime) -> bool:
        return not self.withdrawn and self.posted_at <= at < self.display_until
