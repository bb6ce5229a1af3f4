"""Items (议题) in the app: the list, and each item's page with the forms this person may use now.

A form is shown only when the policy would allow the person (and the item's workflow says the
act is open); the door decides again when the form is sent (see :mod:`.item_acts`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from govflow.application import Governance
from govflow.application.consultation import consultation_deliveries
from govflow.domain.ballot import Choice
from govflow.domain.errors import GovflowError
from govflow.domain.issue import DISCUSSION_KINDS
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.rating import Satisfaction
from govflow.entrypoints.app.acting import allows, door_of, governance
from govflow.entrypoints.app.grid_panel import grid_panel
from govflow.entrypoints.app.item_read import (
    ItemRead,
    procedure_of,
    read_item,
    stage_titles,
    title_in,
)
from govflow.entrypoints.app.render import Words, lang_of, page, time_left, when
from govflow.entrypoints.app.session import AppCaller, csrf
from govflow.entrypoints.board import describe_threshold, plain, plain_reason
from govflow.orchestration import messages as m

router = APIRouter(prefix="/app", include_in_schema=False)

WORDS: Words = {
    "zh": {
        "items": "议题",
        "all_items": "全部议题",
        "propose": "提出议题",
        "no_items": "还没有议题。",
        "item": "议题",
        "stage": "当前阶段",
        "stages": "议事阶段",
        "deadline": "截止时间",
        "outcome": "结果",
        "procedure": "议事规则",
        "current": "进行中",
        "done_stage": "已结束",
        "decided": "决议内容",
        "nothing_decided": "尚未形成决议。",
        "meeting": "会议",
        "motion": "动议",
        "passed": "通过",
        "not_passed": "未通过",
        "yes": "赞成",
        "no": "反对",
        "abstain": "弃权",
        "participating": "参与",
        "documents": "会议材料",
        "no_documents": "暂无会议材料。",
        "notices": "公示",
        "superseded": "此结果已不再有效：异议成立后，议题退回“{stage}”重新议事。",
        "went_back": "此后议题退回“{stage}”重新议事。",
        "more_notices": "共 {total} 条公示，这里显示最新的 {shown} 条，全部公示见",
        "no_notices": "暂无公示。",
        "objection_until": "异议截止",
        "display_until": "公示截止",
        "objections": "异议",
        "answer": "答复",
        "upheld": "异议成立",
        "not_upheld": "异议不成立",
        "unanswered": "尚未答复",
        "discussion": "群议意见",
        "no_opinions": "还没有意见。",
        "reply_to": "回复第 {n} 条",
        "opinion_no": "第 {n} 条",
        "give_opinion": "发表意见",
        "your_opinion": "您的意见",
        "reply": "回复",
        "your_reply": "回复内容",
        "vote": "投票",
        "vote_legend": "您的表决意见",
        "rule": "通过条件",
        "already_voted": "您已经投过票了。",
        "cast": "投票",
        "object": "提出异议",
        "your_objection": "异议内容",
        "rate": "评议",
        "rate_legend": "您对实施结果的评价",
        "already_rated": "您已经评议过了。",
        "progress": "实施进展",
        "photos": "照片",
        "photo": "照片",
        "evaluations": "评议结果",
        "chair": "主持人操作",
        "close_stage": "结束本阶段",
        "close_stage_why": "结束当前阶段，议题进入下一阶段。",
        "resolution": "以会议动议作为决议",
        "resolution_legend": "选择会议动议",
        "no_motions": "本阶段的组织还没有为此议题记录动议：请先在会议中记录。",
        "record": "记录决议",
        "answer_objection": "答复异议",
        "answer_text": "答复内容",
        "upheld_legend": "异议是否成立",
        "yes_word": "是",
        "no_word": "否",
        "correct": "更正公示",
        "correct_text": "更正后的公示内容",
        "report_progress": "报告实施进展",
        "progress_text": "进展情况",
        "photos_label": "照片（可多选，JPEG/PNG）",
        "complete": "实施完成",
        "actual_cost": "实际费用（元，支出类议题必填）",
        "withdraw": "撤回议题",
        "reason": "撤回理由",
        "done": "已完成。",
        "done_opinion": "您的意见已记录。",
        "done_objection": "您的异议已提交，主持人须在期限内答复。",
        "done_rating": "您的评议已记录。",
        "done_close": "本阶段已结束。",
        "done_resolution": "决议已记录。",
        "done_answer": "答复已记录。",
        "done_correct": "公示已更正，公示期重新计算。",
        "done_progress": "进展已报告。",
        "done_complete": "已记录实施完成。",
        "done_withdraw": "议题已撤回。",
        "done_proposed": "议题已提出，进入议事程序。",
        "problem": "未能完成：",
        "left": "剩余时间",
        "back": "返回议题列表",
        "by": "发表人",
        "check_receipt": "核对投票回执",
        "by_proxy": "其中委托投票 {n} 票",
        "proxy": "委托投票",
        "proxy_why": "不能亲自投票时，可以委托另一位成员代为投票，并上传签字的委托书扫描件。"
        "您本人投票后，以您本人的投票为准。",
        "proxy_member": "受托人",
        "choose_member": "请选择",
        "proxy_form": "委托书扫描件",
        "appoint": "委托",
        "my_proxy": "您已委托 {name} 代为投票。",
        "proxy_used": "受托人已代您投票，委托不能再撤销；您本人投票仍以您本人的为准。",
        "revoke_proxy": "撤销委托",
        "vote_for": "代 {name} 投票",
        "voted_for": "您已代 {name} 投票。",
        "done_proxy": "委托已记录。",
        "done_revoke_proxy": "委托已撤销。",
        "by_paper": "其中纸质选票 {n} 票",
        "paper": "纸质选票",
        "paper_why": "从票箱取出的纸质选票分批录入，每行一张：成员编号，选择（赞成、反对或弃权），"
        "选票扫描件的指纹（六十四位十六进制）。录入后须由另一位监票人确认，确认后才计票。",
        "paper_lines": "本批选票",
        "enter_paper": "录入本批",
        "paper_batch": "第 {n} 批",
        "paper_entered_by": "录入人",
        "paper_pending": "待监票人确认",
        "paper_confirmed": "已由 {name} 确认",
        "paper_not_yours": "本批由您录入，须由另一位监票人确认。",
        "confirm_paper": "作为监票人确认本批",
        "refused_ballots": "不计入的选票（重复投票）",
        "refused_online": "{name} 的线上投票",
        "refused_paper": "{name} 的纸质选票",
        "done_paper": "本批纸质选票已录入，待监票人确认。",
        "done_confirm_paper": "本批纸质选票已确认并计入。",
        "consultation": "书面征求意见",
        "consultation_why": "本次表决以书面征求意见方式进行：请选择您的意见，"
        "并上传您签字的征求意见表的扫描件或照片。没有签字的征求意见表不计票。",
        "reply_legend": "您的意见",
        "signed_form": "签字的征求意见表（扫描件或照片）",
        "send_reply": "提交书面意见",
        "already_replied": "您已经提交过书面意见了。",
        "enter_reply": "录入纸质书面意见",
        "enter_reply_why": "业主交回签字的纸质征求意见表时，由书记员代为录入："
        "选择业主和意见，并上传签字的征求意见表扫描件。",
        "reply_voter": "业主",
        "reply_choice": "征求意见表上的意见",
        "enter": "录入",
        "extend": "延长征求意见期限",
        "extend_days": "延长天数",
        "extend_button": "延长",
        "consultation_deadline": "当前截止时间",
        "extended_so_far": "已延长 {used} 天，最多可延长 {cap} 天，还可延长 {left} 天。",
        "done_extend": "征求意见期限已延长。",
        "done_reply": "书面意见已录入。",
        "deliveries": "征求意见表送达情况",
        "delivered": "已送达",
        "posted_on_board": "已公告",
        "pending": "待送达",
        "not_addressed": "尚未发出",
        "how_many": "人数",
        "who": "业主",
    },
    "en": {
        "items": "Items",
        "all_items": "All items",
        "propose": "Propose an item",
        "no_items": "No items yet.",
        "item": "Item",
        "stage": "Stage",
        "stages": "Stages",
        "deadline": "Deadline",
        "outcome": "Outcome",
        "procedure": "Procedure",
        "current": "in progress",
        "done_stage": "done",
        "decided": "What was decided",
        "nothing_decided": "Nothing decided yet.",
        "meeting": "Meeting",
        "motion": "motion",
        "passed": "passed",
        "not_passed": "not passed",
        "yes": "Yes",
        "no": "No",
        "abstain": "Abstain",
        "participating": "took part",
        "documents": "Meeting documents",
        "no_documents": "No meeting documents yet.",
        "notices": "Notices",
        "superseded": "No longer stands: an objection was upheld and the item went back to "
        "{stage}.",
        "went_back": "The item then went back to {stage}.",
        "more_notices": "{total} notices; the newest {shown} are shown here, all of them on the",
        "no_notices": "No notices yet.",
        "objection_until": "Objections until",
        "display_until": "On display until",
        "objections": "Objections",
        "answer": "Answer",
        "upheld": "upheld",
        "not_upheld": "not upheld",
        "unanswered": "not answered yet",
        "discussion": "Opinions",
        "no_opinions": "No opinions yet.",
        "reply_to": "replying to #{n}",
        "opinion_no": "#{n}",
        "give_opinion": "Give your opinion",
        "your_opinion": "Your opinion",
        "reply": "Reply",
        "your_reply": "Your reply",
        "vote": "Vote",
        "vote_legend": "Your vote",
        "rule": "Passes when",
        "already_voted": "You have voted.",
        "cast": "Cast my vote",
        "object": "Object",
        "your_objection": "Your objection",
        "rate": "Rate the result",
        "rate_legend": "How satisfied are you with the result?",
        "already_rated": "You have rated this item.",
        "progress": "Progress",
        "photos": "Photos",
        "photo": "photo",
        "evaluations": "Ratings",
        "chair": "For the chair",
        "close_stage": "Close this stage",
        "close_stage_why": "End the current stage; the item moves on.",
        "resolution": "Take a meeting's motion as the resolution",
        "resolution_legend": "Choose the motion",
        "no_motions": "No motion is recorded for this item by the stage's body yet.",
        "record": "Record the resolution",
        "answer_objection": "Answer the objection",
        "answer_text": "Answer",
        "upheld_legend": "Is the objection upheld?",
        "yes_word": "yes",
        "no_word": "no",
        "correct": "Correct the notice",
        "correct_text": "Corrected text",
        "report_progress": "Report progress",
        "progress_text": "Progress",
        "photos_label": "Photos (several allowed, JPEG/PNG)",
        "complete": "Implementation complete",
        "actual_cost": "Actual cost (yuan; required for spending items)",
        "withdraw": "Withdraw the item",
        "reason": "Why",
        "done": "Done.",
        "done_opinion": "Your opinion is recorded.",
        "done_objection": "Your objection is filed; the chair must answer it in time.",
        "done_rating": "Your rating is recorded.",
        "done_close": "The stage is closed.",
        "done_resolution": "The resolution is recorded.",
        "done_answer": "The answer is recorded.",
        "done_correct": "The notice is corrected; its display period starts again.",
        "done_progress": "Progress reported.",
        "done_complete": "Implementation recorded as complete.",
        "done_withdraw": "The item is withdrawn.",
        "done_proposed": "The item is proposed and its procedure has started.",
        "problem": "Not done: ",
        "left": "Time left",
        "back": "Back to the items",
        "by": "by",
        "check_receipt": "Check a ballot receipt",
        "by_proxy": "{n} of them by proxy",
        "proxy": "Voting by proxy",
        "proxy_why": "If you cannot vote yourself, appoint another member to vote for you and "
        "upload the scan of your signed proxy form (委托书). Your own vote, once cast, counts "
        "instead of your proxy's.",
        "proxy_member": "Your proxy",
        "choose_member": "Choose",
        "proxy_form": "Scan of the signed proxy form",
        "appoint": "Appoint",
        "my_proxy": "{name} is your proxy for this vote.",
        "proxy_used": "Your proxy has voted for you: the appointment can no longer be revoked; "
        "your own vote would still count instead.",
        "revoke_proxy": "Revoke the appointment",
        "vote_for": "Vote for {name}",
        "voted_for": "You have voted for {name}.",
        "done_proxy": "The appointment is recorded.",
        "done_revoke_proxy": "The appointment is revoked.",
        "by_paper": "{n} of them on paper",
        "paper": "Paper ballots",
        "paper_why": "Enter the paper ballots from the box in batches, one per line: member id, "
        "choice (yes, no or abstain), the sha256 of the ballot's scan. Another person, a "
        "scrutineer, confirms each batch; only then does it count.",
        "paper_lines": "This batch",
        "enter_paper": "Enter the batch",
        "paper_batch": "Batch {n}",
        "paper_entered_by": "entered by",
        "paper_pending": "waiting for a scrutineer",
        "paper_confirmed": "confirmed by {name}",
        "paper_not_yours": "You entered this batch: another scrutineer confirms it.",
        "confirm_paper": "Confirm this batch as scrutineer",
        "refused_ballots": "Ballots not counted (double channel)",
        "refused_online": "{name}'s online ballot",
        "refused_paper": "{name}'s paper ballot",
        "done_paper": "The batch is entered and waits for a scrutineer.",
        "done_confirm_paper": "The batch is confirmed and counted.",
        "consultation": "Written consultation",
        "consultation_why": "This vote is a written consultation: choose your answer and upload "
        "the scan or photo of your signed form. A reply without the signed form does not count.",
        "reply_legend": "Your answer",
        "signed_form": "The signed form (scan or photo)",
        "send_reply": "Send my signed reply",
        "already_replied": "You have replied.",
        "enter_reply": "Enter a signed paper reply",
        "enter_reply_why": "When an owner hands in the signed paper form, the clerk enters it: "
        "choose the owner and the answer, and upload the scan of the signed form.",
        "reply_voter": "Owner",
        "reply_choice": "The answer on the form",
        "enter": "Enter",
        "extend": "Extend the consultation",
        "extend_days": "Days to add",
        "extend_button": "Extend",
        "consultation_deadline": "Current deadline",
        "extended_so_far": "Extended by {used} days so far; at most {cap} in all, {left} left.",
        "done_extend": "The consultation is extended.",
        "done_reply": "The signed reply is entered.",
        "deliveries": "Who was sent the form",
        "delivered": "delivered",
        "posted_on_board": "posted on the board",
        "pending": "pending",
        "not_addressed": "not sent yet",
        "how_many": "How many",
        "who": "Owners",
    },
}

CHAIR_FORMS = {
    "close_stage": "close",
    "record_resolution": "resolution",
    "answer_objection": "answer",
    "correct_notice": "correct",
    "report_progress": "progress",
    "complete": "complete",
    "withdraw": "withdraw",
}


@router.get("/items")
async def items(request: Request, caller: AppCaller) -> HTMLResponse:
    app = governance(request)
    lang = lang_of(request)
    procedures = door_of(request).procedures
    rows = await run_in_threadpool(app.list_issues, caller.council)
    tz = app.council_to_read(caller.council).timezone
    now = app.now()
    shown = []
    for row in rows:
        titles = stage_titles(procedure_of(procedures, row.procedure), [], lang)
        shown.append(
            {
                "row": row,
                "stage": titles.get(row.stage or "", plain(row.stage, lang)) if row.stage else "",
                "deadline": when(row.deadline, tz) if row.deadline and not row.outcome else "",
                "left": time_left(row.deadline, now, lang) if not row.outcome else "",
                "outcome": plain(row.outcome, lang) if row.outcome else "",
            }
        )
    return page(request, "app/items.html", WORDS, caller=caller, rows=shown)


@router.get("/items/{number}")
async def item(request: Request, number: int, caller: AppCaller) -> HTMLResponse:
    return await render_item(request, caller, number)


async def workflow_status(request: Request, code: str, number: int) -> m.Status | None:
    """Where the item's workflow stands (None when it has ended or cannot answer)."""
    issues = door_of(request).issues
    if issues is None:
        return None
    try:
        return await issues.status(code, number)
    except GovflowError:
        return None


def may_appoint_proxy(caller: Principal) -> bool:
    """Whether the policy would let the caller appoint their own proxy (委托)."""
    try:
        authorize(caller, Action.APPOINT_PROXY, caller.council, owner=(caller.holder, None))
    except GovflowError:
        return False
    return True


def open_forms(read: ItemRead, status: m.Status | None, caller: Principal) -> set[str]:
    """The forms to show: acts the workflow has open that the policy would allow."""
    code = caller.council
    forms: set[str] = set()
    view = read.view
    if view.outcome is not None:
        return forms
    stage = read.procedure.stage(view.open_stage) if view.open_stage and read.procedure else None
    discussing = stage is not None and stage.kind.value in DISCUSSION_KINDS
    if discussing and allows(caller, Action.GIVE_OPINION, code):
        forms.add("opinion")
    actions = {a.action for a in status.actions} if status else set()
    voting = "cast_ballot" in actions and allows(caller, Action.CAST_BALLOT, code)
    if read.consultation is not None:  # 书面征求意见: signed replies only, never a plain vote
        if voting and read.on_roll:
            forms.add("reply")
        if "cast_ballot" in actions and allows(caller, Action.ENTER_SIGNED_REPLY, code):
            forms.add("reply_enter")
        body = status.body if status else None
        if allows(caller, Action.EXTEND_CONSULTATION, code, body=body):
            forms.add("extend")
        if caller.is_clerk or caller.is_auditor:
            forms.add("deliveries")
    elif voting:
        if read.on_roll:
            forms.add("vote")
        if read.held_for:
            forms.add("proxy_vote")
    if read.proxy_stage and may_appoint_proxy(caller):
        forms.add("proxy")
    if read.paper_stage and allows(
        caller, Action.ENTER_PAPER_BALLOTS, code, body=read.paper_body
    ):  # 纸质选票: the clerk or the voting body's chair enters a batch
        forms.add("paper_enter")
    confirming = allows(caller, Action.CONFIRM_PAPER_BALLOTS, code)
    if read.paper_stage and confirming:  # a scrutineer (监票人) sees the batches
        forms.add("paper_confirm")
    if read.refused_ballots and ("paper_enter" in forms or confirming):
        forms.add("paper_refused")
    if "file_objection" in actions and allows(caller, Action.FILE_OBJECTION, code):
        forms.add("object")
    if "rate" in actions and read.asked_to_rate and allows(caller, Action.RATE, code):
        forms.add("rate")
    if status is not None and allows(caller, Action.CHAIR_STAGE, code, body=status.body):
        forms.update(form for action, form in CHAIR_FORMS.items() if action in actions)
    return forms


async def render_item(
    request: Request,
    caller: Principal,
    number: int,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The item's page (again, with ``problem``, after a refused form)."""
    app = governance(request)
    lang = lang_of(request)
    door = door_of(request)
    read = await run_in_threadpool(
        read_item, app, caller.council, number, caller.holder, lang, door.procedures
    )
    status = await workflow_status(request, caller.council, number)
    forms = open_forms(read, status, caller)
    tz = app.council_to_read(caller.council).timezone
    body = status.body if status else None
    deliveries = None
    if "deliveries" in forms:
        deliveries = await run_in_threadpool(_deliveries, app, caller.council, number, read)
    context: dict[str, Any] = {
        "caller": caller,
        "read": read,
        "issue": read.view,
        "forms": forms,
        "chair_forms": bool(forms & set(CHAIR_FORMS.values())),
        "problem": problem,
        "done": request.query_params.get("done"),
        "csrf": csrf(request),
        "when": lambda value: when(value, tz),
        "left": lambda value: time_left(value, app.now(), lang),
        "word": lambda code: plain(code, lang),
        "procedure_title": title_in(read.procedure.title, lang) if read.procedure else "",
        "reason": lambda text: plain_reason(text, lang),
        "rule": describe_threshold(read.rule["passes"], lang) if read.rule else "",
        "choices": [c.value for c in Choice],
        "ratings": [s.value for s in Satisfaction],
        "proxy_candidates": sorted(
            (name, mid) for mid, name in read.names.items() if mid != caller.holder
        ),
        "motions": [mo for mo in read.motions if body is None or mo["body"] == body],
        "deliveries": deliveries,
        "grid": await run_in_threadpool(grid_panel, app, caller, number, lang),
        "open_objections": [
            o
            for n in read.notices
            if status is not None and str(n["row"].id) == status.notice_id
            for o in n["objections"]
            if o["answer"] is None
        ],
    }
    return page(request, "app/item.html", WORDS, status=status_code, **context)


def _deliveries(app: Governance, code: str, number: int, read: ItemRead) -> list[dict[str, Any]]:
    """Who was sent the consultation's form, by outcome (names; empty outcomes left out)."""
    forms = consultation_deliveries(app, code, number)
    rows = [
        ("delivered", forms.delivered),
        ("posted_on_board", forms.posted_on_board),
        ("pending", forms.pending),
        ("not_addressed", forms.not_addressed),
    ]
    return [
        {"outcome": outcome, "names": [read.names.get(v, v) for v in voters]}
        for outcome, voters in rows
        if voters
    ]
