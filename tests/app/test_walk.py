"""One five-step item from proposal to rating through the browser only: Debian's Chromium on
390 px phones, one context (own cookies) per person: the clerk, the chair, members, an owner.

The clerk's own way in is an invitation the operator makes; from then on every act is a
person's tap or typing: invitations and the printed sheet's links, signing in, proposing,
closing stages, a discussion with a reply, a vote with its receipt (checked later), an objection
upheld that reopens the item at 群议, a second vote, progress with a photo, completion and a
rating. Only time passing (the notice's display, the rating's deadline) is done outside the
browser. Every distinct page is checked with axe-core and photographed
(``var/screenshots/phone/walk-*.png``), and no page may throw a script error.
"""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.a11y import check_async
from tests.app.browser import chromium, live_app, phone
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

FIVE_STEP = "five-step-consultation"
PLACEHOLDER = 900  # recorded without a workflow, so the app numbers the walk's item 901
NUMBER = 901  # a workflow id on the shared Temporal server: used by no other test
VOTERS = (CHAIR, "m1", "m2", "m3")  # 4 of the 7 residents' representatives: a quorum
OWNER = "o1"


def png() -> bytes:
    """A real 2×2 PNG (a phone's photo, in small)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Walk:
    """The people of the walk, each on their own phone, and what the checks found."""

    def __init__(self, base: str, browser: Any) -> None:
        self.base = base
        self.browser = browser
        self.pages: dict[str, Any] = {}
        self.found: dict[str, list[str]] = {}
        self.errors: list[str] = []
        self.checked: list[str] = []

    async def person(self, who: str) -> Any:
        context = await phone(self.browser)
        page = await context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: self.errors.append(f"{who}: {e}"))
        self.pages[who] = page
        return page

    async def check(self, who: str, name: str) -> None:
        """axe and a screenshot of the page ``who`` is on, once per distinct page."""
        shot = f"walk-{name}"
        assert shot not in self.checked, shot
        self.checked.append(shot)
        if violations := await check_async(self.pages[who], shot):
            self.found[shot] = violations

    async def sign_in(self, who: str, link: str) -> Any:
        """Open the sign-in link on a new phone and press its one button."""
        page = await self.person(who)
        await page.goto(link)
        await page.click("main button[type=submit]")
        await page.wait_for_url(f"{self.base}/app/")
        return page

    async def until(self, who: str, path: str, ready: str, timeout: float = 30) -> Any:
        """``who`` opens ``path``, reloading until ``ready`` (a selector) shows: the workflow
        moves in its own time."""
        page = self.pages[who]
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await page.goto(self.base + path)
            if await page.locator(ready).count():
                return page
            if asyncio.get_running_loop().time() > deadline:
                text = await page.locator("main").inner_text()
                raise AssertionError(f"{who}: {ready} never showed on {path}:\n{text}")
            await asyncio.sleep(0.3)

    async def item(self, who: str, ready: str) -> Any:
        """``who`` on the item's page once ``ready`` shows."""
        return await self.until(who, f"/app/items/{NUMBER}", ready)


async def stage_is(page: Any, title: str) -> bool:
    return title in await page.locator("#summary").inner_text()


async def test_a_five_step_item_from_proposal_to_rating_in_the_browser(
    stack: Stack, tmp_path: Path
) -> None:
    app = stack.app
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    procedure = stack.procedures.get(FIVE_STEP)
    app.propose_issue(COUNCIL, PLACEHOLDER, "早先的议题", procedure, actor=CHAIR)
    (clerk_invitation,) = app.invite_members(COUNCIL, ("k1",), actor="operator")

    async with live_app(stack, tmp_path / "evidence") as base, chromium() as browser:
        walk = Walk(base, browser)

        # -- the clerk signs in and invites the chair, members and an owner -----------------
        clerk = await walk.person("k1")
        await clerk.goto(f"{base}/app/sign-in/{clerk_invitation.link}")
        await walk.check("k1", "sign-in-link")
        await clerk.click("main button[type=submit]")
        await clerk.wait_for_url(f"{base}/app/")
        await walk.check("k1", "tasks-clerk")
        await clerk.click("#links >> text=邀请成员")
        await clerk.wait_for_url(f"{base}/app/invitations")
        await walk.check("k1", "invitations")
        invited = {*VOTERS, OWNER}
        boxes = clerk.locator('#invite-several input[name="members"]')
        for i in range(await boxes.count()):
            box = boxes.nth(i)
            await box.set_checked(await box.get_attribute("value") in invited)
        await clerk.click("#invite-several button[type=submit]:not([name])")
        await clerk.wait_for_selector(".sheet-card")
        await walk.check("k1", "invitations-sheet")
        links = {}
        for who in invited:
            links[who] = await clerk.locator(f"#link-{who} .url a").get_attribute("href")
        assert all(link and link.startswith(f"{base}/app/sign-in/gi_") for link in links.values())

        # -- each opens their own link on their own phone --------------------------------------
        for who in sorted(invited):
            page = await walk.sign_in(who, links[who])
            assert who in await page.locator("main").inner_text()

        # -- 提议: a member proposes, choosing 五步议事法 ----------------------------------------
        m1 = walk.pages["m1"]
        await m1.click("#links >> text=提出议题")
        await m1.wait_for_url(f"{base}/app/propose")
        await walk.check("m1", "propose")
        await m1.get_by_text("五步议事法", exact=True).click()
        assert await m1.locator(f'input[value="{FIVE_STEP}"]').is_checked()
        await m1.fill("#title", "楼道照明改造")
        await m1.fill("#description", "三栋楼道灯常坏，夜里老人上下楼不安全。")
        await m1.click("#propose-form button[type=submit]")
        await m1.wait_for_url(f"{base}/app/items/{NUMBER}?done=proposed")
        assert "楼道照明改造" in await m1.locator("h1").inner_text()
        await walk.check("m1", "item-proposed")

        # -- 合议: the chair finds the task and closes the stage ------------------------------
        chair = walk.pages[CHAIR]
        await walk.until(CHAIR, "/app/", ".task-chair_stage")
        await walk.check(CHAIR, "tasks-chair")
        await walk.item(CHAIR, "#close-form")
        assert await stage_is(chair, "合议")
        await walk.check(CHAIR, "item-deliberate-chair")
        await chair.click("#close-form button")
        await chair.wait_for_url(re.compile(r"done=close"))

        # -- 群议: an opinion and a reply; the chair closes --------------------------------------
        await walk.item("m1", "#opinion-form")
        await m1.fill("#opinion-text", "建议换成声控灯，省电。")
        await m1.click("#opinion-form button")
        await m1.wait_for_url(re.compile(r"done=opinion"))
        await walk.check("m1", "item-discussion")
        m2 = await walk.item("m2", "#opinion-1")
        await m2.click("#opinion-1 summary")
        await m2.fill("#reply-1", "同意，老人走得慢，延时要长一些。")
        await walk.check("m2", "item-discussion-reply")
        await m2.click("#opinion-1 form button")
        await m2.wait_for_url(re.compile(r"done=opinion"))
        assert "回复第 1 条" in await m2.locator("#opinions").inner_text()
        await walk.item(CHAIR, "#close-form")
        assert await stage_is(chair, "群议")
        await walk.check(CHAIR, "item-discussion-chair")
        await chair.click("#close-form button")
        await chair.wait_for_url(re.compile(r"done=close"))

        # -- 决议: four vote and keep their receipts; the chair closes early ----------------
        receipts: dict[str, str] = {}

        async def vote(who: str, choice: str, round_no: int) -> None:
            page = await walk.item(who, "#vote form")
            if who == "m1" and round_no == 1:
                await walk.check(who, "item-vote")
            await page.check(f'#vote input[name="choice"][value="{choice}"]')
            await page.click("#vote form button")
            await page.wait_for_selector("#ballot-id")
            assert "请保存这张回执" in await page.locator("main").inner_text()
            if round_no == 1:
                receipts[who] = page.url
                if who == "m1":
                    await walk.check(who, "receipt-new")

        for who, choice in zip(VOTERS, ("yes", "yes", "yes", "no"), strict=True):
            await vote(who, choice, 1)
        first = {
            "number": str(NUMBER),
            "ballot_id": await m1.locator("#ballot-id").inner_text(),
            "notification_id": await m1.locator("#notification-id").inner_text(),
        }
        await walk.item(CHAIR, "#close-form")
        assert await stage_is(chair, "决议")
        await walk.check(CHAIR, "item-vote-chair")
        await chair.click("#close-form button")
        await chair.wait_for_url(re.compile(r"done=close"))

        # -- 决议公开: a member objects; the chair upholds it and the item reopens at 群议 -----
        m3 = await walk.item("m3", "#object-form")
        assert await stage_is(m3, "决议公开")
        assert "通过" in await m3.locator("#decided").inner_text()
        await walk.check("m3", "item-notice")
        await m3.fill("#objection-text", "声控灯在一楼大堂不合适，请分开考虑。")
        await m3.click("#object-form button")
        await m3.wait_for_url(re.compile(r"done=objection"))
        await walk.check("m3", "item-objected")
        await walk.item(CHAIR, ".answer-form")
        await walk.check(CHAIR, "item-answer-chair")
        await chair.fill("#answer-1", "有道理，大堂另行讨论。")
        await chair.check('.answer-form input[name="upheld"][value="yes"]')
        await chair.click(".answer-form button")
        await chair.wait_for_url(re.compile(r"done=answer"))
        await walk.item(CHAIR, "#opinion-form")  # 群议 again
        assert await stage_is(chair, "群议")
        notices = await chair.locator("#notices").inner_text()
        assert "有道理，大堂另行讨论。" in notices and "异议成立" in notices
        await walk.check(CHAIR, "item-reopened")

        # -- 群议 closed again, a second vote, the notice's display passes -------------------
        await walk.item(CHAIR, "#close-form")
        await chair.click("#close-form button")
        await chair.wait_for_url(re.compile(r"done=close"))
        for who in VOTERS:
            await vote(who, "yes", 2)
        await walk.item(CHAIR, "#close-form")
        assert await stage_is(chair, "决议")
        await chair.click("#close-form button")
        await chair.wait_for_url(re.compile(r"done=close"))
        await walk.item(CHAIR, ".notice + .notice")  # the second resolution's notice
        await stack.skip_past_display(NUMBER)  # time passing: not a person's act

        # -- 实施: progress with a photo, then completion -------------------------------------
        await walk.item(CHAIR, "#progress-form")
        await walk.check(CHAIR, "item-implement-chair")
        await chair.fill("#progress-text", "三栋楼道已换上声控灯。")
        photo = {"name": "lamp.png", "mimeType": "image/png", "buffer": png()}
        await chair.set_input_files("#progress-photos", files=[photo])
        await chair.click("#progress-form button")
        await chair.wait_for_url(re.compile(r"done=progress"))
        shown = chair.locator(".progress a").first
        fetched = await chair.request.get(base + str(await shown.get_attribute("href")))
        assert fetched.status == 200 and await fetched.body() == png()
        await walk.check(CHAIR, "item-progress")
        await walk.item(CHAIR, "#complete-form")
        await chair.click("#complete-form button")
        await chair.wait_for_url(re.compile(r"done=complete"))

        # -- 评议: an affected household rates ------------------------------------------------
        owner = await walk.until(OWNER, "/app/", ".task-rate")
        await walk.check(OWNER, "tasks-owner")
        await owner.click(".task-rate a")
        await owner.wait_for_selector("#rate form")
        await walk.check(OWNER, "item-rate")
        await owner.get_by_label("满意", exact=True).check()
        await owner.click("#rate form button")
        await owner.wait_for_url(re.compile(r"done=rating"))
        assert "您已经评议过了" in await owner.locator("#rate").inner_text()
        await stack.skip_past_deadline(NUMBER)  # the evaluation's deadline passes
        await walk.item(OWNER, "#summary >> text=通过")
        assert "满意" in await owner.locator("main").inner_text()
        await walk.check(OWNER, "item-adopted")

        # -- a member checks their first receipt was counted ----------------------------------
        await m1.goto(f"{base}/app/")
        await m1.click("#links >> text=核对投票回执")
        await m1.wait_for_url(f"{base}/app/receipts")
        await walk.check("m1", "receipts")
        await m1.fill("#r-number", first["number"])
        await m1.fill("#r-ballot", first["ballot_id"])
        await m1.fill("#r-position", first["notification_id"])
        await m1.click("#receipt-form button")
        await m1.wait_for_selector("#counted")
        await walk.check("m1", "receipt-counted")

    assert walk.errors == []
    assert walk.found == {}, "\n".join(f"{k}: {v}" for k, v in walk.found.items())
    assert app.get_issue(COUNCIL, NUMBER).outcome == "adopted"
