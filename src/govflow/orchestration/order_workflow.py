"""A rectification order's workflow (限期整改): it owns the order's time as an item's
workflow owns an item's.

It reads the order from the record, then waits: for the reminder time (its lead before the
round's deadline), where it asks for the reminders; for the deadline, where it escalates the
order if it is still open (an event and a notice: the order stays open and overdue); and for
the ``changed`` signal, which the command door sends after a completion or a verification is
recorded (those go straight to the store, like ballots: the workflow decides *when*, the
domain *whether*); with no deadline ahead it also reads the order again daily, in case a signal
was lost. A send-back opens a new round with its own deadline, reminded and escalated
afresh. It ends when the order is verified.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from govflow.orchestration import order_messages as om
    from govflow.orchestration.messages import Ref
    from govflow.orchestration.order_activities import OrderActivities as Acts
    from govflow.orchestration.workflows import ACTIVITY_TIMEOUT, RETRY

R = TypeVar("R")
ORDER_ID_PREFIX = "order"
# With no deadline ahead (reported done, or escalated and still open), the order is read again
# this often as well as on each ``changed`` signal: a signal lost while the service was away
# delays the workflow by a day at most.
RECHECK = timedelta(days=1)


def order_workflow_id(council: str, number: int) -> str:
    """Orders' workflow ids never collide with items' (``issue-…``)."""
    return f"{ORDER_ID_PREFIX}-{council}-{number}"


@workflow.defn(name="govflow.rectification_order")
class OrderWorkflow:
    def __init__(self) -> None:
        self.input: om.OrderInput | None = None
        self.seq = 0
        self.changes = 0
        self.reminded: set[int] = set()
        self.state: om.OrderState | None = None

    @workflow.run
    async def run(self, input: om.OrderInput) -> om.OrderResult:
        self.input = input
        self.seq = input.seq
        self.reminded = set(input.reminded)
        lead = timedelta(hours=input.reminder_lead_hours)
        while True:
            seen = self.changes
            state = self.state = await self._act(Acts.order_state, self._ref())
            if state.status == "verified":
                break
            if workflow.info().get_current_history_length() > input.history_limit:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    input.model_copy(
                        update={"seq": self.seq, "reminded": tuple(sorted(self.reminded))}
                    )
                )
            if state.status != "open":  # completed: the ordering body verifies
                await self._changed_since(seen, workflow.now() + RECHECK)
                continue
            now = workflow.now()
            if state.round not in self.reminded and now < state.deadline:
                remind_at = state.deadline - lead
                if now < remind_at and await self._changed_since(seen, remind_at):
                    continue
                self.reminded.add(state.round)
                await self._act(
                    Acts.remind_order, om.OrderRoundInput(ref=self._ref(), round=state.round)
                )
                continue
            if now < state.deadline:
                await self._changed_since(seen, state.deadline)
                continue
            if not state.escalated:
                await self._act(Acts.escalate_order, self._ref())
                continue
            # overdue and escalated: still to be done
            await self._changed_since(seen, workflow.now() + RECHECK)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return om.OrderResult(status=state.status, rounds=state.round)

    @workflow.signal(name="changed")
    def changed(self) -> None:
        """The order was completed or verified: read it again."""
        self.changes += 1

    @workflow.query(name="status")
    def status(self) -> om.OrderStatus:
        assert self.input is not None
        state = self.state
        return om.OrderStatus(
            council=self.input.council,
            number=self.input.number,
            status=state.status if state else None,
            round=state.round if state else None,
            deadline=state.deadline if state else None,
            escalated=state.escalated if state else False,
            reminded=tuple(sorted(self.reminded)),
        )

    async def _changed_since(self, seen: int, until: datetime) -> bool:
        """Wait for a ``changed`` signal after ``seen`` (True) or until ``until`` (False)."""
        if self.changes > seen:
            return True
        remaining = until - workflow.now()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(lambda: self.changes > seen, timeout=remaining)
        except TimeoutError:
            return self.changes > seen
        return True

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
