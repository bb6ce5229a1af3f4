"""The roll (``/app/roll``): members with their roles, bodies and chairs, households with their
exclusive areas, and the spending threshold; kept by the clerk, with CSV and Excel (``.xlsx``)
import and export.

Members read the roll (the policy's ``read``); households, with owners and areas, show to those
who may export the roll (the clerk and auditors), like the CSV files. Every change is a command
through the door: a form's, and each row of an imported file. A file imports its good rows and
lists every refused one (line, value, why); importing it again is safe (rows already on the roll
are "unchanged").
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.application import roll_csv, roll_xlsx
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError
from govflow.domain.policy import Action, authorize
from govflow.entrypoints.app.acting import (
    act,
    again_with,
    back_to,
    door_of,
    field_name,
    governance,
    invalid_reason,
    many,
    refusal,
)
from govflow.entrypoints.app.problems import PROBLEMS
from govflow.entrypoints.app.render import lang_of
from govflow.entrypoints.app.roll_pages import member_page, roll_page
from govflow.entrypoints.app.session import AppCaller, Form

router = APIRouter(prefix="/app/roll", include_in_schema=False)

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
    "household.joint_owners": (
        "共有人重复，或投票的业主也列在共有人中",
        "a joint owner named twice, or the voting owner also among the joint owners",
    ),
    "xlsx.date": (
        "这是日期而不是文字：请把此列设为文本格式（Excel 会把 3-01 当成日期）",
        "a date, not text: format the column as text (Excel reads 3-01 as a date)",
    ),
    "xlsx.formula": ("这是公式：请直接填写内容", "a formula: type the value itself"),
    "xlsx.not_text": ("这一格不是文字或数字", "neither text nor a number"),
    "already_exists": ("已在名册中", "already on the roll"),
    "area.invalid": (
        "面积格式不正确：请填平方米，最多两位小数，例如 89.50",
        "not an area: square metres with at most two decimals, e.g. 89.50",
    ),
}


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
    """Register a household (fields: unit, exclusive_area, owner_id, co_owners separated by
    ``;``, bodies)."""
    bodies = await many(request, "bodies")

    def build() -> c.Command:
        return c.RegisterHousehold(
            council=caller.council,
            unit=form.get("unit", "").strip(),
            exclusive_area=form.get("exclusive_area", ""),
            owner_id=form.get("owner_id", "").strip(),
            bodies=tuple(bodies) or (Body.OWNERS_ASSEMBLY,),
            co_owners=tuple(roll_csv.split_list(form.get("co_owners", ""))),
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
            raise roll_csv.CsvFileError("choose a CSV or Excel (.xlsx) file")
        data = await upload.read(roll_csv.MAX_BYTES + 1)
        rows = await asyncio.to_thread(roll_xlsx.read_file, data, kind, upload.filename or "")
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
        council = await asyncio.to_thread(app.get_council, code)
        members = {m.member_id for m in council.members}
        plan = roll_csv.plan_households(code, households, rows, members)
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


def _csv(data: bytes, name: str, media_type: str = "text/csv; charset=utf-8") -> Response:
    return Response(
        data,
        media_type=media_type,
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


@router.get("/households.xlsx")
async def export_households_xlsx(request: Request, caller: AppCaller) -> Response:
    """The households as an Excel workbook (the same columns as the CSV file)."""
    authorize(caller, Action.EXPORT, caller.council)
    households = await asyncio.to_thread(
        roll_csv.list_households, governance(request), caller.council
    )
    data = await asyncio.to_thread(roll_xlsx.households_xlsx, households)
    name = f"{caller.council}-households.xlsx"
    return _csv(data, name, roll_xlsx.MEDIA_TYPE)


@router.get("/members")
@router.get("/households")
@router.get("/threshold")
@router.get("/import")
@router.get("/members/{member_id}/remove")
async def form_address(request: Request, caller: AppCaller) -> Response:
    return back_to(request, "/app/roll")
