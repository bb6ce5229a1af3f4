"""Rectification orders in the members' app: the member ordered reports one done with a photo
(kept by its sha256), a chair of another body cannot verify it (nothing recorded), and the
ordering chair sends it back and then accepts it, each in their own session."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest

from govflow.orchestration.door import CommandDoor
from tests.app.conftest import COUNCIL, SignIn
from tests.application.test_rectification import (
    DISSATISFIED,
    RESIDENTS_CHAIR,
    SUPERVISOR,
    WORKER,
    enroll_order_people,
    evaluated,
    order_command,
)
from tests.orchestration.conftest import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
PHOTO = b"\xff\xd8\xff\xe0 a photo of the cleared drain"


async def test_the_member_ordered_reports_it_done_and_the_ordering_chair_verifies(
    stack: Stack, people: SignIn
) -> None:
    app, number = stack.app, 2320
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    door = CommandDoor(app, stack.issues, stack.procedures)
    await door.handle(order_command(number), app.principal(COUNCIL, SUPERVISOR))
    worker, chair = await people(WORKER), await people(SUPERVISOR)
    other_chair, member = await people(RESIDENTS_CHAIR), await people("m1")

    assert 'href="/app/orders"' in (await worker.get("/app/")).text  # found from home
    listed = await worker.get("/app/orders")
    assert listed.status_code == 200 and "需要您整改" in listed.text
    assert 'name="photos"' in (await worker.get(f"/app/orders/{number}")).text
    assert 'name="photos"' not in (await member.get(f"/app/orders/{number}")).text

    files = {"photos": ("drain.jpg", PHOTO, "image/jpeg")}
    reported = await worker.submit(f"/app/orders/{number}/completion", files=files, text="已疏通")
    assert reported.status_code == 303, reported.text
    view = app.get_order(COUNCIL, number)
    assert view.status == "completed"
    assert view.steps[-1].evidence == (hashlib.sha256(PHOTO).hexdigest(),)

    head = app.recorder.max_notification_id()
    refused = await other_chair.submit(f"/app/orders/{number}/verification", accepted="yes")
    assert refused.status_code == 403
    assert app.recorder.max_notification_id() == head
    page = await chair.get(f"/app/orders/{number}")
    assert "核验未通过，退回整改" in page.text and "已报整改完成，待核验" in page.text

    no_date = await chair.submit(
        f"/app/orders/{number}/verification", accepted="no", text="仍有堵塞", due="soon"
    )
    assert no_date.status_code == 422 and app.recorder.max_notification_id() == head
    due = (date.today() + timedelta(days=7)).isoformat()
    back = await chair.submit(
        f"/app/orders/{number}/verification", accepted="no", text="仍有堵塞", due=due
    )
    assert back.status_code == 303
    assert (app.get_order(COUNCIL, number).status, app.get_order(COUNCIL, number).round) == (
        "open",
        2,
    )
    again = await worker.submit(f"/app/orders/{number}/completion", files=files, text="已更换")
    assert again.status_code == 303
    accepted = await chair.submit(
        f"/app/orders/{number}/verification", accepted="yes", text="已核实"
    )
    assert accepted.status_code == 303
    final = await worker.get(f"/app/orders/{number}")
    assert "已核验办结" in final.text
