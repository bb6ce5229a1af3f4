"""Restart the Temporal server (persistent database) in the middle of an item: it carries on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice
from govflow.orchestration import messages as m
from govflow.orchestration.client import IssueClient, connect
from govflow.orchestration.devserver import start_dev_server
from govflow.orchestration.worker import build_worker
from tests.conftest import postgres_env
from tests.orchestration.conftest import CHAIR, COUNCIL, EVERYONE, WORKFLOWS, enroll_council

pytestmark = pytest.mark.asyncio(loop_scope="session")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def status_until(
    issues: IssueClient, predicate: Callable[[m.Status], bool], timeout: float = 60
) -> m.Status:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            status = await issues.status(COUNCIL, 50)
            if predicate(status):
                return status
        except Exception:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def event_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "e.db"),
        }
    return postgres_env(request.getfixturevalue("postgres_db"))


async def test_the_item_survives_a_temporal_server_restart(
    tmp_path: Path, event_store: dict[str, str]
) -> None:
    """Stop the dev server while voting is open, start it on the same database, finish (with
    the events on SQLite, and on PostgreSQL)."""
    port = free_port()
    db = tmp_path / "temporal.db"
    app = Governance(event_store)
    enroll_council(app)
    procedure = ProcedureLibrary(WORKFLOWS).get("residents-assembly")
    app.propose_issue(COUNCIL, 50, "重启演练", procedure, actor=CHAIR)

    server = start_dev_server(db, port=port, ui_port=None)
    try:
        client = await connect(server.address)
        issues = IssueClient(client, app, task_queue="restart")
        async with build_worker(client, app, task_queue="restart"):
            await issues.start(COUNCIL, 50, procedure)
            await status_until(issues, lambda s: s.stage == "public_deliberation")
            await issues.close_stage(COUNCIL, 50, CHAIR)
            await status_until(issues, lambda s: s.ballot_key == "resolve#1")
            for voter in EVERYONE[:3]:
                await issues.cast_ballot(COUNCIL, 50, voter, Choice.YES)
        server.stop()
        server = start_dev_server(db, port=port, ui_port=None)
        client = await connect(server.address)
        issues = IssueClient(client, app, task_queue="restart")
        async with build_worker(client, app, task_queue="restart"):
            assert (await issues.status(COUNCIL, 50)).ballot_key == "resolve#1"
            for voter in EVERYONE[3:]:
                await issues.cast_ballot(COUNCIL, 50, voter, Choice.YES)
            await status_until(issues, lambda s: s.stage == "publish_resolution")
    finally:
        server.stop()
    tally = app.get_tally(COUNCIL, 50, "resolve#1")
    assert (tally.yes, tally.participating, tally.passed) == (7, 7, True)
    app.close()
