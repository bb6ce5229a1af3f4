"""Acting from a form: build the command, hand it to the door, and either go back to the page
with a confirmation (303) or show the page again with the refusal in plain words (4xx).

Used by the roll, meetings and spending pages. Nothing here decides a rule: the door does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from govflow.application import Governance
from govflow.application import commands as c
from govflow.domain.errors import GovflowError
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.problems import problem_text
from govflow.entrypoints.app.render import Words, lang_of, page
from govflow.entrypoints.app.session import csrf
from govflow.orchestration.door import CommandDoor

# Field names as people read them, for a refusal that names the field.
FIELDS: dict[str, tuple[str, str]] = {
    "member_id": ("成员编号", "Member id"),
    "name": ("姓名", "Name"),
    "roles": ("职责", "Roles"),
    "bodies": ("所属组织", "Bodies"),
    "chairs": ("主持的组织", "Chairs"),
    "unit": ("房号", "Unit"),
    "exclusive_area": ("专有部分面积", "Exclusive area"),
    "owner_id": ("业主编号", "Owner id"),
    "spending_threshold": ("审议限额", "Threshold"),
    "number": ("编号", "Number"),
    "body": ("组织", "Body"),
    "kind": ("会议类型", "Kind"),
    "title": ("标题", "Title"),
    "scheduled_for": ("会议时间", "Date and time"),
    "notice_days_required": ("提前通知天数", "Days of notice"),
    "rule_of": ("表决规则", "Voting rule"),
    "rule": ("表决规则", "Voting rule"),
    "issue_number": ("议题编号", "Item number"),
    "reason": ("理由", "Reason"),
    "present": ("出席人员", "Those present"),
    "text": ("内容", "Text"),
    "yes": ("赞成票数", "Yes votes"),
    "no": ("反对票数", "No votes"),
    "abstain": ("弃权票数", "Abstentions"),
    "content": ("文件", "File"),
    "amount": ("金额", "Amount"),
    "purpose": ("用途", "Purpose"),
    "payee": ("收款方", "Payee"),
    "budget_line": ("预算科目", "Budget line"),
    "reference": ("凭证号", "Reference"),
    "disbursement_no": ("拨付编号", "Disbursement number"),
}

# Why a field was refused, by pydantic's error type ({...} from the error's context).
INVALID: dict[str, tuple[str, str]] = {
    "missing": ("必须填写", "is required"),
    "string_too_short": ("不能为空", "may not be empty"),
    "string_too_long": ("太长了，最多 {max_length} 个字", "is too long: at most {max_length}"),
    "too_long": ("太多了，最多 {max_length} 项", "has too many entries: at most {max_length}"),
    "string_pattern_mismatch": (
        "只能使用英文字母、数字和 . _ - : 符号",
        "may only use letters, digits and . _ - :",
    ),
    "enum": ("不是可选的值", "is not one of the choices"),
    "literal_error": ("不是可选的值", "is not one of the choices"),
    "int_parsing": ("须为整数", "must be a whole number"),
    "int_type": ("须为整数", "must be a whole number"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "value_error": (
        "含有不可见的格式字符或控制字符，请删除后重试",
        "contains invisible formatting or control characters",
    ),
    "datetime_parsing": ("日期时间格式不正确", "is not a date and time"),
    "timezone_aware": ("须带时区", "needs a time zone"),
    "extra_forbidden": ("不应填写", "is not expected"),
}


def field_name(column: str | None, lang: str) -> str:
    names = FIELDS.get(column or "")
    if names is None:
        return column or ""
    return names[lang == "en"]


def invalid_reason(kind: str, context: dict[str, Any], lang: str) -> str:
    """Why a value was refused (a pydantic error type), in plain words."""
    if kind not in INVALID and kind.startswith(("datetime", "date_", "time_")):
        kind = "datetime_parsing"
    zh, en = INVALID.get(kind, ("格式不正确", "is not valid"))
    text = zh if lang == "zh" else en
    try:
        return text.format(**context)
    except (KeyError, IndexError):
        return text


def invalid_text(error: ValidationError, lang: str) -> str:
    """A refused form in plain words: each field and why (once per field)."""
    parts: dict[str, str] = {}
    for found in error.errors():
        column = str(found["loc"][0]) if found["loc"] else ""
        reason = invalid_reason(found["type"], dict(found.get("ctx") or {}), lang)
        parts.setdefault(
            column, f"{field_name(column, lang)}{'：' if lang == 'zh' else ': '}{reason}"
        )
    return ("；" if lang == "zh" else "; ").join(parts.values())


def allows(
    who: Principal,
    action: Action,
    council: str,
    *,
    body: str | None = None,
    staff: frozenset[str] = frozenset(),
) -> bool:
    """Whether the policy would let ``who`` act (to show a form; the door decides again)."""
    try:
        authorize(who, action, council, body=body, staff=staff)
    except GovflowError:
        return False
    return True


def door_of(request: Request) -> CommandDoor:
    found: CommandDoor = request.app.state.door
    return found


def governance(request: Request) -> Governance:
    found: Governance = request.app.state.governance
    return found


def refusal(error: Exception, lang: str) -> tuple[str, int]:
    """A refusal's plain words and status (4xx for what the person can fix)."""
    if isinstance(error, ValidationError):
        return invalid_text(error, lang), 422
    assert isinstance(error, GovflowError)
    return problem_text(error, lang), error.status


Again = Callable[[str, int], Awaitable[Response]]


def form_page(
    request: Request,
    template: str,
    own: Words,
    caller: Principal,
    *,
    problem: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with forms: what :func:`page` renders, with the caller, the CSRF token, the
    confirmation asked by ``?done=what`` (as the word ``done_what``), the refusal and what
    was filled in (to fill the refused form again)."""
    done = request.query_params.get("done")
    return page(
        request,
        template,
        own,
        status=status,
        caller=caller,
        csrf=csrf(request),
        done=f"done_{done}" if done else None,
        problem=problem,
        form=form or {},
        **context,
    )


def again_with(show: Callable[..., Awaitable[Response]], *args: Any, **kwargs: Any) -> Again:
    """The page to show again after a refusal: ``show(*args, problem=, status=, **kwargs)``."""

    async def again(problem: str, status: int) -> Response:
        return await show(*args, problem=problem, status=status, **kwargs)

    return again


def created(base: str, form: dict[str, str]) -> str:
    """Where to go once a numbered record is made from ``form``: its page, else the list."""
    number = form.get("number", "").strip()
    return f"{base}/{number}" if number.isdigit() else base


def optional(fields: dict[str, Any], form: dict[str, str], name: str) -> dict[str, Any]:
    """``fields`` with the form's ``name`` (stripped) when it was filled in."""
    value = form.get(name, "").strip()
    return {**fields, name: value} if value else fields


async def act(
    request: Request,
    caller: Principal,
    build: Callable[[], c.Command],
    *,
    done: str,
    again: Again,
    confirm: str = "done",
) -> Response:
    """Build the command, hand it to the door, then go to ``done`` with ``?done=confirm``; a
    refusal shows the page again (``again(problem, status)``), nothing recorded."""
    try:
        await door_of(request).handle(build(), caller)
    except (GovflowError, ValidationError) as error:
        return await again(*refusal(error, lang_of(request)))
    separator = "&" if "?" in done else "?"
    return RedirectResponse(f"{done}{separator}{urlencode({'done': confirm})}", status_code=303)


async def many(request: Request, name: str) -> list[str]:
    """Every value of a repeated form field (checkboxes), after the CSRF check."""
    form = await request.form()
    return [v for v in form.getlist(name) if isinstance(v, str)]


def back_to(request: Request, path: str) -> RedirectResponse:
    """A form's address opened as a page (the language or text-size switch of a refused form
    links there): the page it belongs to, with the same query."""
    query = request.url.query
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)
