"""What the roll pages show (``/app/roll``): members, households (to those who may export the
roll) and the threshold, with the clerk's forms; a member's page to change or remove them.
Shown again, with the refusal and what was filled in, after a refused form (:mod:`.roll`
holds the routes, forms, import and export).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from govflow.application import roll_csv
from govflow.domain.council import Body
from govflow.domain.money import format_yuan
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.acting import allows, form_page, governance
from govflow.entrypoints.app.render import Words, lang_of

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
        "co_owners": "其他共有人编号（用 ; 分隔）",
        "joint_owners": "共有人：",
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
        "import": "从表格导入（CSV 或 Excel）",
        "import_kind": "导入内容",
        "import_file": "选择 CSV 或 Excel（.xlsx）文件",
        "import_button": "导入",
        "import_rule": (
            "每一行单独办理：有问题的行不导入并在结果中列出（行号、内容、原因），其余的行照常导入。"
            "改正后可以重新导入整个文件，已在名册中的行显示为“无变化”，不会重复登记。"
        ),
        "import_format_members": (
            "成员文件的列：member_id,name,roles,bodies,chairs（多项用分号 ; 分隔）"
        ),
        "import_format_households": (
            "住户文件的列：unit,exclusive_area,owner_id,co_owners,bodies"
            "（owner_id 为代表共有人投票的业主，co_owners 为其他共有人，用 ; 分隔）"
        ),
        "import_limit": "文件最大 512 KB，最多 2000 行；UTF-8 或 Excel 默认的中文编码均可。",
        "export": "导出（CSV，可用 Excel 打开）",
        "export_members": "导出成员",
        "export_households": "导出住户",
        "export_households_xlsx": "导出住户（Excel）",
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
        "co_owners": "Other joint owners' ids (separated by ;)",
        "joint_owners": "joint owners: ",
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
        "import": "Import from a spreadsheet (CSV or Excel)",
        "import_kind": "What the file holds",
        "import_file": "CSV or Excel (.xlsx) file",
        "import_button": "Import",
        "import_rule": (
            "Each row is handled on its own: rows with a problem are not imported and are "
            "listed (line, value, why); the other rows are imported. Fix them and import the "
            "whole file again: rows already on the roll show as unchanged, nothing is doubled."
        ),
        "import_format_members": (
            "Members file columns: member_id,name,roles,bodies,chairs (lists separated by ;)"
        ),
        "import_format_households": (
            "Households file columns: unit,exclusive_area,owner_id,co_owners,bodies (owner_id "
            "votes for the unit's joint owners; co_owners: the others, separated by ;)"
        ),
        "import_limit": "At most 512 KB and 2000 rows; UTF-8 or Excel's Chinese encoding.",
        "export": "Export (CSV, opens in Excel)",
        "export_members": "Export members",
        "export_households": "Export households",
        "export_households_xlsx": "Export households (Excel)",
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

ROLES = tuple(roll_csv.ROLE_NAMES)
BODIES = tuple(Body)


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
