"""Spending over the council's threshold: review, approval, disclosures, disbursement, cost.

Over the threshold (strictly more than it) a spending needs the party members' assembly's
review, passed with quorum, before approval; its resolution must be disclosed before money
moves, its implementation process before completion and its result before it is settled.
An actual cost above the approved amount needs a new approval.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.council import Body
from govflow.domain.errors import (
    DisclosureMissingError,
    InvalidInputError,
    MeetingStateError,
    OverDisbursementError,
    ReapprovalRequiredError,
    ReviewRequiredError,
    SameOfficerError,
    SpendingStateError,
)
from govflow.domain.ids import spending_id
from govflow.domain.meeting import Meeting
from govflow.domain.money import Yuan
from govflow.domain.notice import NoticeKind


class SpendingStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"
    REAPPROVAL_REQUIRED = "reapproval_required"
    SETTLED = "settled"


DISCLOSURES = (NoticeKind.RESOLUTION, NoticeKind.PROGRESS, NoticeKind.RESULT)


class SpendingRequested(DomainEvent):
    TOPIC = "govflow.spending.requested"
    council: str
    number: int
    amount: Yuan
    purpose: str
    payee: str
    budget_line: str
    threshold: Yuan
    requires_review: bool
    issue_id: UUID | None = None


class SpendingLinked(DomainEvent):
    """The spending is decided by this item (named when the item was proposed)."""

    TOPIC = "govflow.spending.linked"
    issue_id: UUID


class ReviewRecorded(DomainEvent):
    TOPIC = "govflow.spending.review_recorded"
    body: Body
    meeting_id: UUID | None = None
    quorum_met: bool
    passed: bool
    motion_no: int | None = None


class SpendingApproved(DomainEvent):
    TOPIC = "govflow.spending.approved"
    amount: Yuan


class SpendingRejected(DomainEvent):
    TOPIC = "govflow.spending.rejected"
    reason: str


class DisclosureRecorded(DomainEvent):
    TOPIC = "govflow.spending.disclosure_recorded"
    kind: NoticeKind
    notice_id: UUID


class DisbursementRequested(DomainEvent):
    """An officer (the event's actor) asked for money to move; another officer must approve."""

    TOPIC = "govflow.spending.disbursement_requested"
    disbursement_no: int
    amount: Yuan
    reference: str


class Disbursed(DomainEvent):
    """Money moved, approved by two distinct officers: the one who requested it and the one
    who approved it (the event's actor)."""

    TOPIC = "govflow.spending.disbursed"
    amount: Yuan
    approved_by: tuple[str, str]
    reference: str
    disbursement_no: int | None = None


class SpendingCompleted(DomainEvent):
    TOPIC = "govflow.spending.completed"
    actual_cost: Yuan
    over_approval: bool


class SpendingSettled(DomainEvent):
    TOPIC = "govflow.spending.settled"


class Spending(Aggregate):
    created_by = (SpendingRequested,)

    @classmethod
    def request(
        cls,
        council: str,
        number: int,
        amount: Decimal,
        *,
        purpose: str,
        payee: str,
        budget_line: str,
        threshold: Decimal,
        at: datetime,
        actor: str,
        issue_id: UUID | None = None,
    ) -> Spending:
        return cls._create(
            SpendingRequested,
            spending_id(council, number),
            at=at,
            actor=actor,
            council=council,
            number=number,
            amount=amount,
            purpose=purpose,
            payee=payee,
            budget_line=budget_line,
            threshold=threshold,
            requires_review=amount > threshold,
            issue_id=issue_id,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case SpendingRequested():
                self.council = event.council
                self.amount: Decimal = event.amount
                self.requires_review = event.requires_review
                self.threshold: Decimal = event.threshold
                self.status = SpendingStatus.REQUESTED
                self.review_passed = False
                self.approved_amount = Decimal(0)
                self.disbursed = Decimal(0)
                self.actual_cost: Decimal | None = None
                self.disclosures: dict[NoticeKind, UUID] = {}
                self.issue_id = event.issue_id
                self.pending: dict[int, DisbursementRequested] = {}
                self.disbursements = 0
                self.reviewed = False  # in the current status (a re-approval needs another)
                self.used_motions: set[tuple[UUID, int]] = set()
            case DisbursementRequested():
                self.pending[event.disbursement_no] = event
                self.disbursements = event.disbursement_no
            case SpendingLinked():
                self.issue_id = event.issue_id
            case ReviewRecorded():
                self.review_passed = event.quorum_met and event.passed
                self.reviewed = True
                if event.meeting_id is not None and event.motion_no is not None:
                    self.used_motions.add((event.meeting_id, event.motion_no))
            case SpendingApproved():
                self.approved_amount = event.amount
                self.status = (
                    SpendingStatus.COMPLETED
                    if self.actual_cost is not None
                    else SpendingStatus.APPROVED
                )
            case SpendingRejected():
                self.status = SpendingStatus.REJECTED
            case DisclosureRecorded():
                self.disclosures[event.kind] = event.notice_id
            case Disbursed():
                self.disbursed += event.amount
                if event.disbursement_no is not None:
                    self.pending.pop(event.disbursement_no, None)
            case SpendingCompleted():
                self.actual_cost = event.actual_cost
                if event.over_approval:
                    self.status = SpendingStatus.REAPPROVAL_REQUIRED
                    self.review_passed = False
                    self.reviewed = False
                else:
                    self.status = SpendingStatus.COMPLETED
            case SpendingSettled():
                self.status = SpendingStatus.SETTLED

    def _require(self, *statuses: SpendingStatus) -> None:
        if self.status not in statuses:
            raise SpendingStateError(
                f"the spending is {self.status.value}", status=self.status.value
            )

    def _require_disclosure(self, kind: NoticeKind, before: str) -> None:
        if self.requires_review and kind not in self.disclosures:
            raise DisclosureMissingError(
                f"the {kind.value} must be disclosed before {before}", disclosure=kind.value
            )

    def _review_needed_for(self, amount: Decimal) -> bool:
        return self.requires_review or amount > self.threshold

    def link_to(self, issue_id: UUID, *, at: datetime, actor: str) -> None:
        """Name the item that decides this spending: once, and only one item."""
        if self.issue_id == issue_id:
            return
        if self.issue_id is not None:
            raise SpendingStateError(
                "the spending belongs to another item", issue=str(self.issue_id)
            )
        self._trigger(SpendingLinked, at=at, actor=actor, issue_id=issue_id)

    def record_review(
        self,
        *,
        body: Body,
        quorum_met: bool,
        passed: bool,
        at: datetime,
        actor: str,
        meeting_id: UUID | None = None,
        motion_no: int | None = None,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        self._require(SpendingStatus.REQUESTED, SpendingStatus.REAPPROVAL_REQUIRED)
        if self.reviewed:
            raise SpendingStateError("the spending's review is recorded already")
        if meeting_id is not None and (meeting_id, motion_no) in self.used_motions:
            raise SpendingStateError("that motion already decided a review of this spending")
        if body is not Body.PARTY_MEMBERS_ASSEMBLY:
            raise ReviewRequiredError(
                "the review must be the party members' assembly's", body=body.value
            )
        self._trigger(
            ReviewRecorded,
            at=at,
            actor=actor,
            step=step,
            body=body,
            meeting_id=meeting_id,
            motion_no=motion_no,
            quorum_met=quorum_met,
            passed=passed,
        )

    def record_review_at(
        self, meeting: Meeting, motion_no: int, *, at: datetime, actor: str, step: str | None
    ) -> bool:
        """Record the review decided by ``meeting``'s motion (its body, quorum and result);
        returns whether the motion passed."""
        if meeting.attendance is None:
            raise MeetingStateError("the meeting has no attendance")
        passed = meeting.motion_passed(motion_no)
        self.record_review(
            body=meeting.body,
            quorum_met=meeting.attendance.quorum_met,
            passed=passed,
            meeting_id=meeting.id,
            motion_no=motion_no,
            at=at,
            actor=actor,
            step=step,
        )
        return passed

    def approve(self, *, at: datetime, actor: str, step: str | None = None) -> None:
        """Approve the requested amount, or re-approve the actual cost after an overrun."""
        if self.has_applied(step):
            return
        self._require(SpendingStatus.REQUESTED, SpendingStatus.REAPPROVAL_REQUIRED)
        amount = self.actual_cost if self.actual_cost is not None else self.amount
        if self._review_needed_for(amount) and not self.review_passed:
            raise ReviewRequiredError(
                "spending over the threshold needs the party members' assembly's review, "
                "passed with quorum, before approval",
                amount=str(amount),
                threshold=str(self.threshold),
            )
        self._trigger(SpendingApproved, at=at, actor=actor, step=step, amount=amount)

    def reject(self, reason: str, *, at: datetime, actor: str, step: str | None = None) -> None:
        if self.has_applied(step):
            return
        self._require(SpendingStatus.REQUESTED, SpendingStatus.REAPPROVAL_REQUIRED)
        self._trigger(SpendingRejected, at=at, actor=actor, step=step, reason=reason)

    def record_disclosure(
        self,
        kind: NoticeKind,
        notice_id: UUID,
        *,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        if kind not in DISCLOSURES:
            raise SpendingStateError(f"{kind.value} is not a spending disclosure")
        if kind is not NoticeKind.PROGRESS and kind in self.disclosures:
            raise SpendingStateError(f"the {kind.value} was disclosed already")
        self._trigger(
            DisclosureRecorded, at=at, actor=actor, step=step, kind=kind, notice_id=notice_id
        )

    def _check_disbursable(self, amount: Decimal) -> None:
        if self.status is SpendingStatus.REAPPROVAL_REQUIRED:
            raise ReapprovalRequiredError("the actual cost exceeds the approval: approve it again")
        self._require(SpendingStatus.APPROVED)
        self._require_disclosure(NoticeKind.RESOLUTION, "money is disbursed")
        if self.disbursed + amount > self.approved_amount:
            raise OverDisbursementError(
                "disbursements may not exceed the approved amount",
                approved=str(self.approved_amount),
                disbursed=str(self.disbursed),
            )

    def request_disbursement(
        self, amount: Decimal, *, reference: str, at: datetime, actor: str
    ) -> int:
        """An officer (``actor``) asks for ``amount`` to be paid; returns the request's number.
        Nothing moves until another officer approves it."""
        self._check_disbursable(amount)
        if not reference.strip():
            raise InvalidInputError("a disbursement needs a reference")
        number = self.disbursements + 1
        self._trigger(
            DisbursementRequested,
            at=at,
            actor=actor,
            disbursement_no=number,
            amount=amount,
            reference=reference,
        )
        return number

    def approve_disbursement(self, disbursement_no: int, *, at: datetime, actor: str) -> None:
        """A second officer (``actor``, not the one who asked) approves: the money moves."""
        request = self.pending.get(disbursement_no)
        if request is None:
            raise SpendingStateError(
                f"no disbursement {disbursement_no} is awaiting approval",
                disbursement_no=disbursement_no,
            )
        if request.actor == actor:
            raise SameOfficerError("the officer who asked for a disbursement cannot approve it")
        self._check_disbursable(request.amount)
        self._trigger(
            Disbursed,
            at=at,
            actor=actor,
            amount=request.amount,
            approved_by=(request.actor, actor),
            reference=request.reference,
            disbursement_no=disbursement_no,
        )

    def complete(
        self, actual_cost: Decimal, *, at: datetime, actor: str, step: str | None = None
    ) -> bool:
        """Record completion; returns whether the cost overran and needs a new approval."""
        if self.has_applied(step):
            return self.status is SpendingStatus.REAPPROVAL_REQUIRED
        self._require(SpendingStatus.APPROVED)
        self._require_disclosure(NoticeKind.PROGRESS, "completion")
        over = actual_cost > self.approved_amount
        self._trigger(
            SpendingCompleted,
            at=at,
            actor=actor,
            step=step,
            actual_cost=actual_cost,
            over_approval=over,
        )
        return over

    def settle(self, *, at: datetime, actor: str, step: str | None = None) -> None:
        if self.has_applied(step):
            return
        if self.status is SpendingStatus.REAPPROVAL_REQUIRED:
            raise ReapprovalRequiredError("the actual cost exceeds the approval: approve it again")
        self._require(SpendingStatus.COMPLETED)
        self._require_disclosure(NoticeKind.RESULT, "the spending is settled")
        self._trigger(SpendingSettled, at=at, actor=actor, step=step)
