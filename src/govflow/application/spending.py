"""Use cases: spending requests, their review, approval, disclosures and money movements."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from govflow.application.core import GovernanceCore
from govflow.application.notices import NoticeCases
from govflow.application.views import PendingDisbursement, SpendingView
from govflow.domain.errors import (
    NotFoundError,
    OverDisbursementError,
    ResolutionMismatchError,
    SpendingStateError,
)
from govflow.domain.fund import SpendingDraws, spending_draws_id
from govflow.domain.ids import meeting_id, spending_id
from govflow.domain.meeting import Meeting
from govflow.domain.money import parse_yuan
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.domain.spending import Spending


class SpendingCases(NoticeCases, GovernanceCore):
    def request_spending(
        self,
        code: str,
        number: int,
        amount: Decimal | str | int,
        *,
        purpose: str,
        payee: str,
        budget_line: str,
        actor: str,
        issue_id: UUID | None = None,
    ) -> UUID:
        council = self.council_to_read(code)
        spending = Spending.request(
            code,
            number,
            parse_yuan(amount),
            purpose=purpose,
            payee=payee,
            budget_line=budget_line,
            threshold=council.spending_threshold,
            at=self.now(),
            actor=actor,
            issue_id=issue_id,
        )
        self._save_new(spending, what=f"spending {code}/{number}")
        return spending.id

    def spending(self, code: str, number: int) -> Spending:
        return self._get(Spending, spending_id(code, number), f"spending {code}/{number}")

    def review_spending(
        self,
        code: str,
        number: int,
        *,
        meeting_number: int,
        motion_no: int,
        actor: str,
        step: str | None = None,
    ) -> bool:
        """Record the party members' assembly's review from a meeting's motion."""
        meeting = self._get(Meeting, meeting_id(code, meeting_number), "meeting")
        spending = self.spending(code, number)
        if step is not None and spending.has_applied(step):
            return bool(spending.review_passed)
        if spending.issue_id is not None and meeting.issue_id != spending.issue_id:
            raise ResolutionMismatchError(
                f"meeting {meeting_number} was not held for this spending's item"
            )
        passed = spending.record_review_at(
            meeting, motion_no, at=self.now(), actor=actor, step=step
        )
        self._save(spending)
        return passed

    def approve_spending(
        self, code: str, number: int, *, actor: str, step: str | None = None
    ) -> None:
        spending = self.spending(code, number)
        spending.approve(at=self.now(), actor=actor, step=step)
        self._save(spending)

    def reject_spending(
        self, code: str, number: int, reason: str, *, actor: str, step: str | None = None
    ) -> None:
        spending = self.spending(code, number)
        spending.reject(reason, at=self.now(), actor=actor, step=step)
        self._save(spending)

    def disclose_spending(
        self,
        code: str,
        number: int,
        kind: NoticeKind,
        title: str,
        text: str,
        period: NoticePeriod,
        *,
        actor: str,
        step: str | None = None,
    ) -> UUID:
        """Post one of the three disclosures and record it on the spending, atomically."""
        spending = self.spending(code, number)
        if step is not None and spending.has_applied(step):
            return spending.disclosures[kind]
        notice = self._new_notice(
            spending.id, kind, spending.version + 1, title, text, period, actor=actor, step=step
        )
        spending.record_disclosure(kind, notice.id, at=notice.created_on, actor=actor, step=step)
        self._save_new(notice, spending, what="disclosure")
        return notice.id

    def _check_paid_by_funds(
        self, code: str, number: int, spending: Spending, amount: Decimal
    ) -> None:
        """Refuse a disbursement that, with what the spending paid out itself and what the
        council's funds paid against it (their expense lines naming it), exceeds the
        approval: one approval is never paid twice."""
        try:
            draws = self._get(SpendingDraws, spending_draws_id(code, number), "draws")
        except NotFoundError:
            return
        if draws.total + spending.disbursed + amount > spending.approved_amount:
            raise OverDisbursementError(
                "disbursements and the funds' payments against the spending may not exceed the "
                "approved amount",
                approved=str(spending.approved_amount),
                disbursed=str(spending.disbursed),
                paid_by_funds=str(draws.total),
            )

    def request_disbursement(
        self, code: str, number: int, amount: Decimal | str | int, *, reference: str, actor: str
    ) -> int:
        """An officer asks for a payment out of an approved spending; returns its number."""
        spending = self.spending(code, number)
        no = spending.request_disbursement(
            parse_yuan(amount), reference=reference, at=self.now(), actor=actor
        )
        self._check_paid_by_funds(code, number, spending, spending.pending[no].amount)
        self._save(spending)
        return no

    def approve_disbursement(
        self, code: str, number: int, disbursement_no: int, *, actor: str
    ) -> None:
        """Another officer approves a requested payment: only now does money move. The
        officer who asked must still be one (a request does not outlive its requester)."""
        spending = self.spending(code, number)
        request = spending.pending.get(disbursement_no)
        if request is not None:
            asker = self.council_to_read(code).members.get(request.actor)
            if asker is None or "officer" not in asker.roles:
                raise SpendingStateError(
                    f"{request.actor}, who asked for disbursement {disbursement_no}, is no longer "
                    "an officer: another officer must ask again",
                    disbursement_no=disbursement_no,
                )
        if request is not None:
            self._check_paid_by_funds(code, number, spending, request.amount)
        spending.approve_disbursement(disbursement_no, at=self.now(), actor=actor)
        self._save(spending)

    def complete_spending(
        self,
        code: str,
        number: int,
        actual_cost: Decimal | str | int,
        *,
        actor: str,
        step: str | None = None,
    ) -> bool:
        """Record completion; returns True when the cost overran and needs re-approval."""
        spending = self.spending(code, number)
        over = spending.complete(parse_yuan(actual_cost), at=self.now(), actor=actor, step=step)
        self._save(spending)
        return over

    def settle_spending(
        self, code: str, number: int, *, actor: str, step: str | None = None
    ) -> None:
        spending = self.spending(code, number)
        spending.settle(at=self.now(), actor=actor, step=step)
        self._save(spending)

    def get_spending(self, code: str, number: int) -> SpendingView:
        s = self.spending(code, number)
        return SpendingView(
            id=s.id,
            number=number,
            amount=s.amount,
            threshold=s.threshold,
            requires_review=s.requires_review,
            review_passed=s.review_passed,
            status=s.status.value,
            approved_amount=s.approved_amount,
            disbursed=s.disbursed,
            pending_disbursements={
                no: PendingDisbursement(
                    amount=r.amount, reference=r.reference, requested_by=r.actor
                )
                for no, r in s.pending.items()
            },
            actual_cost=s.actual_cost,
            disclosures={kind.value: nid for kind, nid in s.disclosures.items()},
        )
