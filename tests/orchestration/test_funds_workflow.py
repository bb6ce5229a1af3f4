"""A fund's statements posted on its schedule by its workflow on the real Temporal dev server
(time skipped per workflow): opening the fund starts it; at the month's end the statement is
posted as a notice, once, by the system, and not while an expense dated in the month awaits
its second keyholder. Fund numbers 2200-2249 only (workflow ids on the shared test server)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowExecutionStatus

from govflow.application import commands as c
from govflow.application.fund_views import FundView
from govflow.domain.errors import AlreadyExistsError
from govflow.domain.fund import FundKind, StatementSchedule
from govflow.orchestration.door import CommandDoor
from govflow.orchestration.fund_client import FundClient
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = [pytest.mark.asyncio(loop_scope="session")]

EVIDENCE = hashlib.sha256(b"receipt").hexdigest()


async def test_the_workflow_posts_each_closed_month_once(stack: Stack) -> None:
    """Opened with keyholders m1 and m2, the fund's workflow posts the month's statement after
    the month ends (an expense awaiting approval holds it back until approved), as the system,
    with every line of the month."""
    app, number = stack.app, 2200
    door = CommandDoor(app, stack.issues, stack.procedures)
    chair, first, second = (app.principal(COUNCIL, m) for m in (CHAIR, "m1", "m2"))
    opened: FundView = await door.handle(
        c.OpenFund(
            council=COUNCIL, number=number, name="物业费信托账户", kind="property_fees",
            keyholders=("m1", "m2"),
        ),
        chair,
    )  # fmt: skip
    today = app.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    line = {"counterparty": "业主", "category": "物业费", "on": today, "evidence_sha256": EVIDENCE}
    await door.handle(
        c.RecordFundIncome(council=COUNCIL, number=number, amount="3000.00", **line), first
    )
    pending = await door.handle(
        c.InitiateFundExpense(council=COUNCIL, number=number, amount="800.00", **line), first
    )
    period, due = app.due_fund_statement(COUNCIL, number)
    assert period == f"{today:%Y-%m}" and opened.statements == []

    handle = FundClient(stack.client, task_queue=stack.issues.task_queue).handle(COUNCIL, number)
    days = (due - app.now()).total_seconds() / 86_400 + 0.5
    await stack.env.fast_forward(handle, timedelta(days=days))  # type: ignore[attr-defined]
    await door.handle(
        c.ApproveFundExpense(council=COUNCIL, number=number, expense_no=pending), second
    )
    await stack.env.fast_forward(handle, timedelta(days=1.5))  # type: ignore[attr-defined]
    view = app.get_fund(COUNCIL, number)
    for _ in range(600):
        if view.statements:
            break
        await asyncio.sleep(0.1)
        view = await asyncio.to_thread(app.get_fund, COUNCIL, number)
    (statement,) = view.statements
    assert statement.period == period
    assert (statement.incomes, statement.expenses, statement.closing) == (
        Decimal("3000.00"), Decimal("800.00"), Decimal("2200.00"),
    )  # fmt: skip
    notice = app.get_notice(statement.notice_id)
    assert notice.subject_id == view.id and "800.00" in notice.text
    posted = [h for h in app.get_history(view.id) if h.topic == "govflow.fund.statement_posted"]
    assert [h.actor for h in posted] == ["system"]
    # by hand, the same period answers the notice the workflow posted
    again = c.PostFundStatement(council=COUNCIL, number=number, period=period)
    assert await door.handle(again, first) == str(statement.notice_id)


async def test_opening_again_starts_a_missing_workflow(stack: Stack) -> None:
    """A fund opened while no workflow could start: opening it again is refused as already
    existing, and its statements workflow is running afterwards."""
    app, number = stack.app, 2202
    app.open_fund(
        COUNCIL, number, "公共收益", FundKind.PUBLIC_INCOME, ("m1", "m2"),
        schedule=StatementSchedule.QUARTERLY, actor=CHAIR,
    )  # fmt: skip
    door = CommandDoor(app, stack.issues, stack.procedures)
    again = c.OpenFund(
        council=COUNCIL, number=number, name="公共收益", kind="public_income",
        keyholders=("m1", "m2"), schedule="quarterly",
    )  # fmt: skip
    with pytest.raises(AlreadyExistsError):
        await door.handle(again, app.principal(COUNCIL, CHAIR))
    handle = FundClient(stack.client, task_queue=stack.issues.task_queue).handle(COUNCIL, number)
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
