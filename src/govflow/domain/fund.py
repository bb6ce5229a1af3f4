"""A trust-model fund (信托制物业, 村务财务公开): every yuan in and out, line by line.

A fund (property fees, public income, a project's budget, a maintenance fund) is opened by the
council, which names its keyholders: at least two distinct members, each kept with their
enrolment (a member id enrolled again later is another person, who holds no key). Every income
and expense is an immutable line with its running balance; a correction is a new line in the
other direction that names the line it reverses.

Money comes in on one keyholder's word (an income line). Money goes out only with two: one
keyholder initiates an expense, a *different* keyholder approves it, and only then is the line
recorded; the balance never goes negative. An expense over the council's spending threshold
must be covered by an approved spending (its resolution disclosed where it needed review),
checked by the application against the record (:class:`SpendingCover`); a correction spends
nothing and needs none.

Statements are posted per closed period of the fund's schedule (monthly or quarterly), once
each; a line may not be dated inside a period whose statement is posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import (
    ForbiddenError,
    FundOverdrawnError,
    FundStateError,
    InvalidInputError,
    SameKeyholderError,
    SpendingCoverError,
)
from govflow.domain.ids import NAMESPACE, fund_id
from govflow.domain.money import Yuan

MIN_KEYHOLDERS = 2
MAX_KEYHOLDERS = 9
SHA256 = re.compile(r"^[0-9a-f]{64}$")

LineDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2999, 12, 31))]
"""The date of a ledger line (the bank's date), within sane bounds."""


class FundKind(StrEnum):
    PROPERTY_FEES = "property_fees"  # 物业费
    PUBLIC_INCOME = "public_income"  # 公共收益
    PROJECT_BUDGET = "project_budget"  # 项目预算
    MAINTENANCE_FUND = "maintenance_fund"  # 维修资金
    OTHER = "other"


class StatementSchedule(StrEnum):
    """How often the fund's statement is posted (村委会组织法 Art. 30: at least quarterly,
    finances monthly where busy)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Direction(StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


class Keyholder(BaseModel):
    """A member holding one of the fund's keys, as enrolled when the fund named them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_id: str
    enrolment: int


# -- periods ------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    """A statement period: ``2026-03`` (a month) or ``2026-Q1`` (a quarter); ``end`` is the
    first day after it."""

    key: str
    start: date
    end: date

    @property
    def seq(self) -> int:
        """A number unique per period of one fund (its statement notice's sequence):
        202603 for March 2026, 202621 for its first quarter."""
        if "Q" in self.key:
            return self.start.year * 100 + 20 + (self.start.month - 1) // 3 + 1
        return self.start.year * 100 + self.start.month


def _next_month(year: int, month: int, months: int) -> date:
    index = year * 12 + (month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(key: str, schedule: StatementSchedule) -> Period:
    """The period ``key`` names, which must be one of ``schedule``'s."""
    if schedule is StatementSchedule.MONTHLY and (found := _MONTH.match(key)):
        year, month = int(found[1]), int(found[2])
        return Period(key, date(year, month, 1), _next_month(year, month, 1))
    if schedule is StatementSchedule.QUARTERLY and (found := _QUARTER.match(key)):
        year, quarter = int(found[1]), int(found[2])
        first = 3 * (quarter - 1) + 1
        return Period(key, date(year, first, 1), _next_month(year, first, 3))
    example = "2026-03" if schedule is StatementSchedule.MONTHLY else "2026-Q1"
    raise InvalidInputError(
        f"a {schedule.value} statement's period is written like {example}", period=key
    )


def period_of(day: date, schedule: StatementSchedule) -> Period:
    """The period of ``schedule`` that ``day`` falls in."""
    if schedule is StatementSchedule.MONTHLY:
        return parse_period(f"{day.year:04d}-{day.month:02d}", schedule)
    return parse_period(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}", schedule)


# -- events -------------------------------------------------------------------------------


class FundOpened(DomainEvent):
    TOPIC = "govflow.fund.opened"
    council: str
    number: int
    name: str
    kind: FundKind
    keyholders: tuple[Keyholder, ...]
    schedule: StatementSchedule
    display_days: int


class FundExpenseInitiated(DomainEvent):
    """A keyholder (the event's actor) asks for money to go out; nothing moves until another
    keyholder approves it. ``spending_number``: the approved spending that covers it."""

    TOPIC = "govflow.fund.expense_initiated"
    expense_no: int
    amount: Yuan
    counterparty: str
    category: str
    on: date
    evidence_sha256: str
    reference: str = ""
    corrects: int | None = None
    spending_number: int | None = None


class FundExpenseWithdrawn(DomainEvent):
    TOPIC = "govflow.fund.expense_withdrawn"
    expense_no: int
    reason: str


class FundLineRecorded(DomainEvent):
    """One line of the ledger, for good: money in (one keyholder's record, the actor) or out
    (``approved_by``: the keyholder who initiated it and the one who approved it, the actor),
    with the balance after it. ``corrects``: the line this one reverses."""

    TOPIC = "govflow.fund.line_recorded"
    line_no: int
    direction: Direction
    amount: Yuan
    balance: Decimal
    counterparty: str
    category: str
    on: date
    evidence_sha256: str
    reference: str = ""
    corrects: int | None = None
    expense_no: int | None = None
    approved_by: tuple[str, ...] = ()
    spending_number: int | None = None


class FundStatementPosted(DomainEvent):
    """The statement of a closed period, posted as notice ``notice_id``."""

    TOPIC = "govflow.fund.statement_posted"
    period: str
    starts: date
    ends: date  # the first day after the period
    notice_id: UUID
    opening: Decimal
    incomes: Decimal
    expenses: Decimal
    closing: Decimal
    lines: int


@dataclass(frozen=True)
class SpendingCover:
    """What the record says of the spending an expense points to (read by the application,
    never taken from the caller)."""

    number: int
    approved: bool  # approved, or completed within its approval
    approved_amount: Decimal
    resolution_disclosed: bool  # or not needed (no review was required)
    drawn: Decimal = Decimal(0)  # paid against it already: by every fund, and by itself


@dataclass
class Line:
    direction: Direction
    amount: Decimal
    on: date
    corrected_by: int | None = None


@dataclass(frozen=True)
class Totals:
    opening: Decimal
    incomes: Decimal
    expenses: Decimal
    lines: int

    @property
    def closing(self) -> Decimal:
        return self.opening + self.incomes - self.expenses


class Fund(Aggregate):
    created_by = (FundOpened,)

    @classmethod
    def open(
        cls,
        council: str,
        number: int,
        name: str,
        kind: FundKind,
        keyholders: tuple[Keyholder, ...],
        *,
        schedule: StatementSchedule,
        display_days: int,
        at: datetime,
        actor: str,
    ) -> Fund:
        ids = [k.member_id for k in keyholders]
        if len(set(ids)) != len(ids):
            raise InvalidInputError("a keyholder is named twice", keyholders=ids)
        if not MIN_KEYHOLDERS <= len(ids) <= MAX_KEYHOLDERS:
            raise InvalidInputError(
                f"a fund has {MIN_KEYHOLDERS} to {MAX_KEYHOLDERS} distinct keyholders: money "
                "moves out only with two of them",
                keyholders=ids,
            )
        if not name.strip():
            raise InvalidInputError("a fund needs a name")
        if not 1 <= display_days <= 366:
            raise InvalidInputError("a statement is displayed 1 to 366 days")
        return cls._create(
            FundOpened,
            fund_id(council, number),
            at=at,
            actor=actor,
            council=council,
            number=number,
            name=name,
            kind=kind,
            keyholders=keyholders,
            schedule=schedule,
            display_days=display_days,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case FundOpened():
                self.council = event.council
                self.number = event.number
                self.name = event.name
                self.kind = event.kind
                self.keyholders: tuple[Keyholder, ...] = event.keyholders
                self.schedule = event.schedule
                self.display_days = event.display_days
                self.balance = Decimal("0.00")
                self.lines: dict[int, Line] = {}
                self.pending: dict[int, FundExpenseInitiated] = {}
                self.expenses = 0
                self.statements: dict[str, UUID] = {}  # period -> notice id
                self.stated_until: date | None = None
            case FundExpenseInitiated():
                self.pending[event.expense_no] = event
                self.expenses = event.expense_no
            case FundExpenseWithdrawn():
                self.pending.pop(event.expense_no, None)
            case FundLineRecorded():
                self.lines[event.line_no] = Line(event.direction, event.amount, event.on)
                self.balance = event.balance
                if event.corrects is not None:
                    self.lines[event.corrects].corrected_by = event.line_no
                if event.expense_no is not None:
                    self.pending.pop(event.expense_no, None)
            case FundStatementPosted():
                self.statements[event.period] = event.notice_id
                if self.stated_until is None or event.ends > self.stated_until:
                    self.stated_until = event.ends

    # -- who holds a key ----------------------------------------------------------------------

    def holds_key(self, member_id: str, enrolment: int | None) -> bool:
        return Keyholder(member_id=member_id, enrolment=enrolment or 0) in self.keyholders

    def _require_keyholder(self, actor: str, enrolment: int | None) -> None:
        if not self.holds_key(actor, enrolment):
            raise ForbiddenError(
                f"only a keyholder of fund {self.number} can move its money", member=actor
            )

    # -- lines --------------------------------------------------------------------------------

    def _check_line(
        self,
        direction: Direction,
        amount: Decimal,
        on: date,
        evidence_sha256: str,
        corrects: int | None,
        *,
        today: date,
        awaiting: int | None = None,
    ) -> None:
        if not SHA256.match(evidence_sha256):
            raise InvalidInputError("the evidence is named by its sha256 in lower-case hex")
        if on > today:
            raise InvalidInputError(
                "a line cannot be dated in the future", on=on.isoformat(), today=today.isoformat()
            )
        if self.stated_until is not None and on < self.stated_until:
            raise FundStateError(
                f"the statement up to {self.stated_until.isoformat()} is posted: date the line "
                "later (a correction names the line it corrects)",
                on=on.isoformat(),
                stated_until=self.stated_until.isoformat(),
            )
        if corrects is None:
            return
        line = self.lines.get(corrects)
        if line is None:
            raise FundStateError(f"there is no line {corrects} to correct", corrects=corrects)
        if line.corrected_by is not None or any(
            p.corrects == corrects for n, p in self.pending.items() if n != awaiting
        ):
            raise FundStateError(
                f"line {corrects} is corrected already (or its correction awaits approval)",
                corrects=corrects,
            )
        if line.direction is direction:
            raise FundStateError(
                f"line {corrects} is an {line.direction.value}: its correction goes the other way",
                corrects=corrects,
            )
        if line.amount != amount:
            raise FundStateError(
                f"a correction reverses line {corrects} whole: ¥{line.amount}",
                corrects=corrects,
                amount=str(line.amount),
            )

    def record_income(
        self,
        amount: Decimal,
        *,
        counterparty: str,
        category: str,
        on: date,
        evidence_sha256: str,
        today: date,
        at: datetime,
        actor: str,
        enrolment: int | None,
        reference: str = "",
        corrects: int | None = None,
    ) -> int:
        """A keyholder records money in (or reverses an expense line); returns the line's
        number."""
        self._require_keyholder(actor, enrolment)
        self._check_line(Direction.INCOME, amount, on, evidence_sha256, corrects, today=today)
        number = len(self.lines) + 1
        self._trigger(
            FundLineRecorded,
            at=at,
            actor=actor,
            line_no=number,
            direction=Direction.INCOME,
            amount=amount,
            balance=self.balance + amount,
            counterparty=counterparty,
            category=category,
            on=on,
            evidence_sha256=evidence_sha256,
            reference=reference,
            corrects=corrects,
        )
        return number

    def _check_cover(
        self,
        amount: Decimal,
        threshold: Decimal,
        cover: SpendingCover | None,
        *,
        corrects: int | None,
    ) -> None:
        # a correction spends nothing (the line it reverses never happened): no spending
        # could cover it, so it needs none; two keyholders still make it
        if (amount <= threshold or corrects is not None) and cover is None:
            return
        if cover is None:
            raise SpendingCoverError(
                f"an expense over the council's threshold (¥{threshold}) must name the approved "
                "spending that covers it",
                amount=str(amount),
                threshold=str(threshold),
            )
        if not cover.approved:
            raise SpendingCoverError(
                f"spending {cover.number} is not approved", spending_number=cover.number
            )
        if not cover.resolution_disclosed:
            raise SpendingCoverError(
                f"spending {cover.number}'s resolution is not disclosed yet",
                spending_number=cover.number,
            )
        drawn = cover.drawn
        if drawn + amount > cover.approved_amount:
            raise SpendingCoverError(
                f"spending {cover.number} covers ¥{cover.approved_amount}; ¥{drawn} is paid "
                "against it already",
                spending_number=cover.number,
                approved=str(cover.approved_amount),
                drawn=str(drawn),
            )

    def _check_funds(self, amount: Decimal) -> None:
        if amount > self.balance:
            raise FundOverdrawnError(
                "the fund's balance does not cover this expense",
                balance=str(self.balance),
                amount=str(amount),
            )

    def initiate_expense(
        self,
        amount: Decimal,
        *,
        counterparty: str,
        category: str,
        on: date,
        evidence_sha256: str,
        threshold: Decimal,
        cover: SpendingCover | None,
        today: date,
        at: datetime,
        actor: str,
        enrolment: int | None,
        reference: str = "",
        corrects: int | None = None,
    ) -> int:
        """A keyholder asks for money to go out (or reverses an income line); returns the
        expense's number. Another keyholder must approve it."""
        self._require_keyholder(actor, enrolment)
        self._check_line(Direction.EXPENSE, amount, on, evidence_sha256, corrects, today=today)
        self._check_cover(amount, threshold, cover, corrects=corrects)
        self._check_funds(amount)
        number = self.expenses + 1
        self._trigger(
            FundExpenseInitiated,
            at=at,
            actor=actor,
            expense_no=number,
            amount=amount,
            counterparty=counterparty,
            category=category,
            on=on,
            evidence_sha256=evidence_sha256,
            reference=reference,
            corrects=corrects,
            spending_number=cover.number if cover is not None else None,
        )
        return number

    def awaiting(self, expense_no: int) -> FundExpenseInitiated:
        request = self.pending.get(expense_no)
        if request is None:
            raise FundStateError(
                f"no expense {expense_no} is awaiting approval", expense_no=expense_no
            )
        return request

    def approve_expense(
        self,
        expense_no: int,
        *,
        threshold: Decimal,
        cover: SpendingCover | None,
        today: date,
        at: datetime,
        actor: str,
        enrolment: int | None,
    ) -> int:
        """A second keyholder (not the one who initiated it) approves: the line is recorded
        and the money goes out. Returns the line's number."""
        self._require_keyholder(actor, enrolment)
        request = self.awaiting(expense_no)
        if request.actor == actor:
            raise SameKeyholderError(
                "the keyholder who initiated an expense cannot approve it: another keyholder must",
                expense_no=expense_no,
            )
        self._check_line(
            Direction.EXPENSE,
            request.amount,
            request.on,
            request.evidence_sha256,
            request.corrects,
            today=today,
            awaiting=expense_no,
        )
        self._check_cover(request.amount, threshold, cover, corrects=request.corrects)
        self._check_funds(request.amount)
        number = len(self.lines) + 1
        self._trigger(
            FundLineRecorded,
            at=at,
            actor=actor,
            line_no=number,
            direction=Direction.EXPENSE,
            amount=request.amount,
            balance=self.balance - request.amount,
            counterparty=request.counterparty,
            category=request.category,
            on=request.on,
            evidence_sha256=request.evidence_sha256,
            reference=request.reference,
            corrects=request.corrects,
            expense_no=expense_no,
            approved_by=(request.actor, actor),
            spending_number=request.spending_number,
        )
        return number

    def withdraw_expense(
        self, expense_no: int, reason: str, *, at: datetime, actor: str, enrolment: int | None
    ) -> None:
        """A keyholder withdraws an expense awaiting approval (its initiator, or another
        keyholder refusing it)."""
        self._require_keyholder(actor, enrolment)
        self.awaiting(expense_no)
        if not reason.strip():
            raise InvalidInputError("say why the expense is withdrawn")
        self._trigger(
            FundExpenseWithdrawn, at=at, actor=actor, expense_no=expense_no, reason=reason
        )

    # -- statements ---------------------------------------------------------------------------

    def totals(self, period: Period) -> Totals:
        """Opening balance, money in and out, and lines of ``period`` (by the lines' dates)."""
        opening, incomes, expenses, count = Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), 0
        for line in self.lines.values():
            signed = line.amount if line.direction is Direction.INCOME else -line.amount
            if line.on < period.start:
                opening += signed
            elif line.on < period.end:
                count += 1
                if line.direction is Direction.INCOME:
                    incomes += line.amount
                else:
                    expenses += line.amount
        return Totals(opening, incomes, expenses, count)

    def check_statement(self, period: Period, *, today: date) -> None:
        if today < period.end:
            raise FundStateError(
                f"the period {period.key} is not closed yet: its statement is posted from "
                f"{period.end.isoformat()}",
                period=period.key,
            )
        if self.pending:
            dated = [p.expense_no for p in self.pending.values() if p.on < period.end]
            if dated:
                raise FundStateError(
                    f"expenses {dated} dated in or before {period.key} await approval: approve or "
                    "withdraw them before the statement",
                    period=period.key,
                )

    def record_statement(
        self, period: Period, notice_id: UUID, *, today: date, at: datetime, actor: str
    ) -> None:
        if period.key in self.statements:
            raise FundStateError(f"the statement for {period.key} is posted", period=period.key)
        self.check_statement(period, today=today)
        totals = self.totals(period)
        self._trigger(
            FundStatementPosted,
            at=at,
            actor=actor,
            period=period.key,
            starts=period.start,
            ends=period.end,
            notice_id=notice_id,
            opening=totals.opening,
            incomes=totals.incomes,
            expenses=totals.expenses,
            closing=totals.closing,
            lines=totals.lines,
        )


# -- what every fund paid against one spending -------------------------------------------


def spending_draws_id(council: str, spending_number: int) -> UUID:
    return uuid5(NAMESPACE, f"spending-draws:{council}:{spending_number}")


class SpendingDrawn(DomainEvent):
    """A fund's expense line paid against an approved spending. Every fund's payments against
    one spending are recorded on one aggregate, saved with the fund's line: two funds cannot
    both spend one approval (the second save conflicts and is decided again)."""

    TOPIC = "govflow.fund.spending_drawn"
    council: str
    spending_number: int
    fund_number: int
    line_no: int
    amount: Yuan
    total: Decimal


class SpendingDraws(Aggregate):
    created_by = (SpendingDrawn,)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case SpendingDrawn():
                self.council = event.council
                self.spending_number = event.spending_number
                self.total: Decimal = event.total

    @classmethod
    def first(
        cls,
        council: str,
        spending_number: int,
        fund_number: int,
        line_no: int,
        amount: Decimal,
        *,
        at: datetime,
        actor: str,
    ) -> SpendingDraws:
        return cls._create(
            SpendingDrawn,
            spending_draws_id(council, spending_number),
            at=at,
            actor=actor,
            council=council,
            spending_number=spending_number,
            fund_number=fund_number,
            line_no=line_no,
            amount=amount,
            total=amount,
        )

    def draw(
        self, fund_number: int, line_no: int, amount: Decimal, *, at: datetime, actor: str
    ) -> None:
        self._trigger(
            SpendingDrawn,
            at=at,
            actor=actor,
            council=self.council,
            spending_number=self.spending_number,
            fund_number=fund_number,
            line_no=line_no,
            amount=amount,
            total=self.total + amount,
        )
