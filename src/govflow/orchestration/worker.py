"""The worker: the issue workflow and the Governance activities on one task queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from govflow.application import Governance
from govflow.orchestration.activities import GovernanceActivities
from govflow.orchestration.fund_statements import FundActivities
from govflow.orchestration.fund_workflow import FundStatementsWorkflow
from govflow.orchestration.order_activities import OrderActivities
from govflow.orchestration.order_workflow import OrderWorkflow
from govflow.orchestration.workflows import IssueWorkflow

TASK_QUEUE = "govflow"


def build_worker(
    client: Client, app: Governance, *, task_queue: str = TASK_QUEUE, max_activities: int = 8
) -> Worker:
    """A worker whose activities run on a thread pool (the application is synchronous)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[IssueWorkflow, OrderWorkflow, FundStatementsWorkflow],
        activities=[
            *GovernanceActivities(app).all(),
            *OrderActivities(app).all(),
            *FundActivities(app).all(),
        ],
        activity_executor=ThreadPoolExecutor(max_activities, thread_name_prefix="govflow"),
        max_concurrent_activities=max_activities,
    )
