"""The public disclosure board (公示栏): server-rendered pages, no login.

Chinese by default, English with ``?lang=en``. Every list also comes as Atom (``.atom``) and
JSON (``.json``). The board shows what a council must disclose: notices with their display
periods and objection windows, each issue's stages and deadlines, tallies once voting has
closed, the spending ledger with its three disclosures, the audit checkpoints, and every
signed checkpoint of the verifiable log with the witnesses who co-signed it. A notice (a
spending disclosure too) shows where its text is in the log and, once sealed, the checkpoint
that includes it with the proof to download (the record by its commitment only). It never
shows who voted how, nor tokens or contact details.
"""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from govflow.application import Governance
from govflow.application.directory import FundRow, IssueRow, NoticeRow, SpendingRow
from govflow.application.log_receipts import LogInclusion, inclusion_of, notice_position
from govflow.application.log_witnesses import LogWitnesses
from govflow.application.procedures import ProcedureLibrary
from govflow.application.sealer import LogProofs
from govflow.application.views import HistoryEntry
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.domain.voting import Comparison, satisfies
from govflow.entrypoints.board_funds import fund_board
from govflow.entrypoints.board_orders import create_order_board
from govflow.entrypoints.board_ratings import create_ratings_board
from govflow.transparency import Verifier

PAGE_SIZE = 50
LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "board": "公示栏",
        "simulated": "演示服务器：议题的时间可被快进，此处的日期和期限为模拟时间，不具效力。",
        "councils": "议事机构",
        "current_notices": "正在公示",
        "no_notices": "目前没有公示。",
        "issues": "议题",
        "open_issues": "进行中的议题",
        "grid": "网格",
        "all_issues": "全部议题",
        "spending": "资金支出台账",
        "audit": "审计检查点",
        "log": "可核验日志",
        "log_title": "可核验日志的签名检查点",
        "log_intro": (
            "每个检查点是日志全部记录的默克尔树在该记录数时的根哈希，由日志的密钥签名；见证方"
            "（如街道办、监督委员会、邻近社区）只在检查点延续其此前联署过的检查点时才联署。"
            "本栏列出日志签署过的每一个检查点。"
        ),
        "log_key": "日志公钥",
        "no_log_key": "本服务器未设置日志公钥（GOVFLOW_LOG_PUBLIC_KEY）。",
        "expected_witnesses": "本委员会指定的见证方",
        "no_witnesses": "本委员会未指定见证方。",
        "log_verify_how": "下载检查点并用日志公钥和见证方公钥核验（无需数据库）：",
        "size": "记录数",
        "root": "根哈希（base64）",
        "signed_at": "签署时间",
        "witnesses": "见证联署",
        "cosigned": "已联署",
        "not_cosigned": "未联署",
        "other_witness": "非指定见证方",
        "signed_note": "签名注记",
        "no_log_checkpoints": "日志尚未签署检查点。",
        "later": "更晚的检查点",
        "min_witnesses": "至少 {n} 个指定见证方联署后，检查点方为“已见证”。",
        "witnessed": "已见证",
        "not_witnessed": "未达见证人数",
        "notices": "公示",
        "all_notices": "全部公示（含已到期）",
        "number": "编号",
        "title": "标题",
        "stage": "当前阶段",
        "deadline": "截止时间",
        "outcome": "结果",
        "procedure": "议事规则",
        "proposed_at": "提出时间",
        "posted_at": "发布时间",
        "display_until": "公示截止",
        "objection_until": "异议截止",
        "objections": "异议",
        "open_objections": "未答复异议",
        "how_to_object": "如何提出异议",
        "object_app": "本会成员可在异议期内用手机登录议事通，在该议题的页面上提出异议：",
        "object_button": "在议事通中提出异议",
        "object_text": (
            "也可以通过应用程序接口（POST {path}，携带本人令牌）或在办公电脑上用命令行提出："
        ),
        "replies": "答复",
        "upheld": "异议成立",
        "not_upheld": "异议不成立",
        "withdrawn": "已撤回",
        "corrected": "已更正",
        "kind": "类别",
        "timeline": "时间线",
        "stages_chart": "阶段与截止时间",
        "now": "现在",
        "tallies": "表决结果",
        "yes": "赞成",
        "no": "反对",
        "abstain": "弃权",
        "participating": "参与",
        "quorum": "达到法定人数",
        "passed": "通过",
        "failed": "未通过",
        "voting_open": "表决进行中，结果将在表决结束后公布。",
        "linked_notices": "相关公示",
        "purpose": "用途",
        "payee": "收款方",
        "amount": "申请金额",
        "approved": "批准金额",
        "disbursed": "已拨付",
        "actual_cost": "实际费用",
        "status": "状态",
        "disclosures": "三公开",
        "resolution": "决议公开",
        "progress": "实施过程公开",
        "result": "实施结果公开",
        "meeting": "会议通知",
        "other": "其他",
        "review": "需党员大会审议",
        "checkpoints": "已发布的审计检查点",
        "position": "位置",
        "notification_id": "事件编号",
        "in_log": "可验证日志",
        "log_position": "日志位置",
        "included": "已收录于第 {n} 号检查点",
        "included_checked": "本站已用日志公钥核对过这份收录证明。",
        "not_sealed": "尚未封存，稍后再核对。",
        "download_note": "下载检查点",
        "download_proof": "下载收录证明",
        "check_yourself": "自己核对：下载这两个文件，运行",
        "commitment_only": (
            "公示栏的证明只含这条记录的承诺值：它证明这条记录自封存以来一直在日志的这个位置、未被改动；"
            "本社区成员可在应用或接口中取得含记录内容的证明。"
        ),
        "log_unchecked": "本站无法核对收录（未配置日志公钥或证明未通过核对）。",
        "digest": "摘要（SHA-256）",
        "verify_how": (
            "每个检查点是事件日志哈希链在该位置的摘要。任何人都可以导出日志并独立核验："
        ),
        "no_checkpoints": "尚未发布检查点。",
        "proves": (
            "说明：服务器对自身数据库的核验只证明数据库内的日志与同一数据库内的哈希链、检查点"
            "以及本栏此前公布过的摘要一致；能写入数据库的人可以改写事件并重算哈希链和检查点。"
            "只有您自己保存的摘要才能证明日志未被改动，请用上面的命令核验。"
        ),
        "rewritten": "与此前公布的摘要不一致！此前公布：",
        "feeds": "订阅",
        "page": "页",
        "next": "下一页",
        "previous": "上一页",
        "language": "English",
        "none": "无",
        "subject": "事项",
        "back": "返回",
        "issue": "议题",
        "reply_to": "对第{n}号异议的答复",
        "spending_item": "支出",
        "meeting_item": "会议",
        "decided": "公示内容",
        "round": "第{n}轮",
        "threshold": "门槛",
        "met": "达到",
        "not_met": "未达到",
        "start": "开始",
        "end": "结束",
        "pending": "未开始",
        "skipped_stage": "已跳过",
        "open_stage": "进行中",
        "yes_word": "是",
        "no_word": "否",
    },
    "en": {
        "board": "Public board",
        "simulated": (
            "Demo server: items' clocks can be fast-forwarded; dates and deadlines here are "
            "simulated time and carry no force."
        ),
        "councils": "Councils",
        "current_notices": "On display now",
        "no_notices": "No notices are on display.",
        "issues": "Agenda items",
        "open_issues": "Items in progress",
        "grid": "Grid",
        "all_issues": "All agenda items",
        "spending": "Spending ledger",
        "audit": "Audit checkpoints",
        "log": "Verifiable log",
        "log_title": "Signed checkpoints of the verifiable log",
        "log_intro": (
            "Each checkpoint is the root hash of the Merkle tree over all records of the log at "
            "that size, signed with the log's key; witnesses (the street office, the supervisory "
            "committee, a neighbouring council) co-sign one only if it extends the checkpoint "
            "they co-signed before. This page lists every checkpoint the log has signed."
        ),
        "log_key": "The log's public key",
        "no_log_key": "This server has no log public key set (GOVFLOW_LOG_PUBLIC_KEY).",
        "expected_witnesses": "Witnesses the council names",
        "no_witnesses": "The council names no witnesses.",
        "log_verify_how": (
            "Download a checkpoint and check it with the log's and the witnesses' public keys "
            "(no database needed):"
        ),
        "size": "Records",
        "root": "Root hash (base64)",
        "signed_at": "Signed",
        "witnesses": "Witnesses",
        "cosigned": "co-signed",
        "not_cosigned": "not co-signed",
        "other_witness": "not a named witness",
        "signed_note": "Signed note",
        "no_log_checkpoints": "The log has not signed a checkpoint yet.",
        "later": "Later checkpoints",
        "min_witnesses": (
            "A checkpoint is witnessed once at least {n} named witnesses co-signed it."
        ),
        "witnessed": "witnessed",
        "not_witnessed": "too few witnesses",
        "notices": "Notices",
        "all_notices": "All notices (incl. expired)",
        "number": "No.",
        "title": "Title",
        "stage": "Stage",
        "deadline": "Deadline",
        "outcome": "Outcome",
        "procedure": "Procedure",
        "proposed_at": "Proposed",
        "posted_at": "Posted",
        "display_until": "On display until",
        "objection_until": "Objections until",
        "objections": "Objections",
        "open_objections": "Unanswered objections",
        "how_to_object": "How to object",
        "object_app": (
            "A member of this council may object within the window from their phone, on the "
            "item's page in the members' app:"
        ),
        "object_button": "Object in the members' app",
        "object_text": (
            "or through the API (POST {path} with their own token), or from the command line "
            "at the office machine:"
        ),
        "replies": "Replies",
        "upheld": "upheld",
        "not_upheld": "not upheld",
        "withdrawn": "withdrawn",
        "corrected": "corrected",
        "kind": "Kind",
        "timeline": "Timeline",
        "stages_chart": "Stages and deadlines",
        "now": "now",
        "tallies": "Tallies",
        "yes": "Yes",
        "no": "No",
        "abstain": "Abstain",
        "participating": "Took part",
        "quorum": "Quorum met",
        "passed": "passed",
        "failed": "not passed",
        "voting_open": "Voting is open; the tally is published when it closes.",
        "linked_notices": "Notices",
        "purpose": "Purpose",
        "payee": "Payee",
        "amount": "Requested",
        "approved": "Approved",
        "disbursed": "Disbursed",
        "actual_cost": "Actual cost",
        "status": "Status",
        "disclosures": "Disclosures",
        "resolution": "resolution",
        "progress": "progress",
        "result": "result",
        "meeting": "meeting notice",
        "other": "other",
        "review": "needs the party members' review",
        "checkpoints": "Published audit checkpoints",
        "position": "Position",
        "notification_id": "Event no.",
        "in_log": "Verifiable log",
        "log_position": "Log position",
        "included": "Included in checkpoint {n}",
        "included_checked": "This server checked the inclusion proof with the log's public key.",
        "not_sealed": "Not sealed yet: check again later.",
        "download_note": "Download the checkpoint",
        "download_proof": "Download the inclusion proof",
        "check_yourself": "To check it yourself, download both files and run",
        "commitment_only": (
            "The board's proof holds only this record's commitment: it proves the record has "
            "been at this place in the log, unchanged, since it was sealed; the council's "
            "members get a proof with the record's content in the app or the API."
        ),
        "log_unchecked": "This server cannot check the inclusion (no public key of its log, "
        "or the proof did not verify).",
        "digest": "Digest (SHA-256)",
        "verify_how": (
            "Each checkpoint is the digest of the event log's hash chain at that position. "
            "Anyone can export the log and check it independently:"
        ),
        "no_checkpoints": "No checkpoint has been published yet.",
        "proves": (
            "Note: the server checking its own database proves only that the log in the "
            "database matches the hash chain and checkpoints in the same database and the "
            "digests this board published before; whoever can write the database can rewrite an "
            "event and recompute the chain and checkpoints. Only a digest you keep yourself "
            "proves the log unchanged: check it with the commands above."
        ),
        "rewritten": "Differs from the digest published before! Published before:",
        "feeds": "Feeds",
        "page": "page",
        "next": "Next",
        "previous": "Previous",
        "language": "中文",
        "none": "none",
        "subject": "Subject",
        "back": "Back",
        "issue": "Item",
        "reply_to": "Replies #{n}",
        "spending_item": "Spending",
        "meeting_item": "Meeting",
        "decided": "Text",
        "round": "round {n}",
        "threshold": "threshold",
        "met": "met",
        "not_met": "not met",
        "start": "started",
        "end": "ended",
        "pending": "not started",
        "skipped_stage": "skipped",
        "open_stage": "in progress",
        "yes_word": "yes",
        "no_word": "no",
    },
}

# Human names of the events shown on an issue's timeline (others show their topic).
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "govflow.issue.proposed": ("提出议题", "proposed"),
    "govflow.issue.stage_opened": ("阶段开始", "stage opened"),
    "govflow.issue.stage_closed": ("阶段结束", "stage closed"),
    "govflow.issue.stage_skipped": ("阶段跳过", "stage skipped"),
    "govflow.issue.escalated": ("逾期上报", "escalated"),
    "govflow.issue.opinion_recorded": ("记录意见", "opinion recorded"),
    "govflow.issue.voting_opened": ("开始表决", "voting opened"),
    "govflow.issue.voting_closed": ("表决结束", "voting closed"),
    "govflow.issue.voting_tallied": ("计票", "tallied"),
    "govflow.issue.resolution_recorded": ("形成决议", "resolution recorded"),
    "govflow.issue.progress_reported": ("实施进展", "progress reported"),
    "govflow.issue.evaluation_opened": ("开始评议", "evaluation opened"),
    "govflow.issue.evaluation_recorded": ("评议结果", "evaluation recorded"),
    "govflow.issue.notice_linked": ("发布公示", "notice posted"),
    "govflow.issue.reopened": ("重新审议", "reopened"),
    "govflow.issue.withdrawn": ("撤回", "withdrawn"),
    "govflow.issue.closed": ("办结", "closed"),
}
# Fields of timeline events safe to show publicly (never actors, rolls or voters).
PUBLIC_FIELDS = ("stage", "deadline", "outcome", "reason", "kind", "text", "passed", "result")

# Plain words for the codes the board would otherwise show: (Chinese, English).
CODES: dict[str, tuple[str, str]] = {
    # an item's outcome
    "adopted": ("通过", "adopted"),
    "rejected": ("未通过", "rejected"),
    "withdrawn": ("已撤回", "withdrawn"),
    "failed": ("未成立", "failed"),
    # a stage's outcome
    "completed": ("完成", "completed"),
    "timed_out": ("逾期结束", "ended at its deadline"),
    "closed_early": ("提前结束", "closed early"),
    # why voting closed
    "all_voted": ("全部投票完毕", "everyone has voted"),
    "deadline": ("表决期限届满", "voting period over"),
    # stage kinds
    "propose": ("提议", "proposal"),
    "deliberate": ("商议", "deliberation"),
    "public_deliberation": ("群议", "public deliberation"),
    "review": ("审议", "review"),
    "vote": ("表决", "vote"),
    "publish": ("公示", "disclosure"),
    "implement": ("实施", "implementation"),
    "evaluate": ("评议", "evaluation"),
    # a rating's result
    "satisfied": ("满意", "satisfied"),
    "basically_satisfied": ("基本满意", "basically satisfied"),
    "dissatisfied": ("不满意", "dissatisfied"),
    # a spending's status
    "requested": ("已申请", "requested"),
    "approved": ("已批准", "approved"),
    "reapproval_required": ("需重新批准", "needs approval again"),
    "settled": ("已结算", "settled"),
    # notice kinds
    "resolution": ("决议公开", "resolution"),
    "progress": ("实施过程公开", "progress"),
    "result": ("实施结果公开", "result"),
    "meeting": ("会议通知", "meeting notice"),
    "other": ("其他", "other"),
}
# Names of the timeline's fields.
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "stage": ("阶段", "stage"),
    "deadline": ("截止时间", "deadline"),
    "outcome": ("结果", "outcome"),
    "reason": ("原因", "reason"),
    "kind": ("类别", "kind"),
    "text": ("内容", "text"),
    "passed": ("是否通过", "passed"),
    "result": ("评议结果", "rating"),
}
# Reasons the system writes itself (people's own reasons are shown as written).
REASONS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"all_voted"), "全部投票完毕", "everyone has voted"),
    (re.compile(r"deadline"), "表决期限届满", "voting period over"),
    (re.compile(r"no decision by the deadline"), "期限内未作决定", "no decision by the deadline"),
    (
        re.compile(r"(the amount is )?not over the threshold"),
        "金额未超过需审议的限额",
        "the amount is not over the review threshold",
    ),
    (re.compile(r"objection upheld"), "异议成立", "objection upheld"),
    (
        re.compile(r"objection (\d+) unanswered by its reply deadline"),
        "第{0}号异议逾期未答复",
        "objection {0} unanswered by its reply deadline",
    ),
    (re.compile(r"[\w-]+: deadline passed"), "期限已过", "deadline passed"),
]
COMPARISONS = {"more_than": ("超过", "more than"), "at_least": ("不少于", "at least")}
BASES = {
    "present": ("实到", "of those present"),
    "members_of_record": ("全体成员", "of all members"),
    "expected": ("应到", "of those expected"),
    "participating": ("参与表决", "of those taking part"),
}
FRACTIONS = {
    "1/2": "二分之一",
    "2/3": "三分之二",
    "3/4": "四分之三",
    "1/3": "三分之一",
    "1": "全部",
}


def plain(code: Any, lang: str) -> str:
    """The plain word for a code (True/False as yes/no); anything else as it is."""
    if isinstance(code, bool):
        return ("是" if code else "否") if lang == "zh" else ("yes" if code else "no")
    names = CODES.get(str(code))
    return names[lang == "en"] if names else str(code)


def plain_reason(reason: str, lang: str) -> str:
    for pattern, zh, en in REASONS:
        if match := pattern.fullmatch(reason):
            return (zh if lang == "zh" else en).format(*match.groups())
    days = r"\1天" if lang == "zh" else r"\1 days"
    return re.sub(r"\s*\((\d+) days?\)", days, reason)


def describe_threshold(threshold: dict[str, Any], lang: str) -> str:
    """A threshold in words: 超过参与表决的二分之一 / more than 1/2 of those taking part."""
    comparison = COMPARISONS[threshold["comparison"]][lang == "en"]
    base = BASES[threshold["base"]][lang == "en"]
    fraction = str(threshold["fraction"])
    if lang == "zh":
        return f"{comparison}{base}的{FRACTIONS.get(fraction, fraction)}"
    return f"{comparison} {fraction} {base}"


def tally_lines(
    tally: dict[str, Any], opened: dict[str, Any] | None, lang: str
) -> list[dict[str, Any]]:
    """Each test a vote had to pass, in words: participation against the quorum and yes votes
    against the passing threshold, by headcount and (owners' votes) by exclusive area too."""
    if not opened or not isinstance(opened.get("rule"), dict):
        return []
    rule = opened["rule"]
    roll = opened.get("roll") or {}
    area_of_record = sum((Decimal(str(v)) for v in roll.values()), Decimal(0))
    heads = {
        "present": tally["participating"],
        "participating": tally["participating"],
        "members_of_record": opened.get("members_of_record", 0),
        "expected": opened.get("expected", 0),
    }
    participating_area = Decimal(str(tally.get("participating_area", 0)))
    areas = {
        "present": participating_area,
        "participating": participating_area,
        "members_of_record": area_of_record,
        "expected": area_of_record,
    }
    zh = lang == "zh"
    lines = []
    tests = [("quorum", "participating", "participating_area"), ("passes", "yes", "yes_area")]
    for key, count_key, area_key in tests:
        threshold = rule.get(key)
        if not threshold:
            continue
        measures = [("head", Decimal(tally[count_key]), Decimal(heads[threshold["base"]]))]
        if rule.get("area_weighted"):
            area = Decimal(str(tally.get(area_key, 0)))
            measures.append(("area", area, Decimal(areas[threshold["base"]])))
        for measure, count, base in measures:
            what = (
                ("参与" if key == "quorum" else "赞成")
                if zh
                else ("Taking part" if key == "quorum" else "Yes")
            )
            unit = (
                ("面积" if measure == "area" else "人数")
                if zh
                else (" by area" if measure == "area" else " by headcount")
            )
            share = f"{100 * count / base:.2f}%" if base > 0 else "—"
            if measure == "area":
                amounts = f"{count:,.2f} ㎡ / {base:,.2f} ㎡"
            else:
                amounts = f"{count:,.0f} / {base:,.0f}" + (" 人" if zh else "")
            holds = satisfies(
                count,
                base,
                Fraction(str(threshold["fraction"])),
                Comparison(threshold["comparison"]),
            )
            lines.append(
                {
                    "label": f"{what}{unit}占比" if zh else f"{what}{unit}",
                    "share": share,
                    "amounts": amounts,
                    "threshold": describe_threshold(threshold, lang),
                    "holds": holds,
                }
            )
    return lines


def public_fields(
    entry: HistoryEntry, tz: ZoneInfo, lang: str = "zh", titles: dict[str, str] | None = None
) -> dict[str, str]:
    """The fields of a timeline event that the board shows, named and worded for ``lang``,
    times in local time and stages by their titles."""
    shown: dict[str, str] = {}
    for key in PUBLIC_FIELDS:
        value = entry.data.get(key)
        if value in (None, ""):
            continue
        if key == "deadline" and isinstance(value, str):
            text = datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        elif key == "stage":
            text = (titles or {}).get(str(value), plain(value, lang))
        elif key == "reason":
            text = plain_reason(str(value), lang)
        elif key == "text":
            text = str(value)
        else:
            text = plain(value, lang)
        shown[FIELD_NAMES[key][lang == "en"]] = text
    return shown


@dataclass
class Bar:
    """One stage drawn on the chart (x and width in percent of the chart)."""

    stage: str
    x: float
    width: float
    state: str  # "done" | "open" | "skipped" | "pending"
    start: datetime | None
    end: datetime | None
    deadline_x: float | None


def stage_bars(
    stages: list[str], history: list[HistoryEntry], now: datetime
) -> tuple[list[Bar], float]:
    """The stages as bars on a time axis, and where ``now`` falls (both in percent)."""
    spans: dict[str, dict[str, Any]] = {}
    for entry in history:
        stage = entry.data.get("stage")
        if entry.topic == "govflow.issue.stage_opened" and stage:
            deadline = entry.data.get("deadline")
            spans[stage] = {
                "start": entry.timestamp,
                "end": None,
                "deadline": datetime.fromisoformat(deadline) if deadline else None,
                "state": "open",
            }
        elif entry.topic == "govflow.issue.escalated" and stage in spans:
            if new := entry.data.get("new_deadline"):
                spans[stage]["deadline"] = datetime.fromisoformat(new)
        elif entry.topic == "govflow.issue.stage_closed" and stage in spans:
            spans[stage].update(end=entry.timestamp, state="done")
        elif entry.topic == "govflow.issue.stage_skipped" and stage:
            spans[stage] = {"start": entry.timestamp, "end": entry.timestamp, "deadline": None}
            spans[stage]["state"] = "skipped"
    points: list[datetime] = [now] + [
        t for s in spans.values() for t in (s["start"], s["end"], s["deadline"]) if t is not None
    ]
    first, last = min(points), max(points)
    total = max((last - first).total_seconds(), 1.0)

    def pct(t: datetime) -> float:
        return round(100 * (t - first).total_seconds() / total, 2)

    bars = []
    for stage in stages:
        span = spans.get(stage)
        if span is None:
            bars.append(Bar(stage, 0, 0, "pending", None, None, None))
            continue
        end = span["end"] or max(now, span["start"])
        x = pct(span["start"])
        bars.append(
            Bar(
                stage,
                x,
                max(pct(end) - x, 0.8),
                span["state"],
                span["start"],
                span["end"],
                pct(span["deadline"]) if span["deadline"] else None,
            )
        )
    return bars, pct(now)


def _json_default(value: Any) -> Any:
    if isinstance(value, UUID | datetime):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return str(value)


def page_links(
    request: Request, lang: str, zone: str
) -> tuple[Callable[..., str], Callable[[datetime | None], str], str]:
    """A board page's ``url`` (a board path in the page's language), ``when`` (a time in
    ``zone``) and ``switch`` (this page in the other language)."""
    tz = ZoneInfo(zone)

    def url(path: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v is not None}
        if lang != "zh":
            query["lang"] = lang
        return f"/board{path}" + (f"?{urlencode(query)}" if query else "")

    def when(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    params = dict(request.query_params)
    if lang == "zh":
        params["lang"] = "en"
    else:
        params.pop("lang", None)
    return url, when, request.url.path + (f"?{urlencode(params)}" if params else "")


def create_board(
    app: Governance, *, demo: bool = False, procedures: ProcedureLibrary | None = None
) -> APIRouter:
    """The board's routes (mounted at ``/board`` by :func:`govflow.entrypoints.api.create_api`).
    On a demo server (items' clocks can be fast-forwarded) every page says so. Stages and
    procedures are named by their titles in ``procedures`` (else by their kinds)."""
    router = APIRouter(prefix="/board", include_in_schema=False)
    proposals: dict[UUID, dict[str, Any]] = {}  # an item's proposal never changes

    def proposal(issue: UUID) -> dict[str, Any]:
        if issue not in proposals:
            first = app.get_history(issue, limit=1)
            proposals[issue] = first[0].data if first else {}
        return proposals[issue]

    def procedure_of(name_version: str) -> Any:
        name, _, version = name_version.partition("@")
        if procedures is None or not version.isdigit():
            return None
        try:
            return procedures.get(name, int(version))
        except GovflowError:
            return None

    def stage_titles(issue: UUID, name_version: str, lang: str) -> dict[str, str]:
        """Each stage's name: its title in the procedure (Chinese pages), else its kind."""
        procedure = procedure_of(name_version)
        if procedure is not None:
            return {
                s.id: s.title if lang == "zh" else plain(s.kind.value, lang)
                for s in procedure.stages
            }
        stages = proposal(issue).get("stages") or []
        return {s["id"]: plain(s["kind"], lang) for s in stages if isinstance(s, dict)}

    def procedure_title(issue: UUID, name_version: str, lang: str) -> str:
        procedure = procedure_of(name_version)
        if procedure is not None:
            return str(procedure.title)
        return " → ".join(stage_titles(issue, name_version, lang).values()) or "—"

    def subject_of(row: NoticeRow, lang: str) -> str:
        """The council and the item a notice is about: 样例社区 · 议题 1 更换化粪管."""
        council = app.directory.council(row.council)
        name = council.name if council else app.get_council(row.council).name
        t = TEXT[lang]
        if row.subject == "issue" and (issue := app.directory.issue(row.subject_id)):
            return f"{name} · {t['issue']} {issue.number} {issue.title}"
        if row.subject == "spending" and (spent := app.directory.spending(row.subject_id)):
            return f"{name} · {t['spending_item']} {spent.number} {spent.purpose}"
        if row.subject == "meeting" and (meeting := app.directory.meeting(row.subject_id)):
            return f"{name} · {t['meeting_item']} {meeting.number} {meeting.title}"
        if row.subject == "fund" and (fund := app.directory.row(FundRow, row.subject_id.hex)):
            return f"{name} · {'资金账户' if lang == 'zh' else 'fund'} {fund.number} {fund.name}"
        return name

    env = Environment(
        loader=PackageLoader("govflow.entrypoints", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang", "zh")
        if lang not in LANGS:
            raise InvalidInputError("lang must be zh or en")
        return lang

    def page_of(request: Request) -> int:
        raw = request.query_params.get("page", "1")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or int(raw) < 1:
            raise InvalidInputError("page must be a positive whole number")
        return int(raw)

    def render(request: Request, template: str, **context: Any) -> HTMLResponse:
        lang = lang_of(request)
        url, when, switch = page_links(request, lang, app.timezone)
        t = TEXT[lang]
        html = env.get_template(template).render(
            t=t,
            lang=lang,
            url=url,
            when=when,
            switch=switch,
            event_name=lambda topic: EVENT_NAMES.get(topic, (topic, topic))[lang == "en"],
            word=lambda key: plain(key, lang),
            titles=lambda row: stage_titles(row.id, row.procedure, lang),
            subject=lambda row: subject_of(row, lang),
            notice_text=lambda row: row.text,
            demo=demo,
            **context,
        )
        return HTMLResponse(html)

    def paged(rows: list[Any], page: int) -> tuple[list[Any], int | None, int | None]:
        start = (page - 1) * PAGE_SIZE
        return (
            rows[start : start + PAGE_SIZE],
            page - 1 if page > 1 else None,
            page + 1 if start + PAGE_SIZE < len(rows) else None,
        )

    def list_page(
        request: Request, template: str, code: str, name: str, rows: list[Any], **extra: Any
    ) -> HTMLResponse:
        """One page of a council's list, with its previous and next links."""
        page_rows, prev, nxt = paged(rows, page_of(request))
        context = {name: page_rows, "prev": prev, "next": nxt, **extra}
        return render(request, template, council=app.get_council(code), **context)

    def as_json(rows: Iterable[Any]) -> Response:
        body = orjson.dumps([r.model_dump() for r in rows], default=_json_default)
        return Response(body, media_type="application/json")

    def as_atom(request: Request, title: str, entries: list[dict[str, Any]]) -> Response:
        lang = lang_of(request)
        base: str = request.app.state.public_url  # never the request's Host header
        query = f"?{request.url.query}" if request.url.query else ""
        updated = max((e["updated"] for e in entries), default=app.now())
        xml = env.get_template("feed.atom.xml").render(
            title=title,
            feed_id=f"{base}{request.url.path}",
            self_url=f"{base}{request.url.path}{query}",
            updated=updated.isoformat(),
            entries=entries,
            base=base,
            lang=lang,
        )
        return Response(xml, media_type="application/atom+xml")

    def notice_entries(rows: list[NoticeRow], lang: str) -> list[dict[str, Any]]:
        suffix = "?lang=en" if lang == "en" else ""
        return [
            {
                "id": f"urn:uuid:{r.id}",
                "title": r.title,
                "updated": r.posted_at,
                "link": f"/board/notices/{r.id}{suffix}",
                "summary": f"{subject_of(r, lang)} · {plain(r.kind, lang)} · "
                f"{TEXT[lang]['display_until']} {r.display_until.isoformat()}",
            }
            for r in rows[:PAGE_SIZE]
        ]

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        notices = app.list_notices(current_at=app.now(), limit=PAGE_SIZE + 1)
        return render(
            request,
            "index.html",
            councils=app.list_councils(),
            notices=notices[:PAGE_SIZE],
            more=len(notices) > PAGE_SIZE,
        )

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> HTMLResponse:
        return render(request, "audit.html", checkpoints=app.show_checkpoints())

    def witnessing(request: Request) -> LogWitnesses:
        minimum = getattr(request.app.state, "log_min_witnesses", 0)
        return LogWitnesses.of(app, getattr(request.app.state, "log_witnesses", ()), minimum)

    @router.get("/log", response_class=HTMLResponse)
    def log(request: Request, after: int = Query(0, ge=0, le=2**63 - 1)) -> HTMLResponse:
        """Every checkpoint the log signed, oldest first, with its witnesses' cosignatures."""
        witnesses = witnessing(request)
        rows = witnesses.cosigned(LogProofs.of(app).list_checkpoints(after, PAGE_SIZE + 1))
        return render(
            request,
            "log.html",
            rows=rows[:PAGE_SIZE],
            later=rows[PAGE_SIZE - 1].checkpoint.size if len(rows) > PAGE_SIZE else None,
            expected=witnesses.witnesses,
            expected_names={w.name for w in witnesses.witnesses},
            minimum=witnesses.minimum,
            log_key=getattr(request.app.state, "log_public_key", None),
            root=lambda value: b64encode(value).decode(),
            base=request.app.state.public_url,  # never the request's Host header
        )

    @router.get("/log/checkpoints/{size}.txt", response_class=PlainTextResponse)
    def log_note(request: Request, size: int) -> PlainTextResponse:
        """A checkpoint's signed note with its cosignatures, for ``govflow verify``."""
        checkpoint = LogProofs.of(app).get_checkpoint(size)
        return PlainTextResponse(witnessing(request).cosigned([checkpoint])[0].note)

    def log_keys(request: Request) -> list[Verifier]:
        key: str | None = getattr(request.app.state, "log_public_key", None)
        return [Verifier.from_vkey(key)] if key else []

    def notice_inclusion(
        request: Request, notice_id: UUID
    ) -> tuple[int | None, LogInclusion | None]:
        """Where the notice's text (as shown) is in the log, and its checked inclusion in the
        newest checkpoint (None: it could not be checked here)."""
        try:
            position = notice_position(app, notice_id)
        except GovflowError:
            return None, None
        try:
            return position, inclusion_of(app, position, log_keys(request))
        except GovflowError:
            return position, None

    @router.get("/notices/{notice_id}/proof.json")
    def notice_proof(
        request: Request, notice_id: UUID, size: int = Query(ge=1, le=2**63 - 1)
    ) -> Response:
        """The inclusion proof of the notice's record in the checkpoint of ``size`` leaves, for
        ``govflow verify-proof``: its line by the record's commitment only (see
        :mod:`govflow.application.log_receipts`)."""
        app.get_notice(notice_id)
        position = notice_position(app, notice_id)
        found = inclusion_of(app, position, log_keys(request), size=size)
        return Response(
            found.proof_json(),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="proof-{position}-{size}.json"'},
        )

    @router.get("/notices/{notice_id}", response_class=HTMLResponse)
    def notice(request: Request, notice_id: UUID) -> HTMLResponse:
        view = app.get_notice(notice_id)
        position, inclusion = notice_inclusion(request, notice_id)
        row = app.directory.notice(notice_id)
        history = app.get_history(notice_id)
        replies = [e.data for e in history if e.topic == "govflow.notice.objection_answered"]
        open_window = (
            not view.withdrawn
            and view.objection_until is not None
            and app.now() < view.objection_until
        )
        return render(
            request,
            "notice.html",
            notice=view,
            row=row,
            replies=replies,
            objections=sum(e.topic == "govflow.notice.objection_filed" for e in history),
            open_window=open_window,
            position=position,
            inclusion=inclusion,
            log_key=getattr(request.app.state, "log_public_key", None),
        )

    @router.get("/{code}/", response_class=HTMLResponse)
    def council(request: Request, code: str) -> HTMLResponse:
        view = app.get_council(code)
        return render(
            request,
            "council.html",
            council=view,
            notices=app.list_notices(code, current_at=app.now(), limit=PAGE_SIZE),
            issues=app.list_issues(code, open_only=True)[:PAGE_SIZE],
        )

    @router.get("/{code}", include_in_schema=False)
    def council_slash(request: Request, code: str) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/board/{code}/{query}", status_code=308)

    @router.get("/{code}/notices", response_class=HTMLResponse)
    def notices(request: Request, code: str, all: bool = False) -> HTMLResponse:
        # as far as this page and one more row (to know whether there is a next page)
        shown = page_of(request) * PAGE_SIZE + 1
        rows = app.list_notices(code, current_at=None if all else app.now(), limit=shown)
        return list_page(request, "notices.html", code, "notices", rows, all=all)

    @router.get("/{code}/notices.json")
    def notices_json(code: str, all: bool = False) -> Response:
        return as_json(app.list_notices(code, current_at=None if all else app.now()))

    @router.get("/{code}/notices.atom")
    def notices_atom(request: Request, code: str) -> Response:
        lang = lang_of(request)
        rows = app.list_notices(code, limit=PAGE_SIZE)
        name = app.get_council(code).name
        return as_atom(request, f"{name} · {TEXT[lang]['notices']}", notice_entries(rows, lang))

    @router.get("/{code}/issues", response_class=HTMLResponse)
    def issues(
        request: Request, code: str, stage: str | None = None, grid: str | None = None
    ) -> HTMLResponse:
        rows = app.list_issues(code, stage=stage, grid=grid)
        at = app.get_grid(code, grid) if grid is not None else None  # unknown: grid.unknown
        return list_page(request, "issues.html", code, "issues", rows, stage=stage, grid=at)

    @router.get("/{code}/issues.json")
    def issues_json(code: str, stage: str | None = None, grid: str | None = None) -> Response:
        if grid is not None:
            app.get_grid(code, grid)
        return as_json(app.list_issues(code, stage=stage, grid=grid))

    @router.get("/{code}/issues.atom")
    def issues_atom(request: Request, code: str) -> Response:
        lang = lang_of(request)
        suffix = "?lang=en" if lang == "en" else ""
        rows: list[IssueRow] = app.list_issues(code)[:PAGE_SIZE]
        entries = [
            {
                "id": f"urn:uuid:{r.id}",
                "title": f"{r.number}. {r.title}",
                "updated": r.updated_at or r.proposed_at,
                "link": f"/board/{code}/issues/{r.number}{suffix}",
                "summary": f"{TEXT[lang]['stage']}: "
                f"{stage_titles(r.id, r.procedure, lang).get(r.stage or '', r.stage or '—')} · "
                f"{TEXT[lang]['outcome']}: {plain(r.outcome, lang) if r.outcome else '—'}",
            }
            for r in rows
        ]
        name = app.get_council(code).name
        return as_atom(request, f"{name} · {TEXT[lang]['issues']}", entries)

    @router.get("/{code}/issues/{number}", response_class=HTMLResponse)
    def issue(request: Request, code: str, number: int) -> HTMLResponse:
        view = app.get_issue(code, number)
        history = app.get_history(view.id)
        lang = lang_of(request)
        now = app.now()
        titles = stage_titles(view.id, view.procedure, lang)
        bars, now_x = stage_bars(view.stages, history, now)
        opened = {
            e.data.get("ballot_key"): e.data
            for e in history
            if e.topic == "govflow.issue.voting_opened"
        }
        tallies = []
        for e in history:
            if e.topic != "govflow.issue.voting_tallied":
                continue
            key = str(e.data.get("ballot_key", ""))
            stage, _, round_no = key.partition("#")
            name = f"{titles.get(stage, plain(stage, lang))} · " + TEXT[lang]["round"].format(
                n=round_no or 1
            )
            lines = tally_lines(e.data, opened.get(key), lang)
            tallies.append({"name": name, "lines": lines, **e.data})
            by_proxy = int(e.data.get("by_proxy") or 0)  # 委托: how many came by proxy
            by_paper = int(e.data.get("by_paper") or 0)  # 纸质选票: how many were on paper
            channels = [
                (f"其中委托投票 {by_proxy} 票" if lang == "zh" else f"{by_proxy} of them by proxy")
                if by_proxy
                else "",
                (f"其中纸质选票 {by_paper} 票" if lang == "zh" else f"{by_paper} of them on paper")
                if by_paper
                else "",
            ]
            if said := [c for c in channels if c]:
                tallies[-1]["participating"] = (
                    f"{e.data['participating']}（{'，'.join(said)}）"
                    if lang == "zh"
                    else f"{e.data['participating']} ({'; '.join(said)})"
                )
        evaluations = [e.data for e in history if e.topic == "govflow.issue.evaluation_recorded"]
        tz = ZoneInfo(app.timezone)
        timeline = [(e, public_fields(e, tz, lang, titles)) for e in history]
        linked = app.list_notices_of(code, view.id)[:PAGE_SIZE]
        return render(
            request,
            "issue.html",
            council=app.get_council(code),
            issue=view,
            stage_title=titles,
            procedure_title=procedure_title(view.id, view.procedure, lang),
            bars=bars,
            now_x=now_x,
            tallies=tallies,
            evaluations=evaluations,
            timeline=timeline,
            notices=linked,
        )

    @router.get("/{code}/spending", response_class=HTMLResponse)
    def spending(request: Request, code: str) -> HTMLResponse:
        return list_page(request, "spending.html", code, "rows", app.list_spending(code))

    @router.get("/{code}/spending.json")
    def spending_json(code: str) -> Response:
        return as_json(app.list_spending(code))

    @router.get("/{code}/spending.atom")
    def spending_atom(request: Request, code: str) -> Response:
        lang = lang_of(request)
        suffix = "?lang=en" if lang == "en" else ""
        rows: list[SpendingRow] = app.list_spending(code)[:PAGE_SIZE]
        entries = [
            {
                "id": f"urn:uuid:{r.id}",
                "title": f"{r.number}. {r.purpose} ¥{r.amount}",
                "updated": r.requested_at,
                "link": f"/board/{code}/spending{suffix}#s{r.number}",
                "summary": f"{TEXT[lang]['status']}: {plain(r.status, lang)}",
            }
            for r in rows
        ]
        name = app.get_council(code).name
        return as_atom(request, f"{name} · {TEXT[lang]['spending']}", entries)

    router.include_router(create_ratings_board(app, render))  # /board/{code}/ratings
    router.include_router(create_order_board(app, demo=demo))  # /board/{code}/orders
    router.include_router(fund_board(app, render))
    return router


def board_root() -> RedirectResponse:
    return RedirectResponse("/board/", status_code=307)
