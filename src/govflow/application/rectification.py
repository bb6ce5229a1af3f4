"""Use cases: inspections and rectification orders (限期整改).

An order's source is taken from the record, never from the caller's word: the item's recorded
evaluation must be 不满意, the notice's objection must have been answered as upheld, the
inspection must be recorded, and each must be this council's. Who must act must be on the
record too (a member, or a body with a chair), and so must the body the order is escalated to.
The order's workflow (:mod:`govflow.orchestration.order_workflow`) owns its time: it asks for
the reminders (:meth:`RectificationCases.remind_order`, through the notifier's deliveries) and
the escalation (:meth:`RectificationCases.escalate_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError

from govflow.application.directory import InspectionRow, OrderRow
from govflow.application.notices import NoticeCases
from govflow.application.notification_sending import NotificationSending
from govflow.application.roll_csv import BODY_NAMES as ROLL_BODY_NAMES
from govflow.application.views import View
from govflow.domain.base import SYSTEM_ACTOR
from govflow.domain.council import Body, Council, Member
from govflow.domain.delivery import MessageKind
from govflow.domain.errors import InvalidInputError, RuleViolationError
from govflow.domain.ids import issue_id, meeting_id, notice_id, spending_id
from govflow.domain.issue import EvaluationRecorded
from govflow.domain.meeting import Meeting
from govflow.domain.notice import Notice, NoticeKind, NoticePeriod, ObjectionAnswered
from govflow.domain.policy import escalation_body
from govflow.domain.rectification import (
    AssigneeKind,
    Inspection,
    Order,
    OrderCompleted,
    OrderEscalated,
    OrderIssued,
    OrderSentBack,
    OrderSourceError,
    OrderStatus,
    OrderVerified,
    SourceKind,
    inspection_id,
    order_id,
)

ESCALATION_NOTICE = NoticePeriod(display_days=7)  # how long an escalation stays on the board
AUDITOR = "auditor"  # the role of those who read everything and write nothing (the policy)


class NobodyToActError(RuleViolationError):
    """The record has nobody to act: a body ordered to act without a chair, or a body to
    escalate to with nobody on it."""

    code = "rectification.nobody_to_act"


class OrderStep(View):
    """One step of an order's life, as the board and the app show it."""

    kind: str  # issued, escalated, completed, verified, sent_back
    at: datetime
    actor: str
    round: int
    text: str = ""
    evidence: tuple[str, ...] = ()
    deadline: datetime | None = None
    to_body: str | None = None
    notice_id: UUID | None = None
    late: bool = False  # a completion at or after its round's deadline (escalated or not)


class OrderView(View):
    id: UUID
    council: str
    number: int
    what: str
    why: str
    assignee_kind: str
    assignee: str
    ordered_by: str
    escalate_to: str
    deadline: datetime
    status: str
    round: int
    escalated: bool
    overdue: bool
    source_kind: str
    source_ref: str
    source_detail: str
    issued_at: datetime
    steps: list[OrderStep]


class InspectionView(View):
    id: UUID
    number: int
    finding: str
    evidence_sha256: str
    recorded_at: datetime
    recorded_by: str


def end_of(due: date, timezone: str) -> datetime:
    """24:00 local of ``due`` in the council's zone: the moment a deadline of that day ends."""
    if due >= date.max - timedelta(days=1):  # no day after it (and no UTC for it) to end it
        raise InvalidInputError(f"{due} is too far ahead for a deadline", due=str(due))
    local = datetime.combine(due + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)  # stored in UTC


class RectificationCases(NoticeCases, NotificationSending):
    # -- inspections ----------------------------------------------------------------------------

    def record_inspection(
        self, code: str, number: int, finding: str, evidence_sha256: str, *, actor: str
    ) -> UUID:
        self.council_to_read(code)
        inspection = Inspection.record(
            code, number, finding, evidence_sha256, at=self.now(), actor=actor
        )
        self._save_new(inspection, what=f"inspection {code}/{number}")
        return inspection.id

    def get_inspection(self, code: str, number: int) -> InspectionView:
        found = self._get(Inspection, inspection_id(code, number), f"inspection {code}/{number}")
        first = next(self.domain_events(found.id))
        return InspectionView(
            id=found.id,
            number=number,
            finding=found.finding,
            evidence_sha256=found.evidence_sha256,
            recorded_at=found.created_on,
            recorded_by=first.actor,
        )

    # -- orders ---------------------------------------------------------------------------------

    def order(self, code: str, number: int) -> Order:
        return self._get(Order, order_id(code, number), f"rectification order {code}/{number}")

    def order_rectification(
        self,
        code: str,
        number: int,
        *,
        what: str,
        why: str,
        assignee_kind: AssigneeKind,
        assignee: str,
        ordered_by: Body,
        due: date,
        source_kind: SourceKind,
        source: dict[str, Any],
        actor: str,
    ) -> UUID:
        """Issue an order after checking its source, who must act and the body it would be
        escalated to, all against the record."""
        council = self.council_to_read(code)
        self._check_assignee(council, assignee_kind, assignee)
        escalate_to = Body(escalation_body(ordered_by.value))
        if not council.roll_of(escalate_to).size:
            raise NobodyToActError(
                f"nobody sits on {escalate_to.value}, to which this order would be escalated",
                body=escalate_to.value,
            )
        source_id, source_ref, detail = self._source(code, source_kind, source)
        order = Order.issue(
            code,
            number,
            what=what,
            why=why,
            assignee_kind=assignee_kind,
            assignee=assignee,
            ordered_by=ordered_by,
            escalate_to=escalate_to,
            deadline=end_of(due, council.timezone),
            source_kind=source_kind,
            source_id=source_id,
            source_ref=source_ref,
            source_detail=detail,
            at=self.now(),
            actor=actor,
        )
        self._save_new(order, what=f"rectification order {code}/{number}")
        return order.id

    def _check_assignee(self, council: Council, kind: AssigneeKind, assignee: str) -> None:
        # an auditor writes nothing (the policy): ordered, they could never report it done
        if kind is AssigneeKind.MEMBER:
            if AUDITOR in council.member(assignee).roles:
                raise NobodyToActError(
                    f"{assignee} is an auditor, who writes nothing: order someone who may act",
                    assignee=assignee,
                )
            return
        try:
            body = Body(assignee)
        except ValueError:
            raise InvalidInputError(f"{assignee!r} is not a body", assignee=assignee) from None
        if not any(body in m.chairs and AUDITOR not in m.roles for m in council.members.values()):
            raise NobodyToActError(
                f"{body.value} has no chair on the record to act for it (auditors write nothing)",
                body=body.value,
            )

    def _source(self, code: str, kind: SourceKind, source: dict[str, Any]) -> tuple[UUID, str, str]:
        """What the order comes from, as the record shows it: (id, reference, detail)."""
        if kind is SourceKind.EVALUATION:
            number = _needs(source, "issue_number", kind)
            issue = self.issue(code, number)  # this council's item, by its id
            result = None
            for event in self.domain_events(issue.id):
                if isinstance(event, EvaluationRecorded):
                    result = event
            if result is None or result.result != "dissatisfied":
                raise OrderSourceError(
                    f"item {number}'s evaluation was not recorded as 不满意 (dissatisfied)",
                    issue_number=number,
                    result=result.result if result else None,
                )
            detail = (
                f"评议（{result.stage}）：满意 {result.satisfied}，基本满意 "
                f"{result.basically_satisfied}，不满意 {result.dissatisfied}"
            )
            return issue.id, f"issue:{number}", detail
        if kind is SourceKind.OBJECTION:
            notice_uuid = UUID(str(_needs(source, "notice_id", kind)))
            objection_no = _needs(source, "objection_no", kind)
            notice = self._get(Notice, notice_uuid, "notice")
            if not self._of_council(notice.subject_id, code):
                raise OrderSourceError("the notice is not this council's", notice=str(notice.id))
            answer = next(
                (
                    e
                    for e in self.domain_events(notice.id)
                    if isinstance(e, ObjectionAnswered) and e.objection_no == objection_no
                ),
                None,
            )
            if answer is None or not answer.upheld:
                raise OrderSourceError(
                    f"objection {objection_no} to the notice was not upheld",
                    objection_no=objection_no,
                )
            detail = f"公示「{notice.title}」第{objection_no}号异议已被采纳：{answer.reply}"
            return notice.id, f"notice:{notice.id}#{objection_no}", detail
        number = _needs(source, "inspection_number", kind)
        found = self._get(Inspection, inspection_id(code, number), f"inspection {code}/{number}")
        return found.id, f"inspection:{number}", f"检查发现：{found.finding}"

    def _of_council(self, subject_id: UUID, code: str) -> bool:
        """Whether a notice's subject (an item, a spending, a meeting, an order) is ``code``'s:
        its id is derived from the council's code and its number."""
        try:
            subject: Any = self.repository.get(subject_id)
        except AggregateNotFoundError:  # an unknown subject is no council's
            return False
        number = getattr(subject, "number", None)
        if isinstance(subject, Meeting):
            return subject.id == meeting_id(code, subject.number)
        if getattr(subject, "council", None) == code:
            return True
        return isinstance(number, int) and subject_id in {
            issue_id(code, number),
            spending_id(code, number),
            order_id(code, number),
        }

    def complete_order(
        self, code: str, number: int, text: str, evidence: tuple[str, ...], *, actor: str
    ) -> None:
        order = self.order(code, number)
        order.complete(text, evidence, at=self.now(), actor=actor)
        self._save(order)

    def verify_order(
        self,
        code: str,
        number: int,
        *,
        accepted: bool,
        text: str,
        due: date | None,
        actor: str,
    ) -> None:
        """Accept the completion, or send the order back with reasons and a new deadline."""
        order = self.order(code, number)
        if accepted:
            order.accept(text, at=self.now(), actor=actor)
        else:
            if due is None:
                raise InvalidInputError("sending an order back needs a new deadline (due)")
            timezone = self.council_to_read(code).timezone
            order.send_back(text, end_of(due, timezone), at=self.now(), actor=actor)
        self._save(order)

    # -- what the order's workflow asks for ----------------------------------------------------

    def order_owner(self, code: str, number: int) -> tuple[str, int | None] | None:
        """The member ordered to act on order ``number`` and the enrolment under which they
        were ordered (the policy's ``owner``); None for an order to a body, or if that person
        has left the record (someone enrolled later under the same id is someone else)."""
        order = self.order(code, number)
        if order.assignee_kind is not AssigneeKind.MEMBER:
            return None
        member = self.council_to_read(code).members.get(order.assignee)
        if not _ordered(member, order.created_on):
            return None
        assert member is not None
        return order.assignee, member.enrolment

    def ordered_names(self, code: str, orders: Sequence[OrderRow | OrderView]) -> dict[int, str]:
        """The name of the member each order (by number) was issued to, while that person is on
        the record: someone enrolled later under the same id is never named for it."""
        members = self.council_to_read(code).members
        names: dict[int, str] = {}
        for order in orders:
            member = members.get(order.assignee) if order.assignee_kind == "member" else None
            if member is not None and _ordered(member, order.issued_at):
                names[order.number] = member.name
        return names

    def who_must_act(self, code: str, number: int) -> list[str]:
        """The members who must act on the order now: the member ordered (while still on the
        record), or the chairs of the body ordered, as the record says now."""
        order = self.order(code, number)
        council = self.council_to_read(code)
        if order.assignee_kind is AssigneeKind.MEMBER:
            return [order.assignee] if order.assignee in council.members else []
        body = Body(order.assignee)
        return sorted(mid for mid, m in council.members.items() if body in m.chairs)

    def remind_order(self, code: str, number: int, round_no: int) -> int:
        """Address a reminder of the round's deadline, while the order is open, to each person
        who must act (the notifier sends it, or posts it on the board); named by round and
        person, so a repeated call tells nobody twice. Returns how many were addressed."""
        order = self.order(code, number)
        if order.round != round_no or order.status is not OrderStatus.OPEN:
            return 0  # another round, or reported done (the workflow may not have heard yet)
        people = self.who_must_act(code, number)
        for person in people:
            self._address(
                code, person, MessageKind.ORDER_REMINDER, order.id,
                f"order:{order.id}:{round_no}", None, order.deadline,
            )  # fmt: skip
        return len(people)

    def escalate_order(self, code: str, number: int, *, step: str | None = None) -> bool:
        """Escalate the order (event and notice, atomically) if its round's deadline has
        passed undone and it is not escalated yet; whether it is escalated (by this call or
        the same step before)."""
        order = self.order(code, number)
        council = self.council_to_read(code)
        if order.has_applied(step):  # saved before; its body may not have been told yet
            self._tell_escalation(
                council, order, notice_id(order.id, NoticeKind.OTHER, order.notices)
            )
            return True
        if order.escalated or not order.is_overdue(self.now()):
            return False  # done in time, or escalated already: nothing to do
        title = f"限期整改逾期：第{number}号整改通知"
        text = (
            f"{council.name}第{number}号整改通知（{order.what}）未在期限内完成整改，"
            f"已提请{_body_name(order.escalate_to)}督办。"
        )
        notice = self._new_notice(
            order.id,
            NoticeKind.OTHER,
            order.notices + 1,
            title,
            text,
            ESCALATION_NOTICE,
            actor=SYSTEM_ACTOR,
            step=step,
        )
        order.escalate(notice.id, at=notice.created_on, actor=SYSTEM_ACTOR, step=step)
        # Saved with the order, so a notice of this id exists only if the order's step was
        # applied (answered above): a conflict here is a completion racing the escalation, a
        # retryable concurrent change (the retry finds the order done), never "already exists".
        self._save(notice, order)
        self._tell_escalation(council, order, notice.id)
        return True

    def _tell_escalation(self, council: Council, order: Order, notice: UUID) -> None:
        """Tell each member of the body the order went to of the escalation's notice, as a
        notice (the same message a follower gets: told once, whatever is retried)."""
        for member_id in sorted(council.roll_of(order.escalate_to).weights):
            self._address(
                council.code, member_id, MessageKind.NOTICE, notice, str(notice), None, None
            )

    # -- reading --------------------------------------------------------------------------------

    def list_orders(self, code: str, *, open_only: bool = False) -> list[OrderRow]:
        """The council's orders, newest number first (``open_only``: not verified yet)."""
        self.council_to_read(code)
        rows = self.directory.rows(OrderRow, code, active=True if open_only else None)
        return sorted(rows, key=lambda r: r.number, reverse=True)

    def list_inspections(self, code: str) -> list[InspectionRow]:
        self.council_to_read(code)
        rows = self.directory.rows(InspectionRow, code)
        return sorted(rows, key=lambda r: r.number, reverse=True)

    def get_order(self, code: str, number: int) -> OrderView:
        order = self.order(code, number)
        steps: list[OrderStep] = []
        issued: OrderIssued | None = None
        due: datetime | None = None  # the deadline of the round each event belongs to
        for e in self.domain_events(order.id):
            step = _step(e)
            if isinstance(e, OrderIssued | OrderSentBack):
                due = e.deadline
            if isinstance(e, OrderIssued):
                issued = e
            if step is not None and step.kind == "completed" and due is not None:
                step = step.model_copy(update={"late": step.at >= due})
            if step is not None:
                steps.append(step)
        assert issued is not None
        return OrderView(
            id=order.id,
            council=code,
            number=number,
            what=issued.what,
            why=issued.why,
            assignee_kind=order.assignee_kind.value,
            assignee=order.assignee,
            ordered_by=order.ordered_by.value,
            escalate_to=order.escalate_to.value,
            deadline=order.deadline,
            status=order.status.value,
            round=order.round,
            escalated=order.escalated,
            overdue=order.is_overdue(self.now()),
            source_kind=issued.source_kind.value,
            source_ref=issued.source_ref,
            source_detail=issued.source_detail,
            issued_at=issued.timestamp,
            steps=steps,
        )


def _ordered(member: Member | None, issued_at: datetime) -> bool:
    """Whether ``member`` is the person an order issued at ``issued_at`` named: on the record,
    enrolled by then (someone enrolled later under the same id is another person)."""
    return member is not None and (member.enrolled_at is None or member.enrolled_at <= issued_at)


def _needs(source: dict[str, Any], name: str, kind: SourceKind) -> Any:
    value = source.get(name)
    if value is None:
        raise InvalidInputError(f"an order from an {kind.value} names its {name}", field=name)
    return value


def _body_name(body: Body) -> str:
    return BODY_NAMES.get(body, body.value)


# A body's Chinese name (the roll's file names them so too): the escalation notice, the board.
BODY_NAMES: dict[Body, str] = {body: zh for body, (zh, _) in ROLL_BODY_NAMES.items()}


def _step(e: Any) -> OrderStep | None:
    base = {"at": e.timestamp, "actor": e.actor}
    match e:
        case OrderIssued():
            return OrderStep(kind="issued", round=1, text=e.why, deadline=e.deadline, **base)
        case OrderEscalated():
            return OrderStep(
                kind="escalated",
                round=e.round,
                deadline=e.deadline,
                to_body=e.to_body.value,
                notice_id=e.notice_id,
                **base,
            )
        case OrderCompleted():
            return OrderStep(
                kind="completed", round=e.round, text=e.text, evidence=e.evidence, **base
            )
        case OrderVerified():
            return OrderStep(kind="verified", round=e.round, text=e.note, **base)
        case OrderSentBack():
            return OrderStep(
                kind="sent_back", round=e.round, text=e.reasons, deadline=e.deadline, **base
            )
    return None
