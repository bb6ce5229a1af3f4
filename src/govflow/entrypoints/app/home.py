"""The app's front page: what the signed-in person may do now (placeholder until my tasks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from govflow.entrypoints.app.render import page
from govflow.entrypoints.app.session import AppCaller

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/")
async def home(request: Request, caller: AppCaller) -> HTMLResponse:
    return page(request, "app/home.html", caller=caller)
