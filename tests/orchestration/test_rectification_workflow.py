"""A rectification order's life through its workflow on the real Temporal dev server (time
skipped per workflow): reminded before the deadline, missed and escalated (an event and a
notice), reported done, sent back, done again and verified; and the same over the API."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.rectification import OrderView
from govflow.domain.delivery import DeliveryAddressed, MessageKind
from govflow.orchestration.door import CommandDoor
from govflow.orchestration.order_client import OrderClient
from govflow.orchestration.order_workflow import OrderWorkflow
from tests.application.test_rectification import (
    DISSATISFIED,
    EVIDENCE,
    SUPERVISOR,
    WORKER,
    enroll_order_people,
    evaluated,
    order_command,
)
from tests.orchestration.conftest import COUNCIL, Stack

# one order's whole life (missed, escalated, sent back, verified), kept for replay
ORDER_HISTORY = Path(__file__).parent / "order_histories" / "rectification-order.json"

pytestmark = [pytest.mark.asyncio(loop_scope="session")]


async def until(read: Callable[[], Any], holds: Callable[[Any], bool], timeout: float = 60) -> Any:
    """Poll ``read`` (blocking, in a thread) until ``holds``; fail rather than hang."""
    deadline = asyncio.get_running_loop().time() + timeout
    value = None
    while asyncio.get_running_loop().time() < deadline:
        value = await asyncio.to_thread(read)
        if holds(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not reached; last: {value}")


def reminders(app: Governance, order_id: object) -> list[DeliveryAddressed]:
    found = []
    for notification in app.recorder.select_notifications(
        1, 100_000, topics=(DeliveryAddressed.TOPIC,)
    ):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, DeliveryAddressed) and event.subject_id == order_id:
            found.append(event)
    return found


def orders(stack: Stack) -> OrderClient:
    return OrderClient(stack.client, task_queue=stack.issues.task_queue)


async def skip(stack: Stack, number: int, days: float) -> None:
    """Let ``days`` of the order workflow's virtual time pass."""
    await stack.env.fast_forward(  # type: ignore[attr-defined]
        orders(stack).handle(COUNCIL, number), timedelta(days=days)
    )


async def test_an_order_missed_escalated_sent_back_completed_and_verified(stack: Stack) -> None:
    """The workflow reminds the member ordered, escalates the missed deadline to the body the
    policy names (with a notice on the board); the ordering chair sends the first completion
    back (a new round) and accepts the second; the workflow ends with the order verified."""
    app, number = stack.app, 2300
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    door = CommandDoor(app, stack.issues, stack.procedures)
    supervisor, worker = app.principal(COUNCIL, SUPERVISOR), app.principal(COUNCIL, WORKER)
    view: OrderView = await door.handle(
        order_command(number, due=date.today() + timedelta(days=2)), supervisor
    )
    assert (view.status, view.escalated) == ("open", False)

    await skip(stack, number, 5)  # past the reminder time and the deadline
    escalated = await until(lambda: app.get_order(COUNCIL, number), lambda v: v.escalated)
    assert escalated.status == "open"  # still to be put right, now overdue
    step = next(s for s in escalated.steps if s.kind == "escalated")
    assert step.to_body == "two_committees" and step.notice_id is not None
    notice = app.get_notice(step.notice_id)
    assert "限期整改逾期" in notice.title
    told = reminders(app, view.id)
    assert [(d.kind, d.recipient) for d in told] == [(MessageKind.ORDER_REMINDER, WORKER)]

    done = c.CompleteRectification(
        council=COUNCIL, number=number, text="已疏通", evidence=(EVIDENCE,)
    )
    await door.handle(done, worker)
    back = c.VerifyRectification(
        council=COUNCIL, number=number, accepted=False, text="仍有堵塞",
        due=date.today() + timedelta(days=30),
    )  # fmt: skip
    reopened = await door.handle(back, supervisor)
    assert (reopened.status, reopened.round, reopened.escalated) == ("open", 2, False)
    # the workflow reads the new round (its status query says so) before the next act
    status = await orders(stack).status(COUNCIL, number)
    for _ in range(600):
        if status.round == 2:
            break
        await asyncio.sleep(0.1)
        status = await orders(stack).status(COUNCIL, number)
    assert status.round == 2 and status.reminded == (1,), status
    await door.handle(done.model_copy(update={"text": "已更换管道"}), worker)
    accept = c.VerifyRectification(council=COUNCIL, number=number, accepted=True, text="已核实")
    await door.handle(accept, supervisor)
    handle = orders(stack).handle(COUNCIL, number)
    result = await stack.result(handle)
    assert (result.status, result.rounds) == ("verified", 2)
    if not ORDER_HISTORY.exists() or os.environ.get("GOVFLOW_RECORD_HISTORIES"):
        history = await handle.fetch_history()
        ORDER_HISTORY.parent.mkdir(exist_ok=True)
        ORDER_HISTORY.write_text(history.to_json(), encoding="utf-8")
    kinds = [s.kind for s in app.get_order(COUNCIL, number).steps]
    assert kinds == ["issued", "escalated", "completed", "sent_back", "completed", "verified"]


async def test_the_recorded_order_history_replays_without_nondeterminism() -> None:
    """Today's order workflow makes the same decisions as the code that recorded the run
    (regenerate with GOVFLOW_RECORD_HISTORIES=1 only for a change meant to be incompatible)."""
    history = WorkflowHistory.from_json(
        "order-xinhua-2300", ORDER_HISTORY.read_text(encoding="utf-8")
    )
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


async def test_an_order_changed_without_telling_its_workflow_is_read_again_daily(
    stack: Stack,
) -> None:
    """A completion and a verification recorded while the workflow could not be told (no
    signal): the workflow reads the order again within a day of its time and ends."""
    app, number = stack.app, 2301
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    door = CommandDoor(app, stack.issues, stack.procedures)
    due = date.today() + timedelta(days=2)
    await door.handle(order_command(number, due=due), app.principal(COUNCIL, SUPERVISOR))
    await skip(stack, number, 5)  # past the deadline: escalated
    await until(lambda: app.get_order(COUNCIL, number), lambda v: v.escalated)
    app.complete_order(COUNCIL, number, "已疏通", (EVIDENCE,), actor=WORKER)
    app.verify_order(COUNCIL, number, accepted=True, text="", due=None, actor=SUPERVISOR)
    handle = orders(stack).handle(COUNCIL, number)
    await skip(stack, number, 1.5)
    result = await stack.result(handle)
    assert (result.status, result.rounds) == ("verified", 1)


@pytest.mark.postgres
async def test_an_order_runs_on_the_postgresql_store(pg_stack: Stack) -> None:
    """Missed, escalated (with its notice), reported done and verified, its workflow ending,
    with the events and the lists in PostgreSQL."""
    app, number = pg_stack.app, 2302
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    door = CommandDoor(app, pg_stack.issues, pg_stack.procedures)
    supervisor = app.principal(COUNCIL, SUPERVISOR)
    due = date.today() + timedelta(days=2)
    await door.handle(order_command(number, due=due), supervisor)
    await skip(pg_stack, number, 5)
    await until(lambda: app.get_order(COUNCIL, number), lambda v: v.escalated)
    done = c.CompleteRectification(
        council=COUNCIL, number=number, text="已疏通", evidence=(EVIDENCE,)
    )
    await door.handle(done, app.principal(COUNCIL, WORKER))
    accept = c.VerifyRectification(council=COUNCIL, number=number, accepted=True)
    await door.handle(accept, supervisor)
    result = await pg_stack.result(orders(pg_stack).handle(COUNCIL, number))
    assert (result.status, result.rounds) == ("verified", 1)
    assert [(r.number, r.status, r.escalations) for r in app.list_orders(COUNCIL)] == [
        (number, "verified", 1)
    ]
    assert any(n.subject == "order" for n in app.list_notices(COUNCIL))
