"""Funds in the app and on the board: the chair opens a fund with two keyholders; one keyholder
records income and initiates an expense, cannot approve it alone, and the other approves; a
member who holds no key sees every line and no forms; a bank statement is checked; the board
shows every line to anyone."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest

from govflow.application import Governance
from tests.app.conftest import COUNCIL, SignIn

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVIDENCE = hashlib.sha256(b"bank receipt").hexdigest()


def line(amount: str, **more: str) -> dict[str, str]:
    return {
        "amount": amount,
        "on": date.today().isoformat(),
        "counterparty": "业主缴费",
        "category": "物业费",
        "evidence_sha256": EVIDENCE,
        **more,
    }


async def test_two_keyholders_in_their_own_sessions(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The fund's whole path in the app, one keyholder refused alone, and the board."""
    app, sign_in = roll_people
    chair, first, second, member = [await sign_in(m) for m in ("c1", "m1", "m2", "m3")]
    refused = await member.submit(
        "/app/funds", number="1", name="x", kind="property_fees", keyholders="m1\nm2"
    )
    assert refused.status_code == 403 and not app.list_funds(COUNCIL)
    opened = await chair.submit(
        "/app/funds", number="1", name="物业费信托账户", kind="property_fees",
        keyholders="m1\nm2", schedule="monthly",
    )  # fmt: skip
    assert opened.status_code == 303 and opened.headers["location"] == "/app/funds/1?done=opened"

    income = await first.submit("/app/funds/1/incomes", **line("¥3,000.00", reference="B-1"))
    assert income.status_code == 303 and income.headers["location"].endswith("done=income")
    asked = await first.submit("/app/funds/1/expenses", **line("1200", counterparty="保洁公司"))
    assert asked.status_code == 303
    alone = await first.submit("/app/funds/1/expenses/1/approve")
    assert alone.status_code == 409 and "发起人不能自己批准" in alone.text
    assert app.get_fund(COUNCIL, 1).balance == 3000
    bystander = await member.submit("/app/funds/1/expenses/1/approve")
    assert bystander.status_code == 403

    page = await second.get("/app/funds/1")
    assert '<strong class="initiated-by">成员1</strong>' in page.text
    assert 'action="/app/funds/1/expenses/1/approve"' in page.text
    paid = await second.submit("/app/funds/1/expenses/1/approve")
    assert paid.status_code == 303 and app.get_fund(COUNCIL, 1).balance == 1800

    seen = await member.get("/app/funds/1")
    assert seen.status_code == 200 and "¥1,800.00" in seen.text and "保洁公司" in seen.text
    assert 'action="/app/funds/1/incomes"' not in seen.text  # no key, no forms to move money
    listed = await member.get("/app/funds")
    assert "物业费信托账户" in listed.text and "¥1,800.00" in listed.text

    csv = f"date,amount,counterparty,reference\n{date.today()},3000.00,业主,B-1\n"
    report = await member.submit(
        "/app/funds/1/reconciliation", files={"bank": ("bank.csv", csv.encode(), "text/csv")}
    )
    assert report.status_code == 200 and 'class="card difference-missing_in_bank"' in report.text
    bad = await member.submit(
        "/app/funds/1/reconciliation",
        files={"bank": ("bank.csv", b"date,amount,counterparty,reference\nx,1,a,b\n", "text/csv")},
    )
    assert bad.status_code == 422 and "第 2 行" in bad.text

    board = await member.client.get(f"/board/{COUNCIL}/funds")
    assert board.status_code == 200 and "物业费信托账户" in board.text and "¥1,800.00" in board.text
    fund = await member.client.get(f"/board/{COUNCIL}/funds/1?lang=en")
    assert fund.status_code == 200 and EVIDENCE in fund.text and "保洁公司" in fund.text
    assert "成员1 → 成员2" in fund.text  # who initiated, who approved
    data = (await member.client.get(f"/board/{COUNCIL}/funds/1.json")).json()
    assert [ln["balance"] for ln in data["ledger"]] == ["3000.00", "1800.00"]
    rows = (await member.client.get(f"/board/{COUNCIL}/funds.json")).json()
    assert rows[0]["balance"] == "1800.00" and rows[0]["lines"] == 2
    council = await member.client.get(f"/board/{COUNCIL}/")
    assert f"/board/{COUNCIL}/funds" in council.text

    last_month = f"{date.today().replace(day=1) - timedelta(days=1):%Y-%m}"
    page = await second.get("/app/funds/1")
    assert f'value="{last_month}"' in page.text  # the form proposes the last closed period
    posted = await second.submit("/app/funds/1/statements", period=last_month)
    assert posted.status_code == 303 and posted.headers["location"].endswith("done=posted")
    (statement,) = app.get_fund(COUNCIL, 1).statements
    notice = await member.client.get(f"/board/notices/{statement.notice_id}")
    assert notice.status_code == 200 and "资金账户 1 物业费信托账户" in notice.text
    listed = await member.client.get(f"/board/{COUNCIL}/notices?all=1")
    assert f"{last_month} 收支公开" in listed.text


async def test_the_line_forms_take_the_councils_date(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """At 01:00 on 10 March in the council's time zone (still 9 March in UTC) a keyholder may
    date a line 10 March: the forms offer and allow the council's today, not UTC's."""
    from datetime import UTC, datetime

    from govflow.domain.fund import FundKind, StatementSchedule

    app, sign_in = roll_people
    app.clock = lambda: datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # Asia/Shanghai: 3-10 01:00
    app.open_fund(
        COUNCIL, 1, "物业费", FundKind.PROPERTY_FEES, ("m1", "m2"),
        schedule=StatementSchedule.MONTHLY, actor="k1",
    )  # fmt: skip
    page = await (await sign_in("m1")).get("/app/funds/1")
    assert 'max="2026-03-10"' in page.text and 'value="2026-03-10"' in page.text
    assert 'value="2026-02"' in page.text  # the last closed month, in the council's time zone
