"""The board's fund pages (公示栏 · 资金台账): every fund of a council with its balance, and
each fund's every line (money in and out, the running balance, the evidence's sha256, the
correction it makes or that corrects it), the expenses awaiting a second keyholder and the
statements posted, as HTML and JSON, with no login. Keyholders are named: moving a fund's
money is an act of office the trust model makes public.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from govflow.application import Governance
from govflow.application.fund_views import FundRowView
from govflow.domain.errors import InvalidInputError
from govflow.domain.money import format_yuan

Render = Callable[..., HTMLResponse]

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "funds": "资金台账",
        "fund": "资金账户",
        "none": "本会还没有资金账户。",
        "number": "编号",
        "name": "名称",
        "kind": "类别",
        "balance": "余额",
        "incomes": "收入合计",
        "expenses": "支出合计",
        "lines": "笔数",
        "last_statement": "最近公开",
        "keyholders": "密钥持有人",
        "two_keys": "每笔支出须由两名不同的密钥持有人办理：一人发起，另一人批准后才记账。",
        "ledger": "收支明细",
        "no_lines": "还没有收支记录。",
        "on": "日期",
        "amount": "金额",
        "in": "收入",
        "out": "支出",
        "counterparty": "对方",
        "category": "科目",
        "evidence": "凭证 SHA-256",
        "by": "经办",
        "corrects": "更正第 {no} 笔",
        "corrected_by": "已由第 {no} 笔更正",
        "spending": "对应支出 {no}",
        "pending": "待第二名密钥持有人批准的支出",
        "statements": "收支公开",
        "period": "期间",
        "opening": "期初",
        "closing": "期末",
        "notice": "公示",
        "property_fees": "物业费",
        "public_income": "公共收益",
        "project_budget": "项目预算",
        "maintenance_fund": "维修资金",
        "other": "其他",
    },
    "en": {
        "funds": "Funds",
        "fund": "Fund",
        "none": "This council has no funds yet.",
        "number": "No.",
        "name": "Name",
        "kind": "Kind",
        "balance": "Balance",
        "incomes": "Money in",
        "expenses": "Money out",
        "lines": "Lines",
        "last_statement": "Last statement",
        "keyholders": "Keyholders",
        "two_keys": "Every expense takes two different keyholders: one initiates, another "
        "approves, and only then is it recorded.",
        "ledger": "Every line",
        "no_lines": "No lines yet.",
        "on": "Date",
        "amount": "Amount",
        "in": "in",
        "out": "out",
        "counterparty": "Counterparty",
        "category": "Category",
        "evidence": "Evidence SHA-256",
        "by": "By",
        "corrects": "corrects line {no}",
        "corrected_by": "corrected by line {no}",
        "spending": "spending {no}",
        "pending": "Expenses awaiting a second keyholder",
        "statements": "Statements",
        "period": "Period",
        "opening": "Opening",
        "closing": "Closing",
        "notice": "Notice",
        "property_fees": "property fees",
        "public_income": "public income",
        "project_budget": "a project's budget",
        "maintenance_fund": "maintenance fund",
        "other": "other",
    },
}


def _json(value: Any) -> Response:
    return Response(orjson.dumps(value, default=str), media_type="application/json")


def fund_board(app: Governance, render: Render) -> APIRouter:
    """The fund pages, rendered with the board's own ``render`` (its language, links, base)."""
    router = APIRouter(include_in_schema=False)

    def words(request: Request) -> dict[str, str]:
        lang = request.query_params.get("lang", "zh")
        if lang not in WORDS:
            raise InvalidInputError("lang must be zh or en")
        return WORDS[lang]

    def rows(code: str) -> list[FundRowView]:
        return [FundRowView.model_validate(r, from_attributes=True) for r in app.list_funds(code)]

    @router.get("/{code}/funds", response_class=HTMLResponse)
    def funds(request: Request, code: str) -> HTMLResponse:
        return render(
            request,
            "funds/list.html",
            council=app.get_council(code),
            funds=rows(code),
            w=words(request),
            yuan=format_yuan,
        )

    @router.get("/{code}/funds.json")
    def funds_json(code: str) -> Response:
        return _json([r.model_dump(mode="json") for r in rows(code)])

    @router.get("/{code}/funds/{number}.json")
    def fund_json(code: str, number: int) -> Response:
        view = app.get_fund(code, number).model_dump(mode="json")
        view["ledger"] = [ln.model_dump(mode="json") for ln in app.fund_lines(code, number)]
        return _json(view)

    @router.get("/{code}/funds/{number}", response_class=HTMLResponse)
    def fund(request: Request, code: str, number: int) -> HTMLResponse:
        council = app.get_council(code)
        return render(
            request,
            "funds/fund.html",
            council=council,
            f=app.get_fund(code, number),
            lines=list(reversed(app.fund_lines(code, number))),
            who=app.fund_keyholder_names(code, number),
            w=words(request),
            yuan=format_yuan,
        )

    return router
