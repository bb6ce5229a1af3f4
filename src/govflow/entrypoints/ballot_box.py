"""The ballot box: ballots taken straight off the HTTP connection and recorded together.

A ballot is the one write that arrives by the thousand at once. Through the full FastAPI stack
(routing, dependencies, validation, serialisation) and a thread hand-off each, a ballot costs
several times the save itself; here a plain ASGI middleware picks out the simplest, commonest
ballot request (``POST /v1/councils/{code}/issues/{number}/ballots`` with a bearer token and a
``{"choice": ...}`` body of a few bytes, without an Idempotency-Key) and hands it to one
thread that authenticates, asks the policy and records everything waiting in one transaction,
through the same :meth:`~govflow.orchestration.door.CommandDoor.cast_ballots` as the route.
Every other request, and any ballot request that is not exactly that (a bad body, another
content type, a missing token), goes on to the route, which answers it as always: this is a
shortcut to the same door, never a second set of rules.

The body is taken only when it is declared and at most ``MAX_BALLOT_BODY`` bytes: the server
has read that much off the socket already, so nothing is read on an unauthenticated caller's
behalf that a token check first would have spared.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import deque
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govflow.application import commands as c
from govflow.application.views import BallotReceipt
from govflow.domain.ballot import Choice
from govflow.domain.errors import GovflowError
from govflow.domain.policy import Principal
from govflow.entrypoints.guard import PROBLEM, problem_body
from govflow.orchestration.door import CommandDoor

logger = structlog.get_logger()

BALLOT_PATH = re.compile(r"/v1/councils/([A-Za-z0-9_-]{1,64})/issues/([1-9][0-9]{0,15})/ballots")
MAX_BALLOT_BODY = 256
BATCH = 64  # ballots recorded in one transaction at most
IDLE_SECONDS = 5.0  # the thread ends after this long without ballots (a new one starts)
CHOICES = frozenset(choice.value for choice in Choice)

Waiting = tuple[Principal | str, c.CastBallot, asyncio.AbstractEventLoop, asyncio.Future[Any]]


class BallotBox:
    """ASGI middleware: simple ballot requests to :class:`BallotRecorder`, the rest onwards."""

    def __init__(self, app: ASGIApp, door: CommandDoor) -> None:
        self.app = app
        self.door = door
        self.recorder = BallotRecorder(door)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        taken = await self._take(scope, receive) if scope["type"] == "http" else None
        if taken is None:
            await self.app(scope, receive, send)
            return
        if isinstance(taken, bytes):  # read, but not a simple ballot: the route answers it
            await self.app(scope, _replaying(taken, receive), send)
            return
        token, command = taken
        try:
            receipt = await self.door.counted(command, await self.recorder.cast(token, command))
        except GovflowError as refused:
            problem = problem_body(
                refused.status, refused.code, refused.message, details=refused.details
            )
            await _send(send, refused.status, orjson.dumps(problem), PROBLEM)
            return
        await _send(send, 201, receipt.model_dump_json().encode(), "application/json")

    async def _take(
        self, scope: Scope, receive: Receive
    ) -> tuple[str, c.CastBallot] | bytes | None:
        """The token and command of a simple ballot request; its body if it was read but is
        not one; None if the request is not a ballot at all (nothing read)."""
        if scope["method"] != "POST":
            return None
        found = BALLOT_PATH.fullmatch(scope["path"])
        if found is None:
            return None
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        authorization = headers.get(b"authorization", b"")
        if (
            not length.isdigit()
            or int(length) > MAX_BALLOT_BODY
            or b"transfer-encoding" in headers
            or b"idempotency-key" in headers
            or not authorization.startswith(b"Bearer ")
            or headers.get(b"content-type") != b"application/json"
        ):
            return None
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away
            chunk: bytes = message.get("body", b"")
            body += chunk
            more = message.get("more_body", False)
            if len(body) > MAX_BALLOT_BODY:
                return body
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if not (isinstance(parsed, dict) and parsed.keys() == {"choice"}):
            return body
        choice = parsed["choice"]
        if not isinstance(choice, str) or choice not in CHOICES:
            return body
        token = authorization[len(b"Bearer ") :].decode("latin-1").strip()
        if not token:
            return body
        code, number = found.group(1), int(found.group(2))
        if number > c.MAX_NUMBER:
            return body
        return token, c.CastBallot(council=code, number=number, choice=Choice(choice))


class BallotRecorder:
    """One thread that records waiting ballots in batches through the door; it starts with
    the first ballot and ends when none came for ``IDLE_SECONDS``."""

    def __init__(self, door: CommandDoor) -> None:
        self.door = door
        self._waiting: deque[Waiting] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._running = False

    async def cast(self, who: Principal | str, command: c.CastBallot) -> BallotReceipt:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting.append((who, command, loop, future))
            if self._running:
                self._wake.notify()
            else:
                self._running = True
                threading.Thread(target=self._run, name="ballot-box", daemon=True).start()
        outcome = await future
        if isinstance(outcome, GovflowError):
            raise outcome
        assert isinstance(outcome, BallotReceipt)
        return outcome

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._wake.wait(IDLE_SECONDS)
                if not self._waiting:
                    self._running = False
                    return
                batch = [self._waiting.popleft() for _ in range(min(BATCH, len(self._waiting)))]
            self._record(batch)

    def _record(self, batch: list[Waiting]) -> None:
        try:
            outcomes: list[Any] = self.door.cast_ballots([(who, cmd) for who, cmd, _, _ in batch])
        except Exception as error:  # the store failed: every caller gets the failure
            logger.exception("ballots_not_recorded", ballots=len(batch))
            for _, _, loop, future in batch:
                loop.call_soon_threadsafe(_settle_error, future, error)
            return
        for (_, _, loop, future), outcome in zip(batch, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, outcome)


def _settle(future: asyncio.Future[Any], outcome: Any) -> None:
    if not future.done():
        future.set_result(outcome)


def _settle_error(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _replaying(body: bytes, then: Receive) -> Receive:
    """A ``receive`` that hands over the body already read, then listens to the client."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive


async def _send(send: Send, status: int, body: bytes, media_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
