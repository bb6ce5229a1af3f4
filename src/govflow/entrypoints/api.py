"""The HTTP API: ``/v1`` with OpenAPI at ``/openapi.json`` and ``/docs``.

Every call needs a bearer token; every write is a command handed to the command door
(:mod:`govflow.orchestration.door`), which asks the policy (:mod:`govflow.domain.policy`).
The routes are in :mod:`govflow.entrypoints.routes`, one module per resource, with their
dependencies from :mod:`govflow.entrypoints.deps`; this module only wires them, with the error
mapping, the body limit and Idempotency-Key. The public board is mounted at ``/board``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.errors import GovflowError
from govflow.entrypoints.ballot_box import BallotBox
from govflow.entrypoints.board import board_root, create_board
from govflow.entrypoints.guard import PROBLEM, BodyGuard, problem_body
from govflow.entrypoints.openapi_links import add_links
from govflow.entrypoints.routes import (
    audit,
    issues,
    lists,
    me,
    meetings,
    ops,
    roll,
    spending,
    webhooks,
)
from govflow.entrypoints.routes.meetings import MAX_EVIDENCE
from govflow.orchestration.client import IssueClient
from govflow.orchestration.door import CommandDoor

ROUTERS: tuple[APIRouter, ...] = (
    ops.router,
    me.router,
    roll.router,
    issues.router,
    meetings.router,
    spending.router,
    lists.router,
    webhooks.router,
    audit.router,
)
DESCRIPTION = """Event-sourced governance workflows for residents' councils.

Send `Authorization: Bearer <token>` (the clerk issues members' tokens with
`POST /v1/councils/{code}/tokens`). Reads of a council need a token of that council
(members, auditors, or integrations with the `read` scope); every write is a command decided by
one policy over the council's current record and attributed to the token's member or
integration. Errors are RFC 9457
problem+json with a stable `code`. POSTs accept `Idempotency-Key`. The public board is at
`/board/` and needs no token.
"""


class Problem(BaseModel):
    """An RFC 9457 problem document with govflow's stable error code."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    details: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "description": text,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, text in (
        (400, "The body cannot be parsed"),
        (401, "No valid token"),
        (403, "The token may not do this"),
        (404, "Not found"),
        (409, "Refused by a governance rule or the item's state"),
        (413, "The body is too large"),
        (422, "The request is not valid"),
    )
}


DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def _problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(status, code, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _methods_by_path(routes: Iterable[BaseRoute]) -> list[tuple[re.Pattern[str], set[str]]]:
    """Each route's path pattern and methods (a route has one method, so the 405 raised by the
    first route that matches a path names only its own)."""
    return [
        (route.path_regex, set(route.methods))
        for route in routes
        if isinstance(route, Route | APIRoute) and route.methods
    ]


def _allowed(request: Request) -> str:
    """The ``Allow`` header of a 405: every method some route answers at the request's path."""
    table: list[tuple[re.Pattern[str], set[str]]] = request.app.state.methods_by_path
    path = request.url.path
    return ", ".join(
        sorted({m for pattern, methods in table if pattern.match(path) for m in methods})
    )


def _with_links(api: FastAPI) -> None:
    """Serve FastAPI's OpenAPI document with the links between operations added (once)."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = add_links(generate())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def create_api(
    app: Governance,
    issues: IssueClient | None = None,
    procedures: ProcedureLibrary | None = None,
    *,
    evidence_dir: Path | None = None,
    demo: bool = False,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> FastAPI:
    """The API over one Governance (and, for workflows, a Temporal client): every write goes
    through one :class:`~govflow.orchestration.door.CommandDoor`. Meeting evidence is stored
    by sha256 under ``evidence_dir``; ``demo`` allows fast-forwarding items' clocks.
    ``public_url`` is where readers reach this server: absolute links (the board's Atom feeds)
    are built on it, never on the request's ``Host``."""
    api = FastAPI(
        title="govflow",
        version="0.1.0",
        description=DESCRIPTION,
        responses=PROBLEM_RESPONSES,
    )
    api.state.governance = app
    api.state.door = CommandDoor(app, issues, procedures, demo=demo)
    api.state.evidence_dir = evidence_dir
    api.state.demo = demo
    api.state.public_url = public_url.rstrip("/")

    @api.exception_handler(GovflowError)
    async def _domain_error(_: Request, error: GovflowError) -> JSONResponse:
        return _problem(error.status, error.code, error.message, details=error.details)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {400: "input.malformed", 404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "http.error"
        )
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed(request)
        return _problem(error.status_code, code, str(error.detail), headers=headers)

    @api.exception_handler(RequestValidationError)
    @api.exception_handler(ValidationError)  # a command refused by its own model
    async def _invalid(_: Request, error: RequestValidationError | ValidationError) -> JSONResponse:
        errors = error.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            # Not JSON at all (the schema never saw it): the README's 400, like any unparsable
            # body, not the 422 of JSON that does not fit.
            return _problem(
                400,
                "input.malformed",
                "the body is not valid JSON",
                errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in errors],
            )
        return _problem(
            422,
            "input.invalid",
            "the request is not valid",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in errors],
        )

    api.add_middleware(BodyGuard, governance=app, evidence_limit=MAX_EVIDENCE)
    api.add_middleware(BallotBox, door=api.state.door)  # outermost: simple ballots go no further
    board = create_board(app, demo=demo)
    for router in (*ROUTERS, board):
        api.include_router(router)
    api.add_api_route("/", board_root, include_in_schema=False)
    _with_links(api)
    api.state.methods_by_path = _methods_by_path(
        [*api.router.routes, *(route for router in (*ROUTERS, board) for route in router.routes)]
    )
    return api
