"""The app's notification settings and delivery record: forms through the door, refusals in
plain words."""

from __future__ import annotations

from uuid import uuid4

import pytest

from govflow.application import Governance
from govflow.domain.delivery import Delivery, MessageKind
from tests.app.conftest import COUNCIL, SignIn, roll_people

__all__ = ["roll_people"]  # the fixture, used here

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_member_sets_their_own_contact(roll_people: tuple[Governance, SignIn]) -> None:
    """The form saves my addresses and my following, then shows them with a confirmation."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    page = await member.get("/app/settings")
    assert page.status_code == 200 and "通知设置" in page.text
    saved = await member.submit(
        "/app/settings", email="m1@example.org", gateway="13800000001", follows="yes"
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/app/settings?saved=1"
    shown = await member.get(saved.headers["location"])
    assert "已保存" in shown.text and 'value="m1@example.org"' in shown.text
    contact = app.get_contact(COUNCIL, "m1")
    assert (contact.email, contact.gateway, contact.follows) == (
        "m1@example.org",
        "13800000001",
        True,
    )


async def test_settings_refuse_a_form_without_the_csrf_token(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A post without the session's CSRF token changes nothing."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    forged = await member.client.post(
        "/app/settings", data={"csrf": "forged", "email": "evil@example.org"}
    )
    assert forged.status_code == 403
    assert app.get_contact(COUNCIL, "m1").email == ""


async def test_a_member_cannot_set_anothers_contact(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The door refuses m1 setting m2's contact, told in plain Chinese; nothing is kept."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    refused = await member.submit("/app/settings", member_id="m2", email="m1@example.org")
    assert refused.status_code == 403 and "您没有权限进行此操作" in refused.text
    assert app.get_contact(COUNCIL, "m2").email == ""
    peek = await member.get("/app/settings?member=m2")
    assert peek.status_code == 403


async def test_the_clerk_sets_a_members_contact_and_a_bad_address_is_refused(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The clerk may set a member's contact; an address that is not one is refused."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    done = await clerk.submit("/app/settings", member_id="m2", email="m2@example.org")
    assert done.status_code == 303 and "member=m2" in done.headers["location"]
    assert app.get_contact(COUNCIL, "m2").email == "m2@example.org"
    bad = await clerk.submit("/app/settings", member_id="m2", email="not an address")
    assert bad.status_code == 422 and "填写的内容不正确" in bad.text


async def test_the_clerk_sees_who_was_told_and_a_member_does_not(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The delivery record is the clerk's (and auditors') page, in plain Chinese."""
    app, sign_in = roll_people
    told = Delivery.address(
        COUNCIL, "m3", MessageKind.VOTE_REMINDER, uuid4(), "round-1", item_number=7,
        deadline=None, at=app.now(), actor="system",
    )  # fmt: skip
    told.post_on_board("no_contact", at=app.now(), actor="system")
    app.save(told)
    clerk, member = await sign_in("k1"), await sign_in("m1")
    page = await clerk.get("/app/deliveries?number=7")
    assert page.status_code == 200 and "送达记录" in page.text
    assert "投票提醒" in page.text and "已改在公示栏公告（没有联系方式）" in page.text
    assert (await member.get("/app/deliveries")).status_code == 403
