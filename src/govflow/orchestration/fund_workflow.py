"""A fund's statements workflow: it owns the fund's statement time (收支公开 on the fund's
schedule, monthly or quarterly) as an item's workflow owns an item's. See
:mod:`govflow.orchestration.fund_statements`. It runs as long as the fund, continuing as new
as its history grows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from govflow.orchestration.fund_statements import (
        FundActivities as Acts,
    )
    from govflow.orchestration.fund_statements import (
        FundInput,
        PeriodInput,
    )
    from govflow.orchestration.messages import Ref
    from govflow.orchestration.workflows import ACTIVITY_TIMEOUT, RETRY

R = TypeVar("R")


@workflow.defn(name="govflow.fund_statements")
class FundStatementsWorkflow:
    def __init__(self) -> None:
        self.input: FundInput | None = None
        self.seq = 0
        self.posted: list[str] = []

    @workflow.run
    async def run(self, input: FundInput) -> None:
        self.input = input
        self.seq = input.seq
        while True:
            if workflow.info().get_current_history_length() > input.history_limit:
                workflow.continue_as_new(input.model_copy(update={"seq": self.seq}))
            due = await self._act(Acts.due_statement, self._ref())
            wait = due.due_at - workflow.now()
            if wait > timedelta(0):
                await workflow.sleep(wait)
            done = await self._act(
                Acts.post_statement, PeriodInput(ref=self._ref(), period=due.period)
            )
            if done.posted:
                self.posted.append(done.period)
            else:
                await workflow.sleep(timedelta(hours=input.retry_hours))

    @workflow.query(name="posted")
    def posted_periods(self) -> list[str]:
        """The periods this run posted."""
        return list(self.posted)

    def _ref(self) -> Ref:
        assert self.input is not None
        self.seq += 1
        return Ref(
            council=self.input.council,
            number=self.input.number,
            at=workflow.now(),
            step=f"{workflow.info().workflow_id}:{self.seq}",
        )

    async def _act(self, activity: Callable[[Any, Any], R], arg: Any) -> R:
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY
        )
