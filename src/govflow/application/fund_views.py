"""View models of funds (信托制物业): a fund, its lines, its statements, a reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from govflow.application.views import View


class FundLineView(View):
    """One line of the ledger as residents read it."""

    line_no: int
    direction: str  # income | expense
    amount: Decimal
    balance: Decimal
    counterparty: str
    category: str
    on: date
    evidence_sha256: str
    reference: str
    corrects: int | None
    corrected_by: int | None
    expense_no: int | None
    recorded_by: str  # the keyholder who recorded it (an expense: who approved it)
    initiated_by: str | None  # an expense: the keyholder who initiated it
    spending_number: int | None
    recorded_at: datetime


class PendingExpenseView(View):
    expense_no: int
    amount: Decimal
    counterparty: str
    category: str
    on: date
    evidence_sha256: str
    reference: str
    corrects: int | None
    spending_number: int | None
    initiated_by: str


class StatementView(View):
    period: str
    starts: date
    ends: date  # the first day after the period
    notice_id: UUID
    opening: Decimal
    incomes: Decimal
    expenses: Decimal
    closing: Decimal
    lines: int
    posted_at: datetime


class FundView(View):
    id: UUID
    council: str
    number: int
    name: str
    kind: str
    keyholders: list[str]
    schedule: str
    display_days: int
    balance: Decimal
    lines: int
    opened_at: datetime
    pending_expenses: list[PendingExpenseView]
    statements: list[StatementView]


class BankLine(View):
    """A line of a bank statement: money in is positive, out negative."""

    row: int  # the line of the CSV file
    on: date
    amount: Decimal
    counterparty: str
    reference: str


class Difference(View):
    """What the bank and the ledger disagree on."""

    kind: str  # missing_in_ledger | missing_in_bank | amount_mismatch
    on: date
    bank: BankLine | None = None
    line_no: int | None = None  # the ledger's line
    ledger_amount: Decimal | None = None  # signed, like the bank's
    bank_amount: Decimal | None = None


class ReconciliationView(View):
    fund: int
    starts: date | None  # the bank statement's first and last dates
    ends: date | None
    bank_lines: int
    matched: int
    differences: list[Difference]

    @property
    def reconciled(self) -> bool:
        return not self.differences


class FundRowView(View):
    """A fund as the council's list shows it."""

    number: int
    name: str
    kind: str
    schedule: str
    balance: Decimal
    lines: int
    incomes: Decimal
    expenses: Decimal
    pending: int
    last_statement: str | None
    opened_at: datetime
