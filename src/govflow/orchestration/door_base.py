"""What every part of the command door shares: the application, the procedure library, the
item workflows, and asking the policy."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import BallotReceipt
from govflow.domain.errors import (
    GovflowError,
    WorkflowUnavailableError,
)
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.client import IssueClient

Handler = Callable[[Any, Principal], Awaitable[Any]]
logger = structlog.get_logger("govflow.door")


class DoorBase:
    app: Governance
    issues: IssueClient | None
    procedures: ProcedureLibrary | None
    demo: bool

    def _workflows(self) -> IssueClient:
        if self.issues is None:
            raise WorkflowUnavailableError("no workflow service is connected")
        return self.issues

    async def may(self, who: Principal, action: Action, council: str, **facts: Any) -> str:
        """Ask the policy (with the record's facts) before work the caller wants to stream."""
        return authorize(who, action, council, **facts)

    async def meeting_body(self, council: str, number: int) -> str:
        meeting = await asyncio.to_thread(self.app.meeting, council, number)
        return meeting.body.value

    async def _run_meeting(self, who: Principal, council: str, number: int) -> str:
        body = await self.meeting_body(council, number)
        return authorize(who, Action.RUN_MEETING, council, body=body)

    async def counted(
        self, cmd: c.CastBallot | c.ReplyToConsultation, receipt: BallotReceipt
    ) -> BallotReceipt:
        """Tell the workflow once the whole roll has voted (never once per ballot). The ballot
        is recorded whatever happens here: if the workflow cannot be told, the vote closes at
        its deadline instead of at once."""
        if receipt.all_voted:
            await self.tell_all_voted(cmd.council, cmd.number, receipt.ballot_key)
        return receipt

    async def tell_all_voted(self, council: str, number: int, ballot_key: str) -> None:
        try:
            await self._workflows().all_voted(council, number, ballot_key)
        except GovflowError as unheard:
            logger.warning(
                "all_voted_not_delivered", council=council, issue=number, code=unheard.code
            )
