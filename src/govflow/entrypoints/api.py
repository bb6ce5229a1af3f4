"""The HTTP API: ``/v1`` with OpenAPI at ``/openapi.json`` and ``/docs``.

Every call needs a bearer token; every write is a command handed to the command door
(:mod:`govflow.orchestration.door`), which asks the policy (:mod:`govflow.domain.policy`).
The routes are in :mod:`govflow.entrypoints.routes`, one module per resource, with their
dependencies from :mod:`govflow.entrypoints.deps`; this module only wires them, with the error
mapping, the body limit and Idempotency-Key. The public board is mounted at ``/board``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route

from govflow.application import Governance
from govflow.application.evidence_store import DirectoryEvidence, EvidenceStore
from govflow.application.oidc import OidcConfig
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.errors import GovflowError
from govflow.entrypoints.app import ROUTERS as APP_ROUTERS
from govflow.entrypoints.app.session import APP_PREFIX
from govflow.entrypoints.app.signin import sign_in_required
from govflow.entrypoints.ballot_box import BallotBox
from govflow.entrypoints.board import board_root, create_board
from govflow.entrypoints.guard import PROBLEM, BodyGuard, problem_body
from govflow.entrypoints.openapi_links import add_links
from govflow.entrypoints.routes import (
    assemblies,
    audit,
    funds,
    grids,
    issues,
    lists,
    log,
    me,
    meetings,
    ops,
    orders,
    ratings,
    roll,
    spending,
    webhooks,
)
from govflow.entrypoints.routes.meetings import MAX_EVIDENCE
from govflow.orchestration.client import IssueClient
from govflow.orchestration.door import CommandDoor
from govflow.transparency import Verifier

ROUTERS: tuple[APIRouter, ...] = (
    ops.router,
    me.router,
    roll.router,
    issues.router,
    assemblies.router,
    meetings.router,
    spending.router,
    ratings.router,
    funds.router,
    orders.router,
    grids.router,
    lists.router,
    webhooks.router,
    audit.router,
    log.router,
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

# Swagger UI and ReDoc come from the fastapi-offline wheel (swagger-ui-dist 5, redoc 2
# standalone), served here: /docs and /redoc need no CDN.
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS_URL = "/static/docs"
DOCS_CSP = "img-src 'self' data: blob:; font-src 'self' data:"

# Error pages of the board and the app: HTML in the page's language (Chinese unless ?lang=en).
ERROR_TEXT: dict[str, dict[int | str, tuple[str, str]]] = {
    "zh": {
        404: ("找不到此页面", "您要找的页面不存在，或者地址有误。"),
        405: ("不支持此操作", "此页面不能以这种方式打开。"),
        422: ("地址有误", "地址中的参数不正确，请检查后重试。"),
        "other": ("出错了", "服务器无法完成此请求，请稍后再试。"),
        "back": ("返回公示栏", ""),
        "switch": ("English", ""),
        "status": ("状态码：", ""),
    },
    "en": {
        404: (
            "Page not found",
            "The page you are looking for does not exist, or the address is wrong.",
        ),
        405: ("Not allowed", "This page cannot be opened this way."),
        422: (
            "Invalid address",
            "A parameter in the address is not valid; check it and try again.",
        ),
        "other": ("Something went wrong", "The server could not complete this request."),
        "back": ("Back to the board", ""),
        "switch": ("中文", ""),
        "status": ("Status: ", ""),
    },
}
_PAGES = Environment(
    loader=PackageLoader("govflow.entrypoints", "templates"),
    autoescape=select_autoescape(["html"]),
)


def _wants_html(request: Request) -> bool:
    """The board's and the app's pages (not their ``.json`` or ``.atom`` lists) answer errors
    as HTML; everything else (``/v1``, health, OpenAPI) as problem+json."""
    path = request.url.path
    if path.endswith((".json", ".atom")):
        return False
    return path == "/" or any(path == p or path.startswith(p + "/") for p in ("/board", "/app"))


def _error_page(
    request: Request, status: int, headers: dict[str, str] | None = None
) -> HTMLResponse:
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    text = ERROR_TEXT[lang]
    title, explanation = text.get(status, text["other"])
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    if lang == "zh":
        query.append(("lang", "en"))
    switch = request.url.path + ("?" + urlencode(query) if query else "")
    html = _PAGES.get_template("error.html").render(
        lang=lang,
        status=status,
        title=title,
        explanation=explanation,
        back=text["back"][0],
        back_url="/board/?lang=en" if lang == "en" else "/board/",
        switch=switch,
        switch_text=text["switch"][0],
        status_label=text["status"][0],
    )
    return HTMLResponse(html, status_code=status, headers=headers)


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


def _offline_docs(api: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their scripts, styles and icon served from
    :data:`DOCS_ASSETS` at :data:`DOCS_ASSETS_URL`: no asset from another host (nor Google
    Fonts), so both work without internet. Swagger UI's online validator badge is off, and
    both pages forbid images from other hosts (ReDoc's bundle hard-codes Redocly's logo)."""
    api.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url = api.openapi_url or "/openapi.json"

    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None, **(api.swagger_ui_parameters or {})},
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{api.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    api.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    api.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def create_api(
    app: Governance,
    issues: IssueClient | None = None,
    procedures: ProcedureLibrary | None = None,
    *,
    evidence: EvidenceStore | None = None,
    evidence_dir: Path | None = None,
    demo: bool = False,
    public_url: str = DEFAULT_PUBLIC_URL,
    oidc: OidcConfig | None = None,
    log_witnesses: Sequence[Verifier] = (),
    log_public_key: str | None = None,
    log_min_witnesses: int = 0,
) -> FastAPI:
    """The API over one Governance (and, for workflows, a Temporal client): every write goes
    through one :class:`~govflow.orchestration.door.CommandDoor`. Uploaded files (meeting
    evidence, 委托书 scans) are kept by sha256 in ``evidence`` (or a directory,
    ``evidence_dir``; neither: none are kept); ``demo`` allows fast-forwarding items' clocks.
    ``public_url`` is where readers reach this server: absolute links (the board's Atom feeds)
    are built on it, never on the request's ``Host``. ``oidc``: sign-in with the city's
    identity provider (unset: invitation links only). ``log_witnesses``: the witnesses whose
    cosignatures of the log's checkpoints are kept; ``log_public_key``: the log's key, shown on
    the board; ``log_min_witnesses``: how many of them make a checkpoint witnessed."""
    api = FastAPI(
        title="govflow",
        version="0.1.0",
        description=DESCRIPTION,
        responses=PROBLEM_RESPONSES,
        docs_url=None,
        redoc_url=None,
    )
    api.state.governance = app
    api.state.door = CommandDoor(app, issues, procedures, demo=demo)
    if evidence is None and evidence_dir is not None:
        evidence = DirectoryEvidence(evidence_dir)
    api.state.evidence = evidence
    api.state.demo = demo
    api.state.public_url = public_url.rstrip("/")
    api.state.oidc = oidc
    api.state.log_witnesses = tuple(log_witnesses)
    api.state.log_public_key = log_public_key
    api.state.log_min_witnesses = log_min_witnesses

    @api.exception_handler(GovflowError)
    async def _domain_error(request: Request, error: GovflowError) -> Response:
        if error.status == 401 and request.url.path.startswith(APP_PREFIX):
            return sign_in_required(request)  # no working session: how to sign in
        if _wants_html(request):
            return _error_page(request, error.status)
        return _problem(error.status, error.code, error.message, details=error.details)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = {400: "input.malformed", 404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "http.error"
        )
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed(request)
        if _wants_html(request):
            return _error_page(request, error.status_code, headers=headers)
        return _problem(error.status_code, code, str(error.detail), headers=headers)

    @api.exception_handler(RequestValidationError)
    @api.exception_handler(ValidationError)  # a command refused by its own model
    async def _invalid(
        request: Request, error: RequestValidationError | ValidationError
    ) -> Response:
        if _wants_html(request):
            return _error_page(request, 422)
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
    board = create_board(app, demo=demo, procedures=procedures)
    for router in (*ROUTERS, board, *APP_ROUTERS):
        api.include_router(router)
    api.add_api_route("/", board_root, include_in_schema=False)
    _offline_docs(api)
    _with_links(api)
    api.state.methods_by_path = _methods_by_path(
        [
            *api.router.routes,
            *(route for router in (*ROUTERS, board, *APP_ROUTERS) for route in router.routes),
        ]
    )
    return api
