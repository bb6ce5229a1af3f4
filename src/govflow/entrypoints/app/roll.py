"""The roll (``/app/roll``): members with their roles, bodies and chairs, households with their
exclusive areas, and the spending threshold; kept by the clerk, with CSV import and export.

Members read the roll (the policy's ``read``); households, with owners and areas, show to those
who may export the roll (the clerk and auditors), like the CSV files. Every change is a command
through the door: a form's, and each row of an imported file. A file imports its good rows and
lists every refused one (line, value, why); importing it again is safe (rows already on the roll
are "unchanged").
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.application import roll_csv
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError
from govflow.domain.money import format_yuan
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.acting import (
    act,
    again_with,
    allows,
    back_to,
    door_of,
    field_name,
    form_page,
    governance,
    invalid_reason,
    many,
    refusal,
)
from govflow.entrypoints.app.problems import PROBLEMS
from govflow.entrypoints.app.render import Words, lang_of
from govflow.entrypoints.app.session import AppCaller, Form

router = APIRouter(prefix="/app/roll", include_in_schema=False)

WORDS: Words = {
    "zh": {
        "title": "名册",
        "members": "成员",
        "households": "住户",
        "threshold": "支出审议限额",
        "threshold_note": "超过此金额的支出须经党员大会审议。",
        "member_id": "成员编号",
        "name": "姓名",
        "roles": "职责",
        "bodies": "所属组织",
        "chairs": "主持的组织",
        "unit": "房号",
        "area": "专有部分面积（平方米）",
        "area_hint": "例如 89.50，最多两位小数",
        "owner": "业主编号",
        "enroll": "登记新成员",
        "enroll_button": "登记",
        "change": "修改",
        "change_title": "修改成员",
        "change_button": "保存修改",
        "remove": "移出名册",
        "remove_note": "移出后，此成员的登录凭证全部失效。",
        "register": "登记住户",
        "register_button": "登记住户",
        "set_threshold": "修改审议限额",
        "amount": "金额（元）",
        "amount_hint": "例如 20000 或 20,000.00",
        "import": "从表格导入（CSV）",
        "import_kind": "导入内容",
        "import_file": "选择 CSV 文件",
        "import_button": "导入",
        "import_rule": (
            "每一行单独办理：有问题的行不导入并在结果中列出（行号、内容、原因），其余的行照常导入。"
            "改正后可以重新导入整个文件，已在名册中的行显示为“无变化”，不会重复登记。"
        ),
        "import_format_members": (
            "成员文件的列：member_id,name,roles,bodies,chairs（多项用分号 ; 分隔）"
        ),
        "import_format_households": "住户文件的列：unit,exclusive_area,owner_id,bodies",
        "import_limit": "文件最大 512 KB，最多 2000 行；UTF-8 或 Excel 默认的中文编码均可。",
        "export": "导出（CSV，可用 Excel 打开）",
        "export_members": "导出成员",
        "export_households": "导出住户",
        "households_count": "已登记住户：",
        "households_hidden": "住户的业主和面积只有书记员和监督员可以查看。",
        "none": "无",
        "report": "导入结果",
        "imported": "已导入",
        "unchanged": "无变化（已在名册中）",
        "refused": "未导入的行",
        "line": "行号",
        "value": "内容",
        "why": "原因",
        "no_refused": "所有行均已办理。",
        "back": "返回名册",
        "rows": "行",
        "done_enrolled": "已登记新成员。",
        "done_changed": "已保存修改。",
        "done_removed": "已移出名册。",
        "done_household": "已登记住户。",
        "done_threshold": "已修改审议限额。",
        "clerk_only": "名册由书记员维护。",
        "not_found": "名册中没有此成员。",
        "invitations": "邀请成员登录",
    },
    "en": {
        "title": "The roll",
        "members": "Members",
        "households": "Households",
        "threshold": "Spending review threshold",
        "threshold_note": "Spending above this amount needs the party members' assembly's review.",
        "member_id": "Member id",
        "name": "Name",
        "roles": "Roles",
        "bodies": "Bodies",
        "chairs": "Chairs",
        "unit": "Unit",
        "area": "Exclusive area (m²)",
        "area_hint": "e.g. 89.50, at most two decimals",
        "owner": "Owner id",
        "enroll": "Enroll a member",
        "enroll_button": "Enroll",
        "change": "Change",
        "change_title": "Change a member",
        "change_button": "Save",
        "remove": "Remove from the roll",
        "remove_note": "Removing a member ends every sign-in they hold.",
        "register": "Register a household",
        "register_button": "Register",
        "set_threshold": "Change the threshold",
        "amount": "Amount (yuan)",
        "amount_hint": "e.g. 20000 or 20,000.00",
        "import": "Import from a spreadsheet (CSV)",
        "import_kind": "What the file holds",
        "import_file": "CSV file",
        "import_button": "Import",
        "import_rule": (
            "Each row is handled on its own: rows with a problem are not imported and are "
            "listed (line, value, why); the other rows are imported. Fix them and import the "
            "whole file again: rows already on the roll show as unchanged, nothing is doubled."
        ),
        "import_format_members": (
            "Members file columns: member_id,name,roles,bodies,chairs (lists separated by ;)"
        ),
        "import_format_households": "Households file columns: unit,exclusive_area,owner_id,bodies",
        "import_limit": "At most 512 KB and 2000 rows; UTF-8 or Excel's Chinese encoding.",
        "export": "Export (CSV, opens in Excel)",
        "export_members": "Export members",
        "export_households": "Export households",
        "households_count": "Households registered: ",
        "households_hidden": "Owners and areas of households show to the clerk and auditors.",
        "none": "none",
        "report": "Import report",
        "imported": "Imported",
        "unchanged": "Unchanged (already on the roll)",
        "refused": "Rows not imported",
        "line": "Line",
        "value": "Value",
        "why": "Why",
        "no_refused": "Every row was handled.",
        "back": "Back to the roll",
        "rows": "rows",
        "done_enrolled": "The member is enrolled.",
        "done_changed": "Saved.",
        "done_removed": "Removed from the roll.",
        "done_household": "The household is registered.",
        "done_threshold": "The threshold is changed.",
        "clerk_only": "The clerk keeps the roll.",
        "not_found": "No such member on the roll.",
        "invitations": "Invite members to sign in",
    },
}

# Why a row of a file was refused, by the problem's code (the door's codes: PROBLEMS).
CSV_PROBLEMS: dict[str, tuple[str, str]] = {
    "csv.unknown_body": ("没有这个组织", "no such body"),
    "csv.unknown_role": ("没有这个职责（可填：书记员、经办人、监督员）", "no such role"),
    "csv.cells": ("这一行的列数与第一行不一致", "the row has another number of cells"),
    "csv.duplicate": ("文件第 {line} 行已有同一编号", "line {line} has the same already"),
    "csv.other_name": (
        "名册中此编号的成员叫“{name}”，姓名不同",
        "this id is on the roll under another name ({name})",
    ),
    "csv.unit_registered": (
        "此房号已按其他面积、业主或组织登记",
        "the unit is registered with another area, owner or bodies",
    ),
    "already_exists": ("已在名册中", "already on the roll"),
    "area.invalid": (
        "面积格式不正确：请填平方米，最多两位小数，例如 89.50",
        "not an area: square metres with at most two decimals, e.g. 89.50",
    ),
}

ROLES = tuple(roll_csv.ROLE_NAMES)
BODIES = tuple(Body)


def why(problem: roll_csv.RowProblem, lang: str) -> str:
    """A refused row's reason in plain words (the field first, where one is at fault)."""
    en = lang == "en"
    if problem.code.startswith("input."):
        reason = invalid_reason(problem.code.removeprefix("input."), problem.context, lang)
    elif problem.code in CSV_PROBLEMS:
        reason = CSV_PROBLEMS[problem.code][en].format(**problem.context)
    else:
        reason = PROBLEMS.get(problem.code, ("未能办理", "could not be done"))[en]
    named = field_name(problem.column, lang)
    return f"{named}{': ' if en else '：'}{reason}" if named else reason


def choices(lang: str) -> dict[str, list[tuple[str, str]]]:
    en = lang == "en"
    return {
        "roles": [(r, roll_csv.ROLE_NAMES[r][en]) for r in ROLES],
        "bodies": [(b.value, roll_csv.BODY_NAMES[b][en]) for b in BODIES],
    }


def names(lang: str) -> dict[str, str]:
    """Codes of bodies and roles as people read them."""
    en = lang == "en"
    return {
        **{b.value: n[en] for b, n in roll_csv.BODY_NAMES.items()},
        **{r: n[en] for r, n in roll_csv.ROLE_NAMES.items()},
    }


async def roll_page(
    request: Request,
    caller: Principal,
    *,
    problem: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    template: str = "app/roll.html",
    **extra: Any,
) -> HTMLResponse:
    app, code = governance(request), caller.council
    authorize(caller, Action.READ, code)
    may_export = allows(caller, Action.EXPORT, code)
    council = await asyncio.to_thread(app.get_council, code)
    households = (
        await asyncio.to_thread(roll_csv.list_households, app, code) if may_export else None
    )
    lang = lang_of(request)
    return form_page(
        request,
        template,
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        council=council,
        threshold=format_yuan(council.spending_threshold),
        households=households,
        may_keep=allows(caller, Action.KEEP_ROLL, code),
        may_export=may_export,
        names=names(lang),
        choices=choices(lang),
        **extra,
    )


@router.get("")
async def roll(request: Request, caller: AppCaller) -> HTMLResponse:
    return await roll_page(request, caller)


async def _lists(request: Request) -> dict[str, list[str]]:
    return {k: await many(request, k) for k in ("roles", "bodies", "chairs")}


@router.post("/members")
async def enroll(request: Request, caller: AppCaller, form: Form) -> Response:
    """Enroll a member (fields: member_id, name, roles, bodies, chairs; lists repeat)."""
    lists = await _lists(request)

    def build() -> c.Command:
        return c.EnrollMember(
            council=caller.council,
            member_id=form.get("member_id", "").strip(),
            name=form.get("name", "").strip(),
            **lists,
        )

    again = again_with(roll_page, request, caller, form={**form, **lists})
    return await act(request, caller, build, done="/app/roll", again=again, confirm="enrolled")


async def member_page(
    request: Request,
    caller: Principal,
    member_id: str,
    *,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    council = await asyncio.to_thread(governance(request).get_council, caller.council)
    member = next((m for m in council.members if m.member_id == member_id), None)
    if member is None:
        return await roll_page(
            request, caller, problem=WORDS[lang_of(request)]["not_found"], status=404
        )
    return await roll_page(
        request,
        caller,
        problem=problem,
        status=status,
        template="app/roll_member.html",
        member=member,
    )


@router.get("/members/{member_id}")
async def member(request: Request, caller: AppCaller, member_id: str) -> HTMLResponse:
    return await member_page(request, caller, member_id)


@router.post("/members/{member_id}")
async def change(request: Request, caller: AppCaller, form: Form, member_id: str) -> Response:
    """Give a member other roles, bodies, chairs (fields: roles, bodies, chairs; the whole
    set, replacing the old)."""
    lists = await _lists(request)

    def build() -> c.Command:
        return c.ChangeMember(council=caller.council, member_id=member_id, **lists)

    again = again_with(member_page, request, caller, member_id)
    return await act(request, caller, build, done="/app/roll", again=again, confirm="changed")


@router.post("/members/{member_id}/remove")
async def remove(request: Request, caller: AppCaller, form: Form, member_id: str) -> Response:
    def build() -> c.Command:
        return c.RemoveMember(council=caller.council, member_id=member_id)

    again = again_with(member_page, request, caller, member_id)
    return await act(request, caller, build, done="/app/roll", again=again, confirm="removed")


@router.post("/households")
async def household(request: Request, caller: AppCaller, form: Form) -> Response:
    """Register a household (fields: unit, exclusive_area, owner_id, bodies)."""
    bodies = await many(request, "bodies")

    def build() -> c.Command:
        return c.RegisterHousehold(
            council=caller.council,
            unit=form.get("unit", "").strip(),
            exclusive_area=form.get("exclusive_area", ""),
            owner_id=form.get("owner_id", "").strip(),
            bodies=tuple(bodies) or (Body.OWNERS_ASSEMBLY,),
        )

    again = again_with(roll_page, request, caller, form={**form, "hh_bodies": bodies})
    return await act(request, caller, build, done="/app/roll", again=again, confirm="household")


@router.post("/threshold")
async def threshold(request: Request, caller: AppCaller, form: Form) -> Response:
    """Change the spending threshold (field: threshold, in yuan)."""

    def build() -> c.Command:
        return c.ChangeThreshold(
            council=caller.council, spending_threshold=form.get("threshold", "")
        )

    again = again_with(roll_page, request, caller, form=form)
    return await act(request, caller, build, done="/app/roll", again=again, confirm="threshold")


@router.post("/import")
async def import_file(request: Request, caller: AppCaller, form: Form) -> Response:
    """Import a members or households file (fields: kind = members | households, file).
    Good rows are imported; every refused row is listed with its line, value and why."""
    lang, code = lang_of(request), caller.council
    try:
        authorize(caller, Action.KEEP_ROLL, code)  # before reading the file
        upload = (await request.form()).get("file")
        asked = form.get("kind")
        if asked not in ("members", "households"):
            raise roll_csv.CsvFileError("choose what the file holds: members or households")
        kind: roll_csv.Kind = "members" if asked == "members" else "households"
        if not isinstance(upload, UploadFile):
            raise roll_csv.CsvFileError("choose a CSV file")
        data = await upload.read(roll_csv.MAX_BYTES + 1)
        rows = roll_csv.read_rows(data, kind)
    except GovflowError as error:
        problem, status = refusal(error, lang)
        if error.code == "csv.invalid":
            problem = f"{PROBLEMS.get('csv.invalid', ('', ''))[lang == 'en']} ({error.message})"
        return await roll_page(request, caller, problem=problem, status=status, form=form)
    app = governance(request)
    if kind == "members":
        council = await asyncio.to_thread(app.get_council, code)
        plan = roll_csv.plan_members(council, rows)
    else:
        households = await asyncio.to_thread(roll_csv.list_households, app, code)
        plan = roll_csv.plan_households(code, households, rows)
    imported: list[roll_csv.RowCommand] = []
    door = door_of(request)
    for row in plan.send:
        try:
            await door.handle(row.command, caller)
        except GovflowError as error:
            plan.problems.append(
                roll_csv.RowProblem(row.line, None, row.key, error.code, error.message)
            )
        except ValidationError as error:  # pragma: no cover - the plan built the commands
            plan.problems.append(roll_csv.problem_of(row.line, {}, error))
        else:
            imported.append(row)
    refused = sorted(plan.problems, key=lambda p: p.line)
    return await roll_page(
        request,
        caller,
        template="app/roll_import.html",
        status=422 if refused else 200,
        kind=kind,
        imported=imported,
        unchanged=plan.unchanged,
        refused=[(p, why(p, lang)) for p in refused],
    )


def _csv(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/members.csv")
async def export_members(request: Request, caller: AppCaller) -> Response:
    authorize(caller, Action.EXPORT, caller.council)
    council = await asyncio.to_thread(governance(request).get_council, caller.council)
    return _csv(roll_csv.members_csv(council.members), f"{caller.council}-members.csv")


@router.get("/households.csv")
async def export_households(request: Request, caller: AppCaller) -> Response:
    authorize(caller, Action.EXPORT, caller.council)
    households = await asyncio.to_thread(
        roll_csv.list_households, governance(request), caller.council
    )
    return _csv(roll_csv.households_csv(households), f"{caller.council}-households.csv")


@router.get("/members")
@router.get("/households")
@router.get("/threshold")
@router.get("/import")
@router.get("/members/{member_id}/remove")
async def form_address(request: Request, caller: AppCaller) -> Response:
    return back_to(request, "/app/roll")
