"""Activities of a rectification order's workflow, each calling one Governance method at the
workflow's time (domain errors translated as for items': :func:`activities.defn`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from govflow.application import Governance
from govflow.orchestration import order_messages as om
from govflow.orchestration.activities import defn
from govflow.orchestration.messages import Ref


class OrderActivities:
    def __init__(self, app: Governance) -> None:
        self.app = app

    def all(self) -> list[Callable[..., Any]]:
        return [self.order_state, self.remind_order, self.escalate_order]

    @defn("order.state")
    def order_state(self, ref: Ref) -> om.OrderState:
        order = self.app.order(ref.council, ref.number)
        return om.OrderState(
            status=order.status.value,
            round=order.round,
            deadline=order.deadline,
            escalated=order.escalated,
        )

    @defn("order.remind")
    def remind_order(self, i: om.OrderRoundInput) -> int:
        """Address the round's reminders (the notifier sends them); how many."""
        with self.app.acting_at(i.ref.at):
            return self.app.remind_order(i.ref.council, i.ref.number, i.round)

    @defn("order.escalate")
    def escalate_order(self, ref: Ref) -> bool:
        """Escalate the overdue round (an event and a notice); whether it is escalated."""
        with self.app.acting_at(ref.at):
            return self.app.escalate_order(ref.council, ref.number, step=ref.step)
