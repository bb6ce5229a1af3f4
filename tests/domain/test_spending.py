from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from govflow.domain.council import Body
from govflow.domain.errors import (
    DisclosureMissingError,
    OverDisbursementError,
    ReapprovalRequiredError,
    ReviewRequiredError,
    SameOfficerError,
    SpendingStateError,
)
from govflow.domain.notice import NoticeKind
from govflow.domain.spending import Spending, SpendingStatus

T0 = datetime(2026, 3, 2, tzinfo=UTC)
THRESHOLD = Decimal("10000.00")


def request(amount: str) -> Spending:
    return Spending.request(
        "c",
        1,
        Decimal(amount),
        purpose="p",
        payee="x",
        budget_line="b",
        threshold=THRESHOLD,
        at=T0,
        actor="m1",
    )


def approved(amount: str = "12000.00") -> Spending:
    spending = request(amount)
    spending.record_review(
        body=Body.PARTY_MEMBERS_ASSEMBLY, quorum_met=True, passed=True, at=T0, actor="m1"
    )
    spending.approve(at=T0, actor="m1")
    return spending


def test_exactly_the_threshold_needs_no_review() -> None:
    """The threshold is strictly 'over': ¥10,000.00 itself is approved without a review."""
    spending = request("10000.00")
    spending.approve(at=T0, actor="m1")
    assert spending.status is SpendingStatus.APPROVED


def test_over_threshold_refused_without_review() -> None:
    """¥10,000.01 cannot be approved before the party members' assembly's review."""
    spending = request("10000.01")
    with pytest.raises(ReviewRequiredError) as caught:
        spending.approve(at=T0, actor="m1")
    assert caught.value.code == "spending.review_required"


@pytest.mark.parametrize(("quorum_met", "passed"), [(False, True), (True, False)])
def test_review_must_pass_with_quorum(quorum_met: bool, passed: bool) -> None:
    """A review without quorum or that did not pass does not allow approval."""
    spending = request("12000.00")
    spending.record_review(
        body=Body.PARTY_MEMBERS_ASSEMBLY, quorum_met=quorum_met, passed=passed, at=T0, actor="m1"
    )
    with pytest.raises(ReviewRequiredError):
        spending.approve(at=T0, actor="m1")


def test_review_by_another_body_does_not_count() -> None:
    """Only the party members' assembly reviews spending over the threshold."""
    spending = request("12000.00")
    with pytest.raises(ReviewRequiredError):
        spending.record_review(
            body=Body.TWO_COMMITTEES, quorum_met=True, passed=True, at=T0, actor="m1"
        )


def pay(spending: Spending, amount: str, asked_by: str = "m1", approved_by: str = "m2") -> None:
    """One officer asks for a payment, another approves it."""
    no = spending.request_disbursement(Decimal(amount), reference="r", at=T0, actor=asked_by)
    spending.approve_disbursement(no, at=T0, actor=approved_by)


def test_disbursement_needs_the_resolution_disclosed() -> None:
    """No money moves before the resolution is disclosed."""
    spending = approved()
    with pytest.raises(DisclosureMissingError):
        spending.request_disbursement(Decimal("100"), reference="r", at=T0, actor="m1")


def test_two_distinct_officers_approve_a_disbursement() -> None:
    """The officer who asked for a payment cannot approve it: nothing moves until another
    does, and the payment records both."""
    spending = approved()
    spending.record_disclosure(NoticeKind.RESOLUTION, uuid4(), at=T0, actor="m1")
    no = spending.request_disbursement(Decimal("100"), reference="r", at=T0, actor="m1")
    assert spending.disbursed == 0
    with pytest.raises(SameOfficerError):
        spending.approve_disbursement(no, at=T0, actor="m1")
    spending.approve_disbursement(no, at=T0, actor="m2")
    assert spending.disbursed == Decimal("100")
    paid = spending.collect_events()[-1]
    assert getattr(paid, "approved_by", None) == ("m1", "m2")
    with pytest.raises(SpendingStateError):  # a request is paid once
        spending.approve_disbursement(no, at=T0, actor="m3")


def test_disbursements_stay_within_the_approval() -> None:
    """The sum disbursed may not exceed the approved amount, checked again on approval."""
    spending = approved()
    spending.record_disclosure(NoticeKind.RESOLUTION, uuid4(), at=T0, actor="m1")
    first = spending.request_disbursement(Decimal("12000.00"), reference="r", at=T0, actor="m1")
    second = spending.request_disbursement(Decimal("0.01"), reference="r2", at=T0, actor="m1")
    spending.approve_disbursement(first, at=T0, actor="m2")
    with pytest.raises(OverDisbursementError):
        spending.approve_disbursement(second, at=T0, actor="m2")
    with pytest.raises(OverDisbursementError):
        spending.request_disbursement(Decimal("0.01"), reference="r3", at=T0, actor="m1")


def test_completion_needs_progress_and_settlement_needs_result_disclosed() -> None:
    """The process is disclosed before completion, the result before settlement."""
    spending = approved()
    spending.record_disclosure(NoticeKind.RESOLUTION, uuid4(), at=T0, actor="m1")
    with pytest.raises(DisclosureMissingError):
        spending.complete(Decimal("12000"), at=T0, actor="m1")
    spending.record_disclosure(NoticeKind.PROGRESS, uuid4(), at=T0, actor="m1")
    spending.complete(Decimal("12000"), at=T0, actor="m1")
    with pytest.raises(DisclosureMissingError):
        spending.settle(at=T0, actor="m1")
    spending.record_disclosure(NoticeKind.RESULT, uuid4(), at=T0, actor="m1")
    spending.settle(at=T0, actor="m1")
    assert spending.status is SpendingStatus.SETTLED


def test_cost_overrun_needs_a_new_approval_with_a_new_review() -> None:
    """An actual cost above the approval blocks settlement until re-reviewed and re-approved."""
    spending = approved()
    spending.record_disclosure(NoticeKind.RESOLUTION, uuid4(), at=T0, actor="m1")
    spending.record_disclosure(NoticeKind.PROGRESS, uuid4(), at=T0, actor="m1")
    assert spending.complete(Decimal("13500.00"), at=T0, actor="m1") is True
    assert spending.status is SpendingStatus.REAPPROVAL_REQUIRED
    with pytest.raises(ReapprovalRequiredError):
        spending.settle(at=T0, actor="m1")
    with pytest.raises(ReviewRequiredError):
        spending.approve(at=T0, actor="m1")
    spending.record_review(
        body=Body.PARTY_MEMBERS_ASSEMBLY,
        quorum_met=True,
        passed=True,
        at=T0 + timedelta(days=1),
        actor="m1",
    )
    spending.approve(at=T0 + timedelta(days=1), actor="m1")
    assert spending.approved_amount == Decimal("13500.00")
    assert spending.status is SpendingStatus.COMPLETED


def test_an_overrun_past_the_threshold_needs_review_even_when_the_request_did_not() -> None:
    """¥9,000 requested but ¥10,500 spent: the re-approval needs the assembly's review."""
    spending = request("9000.00")
    spending.approve(at=T0, actor="m1")
    pay(spending, "9000")
    assert spending.complete(Decimal("10500.00"), at=T0, actor="m1")
    with pytest.raises(ReviewRequiredError):
        spending.approve(at=T0, actor="m1")


def test_repeated_step_is_applied_once() -> None:
    """A command carrying an already applied step id records nothing more."""
    spending = request("500.00")
    spending.approve(at=T0, actor="m1", step="s-1")
    version = spending.version
    spending.approve(at=T0, actor="m1", step="s-1")
    assert spending.version == version
