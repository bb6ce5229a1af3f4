"""Story 5: a trust-model fund (信托制物业): every line public, two keyholders to move money out,
statements per period, and a bank statement reconciled against the ledger."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from govflow.application import Governance
from govflow.application.specimens import SteppingClock
from govflow.domain.errors import (
    BankStatementError,
    ConcurrentChangeError,
    ForbiddenError,
    FundOverdrawnError,
    FundStateError,
    GovflowError,
    InvalidInputError,
    NotFoundError,
    SameKeyholderError,
    SpendingCoverError,
)
from govflow.domain.fund import (
    Fund,
    FundKind,
    SpendingCover,
    SpendingDraws,
    StatementSchedule,
)
from govflow.domain.ids import fund_id
from govflow.domain.notice import NoticeKind, NoticePeriod
from tests.application.scenario import CLERK, COUNCIL, set_up_council
from tests.application.test_story_major_spending import hold_review

FEES = 1
EVIDENCE = hashlib.sha256(b"receipt scan").hexdigest()


def enrolment(app: Governance, member: str) -> int:
    return app.council(COUNCIL).member(member).enrolment


def open_fees_fund(
    app: Governance, schedule: StatementSchedule = StatementSchedule.MONTHLY
) -> None:
    set_up_council(app)
    app.open_fund(
        COUNCIL, FEES, "物业费信托账户", FundKind.PROPERTY_FEES, ("p2", "p3"),
        schedule=schedule, actor=CLERK,
    )  # fmt: skip


def income(app: Governance, amount: str, on: date, by: str = "p2", **more: object) -> int:
    return app.record_fund_income(
        COUNCIL, FEES, amount, counterparty="业主缴费", category="物业费", on=on,
        evidence_sha256=EVIDENCE, actor=by, enrolment=enrolment(app, by), **more,  # type: ignore[arg-type]
    )  # fmt: skip


def expense(app: Governance, amount: str, on: date, by: str = "p2", **more: object) -> int:
    return app.initiate_fund_expense(
        COUNCIL, FEES, amount, counterparty="保洁公司", category="保洁", on=on,
        evidence_sha256=EVIDENCE, actor=by, enrolment=enrolment(app, by), **more,  # type: ignore[arg-type]
    )  # fmt: skip


def approve(app: Governance, no: int, by: str = "p3") -> int:
    return app.approve_fund_expense(COUNCIL, FEES, no, actor=by, enrolment=enrolment(app, by))


def at(clock: SteppingClock, day: date) -> None:
    clock.current = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


def recorded(app: Governance) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_fund_year_with_two_keyholders(app: Governance, clock: SteppingClock) -> None:
    """A year of fees in and cleaning out, each expense by two keyholders, a major repair
    covered by its approved spending, and twelve monthly statements posted as notices."""
    at(clock, date(2026, 1, 2))
    open_fees_fund(app)
    app.request_spending(
        COUNCIL, 1, "12000.00", purpose="更换化粪管", payee="市政工程队",
        budget_line="公益事业专项", actor="p1",
    )  # fmt: skip
    motion = hold_review(app, present=["p1", "p2", "p3", "p4"], yes=4)
    app.review_spending(COUNCIL, 1, meeting_number=1, motion_no=motion, actor="p1")
    app.approve_spending(COUNCIL, 1, actor="p1")
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "支出决议公开", "同意 ¥12,000.00",
        NoticePeriod(display_days=7), actor="p1",
    )  # fmt: skip
    for month in range(1, 13):
        at(clock, date(2026, month, 10))
        income(app, "3000.00", date(2026, month, 5))
        no = expense(app, "800.00", date(2026, month, 8), by="p3" if month % 2 else "p2")
        approve(app, no, by="p2" if month % 2 else "p3")
        if month == 6:
            big = expense(app, "12000.00", date(2026, 6, 9), spending_number=1)
            approve(app, big)
        at(clock, date(2026, month, 28) if month < 12 else date(2027, 1, 1))
        if month > 1:
            app.post_fund_statement(COUNCIL, FEES, f"2026-{month - 1:02d}", actor="p2")
    at(clock, date(2027, 1, 2))
    app.post_fund_statement(COUNCIL, FEES, "2026-12", actor="p3")

    view = app.get_fund(COUNCIL, FEES)
    assert view.balance == Decimal("12") * (3000 - 800) - 12000 == Decimal("14400.00")
    assert view.lines == 25 and not view.pending_expenses
    assert [s.period for s in view.statements] == [f"2026-{m:02d}" for m in range(1, 13)]
    june = view.statements[5]
    assert (june.opening, june.incomes, june.expenses, june.closing) == (
        Decimal("11000.00"), Decimal("3000.00"), Decimal("12800.00"), Decimal("1200.00"),
    )  # fmt: skip
    assert view.statements[-1].closing == view.balance
    notice = app.get_notice(june.notice_id)
    assert notice.subject_id == view.id and "12,000.00" in notice.text and "2026-06" in notice.title
    lines = app.fund_lines(COUNCIL, FEES)
    assert [ln.balance for ln in lines][:2] == [Decimal("3000.00"), Decimal("2200.00")]
    assert all(ln.balance >= 0 for ln in lines)
    outgoing = [ln for ln in lines if ln.direction == "expense"]
    assert all(ln.initiated_by != ln.recorded_by for ln in outgoing)
    assert {ln.spending_number for ln in outgoing} == {None, 1}
    # posting a period's statement again gives the same notice and records nothing
    before = recorded(app)
    assert app.post_fund_statement(COUNCIL, FEES, "2026-06", actor="p2") == june.notice_id
    assert recorded(app) == before


def test_a_single_keyholder_cannot_move_money_out(app: Governance, clock: SteppingClock) -> None:
    """The keyholder who initiated an expense cannot approve it, a non-keyholder cannot act at
    all, and each refusal records nothing: the money stays."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "5000.00", date(2026, 3, 1))
    no = expense(app, "4000.00", date(2026, 3, 9))
    before = recorded(app)
    with pytest.raises(SameKeyholderError):
        approve(app, no, by="p2")
    with pytest.raises(ForbiddenError):
        approve(app, no, by="p1")  # an officer, but no keyholder of this fund
    with pytest.raises(ForbiddenError):
        expense(app, "100.00", date(2026, 3, 9), by="p1")
    with pytest.raises(ForbiddenError):  # a keyholder's id with another enrolment's number
        app.approve_fund_expense(COUNCIL, FEES, no, actor="p3", enrolment=1)
    assert recorded(app) == before
    view = app.get_fund(COUNCIL, FEES)
    assert view.balance == Decimal("5000.00") and len(view.pending_expenses) == 1
    approve(app, no)
    with pytest.raises(FundStateError):  # approved once: no second time
        approve(app, no)
    assert app.get_fund(COUNCIL, FEES).balance == Decimal("1000.00")


def test_a_keyholder_enrolled_again_holds_no_key(app: Governance, clock: SteppingClock) -> None:
    """A keyholder who left and whose member id was enrolled again (another person) holds no
    key, and an expense they initiated before leaving cannot be approved."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "5000.00", date(2026, 3, 1))
    no = expense(app, "100.00", date(2026, 3, 9), by="p3")
    app.remove_member(COUNCIL, "p3", actor=CLERK)
    app.enroll_member(COUNCIL, "p3", "另一个人", actor=CLERK)
    with pytest.raises(ForbiddenError):
        expense(app, "100.00", date(2026, 3, 9), by="p3")
    with pytest.raises(FundStateError):
        approve(app, no, by="p2")


def test_an_expense_over_the_threshold_needs_an_approved_spending(
    app: Governance, clock: SteppingClock
) -> None:
    """Over ¥10,000 an expense is refused without a spending, with one not approved, with one
    approved but its resolution undisclosed, and beyond what it covers; nothing is recorded."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "50000.00", date(2026, 3, 1))
    app.request_spending(
        COUNCIL, 1, "12000.00", purpose="更换化粪管", payee="市政工程队",
        budget_line="公益事业专项", actor="p1",
    )  # fmt: skip
    before = recorded(app)
    with pytest.raises(SpendingCoverError):
        expense(app, "12000.00", date(2026, 3, 9))
    with pytest.raises(SpendingCoverError) as not_approved:
        expense(app, "12000.00", date(2026, 3, 9), spending_number=1)
    assert "not approved" in not_approved.value.message
    assert recorded(app) == before
    motion = hold_review(app, present=["p1", "p2", "p3", "p4"], yes=4)
    app.review_spending(COUNCIL, 1, meeting_number=1, motion_no=motion, actor="p1")
    app.approve_spending(COUNCIL, 1, actor="p1")
    before = recorded(app)
    with pytest.raises(SpendingCoverError) as undisclosed:
        expense(app, "12000.00", date(2026, 3, 9), spending_number=1)
    assert "disclosed" in undisclosed.value.message
    assert recorded(app) == before
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "支出决议公开", "同意", NoticePeriod(display_days=7),
        actor="p1",
    )  # fmt: skip
    with pytest.raises(SpendingCoverError):
        expense(app, "12000.01", date(2026, 3, 9), spending_number=1)
    approve(app, expense(app, "11000.00", date(2026, 3, 9), spending_number=1))
    with pytest.raises(SpendingCoverError):  # ¥1,000 of the approval is left
        expense(app, "10001.00", date(2026, 3, 9), spending_number=1)
    with pytest.raises(NotFoundError):  # no spending 2 on this council's record
        expense(app, "12000.00", date(2026, 3, 9), spending_number=2)


def test_a_spending_paid_by_its_own_disbursements_covers_no_fund_expense(
    app: Governance, clock: SteppingClock
) -> None:
    """A ¥12,000 approval already paid out in full by the spending's own disbursements (two
    officers) leaves nothing for a fund to pay against it: the fund's expense is refused and
    nothing is recorded (the same approval is never paid twice)."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "50000.00", date(2026, 3, 1))
    app.request_spending(
        COUNCIL, 1, "12000.00", purpose="更换化粪管", payee="市政工程队",
        budget_line="公益事业专项", actor="p1",
    )  # fmt: skip
    motion = hold_review(app, present=["p1", "p2", "p3", "p4"], yes=4)
    app.review_spending(COUNCIL, 1, meeting_number=1, motion_no=motion, actor="p1")
    app.approve_spending(COUNCIL, 1, actor="p1")
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "支出决议公开", "同意", NoticePeriod(display_days=7),
        actor="p1",
    )  # fmt: skip
    paid = app.request_disbursement(COUNCIL, 1, "12000.00", reference="付-1", actor="p1")
    app.approve_disbursement(COUNCIL, 1, paid, actor="p2")
    before = recorded(app)
    with pytest.raises(SpendingCoverError):
        expense(app, "12000.00", date(2026, 3, 9), spending_number=1)
    with pytest.raises(SpendingCoverError):
        expense(app, "100.00", date(2026, 3, 9), spending_number=1)
    assert recorded(app) == before


def test_a_spending_paid_from_a_fund_is_not_disbursed_again(
    app: Governance, clock: SteppingClock
) -> None:
    """The other way round: a ¥12,000 approval a fund has paid in full leaves nothing for the
    spending's own disbursements; the officers' request is refused, nothing recorded."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "50000.00", date(2026, 3, 1))
    app.request_spending(
        COUNCIL, 1, "12000.00", purpose="更换化粪管", payee="市政工程队",
        budget_line="公益事业专项", actor="p1",
    )  # fmt: skip
    motion = hold_review(app, present=["p1", "p2", "p3", "p4"], yes=4)
    app.review_spending(COUNCIL, 1, meeting_number=1, motion_no=motion, actor="p1")
    app.approve_spending(COUNCIL, 1, actor="p1")
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "支出决议公开", "同意", NoticePeriod(display_days=7),
        actor="p1",
    )  # fmt: skip
    small = app.request_disbursement(COUNCIL, 1, "100.00", reference="付-0", actor="p1")
    approve(app, expense(app, "11950.00", date(2026, 3, 9), spending_number=1))
    before = recorded(app)
    with pytest.raises(GovflowError) as asked:
        app.request_disbursement(COUNCIL, 1, "12000.00", reference="付-1", actor="p1")
    assert asked.value.code == "spending.over_disbursement"
    with pytest.raises(GovflowError) as approved:  # asked for before the fund paid
        app.approve_disbursement(COUNCIL, 1, small, actor="p2")
    assert approved.value.code == "spending.over_disbursement"
    assert recorded(app) == before


def test_an_income_recorded_twice_over_the_threshold_can_be_reversed(
    app: Governance, clock: SteppingClock
) -> None:
    """Reversing a ¥12,000 income typed in twice spends nothing: it takes two keyholders and
    the whole line, but no spending (none could cover it), and draws on none."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "12000.00", date(2026, 3, 1))
    twice = income(app, "12000.00", date(2026, 3, 1))
    with pytest.raises(SpendingCoverError):  # an expense that is no correction still needs one
        expense(app, "12000.00", date(2026, 3, 9))
    line = approve(app, expense(app, "12000.00", date(2026, 3, 9), corrects=twice))
    lines = app.fund_lines(COUNCIL, FEES)
    assert lines[line - 1].corrects == twice and lines[line - 1].spending_number is None
    assert app.get_fund(COUNCIL, FEES).balance == Decimal("12000.00")


def test_the_balance_never_goes_negative(app: Governance, clock: SteppingClock) -> None:
    """An expense beyond the balance is refused, when initiated and again when approved."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "1000.00", date(2026, 3, 1))
    with pytest.raises(FundOverdrawnError):
        expense(app, "1000.01", date(2026, 3, 9))
    first = expense(app, "800.00", date(2026, 3, 9))
    second = expense(app, "800.00", date(2026, 3, 9))
    approve(app, first)
    with pytest.raises(FundOverdrawnError):
        approve(app, second)
    assert app.get_fund(COUNCIL, FEES).balance == Decimal("200.00")


def test_concurrent_approvals_cannot_double_spend(app: Governance, clock: SteppingClock) -> None:
    """Two approvals decided on the same version of the fund: the second save is refused as a
    concurrent change, so both cannot spend the same balance."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "1000.00", date(2026, 3, 1))
    first = expense(app, "800.00", date(2026, 3, 9))
    second = expense(app, "800.00", date(2026, 3, 9), by="p3")
    one, other = (app.repository.get(fund_id(COUNCIL, FEES)) for _ in range(2))
    assert isinstance(one, Fund) and isinstance(other, Fund)
    today, now = date(2026, 3, 10), app.now()
    for fund, no, by in ((one, first, "p3"), (other, second, "p2")):
        fund.approve_expense(
            no, threshold=Decimal("10000"), cover=None, today=today, at=now, actor=by,
            enrolment=enrolment(app, by),
        )  # fmt: skip
    app._save(one)
    with pytest.raises(ConcurrentChangeError):
        app._save(other)
    assert app.get_fund(COUNCIL, FEES).balance == Decimal("200.00")


def test_a_correction_is_a_new_line_naming_the_one_it_reverses(
    app: Governance, clock: SteppingClock
) -> None:
    """An income typed wrong is reversed by an expense line (two keyholders) naming it; lines
    are never changed, and a line is corrected once."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    wrong = income(app, "300.00", date(2026, 3, 1))
    with pytest.raises(FundStateError):  # a reversal takes the whole line back
        expense(app, "200.00", date(2026, 3, 9), corrects=wrong)
    with pytest.raises(FundStateError):  # an income does not reverse an income
        income(app, "300.00", date(2026, 3, 9), corrects=wrong)
    reversal = expense(app, "300.00", date(2026, 3, 9), corrects=wrong)
    with pytest.raises(FundStateError):  # its correction is awaiting approval
        expense(app, "300.00", date(2026, 3, 9), corrects=wrong)
    approve(app, reversal)
    lines = app.fund_lines(COUNCIL, FEES)
    assert lines[0].corrected_by == 2 and lines[1].corrects == 1 and lines[1].balance == 0


def test_statements_wait_for_the_period_to_close_and_then_fix_it(
    app: Governance, clock: SteppingClock
) -> None:
    """A statement is posted only for a closed period of the fund's schedule; once posted, a
    line dated in it is refused (a correction is dated later)."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app, StatementSchedule.QUARTERLY)
    income(app, "300.00", date(2026, 3, 1))
    with pytest.raises(InvalidInputError):  # a monthly period on a quarterly fund
        app.post_fund_statement(COUNCIL, FEES, "2026-03", actor="p2")
    with pytest.raises(FundStateError):
        app.post_fund_statement(COUNCIL, FEES, "2026-Q1", actor="p2")
    with pytest.raises(InvalidInputError):
        income(app, "300.00", date(2026, 3, 28))  # not yet
    at(clock, date(2026, 4, 1))
    notice = app.post_fund_statement(COUNCIL, FEES, "2026-Q1", actor="p2")
    assert app.get_notice(notice).title.endswith("2026-Q1 收支公开")
    with pytest.raises(FundStateError):
        income(app, "300.00", date(2026, 3, 31))
    income(app, "300.00", date(2026, 4, 1))


def test_open_a_fund_needs_two_distinct_keyholders(app: Governance) -> None:
    """A fund names at least two distinct members as keyholders, none an auditor."""
    set_up_council(app)
    app.enroll_member(COUNCIL, "a1", "审计员", actor=CLERK, roles=("auditor",))
    for holders in (("p2",), ("p2", "p2"), ("p2", "a1")):
        with pytest.raises(InvalidInputError):
            app.open_fund(
                COUNCIL, 1, "x", FundKind.PUBLIC_INCOME, holders,
                schedule=StatementSchedule.MONTHLY, actor=CLERK,
            )  # fmt: skip
    with pytest.raises(Exception, match="not"):
        app.open_fund(
            COUNCIL, 1, "x", FundKind.PUBLIC_INCOME, ("p2", "nobody"),
            schedule=StatementSchedule.MONTHLY, actor=CLERK,
        )  # fmt: skip


BANK = """date,amount,counterparty,reference
2026-03-01,3000.00,业主缴费,B-1
2026-03-08,-800.00,保洁公司,B-2
2026-03-09,-450.00,绿化公司,B-3
"""


def test_a_reconciliation_flags_every_difference(app: Governance, clock: SteppingClock) -> None:
    """Against the bank: a line the ledger lacks, one the bank lacks, and an amount that
    differs are each listed; matched lines are not."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "3000.00", date(2026, 3, 1), reference="B-1")
    approve(app, expense(app, "880.00", date(2026, 3, 8), reference="B-2"))
    income(app, "120.00", date(2026, 3, 9), reference="cash")
    before = recorded(app)
    report = app.reconcile_fund(COUNCIL, FEES, BANK.encode())
    assert recorded(app) == before  # reading only
    assert report.matched == 1 and report.bank_lines == 3 and not report.reconciled
    kinds = [(d.kind, d.line_no, d.bank.row if d.bank else None) for d in report.differences]
    assert kinds == [
        ("amount_mismatch", 2, 3),
        ("missing_in_ledger", None, 4),
        ("missing_in_bank", 3, None),
    ]
    mismatch = report.differences[0]
    assert (mismatch.ledger_amount, mismatch.bank_amount) == (Decimal("-880.00"), Decimal("-800"))


def test_a_reconciled_month_has_no_differences(app: Governance, clock: SteppingClock) -> None:
    """The same lines in the bank and the ledger (a line and its correction cancel out)."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "3000.00", date(2026, 3, 1))
    wrong = income(app, "50.00", date(2026, 3, 2))
    approve(app, expense(app, "50.00", date(2026, 3, 2), corrects=wrong))
    report = app.reconcile_fund(
        COUNCIL, FEES, '日期,金额,对方户名,摘要\n2026/03/01,"3,000.00",业主缴费,x\n'.encode()
    )
    assert report.reconciled and report.matched == 1


def test_a_correction_undone_leaves_the_line_it_restores(
    app: Governance, clock: SteppingClock
) -> None:
    """A real income reversed by mistake and the reversal reversed again: the last two cancel
    out and the first stands, matched by the bank's line (no difference flagged)."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    real = income(app, "3000.00", date(2026, 3, 1))
    mistake = approve(app, expense(app, "3000.00", date(2026, 3, 2), corrects=real))
    income(app, "3000.00", date(2026, 3, 3), corrects=mistake)
    income(app, "100.00", date(2026, 3, 4))
    report = app.reconcile_fund(
        COUNCIL,
        FEES,
        "date,amount,counterparty,reference\n2026-03-01,3000.00,业主缴费,x\n"
        "2026-03-04,100.00,业主缴费,y\n".encode(),
    )
    assert report.differences == [] and report.matched == 2


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"when,amount,counterparty,reference\n", 1),
        (b"date,amount,counterparty,reference\n2026-03-01,3000,a,b\n2026-13-01,1,a,b\n", 3),
        (b"date,amount,counterparty,reference\n2026-03-01,1.001,a,b\n", 2),
        (b"date,amount,counterparty,reference\n2026-03-01,1.5e3,a,b\n", 2),
        (b"date,amount,counterparty,reference\n2026-03-01,100\n", 2),
        (b"date,amount,counterparty,reference\n\n\n2026-03-01,NaN,a,b\n", 4),
    ],
)
def test_a_malformed_bank_statement_names_its_line(
    app: Governance, clock: SteppingClock, content: bytes, line: int
) -> None:
    """Each malformed row is refused with its line number; nothing is recorded."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    with pytest.raises(BankStatementError) as refused:
        app.reconcile_fund(COUNCIL, FEES, content)
    assert refused.value.details["errors"][0]["line"] == line
    assert refused.value.message.startswith(f"line {line}:")


def test_a_bank_statement_is_capped(app: Governance, clock: SteppingClock) -> None:
    """A file over 1 MiB is refused before it is read."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    huge = b"date,amount,counterparty,reference\n" + b"2026-03-01,1,a,b\n" * 70_000
    with pytest.raises(BankStatementError, match="at most"):
        app.reconcile_fund(COUNCIL, FEES, huge)


def test_the_council_lists_its_funds_and_publishes_every_line(
    app: Governance, clock: SteppingClock
) -> None:
    """The council's funds are listed with their balances, each line is in the council's
    public feed and export, and statements are listed among the council's notices."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "3000.00", date(2026, 3, 1))
    approve(app, expense(app, "800.00", date(2026, 3, 8)))
    at(clock, date(2026, 4, 2))
    notice = app.post_fund_statement(COUNCIL, FEES, "2026-03", actor="p2")
    expense(app, "100.00", date(2026, 4, 1))
    app.register_council("elsewhere", "别处", actor=CLERK)

    (row,) = app.list_funds(COUNCIL)
    assert (row.number, row.balance, row.lines, row.pending) == (FEES, Decimal("2200.00"), 2, 1)
    assert (row.incomes, row.expenses, row.last_statement) == (
        Decimal("3000.00"), Decimal("800.00"), "2026-03",
    )  # fmt: skip
    assert app.list_funds("elsewhere") == []
    events, _ = app.read_council_feed(COUNCIL, 0, 1000)
    lines = [e for e in events if e.topic == "govflow.fund.line_recorded"]
    assert [e.data["amount"] for e in lines] == ["3000.00", "800.00"]
    assert lines[1].data["approved_by"] == ["p2", "p3"]
    assert not any(e.topic.startswith("govflow.fund.") for e in app.read_council_feed(
        "elsewhere", 0, 1000)[0])  # fmt: skip
    exported = b"".join(app.export_council_lines(COUNCIL)).decode()
    assert exported.count('"govflow.fund.line_recorded"') == 2
    listed = {r.id: r for r in app.list_notices(COUNCIL)}
    assert listed[notice].subject == "fund" and listed[notice].subject_number == FEES


def test_two_funds_cannot_both_spend_one_approval(app: Governance, clock: SteppingClock) -> None:
    """What every fund paid against a spending is one record: a second fund is refused beyond
    the approval, and two approvals decided at once against it conflict (one is saved)."""
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    app.open_fund(
        COUNCIL, 2, "公共收益", FundKind.PUBLIC_INCOME, ("p2", "p3"),
        schedule=StatementSchedule.MONTHLY, actor=CLERK,
    )  # fmt: skip
    for fund in (FEES, 2):
        app.record_fund_income(
            COUNCIL, fund, "20000.00", counterparty="x", category="y", on=date(2026, 3, 1),
            evidence_sha256=EVIDENCE, actor="p2", enrolment=enrolment(app, "p2"),
        )  # fmt: skip
    app.request_spending(
        COUNCIL, 1, "9000.00", purpose="路灯", payee="电器行", budget_line="公益", actor="p1"
    )
    app.approve_spending(COUNCIL, 1, actor="p1")  # under the threshold: no review needed

    def initiate(fund: int, amount: str) -> int:
        return app.initiate_fund_expense(
            COUNCIL, fund, amount, counterparty="电器行", category="路灯", on=date(2026, 3, 9),
            evidence_sha256=EVIDENCE, spending_number=1, actor="p2",
            enrolment=enrolment(app, "p2"),
        )  # fmt: skip

    def approve_in(fund: int, no: int) -> int:
        return app.approve_fund_expense(
            COUNCIL, fund, no, actor="p3", enrolment=enrolment(app, "p3")
        )

    first, second = initiate(FEES, "6000.00"), initiate(2, "3000.00")
    late = initiate(2, "3000.00")
    approve_in(FEES, first)
    approve_in(2, second)
    before = recorded(app)
    with pytest.raises(SpendingCoverError):  # ¥9,000 of ¥9,000 is paid, across two funds
        approve_in(2, late)
    with pytest.raises(SpendingCoverError):
        initiate(FEES, "0.01")
    assert recorded(app) == before

    # a race: both decided on what the record said before either saved
    app.request_spending(
        COUNCIL, 2, "5000.00", purpose="井盖", payee="市政", budget_line="公益", actor="p1"
    )
    app.approve_spending(COUNCIL, 2, actor="p1")
    cover = app.spending_cover(COUNCIL, 2)
    assert cover is not None and cover.drawn == 0
    saves = []
    for fund in (FEES, 2):
        copy = app.fund(COUNCIL, fund)
        no = copy.initiate_expense(
            Decimal("5000.00"), counterparty="市政", category="井盖", on=date(2026, 3, 9),
            evidence_sha256=EVIDENCE, threshold=Decimal("10000"), cover=cover,
            today=date(2026, 3, 10), at=app.now(), actor="p2", enrolment=enrolment(app, "p2"),
        )  # fmt: skip
        line = copy.approve_expense(
            no, threshold=Decimal("10000"), cover=cover, today=date(2026, 3, 10),
            at=app.now(), actor="p3", enrolment=enrolment(app, "p3"),
        )  # fmt: skip
        draws = SpendingDraws.first(COUNCIL, 2, fund, line, Decimal("5000.00"),
                                    at=app.now(), actor="p3")  # fmt: skip
        saves.append((copy, draws))
    app._save(*saves[0])
    with pytest.raises(ConcurrentChangeError):
        app._save(*saves[1])
    assert app.spending_cover(COUNCIL, 2) == SpendingCover(
        number=2, approved=True, approved_amount=Decimal("5000.00"), resolution_disclosed=True,
        drawn=Decimal("5000.00"),
    )  # fmt: skip
    assert app.get_fund(COUNCIL, 2).balance == Decimal("17000.00")


def test_approvals_racing_from_threads_never_overdraw(
    sql_app: Governance, clock: SteppingClock
) -> None:
    """Twelve approvals at once (two for each of six expenses of ¥300 on ¥1,000): three lines
    are recorded, each expense at most once, and the balance ends at ¥100, never below."""
    app = sql_app
    at(clock, date(2026, 3, 10))
    open_fees_fund(app)
    income(app, "1000.00", date(2026, 3, 1))
    asked = {expense(app, "300.00", date(2026, 3, 9), by=by): by for by in ["p2", "p3"] * 3}
    start = threading.Barrier(12)

    def attempt(no: int, initiator: str) -> str:
        approver = "p3" if initiator == "p2" else "p2"
        start.wait()
        for _ in range(100):
            try:
                approve(app, no, by=approver)
                return "paid"
            except ConcurrentChangeError:
                continue  # decided on a stale version: decide again on the new one
            except GovflowError as refused:
                return refused.code
        return "gave up"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(lambda args: attempt(*args), [*asked.items()] * 2))
    assert outcomes.count("paid") == 3 and "gave up" not in outcomes
    assert set(outcomes) <= {"paid", "fund.overdrawn", "fund.invalid_state"}
    lines = app.fund_lines(COUNCIL, FEES)
    paid = [ln.expense_no for ln in lines if ln.direction == "expense"]
    assert len(paid) == len(set(paid)) == 3
    assert all(ln.balance >= 0 for ln in lines)
    assert app.get_fund(COUNCIL, FEES).balance == Decimal("100.00")
