"""Starting and driving issue workflows: what the CLI and the API call.

Blocking application calls run in threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from govflow.application import Governance
from govflow.application.views import BallotReceipt
from govflow.domain.ballot import Choice
from govflow.domain.errors import (
    ActionRefusedError,
    GovflowError,
    IssueClosedError,
    NotFoundError,
    WorkflowTimeoutError,
    WorkflowUnavailableError,
    error_class,
)
from govflow.domain.policy import Principal
from govflow.domain.procedure import Procedure
from govflow.orchestration import messages as m
from govflow.orchestration.worker import TASK_QUEUE
from govflow.orchestration.workflows import (
    COUNCIL_ATTRIBUTE,
    PROCEDURE_ATTRIBUTE,
    IssueWorkflow,
)


def workflow_id(council: str, number: int) -> str:
    return f"issue-{council}-{number}"


_RUNTIMES: dict[str, Runtime] = {}
# Open actions anyone on a roll may take; every other open action is a chair's.
NOT_CHAIR_ACTIONS = frozenset({"cast_ballot", "file_objection", "rate"})
CORE_LOGGER = "temporalio.core"


def core_runtime(level: str = "WARN") -> Runtime:
    """A Temporal runtime whose core (Rust) logs at ``level`` and above go to the Python
    logger ``temporalio.core``, and from there through govflow's structured logging."""
    if level not in _RUNTIMES:
        _RUNTIMES[level] = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level=level, other_level="ERROR"),
                    forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
                )
            )
        )
    return _RUNTIMES[level]


async def connect(
    address: str, namespace: str = "default", *, core_log_level: str = "WARN"
) -> Client:
    """A client whose workers and connections forward Temporal's core logs (see
    :func:`core_runtime`)."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        runtime=core_runtime(core_log_level),
    )


class IssueClient:
    """One council clerk's view of the running items."""

    def __init__(
        self,
        client: Client,
        app: Governance,
        *,
        task_queue: str = TASK_QUEUE,
        answer_within: float = 30.0,
    ):
        self.client = client
        self.app = app
        self.task_queue = task_queue
        # Every call that waits on a workflow gives up after this long (workflow.timeout).
        self.answer_within = answer_within

    def handle(self, council: str, number: int) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(
            workflow_id(council, number), result_type=m.IssueResult
        )

    async def start(
        self,
        council: str,
        number: int,
        procedure: Procedure,
        *,
        category: str | None = None,
        spending_number: int | None = None,
        history_limit: int | None = None,
    ) -> WorkflowHandle[IssueWorkflow, m.IssueResult]:
        """Start the issue's workflow; starting it again starts nothing new."""
        over = False
        if spending_number is not None:
            view = await asyncio.to_thread(self.app.get_spending, council, spending_number)
            over = view.requires_review
        workflow_input = m.IssueInput(
            council=council,
            number=number,
            procedure=procedure.model_dump(mode="json"),
            category=category,
            spending_number=spending_number,
            amount_over_threshold=over,
            **({"history_limit": history_limit} if history_limit else {}),
        )
        wid = workflow_id(council, number)
        try:
            return await self.client.start_workflow(
                IssueWorkflow.run,
                workflow_input,
                id=wid,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(COUNCIL_ATTRIBUTE, council),
                        SearchAttributePair(
                            PROCEDURE_ATTRIBUTE, f"{procedure.name}@{procedure.version}"
                        ),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            return self.client.get_workflow_handle(wid, result_type=m.IssueResult)

    async def advance(self, council: str, number: int, days: float) -> bool:
        """Fast-forward one item's clock by ``days`` (needs a server with time skipping on:
        the embedded dev server has it). Returns False if the item ended first."""
        skipper = TimeSkipper(self.client, config=TimeSkippingConfig(enabled=False))
        return await skipper.fast_forward(self.handle(council, number), timedelta(days=days))

    async def status(self, council: str, number: int) -> m.Status:
        """Where the item stands and who may act now (chairs as the roll records them now)."""
        try:
            result: m.Status = await asyncio.wait_for(
                self.handle(council, number).query(IssueWorkflow.status),
                timeout=self.answer_within,
            )
        except RPCError as error:
            raise await self._rpc_refusal(council, number, error) from None
        except WorkflowQueryFailedError as error:
            raise WorkflowUnavailableError(
                f"issue {council}/{number} cannot answer now: {error.message}"
            ) from None
        except TimeoutError:
            raise WorkflowTimeoutError(f"issue {council}/{number} did not answer") from None
        if result.stage is None:
            return result
        chairs = await asyncio.to_thread(self._chairs_now, council, result.body)
        actions = [
            a if a.action in NOT_CHAIR_ACTIONS else a.model_copy(update={"who": chairs})
            for a in result.actions
        ]
        return result.model_copy(update={"actions": actions})

    def _chairs_now(self, council: str, body: str | None) -> list[str]:
        members = self.app.council_to_read(council).members
        return sorted(
            mid
            for mid, member in members.items()
            if (body in {b.value for b in member.chairs} if body else bool(member.chairs))
        )

    async def _rpc_refusal(self, council: str, number: int, error: RPCError) -> Exception:
        """A Temporal RPC failure as a govflow error: unknown items are 404, ended ones 409,
        anything else (the service away, a workflow that cannot answer) 503."""
        if error.status is not RPCStatusCode.NOT_FOUND:
            return WorkflowUnavailableError(
                f"issue {council}/{number}: the workflow service did not answer "
                f"({error.status.name if error.status else 'unknown'})"
            )
        try:
            await asyncio.to_thread(self.app.issue, council, number)
        except NotFoundError as missing:
            return missing
        return IssueClosedError(f"issue {council}/{number} has no running workflow")

    async def cast_ballot(
        self, council: str, number: int, voter: str, choice: Choice
    ) -> BallotReceipt:
        """Record the ballot in the event store; tell the workflow once the roll has voted."""
        receipt = await asyncio.to_thread(self.app.cast_ballot, council, number, voter, choice)
        if receipt.all_voted:
            await self.all_voted(council, number, receipt.ballot_key)
        return receipt

    async def all_voted(self, council: str, number: int, ballot_key: str) -> None:
        """Tell the item's workflow that the whole roll has voted in round ``ballot_key``."""
        try:
            await self.handle(council, number).signal(IssueWorkflow.all_voted_signal, ballot_key)
        except RPCError as error:
            raise await self._rpc_refusal(council, number, error) from None

    async def _update(self, council: str, number: int, update: Any, arg: Any) -> Any:
        """Run one of :class:`IssueWorkflow`'s updates (a typed reference, not a name)."""
        name = update.__name__
        try:
            return await asyncio.wait_for(
                self.handle(council, number).execute_update(update, arg),
                timeout=self.answer_within,
            )
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from None
        except RPCError as error:
            raise await self._rpc_refusal(council, number, error) from None
        except TimeoutError:
            raise WorkflowTimeoutError(
                f"issue {council}/{number} did not answer within {self.answer_within:g} s: "
                "check its status before trying again",
                action=name,
            ) from None

    async def _acting(self, council: str, who: Principal | str) -> m.Acting:
        """The principal as the record says now (a member id is looked up)."""
        if isinstance(who, str):
            who = await asyncio.to_thread(self.app.principal, council, who)
        return m.Acting.of(who)

    async def close_stage(self, council: str, number: int, who: Principal | str) -> str:
        acting = await self._acting(council, who)
        result: str = await self._update(
            council,
            number,
            IssueWorkflow.close_stage,
            m.ChairAction(member_id=acting.holder, who=acting),
        )
        return result

    async def record_resolution(
        self,
        council: str,
        number: int,
        who: Principal | str,
        *,
        meeting_number: int,
        motion_no: int,
    ) -> bool:
        acting = await self._acting(council, who)
        result: bool = await self._update(
            council,
            number,
            IssueWorkflow.record_resolution,
            m.ResolutionRequest(
                member_id=acting.holder,
                meeting_number=meeting_number,
                motion_no=motion_no,
                who=acting,
            ),
        )
        return result

    async def file_objection(
        self, council: str, number: int, who: Principal | str, text: str
    ) -> int:
        acting = await self._acting(council, who)
        result: int = await self._update(
            council,
            number,
            IssueWorkflow.file_objection,
            m.ObjectionRequest(person_id=acting.holder, text=text, who=acting),
        )
        return result

    async def answer_objection(
        self,
        council: str,
        number: int,
        who: Principal | str,
        objection_no: int,
        reply: str,
        *,
        upheld: bool,
    ) -> None:
        acting = await self._acting(council, who)
        await self._update(
            council,
            number,
            IssueWorkflow.answer_objection,
            m.AnswerRequest(
                member_id=acting.holder,
                objection_no=objection_no,
                reply=reply,
                upheld=upheld,
                who=acting,
            ),
        )

    async def correct_notice(
        self, council: str, number: int, who: Principal | str, text: str
    ) -> None:
        acting = await self._acting(council, who)
        request = m.CorrectionRequest(member_id=acting.holder, text=text, who=acting)
        await self._update(council, number, IssueWorkflow.correct_notice, request)

    async def report_progress(
        self,
        council: str,
        number: int,
        who: Principal | str,
        text: str,
        *,
        photos: tuple[str, ...] = (),
    ) -> None:
        acting = await self._acting(council, who)
        request = m.ProgressRequest(member_id=acting.holder, text=text, who=acting, photos=photos)
        await self._update(council, number, IssueWorkflow.report_progress, request)

    async def complete(
        self,
        council: str,
        number: int,
        who: Principal | str,
        actual_cost: Decimal | None = None,
    ) -> bool:
        acting = await self._acting(council, who)
        request = m.CompletionRequest(member_id=acting.holder, actual_cost=actual_cost, who=acting)
        result: bool = await self._update(council, number, IssueWorkflow.complete, request)
        return result

    async def reapprove(
        self,
        council: str,
        number: int,
        who: Principal | str,
        *,
        meeting_number: int,
        motion_no: int,
    ) -> None:
        acting = await self._acting(council, who)
        request = m.ResolutionRequest(
            member_id=acting.holder,
            meeting_number=meeting_number,
            motion_no=motion_no,
            who=acting,
        )
        await self._update(council, number, IssueWorkflow.reapprove, request)

    async def extend_consultation(
        self, council: str, number: int, who: Principal | str, days: int
    ) -> datetime:
        """Extend the item's open written consultation by ``days``; its new deadline."""
        acting = await self._acting(council, who)
        request = m.ExtensionRequest(member_id=acting.holder, days=days, who=acting)
        result: datetime = await self._update(
            council, number, IssueWorkflow.extend_consultation, request
        )
        return result

    async def withdraw(self, council: str, number: int, who: Principal | str, reason: str) -> None:
        acting = await self._acting(council, who)
        request = m.WithdrawRequest(member_id=acting.holder, reason=reason, who=acting)
        await self._update(council, number, IssueWorkflow.withdraw, request)


def _refusal(error: BaseException) -> GovflowError:
    """The failed update's reason as a govflow error, keeping the domain's code if any."""
    cause: BaseException | None = error
    reasons: list[ApplicationError] = []
    while cause is not None:
        if isinstance(cause, ApplicationError):
            reasons.append(cause)
        cause = getattr(cause, "cause", None) or cause.__cause__
    coded = [r for r in reasons if r.type and "." in r.type]
    if coded:
        known = error_class(coded[0].type or "")
        if known is not None and known is not GovflowError:
            recorded = coded[0].details[0] if coded[0].details else None
            details = recorded.get("details", {}) if isinstance(recorded, dict) else {}
            return known(coded[0].message, **details)
        return ActionRefusedError(coded[0].message, cause=coded[0].type)
    if reasons:
        return ActionRefusedError(reasons[0].message)
    return ActionRefusedError(str(error))
