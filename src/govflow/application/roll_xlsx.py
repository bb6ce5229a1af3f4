"""The roll as Excel workbooks (``.xlsx``): the property register a housing office keeps, read
into the same rows as a CSV file (:mod:`govflow.application.roll_csv` plans and reports them)
and written with the same columns.

- Reading takes the first sheet: its first row names the columns, every later non-blank row
  is one record, numbered as the sheet numbers it. Cells are read as text: a number typed as
  89.5 reads exactly ``89.5`` (the shortest decimal of the stored value, never a float's
  tail), a whole number without a point. A date (Excel turns ``3-01`` into 1 March), a
  formula or a true/false cell is that row's problem (``xlsx.date``, ``xlsx.formula``,
  ``xlsx.not_text``), not a guess.
- A file that is not a workbook (an old ``.xls``, a renamed file, a zip of something else) is
  refused whole (``csv.invalid``), as is one larger than :data:`roll_csv.MAX_BYTES`, one
  that unpacks to more than :data:`MAX_UNPACKED` bytes, or one with more than
  :data:`roll_csv.MAX_ROWS` rows.
- Writing puts every cell as text, except the area (a number, so that a spreadsheet sums
  it), and a text starting ``= + - @`` gets the same leading ``'`` as in CSV files: openpyxl
  would otherwise store it as a formula.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from govflow.application.roll_csv import (
    HOUSEHOLD_COLUMNS,
    MAX_BYTES,
    CsvFileError,
    HouseholdView,
    Kind,
    Row,
    RowProblem,
    guard,
    household_cells,
    make_row,
    read_header,
    read_rows,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UNPACKED = 16 * 1024 * 1024
"""The most a workbook may unpack to (a 2,000-row register is well under 1 MiB)."""
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # an Excel 97-2003 .xls (or another Office binary file)
NOT_A_WORKBOOK = "the file is not an Excel workbook (.xlsx): save it as .xlsx or CSV"


def is_workbook(data: bytes, filename: str = "") -> bool:
    """Whether a file is meant as a workbook: named ``.xlsx``/``.xls`` or packed like one."""
    name = filename.lower()
    return name.endswith((".xlsx", ".xls")) or data.startswith((_ZIP, _OLE))


def read_file(data: bytes, kind: Kind, filename: str = "") -> list[Row]:
    """The rows of a members or households file, CSV or XLSX (by its name or content).

    Raises:
        CsvFileError: a file that cannot be read as the roll at all.
    """
    return read_xlsx(data, kind) if is_workbook(data, filename) else read_rows(data, kind)


def read_xlsx(data: bytes, kind: Kind) -> list[Row]:
    """The rows of a workbook's first sheet (blank rows skipped).

    Raises:
        CsvFileError: too large, not a workbook, too many rows or a header without the columns.
    """
    if len(data) > MAX_BYTES:
        raise CsvFileError(f"the file is larger than {MAX_BYTES // 1024} KiB", limit=MAX_BYTES)
    if not data.startswith(_ZIP):
        raise CsvFileError(NOT_A_WORKBOOK)
    from openpyxl import load_workbook  # imported when used: it adds ~0.4 s to start-up
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            if sum(info.file_size for info in packed.infolist()) > MAX_UNPACKED:
                raise CsvFileError(
                    f"the workbook unpacks to more than {MAX_UNPACKED // 2**20} MiB",
                    limit=MAX_UNPACKED,
                )
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise CsvFileError(NOT_A_WORKBOOK) from None
    try:
        sheets = book.worksheets
        if not sheets:
            raise CsvFileError("the workbook has no sheet")
        records = sheets[0].iter_rows()
        header: list[str] | None = None
        rows: list[Row] = []
        for number, cells in enumerate(records, start=1):
            texts, problem = _texts(number, cells, header or [])
            if header is None:
                if problem is not None:
                    raise CsvFileError(f"the first row names the columns: {problem.detail}")
                if not any(texts):
                    raise CsvFileError("the file is empty")
                header = read_header(_trimmed(texts), kind)
                continue
            if not any(text.strip() for text in texts) and problem is None:
                continue
            cells_read = _trimmed(texts, len(header))
            rows.append(make_row(number, header, cells_read, rows, problem))
        if header is None:
            raise CsvFileError("the file is empty")
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        raise CsvFileError(f"{NOT_A_WORKBOOK} ({type(error).__name__})") from None
    finally:
        book.close()
    return rows


def _trimmed(texts: list[str], width: int = 0) -> list[str]:
    """Cells without the empty ones past the last filled one (and at least ``width`` of them:
    a row shorter than the header is not short of cells in a workbook)."""
    end = len(texts)
    while end > width and not texts[end - 1].strip():
        end -= 1
    return texts[:end] + [""] * (width - end)


def _texts(
    number: int, cells: Sequence[Any], header: Sequence[str]
) -> tuple[list[str], RowProblem | None]:
    """A sheet row's cells as text, and the first cell that is not text or a number (with
    its column, if the header names it)."""
    texts: list[str] = []
    problem: RowProblem | None = None
    for position, cell in enumerate(cells):
        text, code = cell_text(cell.value, getattr(cell, "data_type", None))
        texts.append(text)
        if code and problem is None:
            column = header[position] if position < len(header) and header[position] else None
            problem = RowProblem(number, column, text, code, _WHY[code], {"cell": position + 1})
    return texts, problem


_WHY = {
    "xlsx.date": "a date, not text: format the column as text (Excel reads 3-01 as a date)",
    "xlsx.formula": "a formula: type the value itself",
    "xlsx.not_text": "neither text nor a number",
}


def cell_text(value: object, data_type: str | None = None) -> tuple[str, str | None]:
    """A cell's value as the text it shows, and a problem code if it cannot be taken as one."""
    if value is None:
        return "", None
    if data_type == "f":
        return str(value), "xlsx.formula"
    if isinstance(value, bool):
        return str(value).upper(), "xlsx.not_text"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat(), "xlsx.date"
    if isinstance(value, timedelta):
        return str(value), "xlsx.date"
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        # the shortest decimal that is this float: what the cell shows (89.5, not 89.5000001)
        if not math.isfinite(value):
            return str(value), "xlsx.not_text"
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value)), None
        return format(Decimal(repr(value)), "f"), None
    if isinstance(value, Decimal):
        return format(value, "f"), None
    if isinstance(value, str):
        return value, None
    return str(value), "xlsx.not_text"


# -- writing ---------------------------------------------------------------------------------


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str) -> bytes:
    """A one-sheet workbook: text cells guarded against formulas, numbers as numbers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([guard(cell) if isinstance(cell, str) else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def households_xlsx(households: Iterable[HouseholdView]) -> bytes:
    """The households file as a workbook (the same columns as the CSV file)."""

    def cells(h: HouseholdView) -> list[object]:
        row: list[object] = list(household_cells(h))
        row[HOUSEHOLD_COLUMNS.index("exclusive_area")] = h.exclusive_area
        return row

    return write_xlsx(HOUSEHOLD_COLUMNS, (cells(h) for h in households), title="households")
