"""Every page of the members' app on a 390 px phone, in Chinese and in English, for the person
who sees most on it: axe-core finds no serious or critical WCAG 2.1 AA violation, nothing is
wider than the screen, no script fails, and each page is photographed under
``var/screenshots/phone/app-<lang>-<page>.png``.

One browser, one context per person (their session cookie set directly: signing in through
the browser is the walk's, ``test_walk.py``). The item's page is checked with the forms each
stage opens (a discussion, a vote, a notice with an objection, progress, a rating), so the
item is driven through its stages outside the app, as ``test_items.py`` does.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from tests.a11y import check_async
from tests.app.browser import chromium, live_app, phone, signed_in_phone
from tests.orchestration.conftest import CHAIR, COUNCIL, EVERYONE, Stack, hold_meeting

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

FIVE_STEP = "five-step-consultation"
NUMBER = 930  # a workflow id on the shared Temporal server: used by no other test
LANGS = ("zh", "en")
MEMBERS_CSV = "member_id,name,roles,bodies,chairs\nn1,新成员一,,党员大会,\nbad id,坏编号,,,\n"


def with_lang(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


class Pages:
    """Visits pages as people and gathers what axe (or the page's scripts) found."""

    def __init__(self, base: str, browser: Any) -> None:
        self.base = base
        self.browser = browser
        self.tabs: dict[str, Any] = {}
        self.found: dict[str, list[str]] = {}
        self.errors: list[str] = []
        self.seen: list[str] = []

    async def tab(self, who: str, token: str | None = None) -> Any:
        """``who``'s page (a context of their own; ``anonymous`` holds no session)."""
        if who not in self.tabs:
            if token is None:
                context = await phone(self.browser)
            else:
                context = await signed_in_phone(self.browser, self.base, token)
            page = await context.new_page()
            page.on("pageerror", lambda e: self.errors.append(f"{who}: {e}"))
            self.tabs[who] = page
        return self.tabs[who]

    async def check(self, who: str, name: str, lang: str) -> None:
        """Check the page ``who`` is on now as ``app-<lang>-<name>``."""
        page = self.tabs[who]
        shot = f"app-{lang}-{name}"
        self.seen.append(shot)
        assert await page.evaluate("document.documentElement.lang") == (
            "zh-CN" if lang == "zh" else "en"
        ), shot
        try:
            violations = await check_async(page, shot)
        except AssertionError:  # wider than the phone: gathered with the rest
            width = await page.evaluate("document.documentElement.scrollWidth")
            violations = [f"{width} px wide"]
        if violations:
            self.found[shot] = violations

    async def visit(
        self, who: str, path: str, name: str, status: int = 200, shows: str = "main"
    ) -> None:
        """Open ``path`` as ``who`` in both languages and check each (``shows``: a selector
        the page must hold, e.g. the form the test means to check)."""
        for lang in LANGS:
            page = self.tabs[who]
            answer = await page.goto(self.base + with_lang(path, lang))
            assert answer.status == status, (path, lang, answer.status)
            assert await page.locator(shows).count() > 0, (path, lang, shows)
            await self.check(who, name, lang)


async def test_every_app_page_passes_axe_on_a_phone(stack: Stack, tmp_path: Path) -> None:
    app = stack.app
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    for officer, name in (("f1", "出纳甲"), ("f2", "会计乙")):
        app.enroll_member(COUNCIL, officer, name, actor="k1", roles=("officer",))
    app.request_spending(
        COUNCIL, 3, "800.00", purpose="更换路灯", payee="光明电器", budget_line="公共设施维修",
        actor="m1",
    )  # fmt: skip
    app.approve_spending(COUNCIL, 3, actor=CHAIR)
    app.request_spending(
        COUNCIL, 4, "12000.50", purpose="外墙修缮", payee="建筑公司", budget_line="维修基金",
        actor="m2",
    )  # fmt: skip
    app.request_disbursement(COUNCIL, 3, "800", reference="单-1", actor="f1")
    app.set_contact(COUNCIL, "m1", email="m1@example.org", gateway="", follows=True, actor="m1")
    procedure = stack.procedures.get(FIVE_STEP)
    app.propose_issue(COUNCIL, NUMBER, "更换化粪管", procedure, actor=CHAIR)
    hold_meeting(
        app, 1, Body.PARTY_MEMBERS_ASSEMBLY, present=EVERYONE[:5], yes=5,
        rule_name="party_members_assembly", procedure_name="four-deliberations-two-disclosures",
        procedures=stack.procedures, issue=NUMBER,
    )  # fmt: skip
    app.schedule_meeting(
        COUNCIL, 2, Body.RESIDENTS_REPRESENTATIVES, "居民代表会议", "审议路灯",
        scheduled_for=app.now() + timedelta(days=10), notice_days_required=3,
        rule=procedure.rules["residents_representatives"], actor=CHAIR,
    )  # fmt: skip
    (link,) = app.invite_members(COUNCIL, ("m6",), actor="clerk")
    tokens = {who: app.issue_token(COUNCIL, who, actor="clerk") for who in ("k1", "c1", "m1")}
    tokens |= {who: app.issue_token(COUNCIL, who, actor="clerk") for who in ("f2", "o1")}
    await stack.issues.start(COUNCIL, NUMBER, procedure)

    async with live_app(stack, tmp_path / "evidence") as base, chromium() as browser:
        pages = Pages(base, browser)
        await pages.tab("anonymous")
        for who, token in tokens.items():
            await pages.tab(who, token)

        # signing in, and the pages without a session
        await pages.visit("anonymous", "/app/sign-in", "sign-in")
        await pages.visit("anonymous", f"/app/sign-in/{link.link}", "sign-in-link")
        await pages.visit("anonymous", "/app/items", "signed-out", status=401)
        await pages.visit("m1", "/app/sign-out", "sign-out")
        await pages.visit("m1", "/app/sessions", "sessions")
        await pages.visit("k1", "/app/sessions?member=m6", "sessions-of-a-member")
        await pages.visit("m1", "/app/no-such-page", "error-404", status=404)
        await pages.visit("m1", "/app/items/99999", "error-item", status=404)

        # the clerk: invitations and their printable sheet, the roll and its import report
        await pages.visit("k1", "/app/invitations", "invitations")
        clerk = pages.tabs["k1"]
        for lang in LANGS:
            await clerk.goto(base + with_lang("/app/invitations", lang))
            await clerk.select_option("#member", "m5")
            await clerk.click("#invite-one button[type=submit]")
            await clerk.wait_for_selector("#link-m5")
            await pages.check("k1", "invitations-sheet", lang)
        await pages.visit("k1", "/app/roll", "roll")
        await pages.visit("k1", "/app/roll/members/m1", "roll-member")
        csv = tmp_path / "members.csv"
        csv.write_text(MEMBERS_CSV, encoding="utf-8")
        for lang in LANGS:
            await clerk.goto(base + with_lang("/app/roll", lang))
            await clerk.set_input_files("#import-file", str(csv))
            await clerk.click('form[action="/app/roll/import"] button[type=submit]')
            await clerk.wait_for_selector("#imported-count")
            await pages.check("k1", "roll-import", lang)
        await pages.visit("k1", "/app/meetings", "meetings")
        await pages.visit("k1", "/app/meetings/1", "meeting-held")
        await pages.visit("k1", "/app/meetings/2", "meeting-scheduled")
        await pages.visit("k1", "/app/settings", "settings")
        await pages.visit("k1", "/app/settings?member=m1", "settings-of-a-member")
        await pages.visit("k1", "/app/deliveries", "deliveries")

        # members and officers
        await pages.visit("m1", "/app/propose", "propose")
        await pages.visit("m1", "/app/receipts", "receipts")
        await pages.visit("m1", "/app/spending", "spending-list")
        await pages.visit("f2", "/app/spending/3", "spending", shows="form[action$=approve]")

        # an item through its stages, with the forms each opens
        await stack.at_stage(NUMBER, "deliberate")
        await pages.visit(
            "c1", f"/app/items/{NUMBER}", "item-deliberate-chair", shows="#close-form"
        )
        await stack.issues.close_stage(COUNCIL, NUMBER, CHAIR)
        await stack.at_stage(NUMBER, "public_deliberation")
        first = app.give_opinion(COUNCIL, NUMBER, "建议先做管道检测", reply_to=None, actor="m1")
        app.give_opinion(COUNCIL, NUMBER, "同意，费用怎么分？", reply_to=first, actor="m2")
        await pages.visit("c1", "/app/", "tasks-chair")
        await pages.visit(
            "c1", f"/app/items/{NUMBER}", "item-discussion-chair", shows="#opinion-form"
        )
        chair = pages.tabs["c1"]
        await chair.click(f"#opinion-{first} summary")  # the reply form, opened
        await pages.check("c1", "item-discussion-reply-open", "en")
        await stack.issues.close_stage(COUNCIL, NUMBER, CHAIR)
        await stack.until(NUMBER, lambda s: s.ballot_key is not None)
        await pages.visit("m1", "/app/", "tasks-member")
        await pages.visit("m1", "/app/items", "items")
        await pages.visit("m1", f"/app/items/{NUMBER}", "item-vote", shows="#vote form")
        member = pages.tabs["m1"]
        await member.goto(base + with_lang(f"/app/items/{NUMBER}", "zh"))
        await member.check('input[name="choice"][value="yes"]')
        await member.click("#vote button[type=submit]")
        await member.wait_for_selector("#ballot-id")
        receipt = member.url.replace("&new=1", "")
        await pages.check("m1", "receipt-new", "zh")
        for voter in (v for v in EVERYONE if v != "m1"):
            await stack.issues.cast_ballot(COUNCIL, NUMBER, voter, Choice.YES)
        await stack.at_stage(NUMBER, "publish_resolution")
        await stack.until(NUMBER, lambda s: any(a.action == "file_objection" for a in s.actions))
        await stack.issues.file_objection(COUNCIL, NUMBER, "m3", "费用分摊不清楚")
        await pages.visit("m1", receipt.removeprefix(base), "receipt-counted", shows="#counted")
        await pages.visit("m1", f"/app/items/{NUMBER}", "item-notice-member", shows="#object-form")
        await pages.visit("c1", f"/app/items/{NUMBER}", "item-notice-chair", shows=".answer-form")
        await stack.issues.answer_objection(
            COUNCIL, NUMBER, CHAIR, 1, "分摊按面积计算", upheld=False
        )
        await stack.skip_past_deadline(NUMBER)
        await stack.at_stage(NUMBER, "implement")
        await stack.issues.report_progress(COUNCIL, NUMBER, CHAIR, "管道已更换一半")
        await pages.visit(
            "c1", f"/app/items/{NUMBER}", "item-implement-chair", shows="#progress-form"
        )
        await stack.issues.complete(COUNCIL, NUMBER, CHAIR)
        await stack.at_stage(NUMBER, "evaluate")
        await stack.until(NUMBER, lambda s: any(a.action == "rate" for a in s.actions))
        await pages.visit("o1", "/app/", "tasks-owner")
        await pages.visit("o1", f"/app/items/{NUMBER}", "item-rate", shows="#rate form")
        await pages.visit("o1", "/app/?text=large", "tasks-large-text")
        await pages.visit("o1", f"/app/items/{NUMBER}", "item-rate-large-text", shows="#rate form")

    assert pages.errors == []
    assert pages.found == {}, "\n".join(f"{k}: {v}" for k, v in pages.found.items())
    assert len(pages.seen) >= 60
