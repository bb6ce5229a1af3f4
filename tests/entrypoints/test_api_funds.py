"""The funds API (/v1/councils/{code}/funds): two keyholders' tokens move money out, one cannot,
refusals record nothing, statements are posted once, a bank statement is reconciled."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest
import pytest_asyncio

from govflow.application import Governance
from govflow.application.specimens import SteppingClock
from govflow.entrypoints.api import create_api
from tests.application.scenario import CLERK, COUNCIL, set_up_council

pytestmark = pytest.mark.asyncio

V1 = f"/v1/councils/{COUNCIL}/funds"
EVIDENCE = hashlib.sha256(b"receipt").hexdigest()
WHO = {"clerk": CLERK, "chair": "p1", "k2": "p2", "k3": "p3", "member": "p4", "auditor": "a1"}


@pytest_asyncio.fixture
async def client(
    app: Governance, clock: SteppingClock
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    clock.current = datetime(2026, 3, 10, 1, tzinfo=UTC)
    set_up_council(app)
    app.enroll_member(COUNCIL, CLERK, "书记员", actor=CLERK, roles=("clerk",))
    app.enroll_member(COUNCIL, "a1", "审计员", actor=CLERK, roles=("auditor",))
    headers = {
        name: {"Authorization": f"Bearer {app.issue_token(COUNCIL, member, actor=CLERK)}"}
        for name, member in WHO.items()
    }
    transport = httpx.ASGITransport(app=create_api(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://govflow") as http:
        yield http, headers


def line(amount: str, on: str = "2026-03-01", **more: object) -> dict[str, object]:
    return {
        "amount": amount,
        "counterparty": "业主缴费",
        "category": "物业费",
        "on": on,
        "evidence_sha256": EVIDENCE,
        **more,
    }


async def test_two_keyholders_move_money_and_one_cannot(
    app: Governance, client: tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
) -> None:
    """Opened by the chair of the two committees with p2 and p3 as keyholders: p2 records fees
    and initiates an expense, p2 cannot approve it, a member and an auditor cannot act, p3
    approves; every line is readable by members."""
    http, who = client
    fund = {
        "number": 1,
        "name": "物业费信托账户",
        "kind": "property_fees",
        "keyholders": ["p2", "p3"],
    }
    assert (await http.post(V1, headers=who["member"], json=fund)).status_code == 403
    single = await http.post(V1, headers=who["chair"], json={**fund, "keyholders": ["p2"]})
    assert single.status_code == 422
    opened = await http.post(V1, headers=who["chair"], json=fund)
    assert opened.status_code == 201 and opened.json()["keyholders"] == ["p2", "p3"]
    income = await http.post(f"{V1}/1/incomes", headers=who["k2"], json=line("5000.00"))
    assert income.status_code == 201 and income.json() == {"line_no": 1}
    float_amount = await http.post(f"{V1}/1/incomes", headers=who["k2"], json=line(12.5))
    assert float_amount.status_code == 422
    asked = await http.post(f"{V1}/1/expenses", headers=who["k2"], json=line("1200.00"))
    assert asked.status_code == 201 and asked.json()["expense_no"] == 1

    before = app.recorder.max_notification_id()
    approve = f"{V1}/1/expenses/1/approve"
    same = await http.post(approve, headers=who["k2"])
    assert same.status_code == 409 and same.json()["code"] == "fund.same_keyholder"
    for outsider in ("member", "auditor", "clerk", "chair"):
        refused = await http.post(approve, headers=who[outsider])
        assert refused.status_code == 403, outsider
    assert app.recorder.max_notification_id() == before
    paid = await http.post(approve, headers=who["k3"])
    assert paid.status_code == 200 and paid.json() == {"line_no": 2}
    again = await http.post(approve, headers=who["k3"])
    assert again.status_code == 409 and again.json()["code"] == "fund.invalid_state"

    lines = (await http.get(f"{V1}/1/lines", headers=who["member"])).json()
    assert [(ln["amount"], ln["balance"]) for ln in lines] == [
        ("5000.00", "5000.00"),
        ("1200.00", "3800.00"),
    ]
    assert lines[1]["initiated_by"] == "p2" and lines[1]["recorded_by"] == "p3"
    listed = (await http.get(V1, headers=who["auditor"])).json()
    assert listed[0]["balance"] == "3800.00" and listed[0]["lines"] == 2


async def test_an_expense_over_the_threshold_is_refused_without_spending(
    app: Governance, client: tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
) -> None:
    """Over ¥10,000 and no approved spending named: 409 fund.spending_required, nothing
    recorded."""
    http, who = client
    fund = {"number": 1, "name": "公共收益", "kind": "public_income", "keyholders": ["p2", "p3"]}
    assert (await http.post(V1, headers=who["clerk"], json=fund)).status_code == 201
    await http.post(f"{V1}/1/incomes", headers=who["k2"], json=line("50000.00"))
    before = app.recorder.max_notification_id()
    refused = await http.post(f"{V1}/1/expenses", headers=who["k2"], json=line("10000.01"))
    assert refused.status_code == 409 and refused.json()["code"] == "fund.spending_required"
    assert app.recorder.max_notification_id() == before


async def test_statement_posted_once_and_reconciliation(
    app: Governance,
    clock: SteppingClock,
    client: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
) -> None:
    """A closed month's statement is posted once (the same notice again); a bank statement
    with a line the ledger lacks is flagged, a malformed one is refused with its line."""
    http, who = client
    fund = {"number": 1, "name": "物业费", "kind": "property_fees", "keyholders": ["p2", "p3"]}
    await http.post(V1, headers=who["clerk"], json=fund)
    await http.post(f"{V1}/1/incomes", headers=who["k2"], json=line("3000.00", reference="B-1"))
    early = await http.post(f"{V1}/1/statements", headers=who["k2"], json={"period": "2026-03"})
    assert early.status_code == 409
    clock.current = datetime(2026, 4, 2, tzinfo=UTC)
    member = await http.post(
        f"{V1}/1/statements", headers=who["member"], json={"period": "2026-03"}
    )
    assert member.status_code == 403
    posted = await http.post(f"{V1}/1/statements", headers=who["clerk"], json={"period": "2026-03"})
    again = await http.post(f"{V1}/1/statements", headers=who["k3"], json={"period": "2026-03"})
    assert posted.status_code == again.status_code == 200
    assert posted.json()["notice_id"] == again.json()["notice_id"]
    view = (await http.get(f"{V1}/1", headers=who["member"])).json()
    assert view["statements"][0]["closing"] == "3000.00"

    csv = (
        "date,amount,counterparty,reference\n2026-03-01,3000.00,业主,B-1\n2026-03-05,-99.00,x,B-9\n"
    )
    report = await http.post(
        f"{V1}/1/reconciliation",
        headers={**who["auditor"], "content-type": "text/csv"},
        content=csv.encode(),
    )
    assert report.status_code == 200, report.text
    assert report.json()["matched"] == 1
    assert [d["kind"] for d in report.json()["differences"]] == ["missing_in_ledger"]
    bad = await http.post(
        f"{V1}/1/reconciliation",
        headers={**who["member"], "content-type": "text/csv"},
        content=b"date,amount,counterparty,reference\n2026-03-01,abc,x,y\n",
    )
    assert bad.status_code == 422 and bad.json()["code"] == "fund.bank_statement_invalid"
    assert bad.json()["details"]["errors"][0]["line"] == 2


async def test_a_keyholder_who_left_is_not_named_after_whoever_took_their_id(
    app: Governance, client: tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
) -> None:
    """A keyholder who left and a newcomer enrolled under the same member id: the board and
    the app name the keyholder (and who recorded a line) by id, never by the newcomer's name
    (who holds no key and recorded nothing)."""
    http, who = client
    opened = await http.post(V1, headers=who["chair"], json={
        "number": 1, "name": "物业费", "kind": "property_fees", "keyholders": ["p2", "p3"],
    })  # fmt: skip
    assert opened.status_code == 201
    recorded = await http.post(f"{V1}/1/incomes", headers=who["k2"], json=line("3000.00"))
    assert recorded.status_code == 201
    app.remove_member(COUNCIL, "p2", actor=CLERK)
    app.enroll_member(COUNCIL, "p2", "后来的人", actor=CLERK)
    board = (await http.get(f"/board/{COUNCIL}/funds/1")).text
    assert "党员p3" in board and "后来的人" not in board
    assert app.fund_keyholder_names(COUNCIL, 1) == {"p2": "p2", "p3": "党员p3"}


async def test_a_member_objects_to_a_statement_and_a_keyholder_answers(
    app: Governance,
    clock: SteppingClock,
    client: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
) -> None:
    """A statement's notice has an objection window: a member objects to it (not before it is
    posted, never an auditor), a keyholder answers (not a member without a key); every
    refusal records nothing."""
    http, who = client
    fund = {"number": 1, "name": "物业费", "kind": "property_fees", "keyholders": ["p2", "p3"]}
    await http.post(V1, headers=who["clerk"], json=fund)
    await http.post(f"{V1}/1/incomes", headers=who["k2"], json=line("3000.00"))
    objections = f"{V1}/1/statements/2026-03/objections"
    log = app.recorder

    async def refused(path: str, whom: str, body: object, status: int, code: str) -> None:
        before = log.max_notification_id()
        answer = await http.post(path, headers=who[whom], json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        assert log.max_notification_id() == before

    await refused(objections, "member", {"text": "第1笔不对"}, 409, "fund.invalid_state")
    clock.current = datetime(2026, 4, 2, tzinfo=UTC)
    posted = await http.post(f"{V1}/1/statements", headers=who["clerk"], json={"period": "2026-03"})
    assert posted.status_code == 200
    await refused(objections, "auditor", {"text": "异议"}, 403, "auth.forbidden")
    filed = await http.post(objections, headers=who["member"], json={"text": "第1笔金额不对"})
    assert filed.status_code == 201 and filed.json() == {"objection_no": 1}
    answer = f"{objections}/1/answer"
    reply = {"reply": "经核对银行流水无误", "upheld": False}
    await refused(answer, "member", reply, 403, "auth.forbidden")
    answered = await http.post(answer, headers=who["k3"], json=reply)
    assert answered.status_code == 200 and answered.json() == {"upheld": False}
    notice = app.notice(UUID(posted.json()["notice_id"]))
    assert notice.objection_until is not None
    (replied,) = list(app.domain_events(notice.id))[2:]
    assert replied.actor == "p3"
