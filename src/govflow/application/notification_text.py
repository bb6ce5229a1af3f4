"""What a message says, in plain Chinese: the council, the item's number and title, what to
do, the deadline in the council's time zone, and a link to the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from govflow.domain.delivery import MessageKind


@dataclass(frozen=True)
class About:
    """What one message is about, as read from the record."""

    kind: MessageKind
    council_name: str
    timezone: str
    item_number: int | None
    item_title: str | None
    deadline: datetime | None
    link: str
    notice_title: str | None = None
    reply: str | None = None
    upheld: bool | None = None
    objection_no: int | None = None
    order_number: int | None = None  # a rectification order's (限期整改)
    order_what: str | None = None


def local(at: datetime, timezone: str) -> str:
    """``2026年3月9日 18:00（北京时间）`` for Asia/Shanghai; the zone's name otherwise."""
    moment = at.astimezone(ZoneInfo(timezone))
    zone = "北京时间" if timezone == "Asia/Shanghai" else timezone
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}（{zone}）"


def _item(about: About) -> str:
    if about.item_number is None:
        return ""
    title = f"「{about.item_title}」" if about.item_title else ""
    return f"第{about.item_number}号议题{title}"


def compose(about: About) -> tuple[str, str]:
    """The subject and the text of the message."""
    item = _item(about)
    head = f"【{about.council_name}】"
    deadline = local(about.deadline, about.timezone) if about.deadline else None
    match about.kind:
        case MessageKind.NOTICE:
            subject = f"{head}新公示：{about.notice_title}"
            lines = [f"{about.council_name}发布了新的公示「{about.notice_title}」。"]
            if item:
                lines.append(f"涉及{item}。")
            lines.append("请查看公示内容。")
            if deadline:
                lines.append(f"如有异议，请在{deadline}前提出。")
        case MessageKind.ANSWER:
            outcome = "异议已被采纳" if about.upheld else "异议未被采纳"
            subject = f"{head}您的异议已有答复"
            lines = [
                f"您对公示「{about.notice_title}」提出的第{about.objection_no}号异议已有答复"
                f"（{outcome}）。",
                f"答复：{about.reply}",
            ]
            if item:
                lines.append(f"涉及{item}。")
        case MessageKind.VOTE_REMINDER:
            subject = f"{head}请投票：{item}"
            lines = [f"{item}正在表决，您还没有投票。"]
            if deadline:
                lines.append(f"请在{deadline}前投票。")
        case MessageKind.CONSULTATION_FORM:
            subject = f"{head}书面征求意见：{item}"
            lines = [
                f"{item}以书面征求意见方式表决，这是送达您的征求意见表。",
                "请对该事项表示同意、反对或弃权，并在表决票上签字：在议事通中提交时附上签字"
                "表决票的扫描件，或将签字的纸质表决票交回。未签字的表决票不计入。",
            ]
            if deadline:
                lines.append(f"请在{deadline}前回复。")
        case MessageKind.CONSULTATION_EXTENDED:
            subject = f"{head}书面征求意见延期：{item}"
            lines = [
                f"{item}的书面征求意见已延长回复期限，您还没有回复。",
                "回复方式不变：同意、反对或弃权，并在表决票上签字；未签字的表决票不计入。",
            ]
            if deadline:
                lines.append(f"新的回复截止时间：{deadline}。")
        case MessageKind.RATING_REMINDER:
            subject = f"{head}请评议：{item}"
            lines = [f"{item}已实施完成，请您评议（满意、基本满意或不满意），您还没有评议。"]
            if deadline:
                lines.append(f"请在{deadline}前评议。")
        case MessageKind.GRID_ROUTED:
            subject = f"{head}网格待办：{item}"
            lines = [f"{item}已分派到您所在的网格服务站，请及时办理。"]
        case MessageKind.ORDER_REMINDER:
            subject = f"{head}限期整改即将到期：第{about.order_number}号整改通知"
            lines = [f"第{about.order_number}号整改通知要求您整改：{about.order_what}。"]
            if deadline:
                lines.append(f"请在{deadline}前完成整改，并在议事通中提交整改情况和证明材料。")
    lines.append(f"打开议事通查看：{about.link}")
    return subject, "\n".join(lines)
