"""Kill -9 the worker in the middle of a voting window: nothing is lost, nothing doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice
from govflow.orchestration.client import IssueClient
from tests.conftest import postgres_env
from tests.orchestration.conftest import (
    CHAIR,
    COUNCIL,
    EVERYONE,
    WORKFLOWS,
    Stack,
    enroll_council,
)
from tests.processes import output_of, start_govflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).parents[2]


def start_worker(
    env: WorkflowEnvironment, store: dict[str, str], task_queue: str
) -> subprocess.Popen[str]:
    target = env.client.service_client.config.target_host
    environ = {
        **os.environ,
        "GOVFLOW_TEMPORAL_ADDRESS": target,
        "GOVFLOW_TASK_QUEUE": task_queue,
        "GOVFLOW_WORKFLOWS_DIR": str(WORKFLOWS),
        **store,
    }
    return start_govflow(["worker"], environ, "worker on task queue")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """The worker's GOVFLOW_* settings and the test's eventsourcing settings for one store."""
    if request.param == "sqlite":
        db = tmp_path / "events.db"
        return (
            {"GOVFLOW_PERSISTENCE": "sqlite", "GOVFLOW_SQLITE_PATH": str(db)},
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)},
        )
    dbname = request.getfixturevalue("postgres_db")
    return (
        {
            "GOVFLOW_PERSISTENCE": "postgres",
            "GOVFLOW_POSTGRES_DBNAME": dbname,
            "GOVFLOW_POSTGRES_HOST": "127.0.0.1",
            "GOVFLOW_POSTGRES_PORT": "5432",
            "GOVFLOW_POSTGRES_USER": "postgres",
            "GOVFLOW_POSTGRES_PASSWORD": "",
        },
        postgres_env(dbname),
    )


async def test_sigkill_during_voting_loses_and_duplicates_nothing(
    env: WorkflowEnvironment, crash_store: tuple[dict[str, str], dict[str, str]]
) -> None:
    """The restarted worker closes the vote at its deadline with every ballot counted once
    (on SQLite and on PostgreSQL)."""
    worker_store, store = crash_store
    app = Governance(store)
    enroll_council(app)
    kind = store["PERSISTENCE_MODULE"].rsplit(".", 1)[1]
    task_queue = f"crash-test-{kind}"
    number = 30 if kind == "sqlite" else 31  # one workflow id per run on the shared server
    issues = IssueClient(env.client, app, task_queue=task_queue)
    stack = Stack(env, app, issues, ProcedureLibrary(WORKFLOWS))
    procedure = stack.procedures.get("residents-assembly")
    app.propose_issue(COUNCIL, number, "垃圾分类亭选址", procedure, actor=CHAIR)

    worker = start_worker(env, worker_store, task_queue)
    try:
        handle = await issues.start(COUNCIL, number, procedure)
        await stack.at_stage(number, "public_deliberation")
        await issues.close_stage(COUNCIL, number, CHAIR)
        opened = await stack.until(number, lambda s: s.ballot_key == "resolve#1")
        for voter in EVERYONE[:3]:
            await issues.cast_ballot(COUNCIL, number, voter, Choice.YES)

        worker.send_signal(signal.SIGKILL)
        worker.wait()
        for voter in EVERYONE[3:5]:  # ballots go on being recorded while the worker is down
            await issues.cast_ballot(COUNCIL, number, voter, Choice.NO)
        forward = asyncio.create_task(env.fast_forward(handle, timedelta(days=8)))  # type: ignore[attr-defined]
        await asyncio.sleep(1)
        worker = start_worker(env, worker_store, task_queue)
        await asyncio.wait_for(forward, 60)
        await stack.until(number, lambda s: s.stage == "publish_resolution")
        await env.fast_forward(handle, timedelta(days=8))  # type: ignore[attr-defined]
        assert (await stack.result(handle)).outcome == "adopted"
    finally:
        worker.kill()
        worker.wait()
        print(output_of(worker))  # shown when the test fails

    history = app.get_history(app.issue(COUNCIL, number).id)
    topics = Counter(h.topic.rsplit(".", 1)[1] for h in history)
    assert topics["voting_opened"] == topics["voting_closed"] == topics["voting_tallied"] == 1
    steps = [h.data["step"] for h in history if h.data.get("step")]
    assert len(steps) == len(set(steps)), "an activity step was applied twice"
    closed = next(h for h in history if h.topic == "govflow.issue.voting_closed")
    assert closed.data["reason"] == "deadline"
    assert opened.deadline is not None  # closed on schedule, by the workflow's clock:
    assert timedelta(0) <= closed.timestamp - opened.deadline < timedelta(minutes=1)
    tally = app.get_tally(COUNCIL, number, "resolve#1")
    assert (tally.yes, tally.no, tally.participating, tally.passed) == (3, 2, 5, True)
    app.record_checkpoint()
    assert app.verify_audit_chain().ok
    app.close()
