"""Starting rectification orders' workflows and telling them of a change."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from govflow.domain.errors import WorkflowTimeoutError, WorkflowUnavailableError
from govflow.orchestration import order_messages as om
from govflow.orchestration.order_workflow import OrderWorkflow, order_workflow_id
from govflow.orchestration.worker import TASK_QUEUE
from govflow.orchestration.workflows import COUNCIL_ATTRIBUTE


class OrderClient:
    def __init__(
        self, client: Client, *, task_queue: str = TASK_QUEUE, answer_within: float = 30.0
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.answer_within = answer_within

    def handle(self, council: str, number: int) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(
            order_workflow_id(council, number), result_type=om.OrderResult
        )

    async def start(
        self, council: str, number: int, *, reminder_lead_hours: int = 24
    ) -> WorkflowHandle[Any, Any]:
        """Start the order's workflow; starting it again starts nothing new."""
        wid = order_workflow_id(council, number)
        try:
            return await self.client.start_workflow(
                OrderWorkflow.run,
                om.OrderInput(
                    council=council, number=number, reminder_lead_hours=reminder_lead_hours
                ),
                id=wid,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(COUNCIL_ATTRIBUTE, council)]
                ),
            )
        except WorkflowAlreadyStartedError:
            return self.handle(council, number)

    async def changed(self, council: str, number: int) -> None:
        """Tell the order's workflow to read the order again."""
        try:
            await asyncio.wait_for(
                self.handle(council, number).signal(OrderWorkflow.changed),
                timeout=self.answer_within,
            )
        except RPCError as error:
            raise WorkflowUnavailableError(
                f"order {council}/{number}: the workflow service did not take the change "
                f"({error.status.name if error.status else 'unknown'})"
            ) from None
        except TimeoutError:
            raise WorkflowTimeoutError(f"order {council}/{number} was not told in time") from None

    async def status(self, council: str, number: int) -> om.OrderStatus:
        try:
            result: om.OrderStatus = await asyncio.wait_for(
                self.handle(council, number).query(OrderWorkflow.status),
                timeout=self.answer_within,
            )
        except RPCError as error:
            raise WorkflowUnavailableError(
                f"order {council}/{number}: the workflow service did not answer "
                f"({error.status.name if error.status else 'unknown'})"
            ) from None
        except TimeoutError:
            raise WorkflowTimeoutError(f"order {council}/{number} did not answer") from None
        return result
