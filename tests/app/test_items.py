"""An item in the members' app, through its pages and forms only: proposing, a discussion, a
vote with its receipt, an objection answered, progress with a photo, a rating, and refusals
(a forged chair form, a form without its CSRF token) that record nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from govflow.application.evidence_store import DirectoryEvidence
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from tests.app.conftest import COUNCIL, SignIn
from tests.orchestration.conftest import CHAIR, EVERYONE, Stack, hold_meeting

pytestmark = pytest.mark.asyncio(loop_scope="session")
FIVE_STEP = "five-step-consultation"
FOUR = "four-deliberations-two-disclosures"
PNG = b"\x89PNG\r\n\x1a\n" + b"a photo of the new pipe" * 50


async def item_at(stack: Stack, number: int, stage: str) -> None:
    """Propose a five-step item and drive it (outside the app) to ``stage``."""
    procedure = stack.procedures.get(FIVE_STEP)
    stack.app.propose_issue(COUNCIL, number, "更换化粪管", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, number, procedure)
    order = ["deliberate", "public_deliberation", "resolve", "publish_resolution", "implement"]
    for current in order:
        await stack.at_stage(number, current)
        if current == stage:
            return
        if current in ("deliberate", "public_deliberation"):
            await stack.issues.close_stage(COUNCIL, number, CHAIR)
        elif current == "resolve":
            await stack.until(number, lambda s: s.ballot_key is not None)
            for voter in EVERYONE:
                await stack.issues.cast_ballot(COUNCIL, number, voter, Choice.YES)
        elif current == "publish_resolution":
            await stack.skip_past_deadline(number)
    raise AssertionError(f"no stage {stage}")


async def test_a_member_proposes_an_item_choosing_its_procedure(
    people: SignIn, stack: Stack
) -> None:
    """The procedures are offered by their plain titles and steps; the app numbers the item."""
    # the app takes the next free number (here after 420: item numbers are workflow ids,
    # shared by every test on the session's Temporal server)
    stack.app.propose_issue(COUNCIL, 420, "旧议题", stack.procedures.get(FIVE_STEP), actor=CHAIR)
    member = await people("m1")
    form = await member.get("/app/propose")
    assert form.status_code == 200
    assert "五步议事法" in form.text and "提议 → 合议 → 群议" in form.text
    sent = await member.submit(
        "/app/propose", procedure=FIVE_STEP, title="楼道照明改造", description="三栋楼道灯常坏"
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/app/items/421?done=proposed"
    assert stack.app.get_issue(COUNCIL, 421).title == "楼道照明改造"
    again = await member.submit("/app/propose", procedure=FIVE_STEP, title="第二件事")
    assert again.headers["location"] == "/app/items/422?done=proposed"
    shown = await member.get("/app/items/421?done=proposed")
    assert "议题已提出" in shown.text and "楼道照明改造" in shown.text
    refused = await member.submit("/app/propose", procedure="no-such-procedure", title="x")
    assert refused.status_code == 422 and 'id="problem"' in refused.text


async def test_a_chair_closes_a_stage_withdraws_and_a_member_gets_no_chair_forms(
    people: SignIn, stack: Stack
) -> None:
    """The chair sees and uses the close and withdraw forms; a member sees none, and their
    forged post is refused with nothing recorded."""
    await item_at(stack, 403, "deliberate")
    chair, member = await people(CHAIR), await people("m2")
    assert 'id="close-form"' in (await chair.get("/app/items/403")).text
    page = await member.get("/app/items/403")
    assert page.status_code == 200 and 'id="chair"' not in page.text
    forged = await member.submit("/app/items/403/close")
    assert forged.status_code == 403 and "您没有权限" in forged.text
    assert stack.app.get_issue(COUNCIL, 403).open_stage == "deliberate"
    closed = await chair.submit("/app/items/403/close")
    assert closed.status_code == 303 and closed.headers["location"].endswith("done=close")
    await stack.at_stage(403, "public_deliberation")
    empty = await chair.submit("/app/items/403/withdraw", reason="")
    assert empty.status_code == 422 and 'id="problem"' in empty.text
    withdrawn = await chair.submit("/app/items/403/withdraw", reason="居民已自行解决")
    assert withdrawn.status_code == 303
    assert stack.app.get_issue(COUNCIL, 403).outcome == "withdrawn"
    assert "已撤回" in (await member.get("/app/items/403")).text


async def test_a_member_gives_an_opinion_and_another_replies(people: SignIn, stack: Stack) -> None:
    """In 群议, opinions are numbered and a reply shows which opinion it answers."""
    await item_at(stack, 404, "public_deliberation")
    first, second = await people("m1"), await people("m2")
    page = await first.get("/app/items/404")
    assert 'id="opinion-form"' in page.text and 'for="opinion-text"' in page.text
    given = await first.submit("/app/items/404/opinion", text="建议先做管道检测")
    assert given.status_code == 303 and given.headers["location"].endswith("done=opinion")
    replied = await second.submit("/app/items/404/opinion", text="同意，费用怎么分？", reply_to="1")
    assert replied.status_code == 303
    shown = (await first.get("/app/items/404")).text
    assert "建议先做管道检测" in shown and "同意，费用怎么分？" in shown
    assert "回复第 1 条" in shown and "成员2" in shown
    wrong = await second.submit("/app/items/404/opinion", text="回复不存在的", reply_to="9")
    assert wrong.status_code == 422
    assert stack.app.issue(COUNCIL, 404).opinions == 2


async def test_a_member_votes_keeps_the_receipt_and_checks_it_counted(
    people: SignIn, stack: Stack
) -> None:
    """The vote form offers the rule's choices; the receipt checks as counted once tallied,
    and voting twice shows the refusal."""
    await item_at(stack, 405, "resolve")
    await stack.until(405, lambda s: s.ballot_key is not None)
    member = await people("m1")
    page = await member.get("/app/items/405")
    assert "<fieldset><legend>您的表决意见</legend>" in page.text and 'value="abstain"' in page.text
    english = (await (await people("m2")).get("/app/items/405?lang=en")).text
    assert "<legend>Your vote</legend>" in english and "Abstain" in english
    cast = await member.submit("/app/items/405/vote", choice="yes")
    assert cast.status_code == 303
    receipt_url = cast.headers["location"]
    assert receipt_url.startswith("/app/receipts?")
    receipt = await member.get(receipt_url)
    query = parse_qs(urlsplit(receipt_url).query)
    assert query["ballot_id"][0] in receipt.text and "请保存这张回执" in receipt.text
    assert "表决尚未结束" in receipt.text
    twice = await member.submit("/app/items/405/vote", choice="no")
    assert twice.status_code == 409 and "您已经投过票了" in twice.text
    for voter in EVERYONE:
        if voter != "m1":
            await stack.issues.cast_ballot(COUNCIL, 405, voter, Choice.YES)
    await stack.at_stage(405, "publish_resolution")
    later = await member.get(receipt_url.replace("&new=1", ""))
    assert 'id="counted"' in later.text and "您的选票已计入表决结果" in later.text
    assert "请保存这张回执" not in later.text
    bad = await member.get("/app/receipts?number=5&ballot_id=not-a-uuid&notification_id=3")
    assert bad.status_code == 422


async def test_an_objection_upheld_reopens_the_item(people: SignIn, stack: Stack) -> None:
    """A member objects within the window; a forged answer is refused; the chair's answer
    (upheld) sends the item back to 群议 as its procedure says."""
    await item_at(stack, 406, "publish_resolution")
    member, chair = await people("m3"), await people(CHAIR)
    assert 'id="object-form"' in (await member.get("/app/items/406")).text
    filed = await member.submit("/app/items/406/objection", text="费用分摊不清楚")
    assert filed.status_code == 303 and filed.headers["location"].endswith("done=objection")
    page = (await chair.get("/app/items/406")).text
    assert "费用分摊不清楚" in page and "answer-form" in page
    corrected = await chair.submit("/app/items/406/correct", text="决议：更换化粪管（附分摊明细）")
    assert corrected.status_code == 303 and corrected.headers["location"].endswith("done=correct")
    assert "附分摊明细" in (await member.get("/app/items/406")).text
    forged = await member.submit("/app/items/406/answer", objection_no="1", reply="x", upheld="no")
    assert forged.status_code == 403
    notice = stack.app.list_notices(COUNCIL)[0]
    assert notice.open_objections == 1
    answered = await chair.submit(
        "/app/items/406/answer", objection_no="1", reply="补充分摊明细后重新讨论", upheld="yes"
    )
    assert answered.status_code == 303
    await stack.at_stage(406, "public_deliberation")
    shown = (await member.get("/app/items/406")).text
    assert "补充分摊明细后重新讨论" in shown and "异议成立" in shown
    # the vote it went back from no longer stands, and the page says why
    assert "此结果已不再有效：异议成立后，议题退回“群议”重新议事。" in shown
    # the resolution's notice said what it was about and what was decided
    posted = stack.app.get_history(notice.id)[0].data["text"]  # before the correction
    assert posted.startswith("新华社区第406号议题「更换化粪管」决议公开。表决结果：赞成")


async def test_progress_with_a_photo_then_a_rating(people: SignIn, stack: Stack) -> None:
    """The chair reports progress with a photo (kept by its sha256) and completes; an owner
    asked to evaluate rates the result once."""
    await item_at(stack, 407, "implement")
    chair = await people(CHAIR)
    reported = await chair.submit(
        "/app/items/407/progress",
        files={"photos": ("pipe.png", PNG, "image/png")},
        text="管道已更换一半",
    )
    assert reported.status_code == 303, reported.text
    digest = hashlib.sha256(PNG).hexdigest()
    last = stack.app.get_history(stack.app.get_issue(COUNCIL, 407).id)[-1]
    assert last.topic == "govflow.issue.progress_reported" and last.data["photos"] == [digest]
    page = (await chair.get("/app/items/407")).text
    assert "管道已更换一半" in page and f"/app/items/407/files/{digest}" in page
    photo = await chair.get(f"/app/items/407/files/{digest}")
    assert photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert (await chair.get(f"/app/items/407/files/{'0' * 64}")).status_code == 404
    done = await chair.submit("/app/items/407/complete", actual_cost="")
    assert done.status_code == 303
    await stack.at_stage(407, "evaluate")
    owner = await people("o2")
    await stack.until(407, lambda s: any(a.action == "rate" for a in s.actions))
    form = (await owner.get("/app/items/407")).text
    assert "<legend>您对实施结果的评价</legend>" in form and "基本满意" in form
    rated = await owner.submit("/app/items/407/rating", rating="basically_satisfied")
    assert rated.status_code == 303 and rated.headers["location"].endswith("done=rating")
    assert "您已经评议过了" in (await owner.get("/app/items/407")).text
    again = await owner.submit("/app/items/407/rating", rating="satisfied")
    assert again.status_code == 409


async def test_a_form_without_its_csrf_token_is_refused(people: SignIn, stack: Stack) -> None:
    """A post carrying the session cookie but not the page's token records nothing."""
    await item_at(stack, 408, "public_deliberation")
    member = await people("m1")
    forged = await member.client.post("/app/items/408/opinion", data={"text": "跨站提交"})
    assert forged.status_code == 403
    assert stack.app.issue(COUNCIL, 408).opinions == 0


async def test_a_chair_names_a_meetings_motion_as_the_resolution(
    people: SignIn, stack: Stack, tmp_path: Path
) -> None:
    """At a review held at a meeting, the chair picks the meeting's motion; the item then
    shows what was decided (the motion's text and counts) and the meeting's documents."""
    procedure = stack.procedures.get(FOUR)
    stack.app.propose_issue(COUNCIL, 409, "雨污分流改造", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, 409, procedure)
    for stage in ("propose", "deliberate"):
        await stack.at_stage(409, stage)
        await stack.issues.close_stage(COUNCIL, 409, CHAIR)
    await stack.at_stage(409, "review")
    meeting, motion = hold_meeting(
        stack.app, 409, Body.PARTY_MEMBERS_ASSEMBLY, present=EVERYONE[:5], yes=5,
        rule_name="party_members_assembly", procedure_name=FOUR, procedures=stack.procedures,
        issue=409,
    )  # fmt: skip
    sheet = b"%PDF scanned sign-in sheet"
    digest = hashlib.sha256(sheet).hexdigest()
    DirectoryEvidence(tmp_path / "evidence").put(digest, sheet)
    stack.app.attach_evidence(COUNCIL, meeting, "签到表.pdf", sheet, actor=CHAIR)
    chair = await people(CHAIR)
    page = (await chair.get("/app/items/409")).text
    assert "<legend>选择会议动议</legend>" in page and f'value="{meeting}-{motion}"' in page
    assert "签到表.pdf" in page
    assert (await chair.get(f"/app/items/409/files/{digest}")).content == sheet
    member = await people("m5")
    forged = await member.submit("/app/items/409/resolution", motion=f"{meeting}-{motion}")
    assert forged.status_code == 403
    recorded = await chair.submit("/app/items/409/resolution", motion=f"{meeting}-{motion}")
    assert recorded.status_code == 303, recorded.text
    shown = (await member.get("/app/items/409")).text
    decided = shown.split('id="decided"')[1].split("</div>\n</div>")[0]
    assert "通过" in decided and "同意" in decided and "赞成 5" in decided


async def test_chinese_pages_show_no_code_or_english_word(people: SignIn, stack: Stack) -> None:
    """My tasks, the items, an item with a notice and an objection, proposing and receipts:
    on Chinese pages, words only (the language switch and the product name aside)."""
    await item_at(stack, 410, "publish_resolution")
    chair = await people(CHAIR)
    await chair.submit("/app/items/410/objection", text="异议一")
    for path in ("/app/", "/app/items", "/app/items/410", "/app/propose", "/app/receipts"):
        html = (await chair.get(path)).text
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", html, flags=re.S))
        latin = set(re.findall(r"[A-Za-z_][A-Za-z_@.-]{2,}", text)) - {"English", "govflow"}
        assert latin == set(), (path, latin)
