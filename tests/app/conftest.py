"""The members' app under test: a person signed in is an httpx client carrying a session
cookie; their forms carry the session's CSRF token.

``people`` serves the app over the real stack (Temporal dev server, SQLite store); ``roll_people``
over a store alone, for pages that need no workflow (the roll, sign-in, sessions).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from govflow.application import Governance
from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.session import CSRF_FIELD, SESSION_COOKIE, csrf_of
from tests.orchestration.conftest import COUNCIL, Stack, enroll_council, env, stack

__all__ = ["COUNCIL", "Person", "env", "stack"]


@dataclass
class Person:
    """One signed-in person of the app."""

    member_id: str
    token: str
    client: httpx.AsyncClient

    @property
    def csrf(self) -> str:
        return csrf_of(self.token)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def submit(self, path: str, files: Any = None, **fields: Any) -> httpx.Response:
        """Post a form as the page would (with the CSRF token), without following redirects."""
        data = {CSRF_FIELD: self.csrf, **fields}
        return await self.client.post(path, data=data, files=files)


SignIn = Callable[[str], Awaitable[Person]]


async def _people(api: Any, app: Governance) -> AsyncIterator[SignIn]:
    clients: list[httpx.AsyncClient] = []
    transport = httpx.ASGITransport(app=api)

    async def sign_in(member_id: str) -> Person:
        token = app.issue_token(COUNCIL, member_id, actor="clerk")
        client = httpx.AsyncClient(transport=transport, base_url="http://govflow")
        client.cookies.set(SESSION_COOKIE, token)
        clients.append(client)
        return Person(member_id, token, client)

    yield sign_in
    for client in clients:
        await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def people(stack: Stack, tmp_path: Path) -> AsyncIterator[SignIn]:
    """Sign in any member of the test council (see ``enroll_council``) on the whole stack."""
    api = create_api(stack.app, stack.issues, stack.procedures, evidence_dir=tmp_path / "evidence")
    async for sign_in in _people(api, stack.app):
        yield sign_in


@pytest_asyncio.fixture(loop_scope="session")
async def roll_people(tmp_path: Path) -> AsyncIterator[tuple[Governance, SignIn]]:
    """The app over a SQLite store without workflows; the council of ``enroll_council`` plus
    its clerk ``k1``."""
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    api = create_api(app, evidence_dir=tmp_path / "evidence")
    async for sign_in in _people(api, app):
        yield app, sign_in
    app.close()
