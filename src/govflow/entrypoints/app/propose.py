"""Proposing an item (提出议题): choose the procedure from plain descriptions, give a title.

The app picks the next free item number (and the next again if someone took it meanwhile);
the door records the proposal and starts its workflow.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from govflow.application import commands as c
from govflow.domain.errors import AlreadyExistsError, GovflowError
from govflow.domain.policy import Action
from govflow.domain.procedure import Procedure
from govflow.entrypoints.app.acting import allows, door_of, governance, refusal
from govflow.entrypoints.app.item_read import title_in
from govflow.entrypoints.app.render import Words, lang_of, page
from govflow.entrypoints.app.session import AppCaller, Form, csrf
from govflow.entrypoints.board import plain, plain_reason

router = APIRouter(prefix="/app", include_in_schema=False)
ATTEMPTS = 5  # numbers tried when others propose at the same moment

WORDS: Words = {
    "zh": {
        "propose": "提出议题",
        "procedure_legend": "选择议事程序",
        "stages": "步骤",
        "spending": "（用于大额支出：须填写支出编号）",
        "title": "标题",
        "description": "说明（可选）",
        "spending_number": "支出编号（仅大额支出程序需要）",
        "submit": "提出",
        "problem": "未能提出：",
        "not_allowed": "您不能在本会提出议题。",
        "no_procedures": "没有可用的议事程序。",
    },
    "en": {
        "propose": "Propose an item",
        "procedure_legend": "Choose the procedure",
        "stages": "Steps",
        "spending": "(for major spending: give the spending number)",
        "title": "Title",
        "description": "Description (optional)",
        "spending_number": "Spending number (major-spending procedure only)",
        "submit": "Propose",
        "problem": "Not proposed: ",
        "not_allowed": "You may not propose items in this council.",
        "no_procedures": "No procedure is available.",
    },
}


def choices(procedures: list[Procedure], lang: str) -> list[dict[str, Any]]:
    """The newest version of each procedure, described by its title and its steps."""
    newest: dict[str, Procedure] = {}
    for procedure in procedures:
        if procedure.name not in newest or procedure.version > newest[procedure.name].version:
            newest[procedure.name] = procedure
    return [
        {
            "name": p.name,
            "title": title_in(p.title, lang),
            "steps": " → ".join(
                plain_reason(s.title, lang) if lang == "zh" else plain(s.kind.value, lang)
                for s in p.stages
            ),
            "spending": p.applies_to == "spending",
        }
        for p in newest.values()
    ]


def _form_page(
    request: Request, caller: Any, *, problem: str | None = None, status: int = 200,
    filled: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    library = door_of(request).procedures
    return page(
        request,
        "app/propose.html",
        WORDS,
        status=status,
        caller=caller,
        csrf=csrf(request),
        procedures=choices(library.all() if library else [], lang_of(request)),
        allowed=allows(caller, Action.PROPOSE, caller.council),
        problem=problem,
        filled=filled or {},
    )


@router.get("/propose")
async def propose_form(request: Request, caller: AppCaller) -> HTMLResponse:
    return _form_page(request, caller)


@router.post("/propose")
async def propose(request: Request, caller: AppCaller, form: Form) -> Response:
    app = governance(request)
    door = door_of(request)
    spending = form.get("spending_number", "").strip()
    lang = lang_of(request)
    for _ in range(ATTEMPTS):
        rows = await run_in_threadpool(app.list_issues, caller.council)
        number = max((r.number for r in rows), default=0) + 1
        try:
            command = c.ProposeIssue(
                council=caller.council,
                number=number,
                title=form.get("title", "").strip(),
                procedure=form.get("procedure", ""),
                description=form.get("description", ""),
                spending_number=int(spending) if spending.isdigit() else (spending or None),
            )
            await door.handle(command, caller)
        except AlreadyExistsError:
            continue  # someone took the number meanwhile: the next one
        except (GovflowError, ValidationError) as error:
            problem, status = refusal(error, lang)
            return _form_page(request, caller, problem=problem, status=status, filled=form)
        return RedirectResponse(f"/app/items/{number}?done=proposed", status_code=303)
    problem, status = refusal(AlreadyExistsError("every number tried was taken"), lang)
    return _form_page(request, caller, problem=problem, status=status, filled=form)
