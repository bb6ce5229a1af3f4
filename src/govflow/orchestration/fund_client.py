"""Starting a fund's statements workflow (:mod:`govflow.orchestration.fund_workflow`)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from govflow.orchestration.fund_statements import FundInput, fund_workflow_id
from govflow.orchestration.fund_workflow import FundStatementsWorkflow
from govflow.orchestration.workflows import COUNCIL_ATTRIBUTE


class FundClient:
    """Starting a fund's statements workflow (once; starting it again starts nothing new)."""

    def __init__(self, client: Client, *, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    def handle(self, council: str, number: int) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(fund_workflow_id(council, number))

    async def start(self, council: str, number: int) -> WorkflowHandle[Any, Any]:
        try:
            return await self.client.start_workflow(
                FundStatementsWorkflow.run,
                FundInput(council=council, number=number),
                id=fund_workflow_id(council, number),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(COUNCIL_ATTRIBUTE, council)]
                ),
            )
        except WorkflowAlreadyStartedError:
            return self.handle(council, number)
