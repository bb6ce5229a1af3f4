"""Rectification within a deadline (限期整改): an order, what it comes from, and inspections.

An :class:`Order` says what must be put right, by whom (a member, or a body whose chair acts),
by when and why, and what it comes from: an evaluation of an item rated 不满意, an objection to
a notice that was upheld, or a recorded :class:`Inspection`'s finding. The application takes
the source's facts from the record before the order is issued; the order keeps them.

Its life: issued (open) → reminded and, once the deadline passes, escalated to the body the
policy names (the order stays open and overdue) → completed with evidence → verified by the
ordering body, which accepts it (closed) or sends it back with reasons and a new deadline
(open again, a new round: reminded and escalated afresh).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from pydantic import AwareDatetime

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.council import Body
from govflow.domain.errors import InvalidInputError, RuleViolationError
from govflow.domain.ids import NAMESPACE

# The furthest an order's deadline may be: past it, a deadline is a typing error, and the
# order's workflow could not wait for it (Temporal's timers hold some 290 years at most).
MAX_DEADLINE_AHEAD = timedelta(days=3660)


def check_deadline(deadline: datetime, at: datetime, what: str) -> None:
    """A deadline after ``at`` and at most :data:`MAX_DEADLINE_AHEAD` ahead of it."""
    if deadline <= at:
        raise InvalidInputError(f"{what} must be in the future")
    if deadline - at > MAX_DEADLINE_AHEAD:
        raise InvalidInputError(f"{what} is at most ten years ahead")


def order_id(council: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"rectification:{council}:{number}")


def inspection_id(council: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"inspection:{council}:{number}")


class OrderStateError(RuleViolationError):
    """The order is not in a state that allows this (completed already, not completed …)."""

    code = "rectification.invalid_state"


class OrderSourceError(RuleViolationError):
    """What the order says it comes from does not, by the record, call for rectification (an
    evaluation that was not 不满意, an objection not upheld, another council's record)."""

    code = "rectification.source_not_eligible"


class SelfVerificationError(RuleViolationError):
    """Whoever reported the order completed may not also verify it."""

    code = "rectification.self_verification"


class SourceKind(StrEnum):
    EVALUATION = "evaluation"  # an item's evaluation (评议) rated 不满意
    OBJECTION = "objection"  # an objection (异议) to a notice, upheld
    INSPECTION = "inspection"  # a recorded inspection's finding (检查发现)


class OrderStatus(StrEnum):
    OPEN = "open"  # to be put right by the deadline
    COMPLETED = "completed"  # reported done, awaiting the ordering body's verification
    VERIFIED = "verified"  # accepted by the ordering body: closed


class AssigneeKind(StrEnum):
    MEMBER = "member"  # one member of the council's record
    BODY = "body"  # a body; its chairs (as the record says when they act) act for it


class InspectionRecorded(DomainEvent):
    """An inspection's finding (检查发现), with the sha256 of its evidence (photo, report)."""

    TOPIC = "govflow.inspection.recorded"
    council: str
    number: int
    finding: str
    evidence_sha256: str


class Inspection(Aggregate):
    created_by = (InspectionRecorded,)

    @classmethod
    def record(
        cls,
        council: str,
        number: int,
        finding: str,
        evidence_sha256: str,
        *,
        at: datetime,
        actor: str,
    ) -> Inspection:
        if not finding.strip():
            raise InvalidInputError("an inspection needs a finding")
        return cls._create(
            InspectionRecorded,
            inspection_id(council, number),
            at=at,
            actor=actor,
            council=council,
            number=number,
            finding=finding,
            evidence_sha256=evidence_sha256,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, InspectionRecorded):
            self.council = event.council
            self.number = event.number
            self.finding = event.finding
            self.evidence_sha256 = event.evidence_sha256


class OrderIssued(DomainEvent):
    """An order to put something right by ``deadline``. ``source_*`` name what it comes
    from, as the record showed it when the order was issued (``source_id``: the item, the
    notice or the inspection; ``source_detail``: the evaluation's stage and counts, the
    objection's number, the finding)."""

    TOPIC = "govflow.rectification.issued"
    council: str
    number: int
    what: str
    why: str
    assignee_kind: AssigneeKind
    assignee: str
    ordered_by: Body
    escalate_to: Body
    deadline: AwareDatetime
    source_kind: SourceKind
    source_id: UUID
    source_ref: str
    source_detail: str


class OrderEscalated(DomainEvent):
    """The deadline of round ``round`` passed with the order not done: escalated to
    ``to_body``, with a notice (``notice_id``) on the board."""

    TOPIC = "govflow.rectification.escalated"
    round: int
    to_body: Body
    deadline: AwareDatetime
    notice_id: UUID


class OrderCompleted(DomainEvent):
    """Reported done by whoever must act (the event's actor), with evidence (sha256s)."""

    TOPIC = "govflow.rectification.completed"
    round: int
    text: str
    evidence: tuple[str, ...]


class OrderVerified(DomainEvent):
    """The ordering body (the event's actor, one of its chairs) accepted the completion."""

    TOPIC = "govflow.rectification.verified"
    round: int
    note: str


class OrderSentBack(DomainEvent):
    """The ordering body did not accept the completion: open again, with reasons and a new
    deadline (round ``round`` begins)."""

    TOPIC = "govflow.rectification.sent_back"
    round: int
    reasons: str
    deadline: AwareDatetime


class Order(Aggregate):
    created_by = (OrderIssued,)

    @classmethod
    def issue(
        cls,
        council: str,
        number: int,
        *,
        what: str,
        why: str,
        assignee_kind: AssigneeKind,
        assignee: str,
        ordered_by: Body,
        escalate_to: Body,
        deadline: datetime,
        source_kind: SourceKind,
        source_id: UUID,
        source_ref: str,
        source_detail: str,
        at: datetime,
        actor: str,
    ) -> Order:
        if not what.strip() or not why.strip():
            raise InvalidInputError("an order says what must be put right and why")
        check_deadline(deadline, at, "an order's deadline")
        return cls._create(
            OrderIssued,
            order_id(council, number),
            at=at,
            actor=actor,
            council=council,
            number=number,
            what=what,
            why=why,
            assignee_kind=assignee_kind,
            assignee=assignee,
            ordered_by=ordered_by,
            escalate_to=escalate_to,
            deadline=deadline,
            source_kind=source_kind,
            source_id=source_id,
            source_ref=source_ref,
            source_detail=source_detail,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case OrderIssued():
                self.council = event.council
                self.number = event.number
                self.what = event.what
                self.assignee_kind = event.assignee_kind
                self.assignee = event.assignee
                self.ordered_by = event.ordered_by
                self.escalate_to = event.escalate_to
                self.deadline: datetime = event.deadline
                self.status = OrderStatus.OPEN
                self.round = 1
                self.escalated_rounds: set[int] = set()
                self.completed_by: str | None = None
                self.notices = 0
            case OrderEscalated():
                self.escalated_rounds.add(event.round)
                self.notices += 1
            case OrderCompleted():
                self.status = OrderStatus.COMPLETED
                self.completed_by = event.actor
            case OrderVerified():
                self.status = OrderStatus.VERIFIED
            case OrderSentBack():
                self.status = OrderStatus.OPEN
                self.round = event.round
                self.deadline = event.deadline
                self.completed_by = None

    @property
    def escalated(self) -> bool:
        """Whether the current round's deadline passed and was escalated."""
        return self.round in self.escalated_rounds

    def is_overdue(self, at: datetime) -> bool:
        return self.status is OrderStatus.OPEN and at >= self.deadline

    def escalate(self, notice_id: UUID, *, at: datetime, actor: str, step: str | None) -> None:
        """Escalate the current round, once, when its deadline has passed undone."""
        if self.has_applied(step):
            return
        if not self.is_overdue(at):
            raise OrderStateError("the order is not overdue", status=self.status.value)
        if self.escalated:
            raise OrderStateError("this round of the order is escalated already")
        self._trigger(
            OrderEscalated,
            at=at,
            actor=actor,
            step=step,
            round=self.round,
            to_body=self.escalate_to,
            deadline=self.deadline,
            notice_id=notice_id,
        )

    def complete(self, text: str, evidence: tuple[str, ...], *, at: datetime, actor: str) -> None:
        """Report the order done (late too: an escalated order still awaits its rectification)."""
        if self.status is not OrderStatus.OPEN:
            raise OrderStateError(f"the order is {self.status.value}", status=self.status.value)
        if not text.strip():
            raise InvalidInputError("say what was done")
        if not evidence:
            raise InvalidInputError("a completion needs evidence (the sha256 of a photo or report)")
        self._trigger(
            OrderCompleted, at=at, actor=actor, round=self.round, text=text, evidence=evidence
        )

    def _require_completed(self, actor: str) -> None:
        if self.status is not OrderStatus.COMPLETED:
            raise OrderStateError(
                f"the order is {self.status.value}: only a completed order is verified",
                status=self.status.value,
            )
        if actor == self.completed_by:
            raise SelfVerificationError("whoever reported the order done may not verify it")

    def accept(self, note: str, *, at: datetime, actor: str) -> None:
        self._require_completed(actor)
        self._trigger(OrderVerified, at=at, actor=actor, round=self.round, note=note)

    def send_back(self, reasons: str, deadline: datetime, *, at: datetime, actor: str) -> None:
        """Not done as ordered: open again, with the reasons, until ``deadline``."""
        self._require_completed(actor)
        if not reasons.strip():
            raise InvalidInputError("sending an order back needs the reasons")
        check_deadline(deadline, at, "the new deadline")
        self._trigger(
            OrderSentBack,
            at=at,
            actor=actor,
            round=self.round + 1,
            reasons=reasons,
            deadline=deadline,
        )
