"""The forms of an item's page that route it to a grid's (网格) service station or re-route it
to another's (the panel they sit in: :mod:`grid_panel`). The door decides who may."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from govflow.application import commands as c
from govflow.domain.policy import Principal
from govflow.entrypoints.app.acting import act
from govflow.entrypoints.app.items import render_item
from govflow.entrypoints.app.session import AppCaller, Form

router = APIRouter(prefix="/app/items/{number}", include_in_schema=False)


async def _act(
    request: Request, caller: Principal, number: int, build: Callable[[], c.Command], done: str
) -> Response:
    """Hand the command to the door (built inside, so a refused field shows as a refusal)."""

    async def again(problem: str, status: int) -> Response:
        return await render_item(request, caller, number, problem=problem, status_code=status)

    return await act(request, caller, build, done=f"/app/items/{number}", again=again, confirm=done)


@router.post("/route")
async def route(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.RouteIssue(council=caller.council, number=number, grid=form.get("grid", ""))

    return await _act(request, caller, number, build, "route")


@router.post("/reroute")
async def reroute(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.RerouteIssue(
            council=caller.council,
            number=number,
            grid=form.get("grid", ""),
            reason=form.get("reason", ""),
        )

    return await _act(request, caller, number, build, "reroute")
