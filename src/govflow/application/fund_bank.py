"""A bank statement (CSV) read and reconciled against a fund's ledger lines.

The CSV has a header naming its columns ``date``, ``amount``, ``counterparty``, ``reference``
(in any order; Chinese headers 日期, 金额, 对方户名, 摘要 too); money in is a positive amount,
money out a negative one. Every malformed row is reported with its line number, and the file
is capped in size and rows. The reconciliation pairs each bank line with a ledger line of the
same date and amount (by reference first), and lists every difference: a bank line the ledger
lacks, a ledger line the bank lacks, and a line of the same date, direction and reference or
counterparty whose amounts differ. A ledger line and its correction inside the statement's
dates cancel out (the bank never saw either).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from govflow.application.fund_views import BankLine, Difference, FundLineView
from govflow.domain.errors import BankStatementError, GovflowError
from govflow.domain.money import parse_yuan

MAX_BYTES = 1024 * 1024
MAX_ROWS = 10_000
MAX_ERRORS = 50
MAX_FIELD = 200
COLUMNS = ("date", "amount", "counterparty", "reference")
ALIASES = {
    "日期": "date",
    "交易日期": "date",
    "金额": "amount",
    "交易金额": "amount",
    "对方户名": "counterparty",
    "对方": "counterparty",
    "摘要": "reference",
    "凭证号": "reference",
}
_DATE = re.compile(r"^(\d{4})[-/]?(\d{1,2})[-/]?(\d{1,2})$")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Chinese banks export GB 18030 (GBK) as often as UTF-8
            return content.decode("gb18030")
        except UnicodeDecodeError:
            raise BankStatementError(
                "the bank statement is neither UTF-8 nor GB 18030 text"
            ) from None


def _date(text: str) -> date:
    found = _DATE.match(text.strip())
    if found is None:
        raise ValueError(f"not a date: {text!r} (write 2026-03-31)")
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None


def _amount(text: str) -> Decimal:
    cleaned = text.strip()
    negative = cleaned.startswith("-")
    try:
        amount = parse_yuan(cleaned[1:] if negative else cleaned.lstrip("+"))
    except GovflowError as error:
        raise ValueError(f"amount {text!r}: {error.message}") from None
    return -amount if negative else amount


def _header(row: list[str]) -> dict[str, int]:
    names = [ALIASES.get(cell.strip(), cell.strip().lower()) for cell in row]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise BankStatementError(
            f"line 1: the header must name the columns {', '.join(COLUMNS)}; missing "
            f"{', '.join(missing)}",
            errors=[{"line": 1, "message": f"missing columns: {', '.join(missing)}"}],
        )
    return {column: names.index(column) for column in COLUMNS}


def read_bank_statement(content: bytes) -> list[BankLine]:
    """The bank statement's lines, or :class:`BankStatementError` listing every malformed row
    by its line number (at most :data:`MAX_ERRORS` of them)."""
    if len(content) > MAX_BYTES:
        raise BankStatementError(
            f"a bank statement is at most {MAX_BYTES // 1024} KiB", size=len(content)
        )
    text = _decode(content)
    if "\x00" in text:
        raise BankStatementError("the bank statement is not text (it holds NUL bytes)")
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[BankLine] = []
    errors: list[dict[str, Any]] = []
    try:
        header = next(reader, None)
        if header is None:
            raise BankStatementError("the bank statement is empty")
        columns = _header(header)
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) + len(errors) >= MAX_ROWS:
                raise BankStatementError(
                    f"a bank statement has at most {MAX_ROWS} rows", line=number
                )
            try:
                lines.append(_row(row, columns, number))
            except ValueError as error:
                errors.append({"line": number, "message": str(error)})
                if len(errors) >= MAX_ERRORS:
                    break
    except csv.Error as error:
        errors.append({"line": reader.line_num, "message": f"not valid CSV: {error}"})
    if errors:
        first = errors[0]
        raise BankStatementError(
            f"line {first['line']}: {first['message']}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            errors=errors,
        )
    return lines


def _row(row: list[str], columns: dict[str, int], number: int) -> BankLine:
    if len(row) <= max(columns.values()):
        raise ValueError(f"expected at least {max(columns.values()) + 1} cells, found {len(row)}")
    cells = {column: row[index].strip() for column, index in columns.items()}
    for column, value in cells.items():
        if len(value) > MAX_FIELD:
            raise ValueError(f"{column} is longer than {MAX_FIELD} characters")
        if any(ord(ch) < 32 for ch in value):
            raise ValueError(f"{column} holds control characters")
    return BankLine(
        row=number,
        on=_date(cells["date"]),
        amount=_amount(cells["amount"]),
        counterparty=cells["counterparty"],
        reference=cells["reference"],
    )


def _signed(line: FundLineView) -> Decimal:
    return line.amount if line.direction == "income" else -line.amount


class _Index:
    """Ledger lines by a key, each taken at most once (in ledger order)."""

    def __init__(self, lines: list[FundLineView], key: Callable[[FundLineView], Hashable]):
        self._by: dict[Hashable, list[FundLineView]] = defaultdict(list)
        for line in reversed(lines):
            self._by[key(line)].append(line)

    def take(self, key: Hashable, used: set[int]) -> FundLineView | None:
        found = self._by.get(key)
        while found:
            line = found.pop()
            if line.line_no not in used:
                used.add(line.line_no)
                return line
        return None


def reconcile(bank: list[BankLine], ledger: Iterable[FundLineView]) -> tuple[int, list[Difference]]:
    """Pair the bank's lines with the ledger's (within the bank statement's dates); returns
    how many matched and every difference, in date order. Each pass looks lines up by a key,
    so a statement of 10,000 rows against as many lines takes no longer than reading them."""
    if not bank:
        return 0, []
    starts, ends = min(b.on for b in bank), max(b.on for b in bank)
    lines = [line for line in ledger if starts <= line.on <= ends]
    numbers = {line.line_no for line in lines}
    # latest first: a correction undone by a later one cancels with it, and the line it had
    # reversed stands (1 reversed by 2, 2 reversed by 3: 3 and 2 cancel, 1 is real)
    cancelled: set[int] = set()
    for later in sorted(lines, key=lambda ln: ln.line_no, reverse=True):
        pair = {later.line_no, later.corrects or 0}
        if later.corrects in numbers and not pair & cancelled:
            cancelled |= pair
    lines = [line for line in lines if line.line_no not in cancelled]
    used: set[int] = set()
    matched = 0
    left: list[BankLine] = []
    by_reference = _Index(lines, lambda ln: (ln.on, _signed(ln), ln.reference))
    by_amount = _Index(lines, lambda ln: (ln.on, _signed(ln)))
    for entry in bank:
        if entry.reference and by_reference.take((entry.on, entry.amount, entry.reference), used):
            matched += 1
        else:
            left.append(entry)
    unmatched: list[BankLine] = []
    for entry in left:
        if by_amount.take((entry.on, entry.amount), used):
            matched += 1
        else:
            unmatched.append(entry)
    # the same transaction, by reference or counterparty, with another amount
    same_reference = _Index(lines, lambda ln: (ln.on, ln.direction, "r", ln.reference))
    same_party = _Index(lines, lambda ln: (ln.on, ln.direction, "c", ln.counterparty))
    differences: list[Difference] = []
    for entry in unmatched:
        direction = "income" if entry.amount > 0 else "expense"
        line = (
            same_reference.take((entry.on, direction, "r", entry.reference), used)
            if entry.reference
            else None
        ) or (
            same_party.take((entry.on, direction, "c", entry.counterparty), used)
            if entry.counterparty
            else None
        )
        if line is None:
            differences.append(
                Difference(
                    kind="missing_in_ledger", on=entry.on, bank=entry, bank_amount=entry.amount
                )
            )
            continue
        differences.append(
            Difference(
                kind="amount_mismatch",
                on=entry.on,
                bank=entry,
                line_no=line.line_no,
                ledger_amount=_signed(line),
                bank_amount=entry.amount,
            )
        )
    differences += [
        Difference(kind="missing_in_bank", on=ln.on, line_no=ln.line_no, ledger_amount=_signed(ln))
        for ln in lines
        if ln.line_no not in used
    ]
    return matched, sorted(differences, key=lambda d: (d.on, d.line_no or 0))
