"""The body limit and Idempotency-Key, as plain ASGI middleware (no per-request task group or
memory streams: a ballot without a key passes straight through)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govflow.application import Governance
from govflow.domain.errors import GovflowError

PROBLEM = "application/problem+json"
MAX_BODY = 1024 * 1024


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://govflow.dev/errors/{code}",
        "title": code,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


class BodyGuard:
    """Refuse oversized bodies before reading them (the evidence route checks its own limit as
    it reads); a POST retried with the same Idempotency-Key gets the first answer back."""

    def __init__(self, app: ASGIApp, governance: Governance, evidence_limit: int) -> None:
        self.app = app
        self.governance = governance
        self.evidence_limit = evidence_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        limit = self.evidence_limit if "/evidence/" in scope["path"] else MAX_BODY
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, "input.too_large", f"the body is limited to {limit} bytes")
            return
        key = headers.get("idempotency-key")
        if length is None and scope["method"] in ("POST", "PUT", "PATCH") and limit == MAX_BODY:
            # A streamed (chunked) body has no length to check: read it here, up to the limit.
            body = await _read(receive, limit)
            if body is None:
                await _answer(send, 413, "input.too_large", f"the body is limited to {limit} bytes")
                return
            receive = _replaying(body)
        if scope["method"] != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        await self._idempotent(scope, receive, send, headers, key)

    async def _idempotent(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], key: str
    ) -> None:
        app = self.governance
        caller = hashlib.sha256(headers.get("authorization", "").encode()).hexdigest()
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        try:
            recalled = await run_in_threadpool(app.recall_response, caller, key, fingerprint)
        except GovflowError as error:
            await _answer(send, error.status, error.code, error.message)
            return
        if recalled is not None:
            status, text = recalled
            await _send(
                send,
                status,
                text.encode(),
                [(b"content-type", b"application/json"), (b"idempotent-replayed", b"true")],
            )
            return

        started: dict[str, Any] = {}
        content: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                content.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                status = started["status"]
                answer = b"".join(content)
                if 200 <= status < 300:  # refusals are not remembered: a retry may succeed
                    await run_in_threadpool(
                        lambda: app.remember_response(
                            caller, key, fingerprint, status=status, body=answer.decode(),
                            actor="api",
                        )
                    )  # fmt: skip
                await send(started)
                await send({"type": "http.response.body", "body": answer})

        await self.app(scope, _replaying(body), capture)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
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


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps(problem_body(status, code, detail)).encode()
    await _send(send, status, body, [(b"content-type", PROBLEM.encode())])
