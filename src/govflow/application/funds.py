"""Use cases: trust-model funds (信托制物业): opening, lines in and out, two keyholders,
statements posted as notices, and reconciling a bank statement.

Every fact a rule needs comes from the record: the keyholders' enrolments from the council's
roll when the fund is opened, the spending threshold from the council, and the spending that
covers an expense over it from that spending's own record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from govflow.application.directory import FundRow
from govflow.application.fund_bank import read_bank_statement, reconcile
from govflow.application.fund_views import (
    FundLineView,
    FundView,
    PendingExpenseView,
    ReconciliationView,
    StatementView,
)
from govflow.application.listing import ListingCases
from govflow.application.notices import NoticeCases
from govflow.domain.council import Council
from govflow.domain.errors import FundStateError, InvalidInputError, NotFoundError
from govflow.domain.fund import (
    Fund,
    FundKind,
    FundLineRecorded,
    FundStatementPosted,
    Keyholder,
    SpendingCover,
    SpendingDraws,
    StatementSchedule,
    parse_period,
    period_of,
    spending_draws_id,
)
from govflow.domain.ids import fund_id, spending_id
from govflow.domain.money import format_yuan, parse_yuan
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.domain.spending import Spending, SpendingStatus

STATEMENT_OBJECTION_DAYS = 10
STATEMENT_REPLY_DAYS = 5
_COVERING = (SpendingStatus.APPROVED, SpendingStatus.COMPLETED)


class FundCases(NoticeCases, ListingCases):
    def fund(self, code: str, number: int) -> Fund:
        return self._get(Fund, fund_id(code, number), f"fund {code}/{number}")

    def _today(self, council: Council) -> date:
        return self.now().astimezone(ZoneInfo(council.timezone)).date()

    def open_fund(
        self,
        code: str,
        number: int,
        name: str,
        kind: FundKind,
        keyholders: tuple[str, ...],
        *,
        schedule: StatementSchedule,
        display_days: int = 30,
        actor: str,
    ) -> UUID:
        """Open a fund with its keyholders (members now, each kept with their enrolment)."""
        council = self.council_to_read(code)
        holders = []
        for member_id in keyholders:
            member = council.member(member_id)
            if "auditor" in member.roles:
                raise InvalidInputError(
                    f"{member_id} is an auditor: auditors read everything and hold no key",
                    member=member_id,
                )
            holders.append(Keyholder(member_id=member_id, enrolment=member.enrolment))
        fund = Fund.open(
            code,
            number,
            name,
            kind,
            tuple(holders),
            schedule=schedule,
            display_days=display_days,
            at=self.now(),
            actor=actor,
        )
        self._save_new(fund, what=f"fund {code}/{number}")
        return fund.id

    def fund_keyholders(self, code: str, number: int) -> frozenset[tuple[str, int]]:
        """The fund's keyholders as (member id, enrolment), for the policy."""
        return frozenset((k.member_id, k.enrolment) for k in self.fund(code, number).keyholders)

    def fund_keyholder_names(self, code: str, number: int) -> dict[str, str]:
        """The fund's keyholders by name while the same person (the enrolment the fund named)
        is on the council's record, else by member id: a newcomer enrolled under a departed
        keyholder's id is never shown as holding a key or having recorded a line (every line
        is recorded, initiated and approved by keyholders)."""
        council = self.council_to_read(code)
        return {
            k.member_id: council.name_of(k.member_id, k.enrolment)
            for k in self.fund(code, number).keyholders
        }

    def record_fund_income(
        self,
        code: str,
        number: int,
        amount: Decimal | str | int,
        *,
        counterparty: str,
        category: str,
        on: date,
        evidence_sha256: str,
        reference: str = "",
        corrects: int | None = None,
        actor: str,
        enrolment: int | None,
    ) -> int:
        council = self.council_to_read(code)
        fund = self.fund(code, number)
        line = fund.record_income(
            parse_yuan(amount),
            counterparty=counterparty,
            category=category,
            on=on,
            evidence_sha256=evidence_sha256,
            reference=reference,
            corrects=corrects,
            today=self._today(council),
            at=self.now(),
            actor=actor,
            enrolment=enrolment,
        )
        self._save(fund)
        return line

    def _draws(self, code: str, spending_number: int) -> SpendingDraws | None:
        try:
            return self._get(SpendingDraws, spending_draws_id(code, spending_number), "draws")
        except NotFoundError:
            return None

    def spending_cover(self, code: str, spending_number: int | None) -> SpendingCover | None:
        """What the record says of the spending named to cover an expense (of this council:
        its id is derived from the council's code)."""
        if spending_number is None:
            return None
        try:
            spending = self._get(Spending, spending_id(code, spending_number), "spending")
        except NotFoundError:
            raise NotFoundError(
                f"spending {code}/{spending_number} not found", spending_number=spending_number
            ) from None
        draws = self._draws(code, spending_number)
        return SpendingCover(
            number=spending_number,
            # what every fund paid against it, and what the spending paid out itself
            drawn=(draws.total if draws is not None else Decimal(0)) + spending.disbursed,
            approved=spending.status in _COVERING,
            approved_amount=spending.approved_amount,
            resolution_disclosed=(
                not spending.requires_review or NoticeKind.RESOLUTION in spending.disclosures
            ),
        )

    def initiate_fund_expense(
        self,
        code: str,
        number: int,
        amount: Decimal | str | int,
        *,
        counterparty: str,
        category: str,
        on: date,
        evidence_sha256: str,
        reference: str = "",
        corrects: int | None = None,
        spending_number: int | None = None,
        actor: str,
        enrolment: int | None,
    ) -> int:
        """A keyholder initiates an expense; returns its number (a second keyholder approves)."""
        council = self.council_to_read(code)
        fund = self.fund(code, number)
        expense = fund.initiate_expense(
            parse_yuan(amount),
            counterparty=counterparty,
            category=category,
            on=on,
            evidence_sha256=evidence_sha256,
            reference=reference,
            corrects=corrects,
            threshold=council.spending_threshold,
            cover=self.spending_cover(code, spending_number),
            today=self._today(council),
            at=self.now(),
            actor=actor,
            enrolment=enrolment,
        )
        self._save(fund)
        return expense

    def approve_fund_expense(
        self, code: str, number: int, expense_no: int, *, actor: str, enrolment: int | None
    ) -> int:
        """Another keyholder approves: the line is recorded. The threshold and the covering
        spending are read again now; the keyholder who initiated it must still be one (the
        same enrolment, still on the roll)."""
        council = self.council_to_read(code)
        fund = self.fund(code, number)
        request = fund.awaiting(expense_no)
        initiator = council.members.get(request.actor)
        if initiator is None or not fund.holds_key(request.actor, initiator.enrolment):
            raise FundStateError(
                f"{request.actor}, who initiated expense {expense_no}, no longer holds a key: "
                "a keyholder must initiate it again",
                expense_no=expense_no,
            )
        line = fund.approve_expense(
            expense_no,
            threshold=council.spending_threshold,
            cover=self.spending_cover(code, request.spending_number),
            today=self._today(council),
            at=self.now(),
            actor=actor,
            enrolment=enrolment,
        )
        if request.spending_number is None:
            self._save(fund)
            return line
        # saved with the line: two funds paying against one spending at once conflict
        draws = self._draws(code, request.spending_number)
        if draws is None:
            draws = SpendingDraws.first(
                code, request.spending_number, number, line, request.amount,
                at=self.now(), actor=actor,
            )  # fmt: skip
        else:
            draws.draw(number, line, request.amount, at=self.now(), actor=actor)
        self._save(fund, draws)
        return line

    def withdraw_fund_expense(
        self,
        code: str,
        number: int,
        expense_no: int,
        reason: str,
        *,
        actor: str,
        enrolment: int | None,
    ) -> None:
        fund = self.fund(code, number)
        fund.withdraw_expense(expense_no, reason, at=self.now(), actor=actor, enrolment=enrolment)
        self._save(fund)

    def post_fund_statement(self, code: str, number: int, period: str, *, actor: str) -> UUID:
        """Post the statement of a closed period as a notice, once: posting the same period
        again returns the notice already posted (two at once: one wins, the other is told
        to try again and then gets the same notice)."""
        council = self.council_to_read(code)
        fund = self.fund(code, number)
        closed = parse_period(period, fund.schedule)
        if closed.key in fund.statements:
            return fund.statements[closed.key]
        today = self._today(council)
        fund.check_statement(closed, today=today)
        totals = fund.totals(closed)
        lines = [
            line for line in self.fund_lines(code, number) if closed.start <= line.on < closed.end
        ]
        text = "\n".join(
            [
                f"{council.name}「{fund.name}」{closed.key} 收支公开",
                f"期初余额 ¥{format_yuan(totals.opening)}；收入 ¥{format_yuan(totals.incomes)}；"
                f"支出 ¥{format_yuan(totals.expenses)}；期末余额 ¥{format_yuan(totals.closing)}；"
                f"共 {totals.lines} 笔。",
                *(
                    f"{ln.line_no}. {ln.on.isoformat()} "
                    f"{'收入' if ln.direction == 'income' else '支出'} ¥{format_yuan(ln.amount)} "
                    f"{ln.counterparty}（{ln.category}）凭证 {ln.evidence_sha256[:12]}"
                    + (f"，更正第 {ln.corrects} 笔" if ln.corrects else "")
                    for ln in lines
                ),
            ]
        )
        notice = self._new_notice(
            fund.id,
            NoticeKind.OTHER,
            closed.seq,
            f"{fund.name} {closed.key} 收支公开",
            text,
            NoticePeriod(
                display_days=fund.display_days,
                objection_days=min(STATEMENT_OBJECTION_DAYS, fund.display_days),
                reply_days=STATEMENT_REPLY_DAYS,
            ),
            actor=actor,
            step=None,
        )
        fund.record_statement(closed, notice.id, today=today, at=notice.created_on, actor=actor)
        self._save(notice, fund)
        return notice.id

    def _statement_notice(self, code: str, number: int, period: str) -> UUID:
        fund = self.fund(code, number)
        key = parse_period(period, fund.schedule).key
        notice_id = fund.statements.get(key)
        if notice_id is None:
            raise FundStateError(f"the statement for {key} is not posted", period=key)
        return notice_id

    def object_to_fund_statement(
        self, code: str, number: int, period: str, text: str, *, actor: str
    ) -> int:
        """A member objects to a posted statement (its notice's objection window); returns
        the objection's number."""
        return self.file_objection(self._statement_notice(code, number, period), text, actor=actor)

    def answer_fund_statement_objection(
        self,
        code: str,
        number: int,
        period: str,
        objection_no: int,
        reply: str,
        *,
        upheld: bool,
        actor: str,
    ) -> None:
        """Answer an objection to a posted statement on its notice (a line found wrong is put
        right by a correction, a new line)."""
        notice_id = self._statement_notice(code, number, period)
        self.answer_objection(notice_id, objection_no, reply, upheld=upheld, actor=actor)

    def due_fund_statement(self, code: str, number: int) -> tuple[str, datetime]:
        """The fund's first period (from its opening) whose statement is not posted, and when
        it is due: 01:00 in the council's time zone on the first day after it."""
        council = self.council_to_read(code)
        fund = self.fund(code, number)
        zone = ZoneInfo(council.timezone)
        period = period_of(fund.created_on.astimezone(zone).date(), fund.schedule)
        while period.key in fund.statements:
            period = period_of(period.end, fund.schedule)
        return period.key, datetime.combine(period.end, time(1), tzinfo=zone).astimezone(UTC)

    # -- reading ------------------------------------------------------------------------------

    def list_funds(self, code: str) -> list[FundRow]:
        """The council's funds, by number."""
        self.council_to_read(code)
        return sorted(self.directory.rows(FundRow, code), key=lambda r: r.number)

    def fund_lines(self, code: str, number: int) -> list[FundLineView]:
        """Every line of the fund, in order, with the line correcting it if any."""
        fid = fund_id(code, number)
        self.fund(code, number)
        lines: list[FundLineView] = []
        corrected: dict[int, int] = {}
        for event in self.domain_events(fid):
            if not isinstance(event, FundLineRecorded):
                continue
            if event.corrects is not None:
                corrected[event.corrects] = event.line_no
            lines.append(
                FundLineView(
                    line_no=event.line_no,
                    direction=event.direction.value,
                    amount=event.amount,
                    balance=event.balance,
                    counterparty=event.counterparty,
                    category=event.category,
                    on=event.on,
                    evidence_sha256=event.evidence_sha256,
                    reference=event.reference,
                    corrects=event.corrects,
                    corrected_by=None,
                    expense_no=event.expense_no,
                    recorded_by=event.actor,
                    initiated_by=event.approved_by[0] if event.approved_by else None,
                    spending_number=event.spending_number,
                    recorded_at=event.timestamp,
                )
            )
        return [
            line.model_copy(update={"corrected_by": corrected.get(line.line_no)}) for line in lines
        ]

    def get_fund(self, code: str, number: int) -> FundView:
        fund = self.fund(code, number)
        posted = [
            event for event in self.domain_events(fund.id) if isinstance(event, FundStatementPosted)
        ]
        return FundView(
            id=fund.id,
            council=fund.council,
            number=fund.number,
            name=fund.name,
            kind=fund.kind.value,
            keyholders=[k.member_id for k in fund.keyholders],
            schedule=fund.schedule.value,
            display_days=fund.display_days,
            balance=fund.balance,
            lines=len(fund.lines),
            opened_at=fund.created_on,
            pending_expenses=[
                PendingExpenseView(
                    expense_no=p.expense_no,
                    amount=p.amount,
                    counterparty=p.counterparty,
                    category=p.category,
                    on=p.on,
                    evidence_sha256=p.evidence_sha256,
                    reference=p.reference,
                    corrects=p.corrects,
                    spending_number=p.spending_number,
                    initiated_by=p.actor,
                )
                for p in fund.pending.values()
            ],
            statements=[
                StatementView(
                    period=s.period,
                    starts=s.starts,
                    ends=s.ends,
                    notice_id=s.notice_id,
                    opening=s.opening,
                    incomes=s.incomes,
                    expenses=s.expenses,
                    closing=s.closing,
                    lines=s.lines,
                    posted_at=s.timestamp,
                )
                for s in posted
            ],
        )

    def reconcile_fund(self, code: str, number: int, content: bytes) -> ReconciliationView:
        """Reconcile a bank statement (CSV) against the fund's lines: nothing is recorded."""
        bank = read_bank_statement(content)
        matched, differences = reconcile(bank, self.fund_lines(code, number))
        return ReconciliationView(
            fund=number,
            starts=min((b.on for b in bank), default=None),
            ends=max((b.on for b in bank), default=None),
            bank_lines=len(bank),
            matched=matched,
            differences=differences,
        )
