"""Who is using the app: a session cookie holding a person's token, and CSRF tokens on forms.

A session is an access token of a person (the same principal and policy as the API), kept in
an HttpOnly, SameSite=Lax cookie (``Secure`` in production). Every form carries a CSRF token
derived from the session's secret (``csrf_of``): another site can make the browser send the
cookie, but cannot read it nor the token, so :func:`checked_form` refuses its POSTs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import Scope

from govflow.application import Governance
from govflow.domain.errors import AuthenticationError, ForbiddenError
from govflow.domain.policy import Principal
from govflow.entrypoints.deps import CHECKED_PRINCIPAL

SESSION_COOKIE = "gf_session"
CSRF_FIELD = "csrf"
APP_PREFIX = "/app/"
# Forms posted without a session (signing in): the guard lets them through unauthenticated.
PUBLIC_WRITES: tuple[str, ...] = ("/app/sign-in",)
# Witnesses post cosignatures without a token: the log keeps only those by the witnesses its
# settings name (routes/log.py).
PUBLIC_WRITE_ROUTES = re.compile(r"/v1/log/checkpoints/[0-9]+/cosignatures")


class CsrfError(ForbiddenError):
    code = "csrf.invalid"


class SignInRequiredError(AuthenticationError):
    code = "session.required"


def session_token(request: HTTPConnection) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def cookie_token(scope: Scope) -> str | None:
    """The session token of a request not routed yet (for the guard), read exactly as the
    route reads it (:func:`session_token`): the session that authenticates a form must be
    the one its CSRF token is checked against, whatever other ``gf_session`` cookies a
    same-site page planted beside it."""
    return session_token(HTTPConnection(scope))


def is_public_write(path: str) -> bool:
    return PUBLIC_WRITE_ROUTES.fullmatch(path) is not None or any(
        path == p or path.startswith(p + "/") for p in PUBLIC_WRITES
    )


def csrf_of(token: str) -> str:
    """The CSRF token of a session: a one-way function of its secret (nothing to store)."""
    return hashlib.sha256(b"govflow-csrf\x00" + token.encode()).hexdigest()[:40]


async def app_principal(request: Request) -> Principal:
    """The person signed in to the app, as the council's record says now."""
    checked: Principal | None = request.scope.get("state", {}).get(CHECKED_PRINCIPAL)
    if checked is not None:
        return checked
    token = session_token(request)
    if token is None:
        raise SignInRequiredError("sign in with the link the clerk gave you")
    app: Governance = request.app.state.governance
    return await run_in_threadpool(app.authenticate, token)


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, once its CSRF token matches the session's (else 403
    ``csrf.invalid``). Repeated fields keep their last value; use :func:`checked_multi` for
    lists."""
    form = await request.form()
    token = session_token(request)
    sent = form.get(CSRF_FIELD)
    if token is None or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_of(token)):
        raise CsrfError("the form has expired: open the page again and resubmit")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def csrf(request: Request) -> str:
    """The CSRF token for the forms of this page."""
    token = session_token(request)
    return csrf_of(token) if token else ""


AppCaller = Annotated[Principal, Depends(app_principal)]
Form = Annotated[dict[str, str], Depends(checked_form)]
