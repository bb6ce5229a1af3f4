"""Spending in the app: a member requests spending; one officer asks for a disbursement and
another approves it, each in their own session; the officer who asked cannot approve."""

from __future__ import annotations

import pytest

from govflow.application import Governance
from tests.app.conftest import COUNCIL, SignIn

pytestmark = pytest.mark.asyncio(loop_scope="session")


def officers(app: Governance) -> None:
    for officer, name in (("f1", "出纳甲"), ("f2", "会计乙")):
        app.enroll_member(COUNCIL, officer, name, actor="k1", roles=("officer",))


async def test_a_member_requests_spending(roll_people: tuple[Governance, SignIn]) -> None:
    """The form's request is recorded as typed (Decimal yuan) and shown in plain Chinese."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    listed = await member.get("/app/spending")
    assert listed.status_code == 200 and 'name="amount"' in listed.text
    answer = await member.submit(
        "/app/spending",
        number="1",
        amount="¥12,000.50",
        purpose="更换小区路灯",
        payee="光明电器",
        budget_line="公共设施维修",
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/spending/1?done=requested"
    view = app.get_spending(COUNCIL, 1)
    assert str(view.amount) == "12000.50" and view.requires_review
    page = await member.get(answer.headers["location"])
    assert "支出申请已提交" in page.text and "已申请，待批准" in page.text
    assert "需要（金额超过限额）" in page.text and "¥12,000.50" in page.text
    assert "成员1" in page.text and "requested<" not in page.text


async def test_a_bad_amount_is_refused_in_plain_words(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """12.345 yuan: 422 with the amount's rule in Chinese, the form kept, nothing recorded."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    answer = await member.submit(
        "/app/spending", number="2", amount="12.345", purpose="x", payee="y", budget_line="z"
    )
    assert answer.status_code == 422 and "金额格式不正确" in answer.text
    assert 'value="12.345"' in answer.text and not app.list_spending(COUNCIL)


async def test_two_officers_move_money_and_one_alone_cannot(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """f1 asks; f1's own approval is refused (nothing paid); the page shows f1 asked; f2
    approves and the disbursement shows both officers."""
    app, sign_in = roll_people
    officers(app)
    app.request_spending(
        COUNCIL, 3, "800.00", purpose="灯", payee="店", budget_line="修", actor="m1"
    )
    app.approve_spending(COUNCIL, 3, actor="c1")  # the workflow's act, not the app's
    first, second = await sign_in("f1"), await sign_in("f2")
    asked = await first.submit("/app/spending/3/disbursements", amount="800", reference="单-1")
    assert asked.status_code == 303 and asked.headers["location"].endswith("done=asked")

    alone = await first.submit("/app/spending/3/disbursements/1/approve")
    assert alone.status_code == 409 and "申请人不能自己批准" in alone.text
    assert app.get_spending(COUNCIL, 3).disbursed == 0

    page = await second.get("/app/spending/3")
    assert '<strong class="requested-by">出纳甲</strong>' in page.text
    assert 'action="/app/spending/3/disbursements/1/approve"' in page.text
    paid = await second.submit("/app/spending/3/disbursements/1/approve")
    assert paid.status_code == 303 and app.get_spending(COUNCIL, 3).disbursed == 800
    shown = await second.get(paid.headers["location"])
    assert "已批准，资金已拨付" in shown.text and "¥800.00" in shown.text
    assert "<td>出纳甲</td><td>会计乙</td>" in shown.text


async def test_a_member_cannot_ask_or_approve_by_a_forged_post(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """No officer role: no disbursement form shows, and forged posts are refused (403)."""
    app, sign_in = roll_people
    officers(app)
    app.request_spending(
        COUNCIL, 4, "500.00", purpose="灯", payee="店", budget_line="修", actor="m1"
    )
    app.approve_spending(COUNCIL, 4, actor="c1")
    member = await sign_in("m1")
    page = await member.get("/app/spending/4")
    assert "/disbursements" not in page.text
    forged = await member.submit("/app/spending/4/disbursements", amount="500", reference="x")
    assert forged.status_code == 403 and "您没有权限进行此操作" in forged.text
    f1 = await sign_in("f1")
    await f1.submit("/app/spending/4/disbursements", amount="500", reference="单-2")
    approve = await member.submit("/app/spending/4/disbursements/1/approve")
    assert approve.status_code == 403 and app.get_spending(COUNCIL, 4).disbursed == 0


async def test_a_spending_form_without_csrf_is_refused(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A session without the form's token: 403, nothing requested."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    answer = await member.client.post(
        "/app/spending",
        data={"number": "5", "amount": "1", "purpose": "x", "payee": "y", "budget_line": "z"},
    )
    assert answer.status_code == 403 and not app.list_spending(COUNCIL)
