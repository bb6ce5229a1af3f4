"""The property register in the app: the clerk imports households from an Excel workbook (every
refused row listed, good rows registered, a second import changes nothing), exports them as a
workbook that imports back unchanged, and a file that is not a workbook is refused plainly."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from govflow.application import Governance
from tests.app.conftest import COUNCIL, SignIn

pytestmark = pytest.mark.asyncio(loop_scope="session")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["unit", "exclusive_area", "owner_id", "co_owners", "bodies"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


REGISTER = workbook(
    ["5-01", 89.5, "m1", "m2;m3", "业主大会"],
    [datetime(2026, 5, 2), 90, "m1", None, None],
    ["5-03", 120, "m4", None, None],
    ["5-04", 80, "m5", "nobody", None],
)


def refused_rows(text: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table id="refused-rows">(.*?)</table>', text, re.S)
    assert table is not None
    return re.findall(r"<tr><td>(\d+)</td><td><code>(.*?)</code></td><td>(.*?)</td></tr>",
                      table.group(1))  # fmt: skip


async def test_an_xlsx_import_lists_bad_rows_and_registers_the_good_ones(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A date where the unit should be and a co-owner not enrolled: both listed with their
    row and why; 5-01 (with its joint owners) and 5-03 registered; importing again is
    idempotent."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    files = {"file": ("register.xlsx", REGISTER, XLSX)}
    report = await clerk.submit("/app/roll/import", kind="households", files=files)
    assert report.status_code == 422
    rows = refused_rows(report.text)
    assert [(line, value) for line, value, _ in rows] == [
        ("3", "2026-05-02T00:00:00"),
        ("5", "nobody"),
    ]
    assert "日期" in rows[0][2] and "名册中没有此成员" in rows[1][2]
    assert '<strong id="imported-count">2</strong>' in report.text
    households = app.council(COUNCIL).households
    assert households["5-01"].owner_id == "m1" and households["5-01"].co_owners == ("m2", "m3")
    assert str(households["5-01"].exclusive_area) == "89.50" and "5-04" not in households
    version = app.council(COUNCIL).version
    again = await clerk.submit("/app/roll/import", kind="households", files=files)
    assert '<strong id="imported-count">0</strong>' in again.text
    assert '<strong id="unchanged-count">2</strong>' in again.text
    assert app.council(COUNCIL).version == version


async def test_an_exported_workbook_imports_back_unchanged_and_changes_a_representative(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """households.xlsx is a workbook of the roll (clerk only); imported back every row is
    unchanged; edited to name another representative it changes that unit only."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    app.register_household(COUNCIL, "6-01", app.council(COUNCIL).households["3-01"].exclusive_area,
                           "m1", actor="k1", co_owners=("m2",))  # fmt: skip
    page = await clerk.get("/app/roll")
    assert 'href="/app/roll/households.xlsx"' in page.text and ".xlsx" in page.text
    exported = await clerk.get("/app/roll/households.xlsx")
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    assert "households.xlsx" in exported.headers["content-disposition"]
    count = len(app.council(COUNCIL).households)
    back = await clerk.submit(
        "/app/roll/import", kind="households",
        files={"file": ("households.xlsx", exported.content, XLSX)},
    )  # fmt: skip
    assert back.status_code == 200 and '<strong id="imported-count">0</strong>' in back.text
    assert f'<strong id="unchanged-count">{count}</strong>' in back.text
    book = load_workbook(io.BytesIO(exported.content))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "6-01":
            row[2].value, row[3].value = "m2", "m1"
    edited = io.BytesIO()
    book.save(edited)
    changed = await clerk.submit(
        "/app/roll/import", kind="households",
        files={"file": ("households.xlsx", edited.getvalue(), XLSX)},
    )  # fmt: skip
    assert changed.status_code == 200 and '<strong id="imported-count">1</strong>' in changed.text
    household = app.council(COUNCIL).households["6-01"]
    assert (household.owner_id, household.co_owners) == ("m2", ("m1",))
    member = await sign_in("m1")
    assert (await member.get("/app/roll/households.xlsx")).status_code == 403


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("register.xlsx", b"unit,exclusive_area,owner_id\n9-01,80,m1\n"),
        ("register.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
    ],
)
async def test_a_file_that_is_not_a_workbook_is_refused_plainly(
    roll_people: tuple[Governance, SignIn], name: str, data: bytes
) -> None:
    """A CSV renamed .xlsx or an old .xls: 422, the page says it is not an .xlsx workbook,
    nothing recorded."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    before = app.council(COUNCIL).version
    answer = await clerk.submit("/app/roll/import", kind="households", files={"file": (name, data)})
    assert answer.status_code == 422 and "无法读取此文件" in answer.text
    assert "not an Excel workbook (.xlsx)" in answer.text
    assert app.council(COUNCIL).version == before
