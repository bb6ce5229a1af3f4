"""Written consultation (书面征求意见) in the members' app: a voter on the roll replies with the
scan of the signed form (no plain vote form) and keeps the receipt, a second reply is refused in
words; the clerk enters a signed paper reply for a voter and sees who was sent the form (a
member does not); the chair extends the consultation within the procedure's cap and is refused
in words over it; a form without the CSRF token is refused."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from govflow.application.consultation import consultation_deliveries
from govflow.application.notification_sending import NotifierConfig
from govflow.domain.consultation import ReplySigned, signed_reply_id
from govflow.domain.issue import ConsultationExtended
from tests.app.browser import chromium, live_app
from tests.app.conftest import COUNCIL, SignIn
from tests.app.test_app_a11y import Pages
from tests.orchestration.conftest import CHAIR, Stack
from tests.orchestration.test_written_consultation import Outbox, _until_addressed

pytestmark = pytest.mark.asyncio(loop_scope="session")
NAME = "owners-written-consultation"
SCAN = b"\xff\xd8\xff" + b"a signed consultation form" * 40


def signed(scan: bytes = SCAN) -> dict[str, tuple[str, bytes, str]]:
    return {"signed_form": ("form.jpg", scan, "image/jpeg")}


async def consultation_open(stack: Stack, number: int) -> None:
    """Item ``number`` at its written consultation, the forms addressed; the clerk k1 and the
    auditor a1 enrolled."""
    stack.app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    stack.app.enroll_member(COUNCIL, "a1", "审计员", actor="clerk", roles=("auditor",))
    stack.app.propose_issue(COUNCIL, number, "加装电梯", stack.procedures.get(NAME), actor=CHAIR)
    await stack.issues.start(COUNCIL, number, stack.procedures.get(NAME))
    await stack.until(number, lambda s: s.ballot_key == "resolve#1")
    await _until_addressed(stack, number)


def latin_words(html: str) -> set[str]:
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", html, flags=re.S))
    return set(re.findall(r"[A-Za-z_][A-Za-z_@.-]{2,}", text)) - {"English", "govflow"}


async def test_a_voter_replies_with_the_signed_form_and_keeps_the_receipt(
    people: SignIn, stack: Stack
) -> None:
    await consultation_open(stack, 950)
    item = "/app/items/950"
    o1 = await people("o1")
    page = (await o1.get(item)).text
    assert f'action="{item}/reply"' in page and 'name="signed_form"' in page
    assert f'action="{item}/vote"' not in page  # no plain vote form
    assert 'id="reply-enter-form"' not in page and 'id="extend-form"' not in page
    assert 'id="deliveries"' not in page  # a member does not see who was sent the form
    assert latin_words(page) == set()

    before = stack.app.recorder.max_notification_id()
    forged = await o1.client.post(f"{item}/reply", data={"choice": "yes"}, files=signed())
    assert forged.status_code == 403
    unsigned = await o1.submit(f"{item}/reply", choice="yes")
    assert unsigned.status_code == 422 and 'id="problem"' in unsigned.text
    plain = await o1.submit(f"{item}/vote", choice="yes")  # a plain ballot is refused in words
    assert plain.status_code >= 400 and "签字的征求意见表" in plain.text
    assert stack.app.recorder.max_notification_id() == before

    replied = await o1.submit(f"{item}/reply", files=signed(), choice="yes")
    assert replied.status_code == 303
    receipt = replied.headers["location"]
    assert receipt.startswith("/app/receipts?") and "ballot_id=" in receipt and "new=1" in receipt
    assert (await o1.get(receipt)).status_code == 200
    page = (await o1.get(item)).text
    assert "您已经提交过书面意见了。" in page and f'action="{item}/reply"' not in page

    again = await o1.submit(f"{item}/reply", files=signed(b"another scan"), choice="no")
    assert again.status_code == 409 and "每人只能投一次" in again.text


async def test_the_clerk_enters_a_paper_reply_and_sees_the_deliveries(
    people: SignIn, stack: Stack
) -> None:
    await consultation_open(stack, 951)
    item = "/app/items/951"
    stack.app.set_contact(
        COUNCIL, "o1", email="o1@example.org", gateway="", follows=False, actor="o1"
    )
    stack.app.tell_people(
        [Outbox()], NotifierConfig(public_url="https://yst.example"), reminders=False
    )
    forms = consultation_deliveries(stack.app, COUNCIL, 951)
    assert forms.delivered == ["o1"] and forms.posted_on_board == ["o2", "o3", "o4", "o5"]

    clerk, auditor, member = [await people(who) for who in ("k1", "a1", "m1")]
    page = (await clerk.get(item)).text
    table = page.split('id="deliveries"')[1].split("</table>")[0]
    assert "已送达" in table and "业主1" in table and "已公告" in table and "业主5" in table
    assert 'id="reply-enter-form"' in page and 'name="voter"' in page
    assert latin_words(page) == set()
    assert 'id="deliveries"' in (await auditor.get(item)).text
    assert 'id="deliveries"' not in (await member.get(item)).text

    # a member enters no reply for somebody else
    before = stack.app.recorder.max_notification_id()
    other = await member.submit(f"{item}/reply", files=signed(), choice="yes", voter="o2")
    assert other.status_code == 403
    assert stack.app.recorder.max_notification_id() == before

    entered = await clerk.submit(f"{item}/reply", files=signed(), choice="no", voter="o2")
    assert entered.status_code == 303 and entered.headers["location"] == f"{item}?done=reply"
    reply_id = signed_reply_id(stack.app.issue(COUNCIL, 951).id, "resolve#1", "o2")
    [recorded] = [e for e in stack.app.domain_events(reply_id) if isinstance(e, ReplySigned)]
    assert recorded.signature_sha256 == hashlib.sha256(SCAN).hexdigest()
    assert recorded.entered_by == "clerk"
    o2 = await people("o2")
    assert "您已经提交过书面意见了。" in (await o2.get(item)).text
    twice = await clerk.submit(f"{item}/reply", files=signed(), choice="yes", voter="o2")
    assert twice.status_code == 409 and 'id="problem"' in twice.text


async def test_the_chair_extends_within_the_cap(people: SignIn, stack: Stack) -> None:
    await consultation_open(stack, 952)
    item = "/app/items/952"
    chair, member = await people(CHAIR), await people("m1")
    page = (await chair.get(item)).text
    assert 'id="extend-form"' in page and "最多可延长 90 天，还可延长 90 天" in page
    assert 'id="extend-form"' not in (await member.get(item)).text
    assert (await member.submit(f"{item}/extend", days="10")).status_code == 403

    moved = await chair.submit(f"{item}/extend", days="30")
    assert moved.status_code == 303 and moved.headers["location"] == f"{item}?done=extend"
    page = (await chair.get(f"{item}?done=extend")).text
    assert "征求意见期限已延长。" in page and "已延长 30 天" in page and "还可延长 60 天" in page

    over = await chair.submit(f"{item}/extend", days="61")
    assert over.status_code == 409 and "超过了议事规则允许的上限" in over.text
    bad = await chair.submit(f"{item}/extend", days="几天")
    assert bad.status_code == 422 and 'id="problem"' in bad.text
    extended = [
        e
        for e in stack.app.domain_events(stack.app.issue(COUNCIL, 952).id)
        if isinstance(e, ConsultationExtended)
    ]
    assert [e.extended_days for e in extended] == [30]


@pytest.mark.e2e
async def test_the_consultation_forms_pass_axe_on_a_phone(stack: Stack, tmp_path: Path) -> None:
    """The voter's signed reply form, and the clerk's paper reply, extension and deliveries,
    in both languages: no serious WCAG 2.1 AA violation on a phone."""
    await consultation_open(stack, 953)
    tokens = {who: stack.app.issue_token(COUNCIL, who, actor="clerk") for who in ("o1", "k1")}
    async with live_app(stack, tmp_path / "evidence") as base, chromium() as browser:
        pages = Pages(base, browser)
        for who, token in tokens.items():
            await pages.tab(who, token)
        await pages.visit("o1", "/app/items/953", "item-consultation", shows="#reply-form")
        await pages.visit("k1", "/app/items/953", "item-consultation-clerk", shows="#deliveries")
    assert pages.errors == []
    assert pages.found == {}, "\n".join(f"{k}: {v}" for k, v in pages.found.items())
