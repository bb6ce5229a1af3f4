"""What every request passes before a route sees it, as plain ASGI middleware (no per-request
task group or memory streams: a ballot without a key passes straight through).

- A write that carries a body, and every POST with an Idempotency-Key, is authenticated here
  first: no byte of a body is read for a caller without a valid token, and no earlier answer
  is replayed to one. The route gets the caller checked here (:func:`checked_principal`).
- A declared length over the limit is refused before reading; a streamed body is read no
  further than the limit (413 ``input.too_large``). The limit is 1 MiB, and the evidence
  upload's own on the upload routes only (:data:`UPLOADS`).
- A POST with an Idempotency-Key (1 to 255 visible ASCII characters, else 400
  ``idempotency.key_invalid``) reserves the key before it acts: of several copies only one
  acts, the others get ``idempotency.in_progress`` (409) or, once it answered, its answer
  (for ``KEEP_ANSWERS``, a day). A 4xx refusal releases the key (nothing happened), so a retry
  may act. A 5xx (a 504 ``workflow.timeout`` too) or a failure may come after the command took
  effect: the key stays held and copies get ``idempotency.outcome_unknown`` (409) until it
  goes stale (``STALE_AFTER``). A success sent with ``Cache-Control: no-store`` (its answer
  carries a secret shown once: a token, a webhook secret) is not kept: copies get 409
  ``idempotency.not_replayable`` instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import anyio
from fastapi.concurrency import run_in_threadpool
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govflow.application import Governance
from govflow.application.idempotency import (
    IdempotencyNotReplayableError,
    Replay,
    Reservation,
)
from govflow.domain.errors import AuthenticationError, GovflowError
from govflow.domain.idempotency import IdempotencyKeyInvalidError, check_key
from govflow.domain.policy import Principal
from govflow.entrypoints.app.session import (
    APP_PREFIX,
    SignInRequiredError,
    cookie_token,
    is_public_write,
)
from govflow.entrypoints.deps import CHECKED_PRINCIPAL
from govflow.entrypoints.routes.meetings import EVIDENCE_ROUTE

PROBLEM = "application/problem+json"
MAX_BODY = 1024 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STREAMED_METHODS = frozenset({"POST", "PUT", "PATCH"})  # a body without a length is streamed
# Where a body may be as large as the evidence limit: the API's evidence upload, and the app's
# scanned sign-in sheet and progress photos (phone photos are several MB).
UPLOADS: tuple[tuple[str, str], ...] = (
    ("PUT", EVIDENCE_ROUTE),
    ("POST", "/app/meetings/{number}/evidence"),
    ("POST", "/app/items/{number}/progress"),
)


class BodyTooLargeError(GovflowError):
    code = "input.too_large"
    status = 413


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://govflow.dev/errors/{code}",
        "title": code,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def caller_of(principal: Principal) -> str:
    """Whose Idempotency-Keys these are: one enrolment of a member, or one integration (a key
    is the caller's own; another token of the same holder shares them)."""
    return f"{principal.council}/{principal.kind.value}/{principal.holder}/{principal.enrolment}"


def request_digest(method: str, target: str, body: bytes) -> str:
    """What makes a retry the same request: method, path and query, and the body."""
    return hashlib.sha256(f"{method} {target}\n".encode() + body).hexdigest()


def route_pattern(template: str) -> re.Pattern[str]:
    """The paths a route template matches (``{name}`` is one path segment)."""
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


class BodyGuard:
    """Authentication before a body, body limits, and Idempotency-Key (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        governance: Governance,
        evidence_limit: int,
        uploads: tuple[tuple[str, str], ...] = UPLOADS,
    ) -> None:
        self.app = app
        self.governance = governance
        self.evidence_limit = evidence_limit
        self.uploads = tuple((method, route_pattern(route)) for method, route in uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers: dict[str, str] = {}
        keys: list[str] = []
        for name, value in scope["headers"]:
            headers[name.decode("latin-1")] = text = value.decode("latin-1")
            if name == b"idempotency-key":
                keys.append(text)
        evidence = any(
            method == verb and route.fullmatch(scope["path"]) for verb, route in self.uploads
        )
        limit = self.evidence_limit if evidence else MAX_BODY
        held: tuple[Reservation, bytes] | None = None
        try:
            key = _idempotency_key(method, keys)
            declared = _declared_length(headers, limit)
            streamed = declared is None and (
                "transfer-encoding" in headers or method in STREAMED_METHODS
            )
            if streamed or declared:
                receive = _limited(receive, limit)
            writes = method not in SAFE_METHODS and (streamed or declared)
            if key is not None or (writes and not is_public_write(scope["path"])):
                principal = await self._authenticate(headers, scope)
                state = {**scope.get("state", {}), CHECKED_PRINCIPAL: principal}
                scope = {**scope, "state": state}
                if key is not None:
                    held = await self._reserve(scope, receive, send, caller_of(principal), key)
                    if held is None:
                        return  # answered already, or the client is gone
            if key is None and streamed and method not in SAFE_METHODS and not evidence:
                # Read here (to the limit) rather than in the route, where a body cut off at
                # the limit would be taken for a malformed one.
                body = await _read(receive)
                if body is None:
                    return
                receive = _replaying(body)
        except GovflowError as refused:
            await _answer(send, refused)
            return
        if held is not None:
            await self._acting(scope, *held, send)
        else:
            await self.app(scope, receive, send)

    async def _authenticate(self, headers: dict[str, str], scope: Scope) -> Principal:
        authorization = headers.get("authorization")
        if authorization is None and scope["path"].startswith(APP_PREFIX):
            # The members' app: the session cookie is the credential (its forms' CSRF token
            # is checked by the route, with the form, against the same cookie).
            token = cookie_token(scope)
            if token is None:
                raise SignInRequiredError("sign in with the link the clerk gave you")
            return await run_in_threadpool(self.governance.authenticate, token)
        scheme, token = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and token) or scheme.lower() != "bearer":
            raise AuthenticationError("send Authorization: Bearer <token>")
        return await run_in_threadpool(self.governance.authenticate, token)

    async def _reserve(
        self, scope: Scope, receive: Receive, send: Send, caller: str, key: str
    ) -> tuple[Reservation, bytes] | None:
        """Read the body and reserve the key for it: the reservation and the body to act
        on, or None once the first answer is replayed (or the client left)."""
        body = await _read(receive)
        if body is None:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{scope['path']}?{query}" if query else scope["path"]
        digest = request_digest(scope["method"], target, body)
        outcome = await run_in_threadpool(self.governance.reserve_request, caller, key, digest)
        if isinstance(outcome, Replay):
            kind = PROBLEM if outcome.status >= 400 else "application/json"
            headers = [(b"content-type", kind.encode()), (b"idempotent-replayed", b"true")]
            await _send(send, outcome.status, outcome.body.encode(), headers)
            return None
        return outcome, body

    async def _acting(self, scope: Scope, held: Reservation, body: bytes, send: Send) -> None:
        """Run the request holding ``held``: keep a success's answer (or, for one not to be
        stored, that it succeeded), release the key on a refusal, and hold it as outcome
        unknown on a server error or a failure."""
        app = self.governance
        started: dict[str, Any] = {}
        content: list[bytes] = []
        answered = False

        async def capture(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                started.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            content.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, answer = started["status"], b"".join(content)
            answered = True
            if 200 <= status < 300 and _no_store(started.get("headers", [])):
                kept = _not_replayable(status)
                await run_in_threadpool(app.keep_answer, held, kept.status, kept.body)
            elif 200 <= status < 300:
                await run_in_threadpool(app.keep_answer, held, status, answer.decode())
            elif 400 <= status < 500:  # a refusal leaves no event: a retry may succeed
                await run_in_threadpool(app.release_request, held)
            else:  # may have come after the command took effect: a copy must not act again
                await run_in_threadpool(app.outcome_unknown, held)
            await send(started)
            await send({"type": "http.response.body", "body": answer})

        try:
            await self.app(scope, _replaying(body), capture)
        finally:
            if not answered:  # failed or cancelled before answering: maybe after acting
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(app.outcome_unknown, held)


def _no_store(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an answer says ``Cache-Control: no-store``: it must not be kept anywhere."""
    return any(
        name.lower() == b"cache-control"
        and b"no-store" in (d.strip().lower() for d in value.split(b","))
        for name, value in headers
    )


def _not_replayable(status: int) -> Replay:
    """What is kept in place of a success whose answer carried a secret shown once."""
    refusal = IdempotencyNotReplayableError(
        "the first request succeeded; its answer carried a secret shown once",
        first_status=status,
    )
    problem = problem_body(refusal.status, refusal.code, refusal.message, details=refusal.details)
    return Replay(refusal.status, json.dumps(problem))


def _idempotency_key(method: str, keys: list[str]) -> str | None:
    """The POST's Idempotency-Key, if it sent one; refused unless it is one valid key."""
    if method != "POST" or not keys:
        return None
    if len(keys) > 1:
        raise IdempotencyKeyInvalidError("send one Idempotency-Key")
    check_key(keys[0])
    return keys[0]


def _declared_length(headers: dict[str, str], limit: int) -> int | None:
    """The Content-Length, if one is sent; refused when over ``limit`` (or not a length)."""
    length = headers.get("content-length")
    if length is None:
        return None
    if not (length.isascii() and length.isdigit()) or len(length) > 19 or int(length) > limit:
        raise BodyTooLargeError(f"the body is limited to {limit} bytes")
    return int(length)


def _limited(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that refuses to hand over more than ``limit`` bytes of body."""
    size = 0

    async def limited() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise BodyTooLargeError(f"the body is limited to {limit} bytes")
        return message

    return limited


async def _read(receive: Receive) -> bytes | None:
    """The whole body (``receive`` stops it at the limit), or None if the client left."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    """A ``receive`` that hands over ``body`` once, then reports the client gone."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(send: Send, error: GovflowError) -> None:
    problem = problem_body(error.status, error.code, error.message, details=error.details)
    body = json.dumps(problem).encode()
    await _send(send, error.status, body, [(b"content-type", PROBLEM.encode())])
