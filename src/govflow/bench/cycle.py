"""Full five-stage cycles per second on the embedded stack, against a bare Temporal workflow
running the same number of activities on the same dev server in the same run.

Each item: propose → deliberate (closed by the chair) → vote (one ballot, all voted) →
publish (display period skipped) → evaluate (window skipped) → closed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment
from temporalio.worker import Worker

# This module defines the bare workflow, so the sandbox re-imports it: the rest of govflow
# (structlog, rich ...) comes in as it is, not re-imported under the sandbox's restrictions.
with workflow.unsafe.imports_passed_through():
    from govflow.application import Governance
    from govflow.domain.ballot import Choice
    from govflow.domain.council import Body
    from govflow.domain.procedure import Procedure
    from govflow.orchestration.client import IssueClient
    from govflow.orchestration.devserver import temporal_binary
    from govflow.orchestration.worker import build_worker
    from govflow.orchestration.workflows import SEARCH_ATTRIBUTES

ITEMS = 20
PROCEDURE = Procedure.model_validate(
    {
        "name": "bench-five-stage",
        "version": 1,
        "title": "bench",
        "sources": [{"title": "bench"}],
        "rules": {
            "majority": {
                "passes": {"fraction": "1/2", "comparison": "more_than", "base": "present"}
            }
        },
        "stages": [
            {"id": "propose", "kind": "propose", "title": "提议", "duration": {"days": 0}},
            {
                "id": "deliberate",
                "kind": "deliberate",
                "title": "商议",
                "body": "two_committees",
                "duration": {"days": 3},
                "reminder_lead_hours": 0,
            },
            {
                "id": "vote",
                "kind": "vote",
                "title": "表决",
                "body": "two_committees",
                "rule": "majority",
                "vote_by": "ballots",
                "duration": {"days": 3},
                "reminder_lead_hours": 0,
            },
            {
                "id": "publish",
                "kind": "publish",
                "title": "公示",
                "duration": {"days": 5},
                "reminder_lead_hours": 0,
                "notice": {"kind": "resolution", "display": {"days": 5}},
            },
            {
                "id": "evaluate",
                "kind": "evaluate",
                "title": "评议",
                "body": "two_committees",
                "duration": {"days": 3},
                "reminder_lead_hours": 0,
            },
        ],
    }
)


@activity.defn(name="bench.noop")
def noop(step: int) -> int:
    return step


@workflow.defn(name="bench.bare")
class BareWorkflow:
    @workflow.run
    async def run(self, activities: int) -> int:
        for step in range(activities):
            await workflow.execute_activity(
                noop, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return activities


async def _one_item(issues: IssueClient, env: WorkflowEnvironment, number: int) -> None:
    app = issues.app
    await asyncio.to_thread(
        app.propose_issue, "bench", number, f"item {number}", PROCEDURE, actor="chair"
    )
    handle = await issues.start("bench", number, PROCEDURE)
    while (await _status(issues, number)) != "deliberate":
        await asyncio.sleep(0.05)
    await issues.close_stage("bench", number, "chair")
    while (await issues.status("bench", number)).ballot_key is None:
        await asyncio.sleep(0.05)
    await issues.cast_ballot("bench", number, "chair", Choice.YES)
    await env.fast_forward(handle)
    await handle.result()


async def _status(issues: IssueClient, number: int) -> str | None:
    try:
        return (await issues.status("bench", number)).stage
    except Exception:
        return None


async def _activities_per_item(issues: IssueClient) -> int:
    history = await issues.handle("bench", 1).fetch_history()
    return sum(1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes"))


async def run(items: int = ITEMS) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(temporal_binary()),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        ts_config=TimeSkippingConfig(enabled=False),
    )
    async with env:
        with tempfile.TemporaryDirectory() as tmp:
            app = Governance(
                {
                    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(Path(tmp) / "events.db"),
                }
            )
            app.register_council("bench", "bench", actor="clerk")
            app.enroll_member(
                "bench", "chair", "chair", actor="clerk", chairs=(Body.TWO_COMMITTEES,)
            )
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            issues = IssueClient(env.client, app, task_queue=queue)
            async with build_worker(env.client, app, task_queue=queue):
                started = time.perf_counter()
                await asyncio.gather(*(_one_item(issues, env, n) for n in range(1, items + 1)))
                govflow_seconds = time.perf_counter() - started
                activities = await _activities_per_item(issues)
            app.close()
        bare_queue = f"bare-{uuid.uuid4().hex[:6]}"
        async with Worker(
            env.client,
            task_queue=bare_queue,
            workflows=[BareWorkflow],
            activities=[noop],
            activity_executor=ThreadPoolExecutor(8),
        ):
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    env.client.execute_workflow(
                        BareWorkflow.run,
                        activities,
                        id=f"bare-{uuid.uuid4()}",
                        task_queue=bare_queue,
                    )
                    for _ in range(items)
                )
            )
            bare_seconds = time.perf_counter() - started
    govflow_rate, bare_rate = items / govflow_seconds, items / bare_seconds
    return {
        "full_cycle": {
            "items": items,
            "activities_per_item": activities,
            "govflow_items_per_s": round(govflow_rate, 2),
            "bare_items_per_s": round(bare_rate, 2),
            "ratio": round(govflow_rate / bare_rate, 3),
        }
    }


def measure(items: int = ITEMS) -> dict[str, Any]:
    print(f"running {items} full five-stage cycles and {items} bare workflows ...", flush=True)
    return asyncio.run(run(items))
