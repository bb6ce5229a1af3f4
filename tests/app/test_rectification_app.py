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


async def test_my_tasks_link_the_orders_to_report_done_and_to_verify(
    roll_people: tuple[object, SignIn],
) -> None:
    """The member ordered finds the order on the app's home page (my tasks) with its link;
    once reported done, the ordering chair finds it there to verify, and the member no
    longer."""
    from govflow.application import Governance
    from govflow.domain.council import Body
    from govflow.domain.rectification import AssigneeKind, SourceKind

    app, people = roll_people
    assert isinstance(app, Governance)
    enroll_order_people(app)
    number = 2751
    app.record_inspection(COUNCIL, number, "井盖缺失", "0" * 64, actor=SUPERVISOR)
    app.order_rectification(
        COUNCIL, number, what="补装井盖", why="检查发现井盖缺失", assignee_kind=AssigneeKind.MEMBER,
        assignee=WORKER, ordered_by=Body.SUPERVISORY_COMMITTEE,
        due=date.today() + timedelta(days=3), source_kind=SourceKind.INSPECTION,
        source={"inspection_number": number}, actor=SUPERVISOR,
    )  # fmt: skip
    worker, chair = await people(WORKER), await people(SUPERVISOR)
    home = (await worker.get("/app/")).text
    assert "限期整改：报告整改完成" in home and f'href="/app/orders/{number}"' in home
    assert "补装井盖" in home
    assert f'href="/app/orders/{number}"' not in (await chair.get("/app/")).text
    app.complete_order(COUNCIL, number, "已补装", ("1" * 64,), actor=WORKER)
    verify = (await chair.get("/app/?lang=en")).text
    assert "Rectification: verify it" in verify and f'href="/app/orders/{number}"' in verify
    assert f'href="/app/orders/{number}"' not in (await worker.get("/app/")).text


async def test_someone_enrolled_later_under_the_member_s_id_gets_no_form(
    roll_people: tuple[object, SignIn],
) -> None:
    """The member ordered left and someone else was enrolled under the same id: the order's
    page offers them no completion form and does not mark it theirs (the door refuses them)."""
    from govflow.application import Governance
    from govflow.domain.council import Body
    from govflow.domain.rectification import AssigneeKind, SourceKind

    app, people = roll_people
    assert isinstance(app, Governance)
    enroll_order_people(app)
    number = 2752
    app.record_inspection(COUNCIL, number, "井盖缺失", "0" * 64, actor=SUPERVISOR)
    app.order_rectification(
        COUNCIL, number, what="补装井盖", why="检查发现井盖缺失", assignee_kind=AssigneeKind.MEMBER,
        assignee=WORKER, ordered_by=Body.SUPERVISORY_COMMITTEE,
        due=date.today() + timedelta(days=3), source_kind=SourceKind.INSPECTION,
        source={"inspection_number": number}, actor=SUPERVISOR,
    )  # fmt: skip
    app.remove_member(COUNCIL, WORKER, actor="clerk")
    app.enroll_member(COUNCIL, WORKER, "新人", actor="clerk")
    newcomer = await people(WORKER)
    assert 'name="photos"' not in (await newcomer.get(f"/app/orders/{number}")).text
    assert "需要您整改" not in (await newcomer.get("/app/orders")).text


async def test_whoever_reported_it_done_gets_no_verification_form(
    roll_people: tuple[object, SignIn],
) -> None:
    """Ordered to the body its orderer also chairs: the chair who reported it done is offered
    no verification form (the door would refuse: self-verification); another chair is."""
    from govflow.application import Governance
    from govflow.domain.council import Body
    from govflow.domain.rectification import AssigneeKind, SourceKind

    app, people = roll_people
    assert isinstance(app, Governance)
    enroll_order_people(app)
    number = 2753
    app.record_inspection(COUNCIL, number, "井盖缺失", "0" * 64, actor=SUPERVISOR)
    app.order_rectification(
        COUNCIL, number, what="补装井盖", why="检查发现井盖缺失", assignee_kind=AssigneeKind.BODY,
        assignee="supervisory_committee", ordered_by=Body.SUPERVISORY_COMMITTEE,
        due=date.today() + timedelta(days=3), source_kind=SourceKind.INSPECTION,
        source={"inspection_number": number}, actor=SUPERVISOR,
    )  # fmt: skip
    app.complete_order(COUNCIL, number, "已补装", ("1" * 64,), actor=SUPERVISOR)
    reporter, other = await people(SUPERVISOR), await people("c1")  # c1 chairs every body
    assert 'name="accepted"' not in (await reporter.get(f"/app/orders/{number}")).text
    assert "待您核验" not in (await reporter.get("/app/orders")).text
    assert 'name="accepted"' in (await other.get(f"/app/orders/{number}")).text
