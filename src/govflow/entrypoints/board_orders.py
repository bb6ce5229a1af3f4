"""The board's rectification orders (限期整改): a council's orders and each order's page.

Public throughout, like every list of the board: what must be put right, by whom, by when,
why and what it comes from; whether the deadline passed and to which body it was escalated
(with the escalation's notice); what was reported done, with the evidence's sha256; and the
ordering body's verification or its reasons for sending it back. People are named only as the
order names them (the member ordered to act); the chairs who order and verify act for their
body, which the board names instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from govflow.application import Governance
from govflow.application.rectification import BODY_NAMES
from govflow.domain.council import Body
from govflow.domain.errors import InvalidInputError

PAGE_SIZE = 50

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "orders": "限期整改",
        "order": "整改通知",
        "open_only": "只看未办结的",
        "all_orders": "全部整改通知",
        "none": "没有整改通知。",
        "what": "整改事项",
        "why": "整改原因",
        "assignee": "整改责任人",
        "ordered_by": "下达单位（核验）",
        "escalate_to": "逾期督办单位",
        "deadline": "整改期限",
        "state": "办理情况",
        "source": "整改依据",
        "round": "第 {n} 轮",
        "overdue": "已逾期",
        "escalated": "已逾期并提请督办",
        "timeline": "办理经过",
        "evidence": "证明材料（SHA-256）",
        "see_notice": "督办公示",
        "open": "整改中",
        "completed": "已报整改完成，待核验",
        "verified": "已核验办结",
        "issued": "下达整改通知",
        "sent_back": "核验未通过，退回重新整改",
        "source_evaluation": "评议不满意",
        "source_objection": "公示异议成立",
        "source_inspection": "检查发现",
        "chairs_of": "{body}（由其负责人办理）",
        "new_deadline": "新期限",
        "step_issued": "下达整改通知",
        "step_escalated": "逾期，提请督办",
        "step_completed": "报告整改完成",
        "step_verified": "核验通过，办结",
        "step_sent_back": "核验未通过，退回重新整改",
        "late": "逾期完成",
    },
    "en": {
        "orders": "Rectification orders",
        "order": "Rectification order",
        "open_only": "open ones only",
        "all_orders": "all orders",
        "none": "No rectification orders.",
        "what": "To put right",
        "why": "Why",
        "assignee": "Ordered to act",
        "ordered_by": "Ordered (and verified) by",
        "escalate_to": "Escalated, if missed, to",
        "deadline": "Deadline",
        "state": "State",
        "source": "Comes from",
        "round": "round {n}",
        "overdue": "overdue",
        "escalated": "overdue and escalated",
        "timeline": "What happened",
        "evidence": "Evidence (SHA-256)",
        "see_notice": "escalation notice",
        "open": "to be put right",
        "completed": "reported done, awaiting verification",
        "verified": "verified and closed",
        "issued": "ordered",
        "sent_back": "not accepted: sent back",
        "source_evaluation": "an evaluation rated dissatisfied",
        "source_objection": "an upheld objection",
        "source_inspection": "an inspection's finding",
        "chairs_of": "{body} (its chairs act)",
        "new_deadline": "new deadline",
        "step_issued": "ordered",
        "step_escalated": "missed: escalated",
        "step_completed": "reported done",
        "step_verified": "verified: closed",
        "step_sent_back": "not accepted: sent back",
        "late": "done after the deadline",
    },
}


def deadline_text(value: datetime, timezone: str) -> str:
    """A deadline as people read it: the end of a day is that day's 24:00, not the next day's
    00:00 (a deadline is 24:00 local of its day)."""
    local = value.astimezone(ZoneInfo(timezone))
    if (local.hour, local.minute) == (0, 0):
        return f"{local - timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def body_name(value: str, lang: str) -> str:
    """A body's name: 监委会 on Chinese pages, "supervisory committee" on English ones."""
    if lang == "en":
        return value.replace("_", " ")
    try:
        return BODY_NAMES[Body(value)]
    except ValueError:
        return value


def create_order_board(app: Governance, *, demo: bool = False) -> APIRouter:
    """``/board/{code}/orders`` (HTML, ``.json``, ``.atom``) and an order's page,
    ``/board/{code}/orders/{number}``."""
    from govflow.entrypoints.board import (  # the board's words and links (it imports this)
        LANGS,
        TEXT,
        page_links,
    )

    router = APIRouter(include_in_schema=False)  # under the board's /board
    env = Environment(
        loader=PackageLoader("govflow.entrypoints", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def render(request: Request, template: str, **context: Any) -> HTMLResponse:
        lang = request.query_params.get("lang", "zh")
        if lang not in LANGS:
            raise InvalidInputError("lang must be zh or en")
        zone = context["council"].timezone  # a deadline is 24:00 of its day in the council's
        url, when, switch = page_links(request, lang, zone)
        html = env.get_template(template).render(
            t={**TEXT[lang], **WORDS[lang]},
            lang=lang,
            url=url,
            when=when,
            switch=switch,
            body=lambda key: body_name(key, lang),
            deadline=lambda value: deadline_text(value, zone),
            demo=demo,
            now=app.now(),
            **context,
        )
        return HTMLResponse(html)

    @router.get("/{code}/orders", response_class=HTMLResponse)
    def orders(request: Request, code: str, open: bool = False) -> HTMLResponse:
        rows = app.list_orders(code, open_only=open)[:PAGE_SIZE]
        return render(
            request,
            "orders/board_list.html",
            council=app.get_council(code),
            rows=rows,
            open=open,
            names=app.ordered_names(code, rows),
        )

    @router.get("/{code}/orders.json")
    def orders_json(code: str, open: bool = False) -> Response:
        rows = [r.model_dump(mode="json") for r in app.list_orders(code, open_only=open)]
        return Response(orjson.dumps(rows), media_type="application/json")

    @router.get("/{code}/orders.atom")
    def orders_atom(request: Request, code: str) -> Response:
        lang = request.query_params.get("lang", "zh")
        if lang not in LANGS:
            raise InvalidInputError("lang must be zh or en")
        t = WORDS[lang]
        suffix = "?lang=en" if lang == "en" else ""
        rows = app.list_orders(code)[:PAGE_SIZE]
        entries: list[dict[str, Any]] = [
            {
                "id": f"urn:uuid:{r.id}",
                "title": f"{r.number}. {r.what}",
                "updated": r.updated_at or r.issued_at,
                "link": f"/board/{code}/orders/{r.number}{suffix}",
                "summary": f"{t['state']}: {t[r.status]}"
                + (f" · {t['escalated']}" if r.status == "open" and r.escalated else ""),
            }
            for r in rows
        ]
        base: str = request.app.state.public_url  # never the request's Host header
        query = f"?{request.url.query}" if request.url.query else ""
        updated = max((r.updated_at or r.issued_at for r in rows), default=app.now())
        xml = env.get_template("feed.atom.xml").render(
            title=f"{app.get_council(code).name} · {t['orders']}",
            feed_id=f"{base}{request.url.path}",
            self_url=f"{base}{request.url.path}{query}",
            updated=updated.isoformat(),
            entries=entries,
            base=base,
            lang=lang,
        )
        return Response(xml, media_type="application/atom+xml")

    @router.get("/{code}/orders/{number}", response_class=HTMLResponse)
    def order(request: Request, code: str, number: int) -> HTMLResponse:
        view = app.get_order(code, number)
        return render(
            request,
            "orders/board_order.html",
            council=app.get_council(code),
            o=view,
            names=app.ordered_names(code, [view]),
        )

    return router


__all__ = ["create_order_board"]
