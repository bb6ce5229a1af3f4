"""The command door's acts on rectification orders (限期整改) and inspections.

Who may act comes from the policy over the record: the ordering body's chairs order and
verify, the member ordered (as enrolled when ordered) or the ordered body's chairs report it
done, the supervisory committee's members record inspections. Each act is recorded straight
in the store; the order's workflow is started (an order) or told to read the order again (a
completion, a verification). A refused command records nothing.
"""

from __future__ import annotations

import asyncio

from temporalio.service import RPCError

from govflow.application import commands as c
from govflow.application.rectification import InspectionView, OrderView
from govflow.domain.errors import AlreadyExistsError, GovflowError, WorkflowUnavailableError
from govflow.domain.policy import SUPERVISORY_COMMITTEE, Action, Principal, authorize
from govflow.domain.rectification import AssigneeKind
from govflow.orchestration.door_base import DoorBase, Handler, logger
from govflow.orchestration.order_client import OrderClient


class OrderActs(DoorBase):
    def order_handlers(self) -> dict[type[c.Command], Handler]:
        return {
            c.RecordInspection: self._record_inspection,
            c.OrderRectification: self._order_rectification,
            c.CompleteRectification: self._complete_rectification,
            c.VerifyRectification: self._verify_rectification,
        }

    def _orders(self) -> OrderClient:
        workflows = self._workflows()
        return OrderClient(workflows.client, task_queue=workflows.task_queue)

    async def _record_inspection(self, cmd: c.RecordInspection, who: Principal) -> InspectionView:
        actor = authorize(who, Action.RECORD_INSPECTION, cmd.council, body=SUPERVISORY_COMMITTEE)

        def record() -> InspectionView:
            self.app.record_inspection(
                cmd.council, cmd.number, cmd.finding, cmd.evidence_sha256, actor=actor
            )
            return self.app.get_inspection(cmd.council, cmd.number)

        return await asyncio.to_thread(record)

    async def _order_rectification(self, cmd: c.OrderRectification, who: Principal) -> OrderView:
        """Record the order and start its workflow. Ordering the same again (same what, same
        assignee) completes a half-done order: starts a missing workflow."""
        actor = authorize(who, Action.ORDER_RECTIFICATION, cmd.council, body=cmd.body.value)
        orders = self._orders()
        source = {
            "issue_number": cmd.issue_number,
            "notice_id": cmd.notice_id,
            "objection_no": cmd.objection_no,
            "inspection_number": cmd.inspection_number,
        }
        try:
            await asyncio.to_thread(
                lambda: self.app.order_rectification(
                    cmd.council,
                    cmd.number,
                    what=cmd.what,
                    why=cmd.why,
                    assignee_kind=cmd.assignee_kind,
                    assignee=cmd.assignee,
                    ordered_by=cmd.body,
                    due=cmd.due,
                    source_kind=cmd.source,
                    source=source,
                    actor=actor,
                )
            )
        except AlreadyExistsError:
            order = await asyncio.to_thread(self.app.order, cmd.council, cmd.number)
            same = (order.what, order.assignee, order.ordered_by) == (
                cmd.what,
                cmd.assignee,
                cmd.body,
            )
            if not same:
                raise
        try:
            await orders.start(cmd.council, cmd.number)
        except RPCError as error:
            raise WorkflowUnavailableError(
                f"order {cmd.council}/{cmd.number} is recorded but its workflow did not start "
                f"({error.status.name if error.status else 'unknown'}): order it again, with "
                "the same content, to complete it",
            ) from error
        return await asyncio.to_thread(self.app.get_order, cmd.council, cmd.number)

    async def _complete_rectification(
        self, cmd: c.CompleteRectification, who: Principal
    ) -> OrderView:
        # first without the record: integrations and auditors are refused before any read
        authorize(
            who, Action.COMPLETE_RECTIFICATION, cmd.council, owner=(who.holder, who.enrolment)
        )
        order = await asyncio.to_thread(self.app.order, cmd.council, cmd.number)
        if order.assignee_kind is AssigneeKind.MEMBER:
            # the person enrolled under that id when the order was issued, not a later one
            owner = await asyncio.to_thread(self.app.order_owner, cmd.council, cmd.number)
            actor = authorize(who, Action.COMPLETE_RECTIFICATION, cmd.council, owner=owner)
        else:
            actor = authorize(who, Action.COMPLETE_RECTIFICATION, cmd.council, body=order.assignee)
        await asyncio.to_thread(
            lambda: self.app.complete_order(
                cmd.council, cmd.number, cmd.text, cmd.evidence, actor=actor
            )
        )
        await self._tell_order(cmd.council, cmd.number)
        return await asyncio.to_thread(self.app.get_order, cmd.council, cmd.number)

    async def _verify_rectification(self, cmd: c.VerifyRectification, who: Principal) -> OrderView:
        authorize(who, Action.VERIFY_RECTIFICATION, cmd.council)  # a chair of some body
        order = await asyncio.to_thread(self.app.order, cmd.council, cmd.number)
        actor = authorize(
            who, Action.VERIFY_RECTIFICATION, cmd.council, body=order.ordered_by.value
        )
        await asyncio.to_thread(
            lambda: self.app.verify_order(
                cmd.council,
                cmd.number,
                accepted=cmd.accepted,
                text=cmd.text,
                due=cmd.due,
                actor=actor,
            )
        )
        await self._tell_order(cmd.council, cmd.number)
        return await asyncio.to_thread(self.app.get_order, cmd.council, cmd.number)

    async def _tell_order(self, council: str, number: int) -> None:
        """The act is recorded whatever happens here; if the workflow cannot be told, it
        reads the order again at its next timer."""
        try:
            await self._orders().changed(council, number)
        except GovflowError as unheard:
            logger.warning("order_change_not_delivered", council=council, order=number,
                           code=unheard.code)  # fmt: skip
