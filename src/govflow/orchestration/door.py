"""The command door: the one way in for every write.

An entry point authenticates the caller (a :class:`~govflow.domain.policy.Principal` built from
the council's current record), builds a command and calls :meth:`CommandDoor.handle`. The
command's handler asks the policy whether the principal may, takes every fact a rule needs
from the record, and only then records events or talks to the item's workflow (whose update
validators ask the same policy). A refused command records nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from temporalio.service import RPCError

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.consultation import (
    refuse_if_barred,
    takes_signed_replies,
)
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import BallotReceipt, IssueView
from govflow.application.voting import Cast
from govflow.domain.consultation import SignatureRequiredError
from govflow.domain.errors import (
    DemoOnlyError,
    GovflowError,
    InvalidInputError,
    WorkflowUnavailableError,
)
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.client import IssueClient
from govflow.orchestration.door_assemblies import AssemblyActs
from govflow.orchestration.door_base import Handler
from govflow.orchestration.door_funds import FundActs
from govflow.orchestration.door_grids import GridActs
from govflow.orchestration.door_orders import OrderActs
from govflow.orchestration.door_ratings import RatingActs
from govflow.orchestration.door_records import RecordActs


class CommandDoor(AssemblyActs, RecordActs, RatingActs, FundActs, OrderActs):
    """Every command's handler, over one Governance, its procedures and (for items) the
    workflow client. ``demo`` allows fast-forwarding items' clocks."""

    def __init__(
        self,
        app: Governance,
        issues: IssueClient | None,
        procedures: ProcedureLibrary | None,
        *,
        demo: bool = False,
    ) -> None:
        self.app = app
        self.issues = issues
        self.procedures = procedures
        self.demo = demo
        self._handlers: dict[type[c.Command], Handler] = {
            c.ProposeIssue: self._propose,
            c.CastBallot: self._cast_ballot,
            c.ReplyToConsultation: self._reply_to_consultation,
            c.AppointProxy: self._appoint_proxy,
            c.RevokeProxy: self._revoke_proxy,
            c.AppointMeetingProxy: self._appoint_meeting_proxy,
            c.RevokeMeetingProxy: self._revoke_meeting_proxy,
            c.EnterPaperBallots: self._enter_paper_ballots,
            c.ConfirmPaperBallots: self._confirm_paper_ballots,
            c.RateIssue: self._rate,
            c.GiveOpinion: self._opinion,
            c.CloseStage: self._close_stage,
            c.RecordResolution: self._resolution,
            c.Reapprove: self._reapprove,
            c.FileObjection: self._object,
            c.AnswerObjection: self._answer,
            c.CorrectNotice: self._correct,
            c.ReportProgress: self._progress,
            c.CompleteImplementation: self._complete,
            c.Withdraw: self._withdraw,
            c.ExtendConsultation: self._extend_consultation,
            c.AdvanceClock: self._advance,
            c.ScheduleMeeting: self._schedule,
            c.GiveMeetingNotice: self._meeting_notice,
            c.ExcuseMember: self._excuse,
            c.RecordAttendance: self._attendance,
            c.RecordMotion: self._motion,
            c.RecordMinutes: self._minutes,
            c.AttachEvidence: self._evidence,
            c.RequestSpending: self._request_spending,
            c.RequestDisbursement: self._request_disbursement,
            c.ApproveDisbursement: self._approve_disbursement,
            c.EnrollMember: self._enroll,
            c.ChangeMember: self._change_member,
            c.RemoveMember: self._remove,
            c.RegisterHousehold: self._household,
            c.ChangeHousehold: self._change_household,
            c.ChangeThreshold: self._threshold,
            c.IssueToken: self._issue_token,
            c.RevokeToken: self._revoke_token,
            c.SetContact: self._set_contact,
            c.InviteMembers: self._invite,
            c.RevokeInvitation: self._revoke_invitation,
            c.EndSession: self._end_session,
            **self.annual_rating_handlers(),
            **GridActs(app).handlers(),
            **self.fund_handlers(),
            **self.order_handlers(),
        }

    async def handle(self, command: c.Command, who: Principal) -> Any:
        """Perform ``command`` for ``who``, or refuse it with a coded error."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise InvalidInputError(f"no handler for {type(command).__name__}")
        return await handler(command, who)

    # -- items ---------------------------------------------------------------------------------

    async def _propose(self, cmd: c.ProposeIssue, who: Principal) -> IssueView:
        """Record the proposal and start its workflow. Proposing the same again completes a
        half-done proposal (starts a missing workflow); other content is ``already_exists``."""
        actor = authorize(who, Action.PROPOSE, cmd.council)
        if self.procedures is None:
            raise WorkflowUnavailableError("no procedure library is loaded")
        procedure = self.procedures.get(cmd.procedure, cmd.version)
        await asyncio.to_thread(
            refuse_if_barred, self.app, self.procedures, cmd.council, cmd.number, cmd.title
        )
        spends = procedure.applies_to == "spending"
        if spends != (cmd.spending_number is not None):
            raise InvalidInputError(
                f"{procedure.name} decides spending: name the spending (spending_number)"
                if spends
                else f"{procedure.name} does not decide spending: propose it without one",
                procedure=procedure.name,
            )
        workflows = self._workflows()
        spending_id = None
        if cmd.spending_number is not None:
            spending = await asyncio.to_thread(
                self.app.get_spending, cmd.council, cmd.spending_number
            )
            spending_id = spending.id
        await asyncio.to_thread(
            lambda: self.app.propose_issue(
                cmd.council,
                cmd.number,
                cmd.title,
                procedure,
                actor=actor,
                description=cmd.description,
                grid=cmd.grid,
                category=cmd.category,
                spending_id=spending_id,
            )
        )
        try:
            await workflows.start(
                cmd.council,
                cmd.number,
                procedure,
                category=cmd.category,
                spending_number=cmd.spending_number,
            )
        except RPCError as error:
            raise WorkflowUnavailableError(
                f"issue {cmd.council}/{cmd.number} is recorded but its workflow did not start "
                f"({error.status.name if error.status else 'unknown'}): propose it again, with "
                "the same content, to complete the proposal",
            ) from error
        return await asyncio.to_thread(self.app.get_issue, cmd.council, cmd.number)

    async def _cast_ballot(self, cmd: c.CastBallot, who: Principal) -> BallotReceipt:
        """Cast the caller's own ballot (the roll is checked against the frozen roll)."""
        return await self.cast_ballot(who, cmd)

    async def cast_ballot(self, who: Principal | str, cmd: c.CastBallot) -> BallotReceipt:
        """Cast as ``who`` (a principal, or a bearer token authenticated in the same hand-off
        to a thread: ballots come in their thousands, and each hand-off costs as much as the
        save). The same policy and handler as :meth:`cast_ballots`."""
        (outcome,) = await asyncio.to_thread(self.cast_ballots, [(who, cmd)])
        if isinstance(outcome, GovflowError):
            raise outcome
        return await self.counted(cmd, outcome)

    def cast_ballots(
        self, casts: Sequence[tuple[Principal | str, c.CastBallot]]
    ) -> list[BallotReceipt | GovflowError]:
        """Cast each ballot as its caller (a principal, or a bearer token to authenticate),
        asking the policy for each, and record the allowed ones together (blocking: call it
        from a thread). Each cast's receipt, or why it was refused."""
        with self.app.reading_once():  # the batch decided as of one moment
            return self._cast_ballots(casts)

    def _cast_ballots(
        self, casts: Sequence[tuple[Principal | str, c.CastBallot]]
    ) -> list[BallotReceipt | GovflowError]:
        outcomes: list[BallotReceipt | GovflowError | None] = [None] * len(casts)
        allowed: list[tuple[int, Cast]] = []
        signed_only: dict[tuple[str, int], bool] = {}  # written consultations: signed replies
        for i, (who, cmd) in enumerate(casts):
            try:
                principal = who if isinstance(who, Principal) else self.app.authenticate(who)
                voter = authorize(principal, Action.CAST_BALLOT, cmd.council)
                item = (cmd.council, cmd.number)
                if item not in signed_only:
                    signed_only[item] = takes_signed_replies(self.app, self.procedures, *item)
                if signed_only[item]:
                    raise SignatureRequiredError(
                        "this vote is a written consultation: reply with the signed form "
                        "(its scan's sha256)",
                        council=cmd.council,
                        number=cmd.number,
                    )
            except GovflowError as refused:
                outcomes[i] = refused
                continue
            allowed.append(
                (
                    i,
                    Cast(
                        cmd.council,
                        cmd.number,
                        voter,
                        cmd.choice,
                        principal.enrolment,
                        for_member=cmd.for_member if cmd.for_member != voter else None,
                    ),
                )
            )
        recorded = self.app.cast_ballots([cast for _, cast in allowed]) if allowed else []
        for (i, _), outcome in zip(allowed, recorded, strict=True):
            outcomes[i] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    async def _rate(self, cmd: c.RateIssue, who: Principal) -> str:
        rater = authorize(who, Action.RATE, cmd.council)
        rating = await asyncio.to_thread(
            self.app.rate_issue, cmd.council, cmd.number, rater, cmd.rating
        )
        return str(rating)

    async def _opinion(self, cmd: c.GiveOpinion, who: Principal) -> int:
        """Record an opinion in the open discussion stage (straight to the store, like a
        ballot: the workflow waits on the stage's deadline or its chair, not on opinions)."""
        actor = authorize(who, Action.GIVE_OPINION, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.give_opinion(
                cmd.council, cmd.number, cmd.text, reply_to=cmd.reply_to, actor=actor
            )
        )

    # The chair's actions: asked here against the open stage's acting body, and again by the
    # workflow's validators (the same policy, with ``who`` as the record says now), so a stage
    # that moved on in between is checked against its successor.

    async def _chair(self, cmd: c.ItemCommand, who: Principal) -> IssueClient:
        workflows = self._workflows()
        authorize(who, Action.CHAIR_STAGE, cmd.council, body=None)  # a chair of something
        status = await workflows.status(cmd.council, cmd.number)
        authorize(who, Action.CHAIR_STAGE, cmd.council, body=status.body)
        return workflows

    async def _close_stage(self, cmd: c.CloseStage, who: Principal) -> str:
        return await (await self._chair(cmd, who)).close_stage(cmd.council, cmd.number, who)

    async def _resolution(self, cmd: c.RecordResolution, who: Principal) -> bool:
        return await (await self._chair(cmd, who)).record_resolution(
            cmd.council,
            cmd.number,
            who,
            meeting_number=cmd.meeting_number,
            motion_no=cmd.motion_no,
        )

    async def _reapprove(self, cmd: c.Reapprove, who: Principal) -> bool:
        await (await self._chair(cmd, who)).reapprove(
            cmd.council,
            cmd.number,
            who,
            meeting_number=cmd.meeting_number,
            motion_no=cmd.motion_no,
        )
        return True

    async def _object(self, cmd: c.FileObjection, who: Principal) -> int:
        authorize(who, Action.FILE_OBJECTION, cmd.council)
        return await self._workflows().file_objection(cmd.council, cmd.number, who, cmd.text)

    async def _answer(self, cmd: c.AnswerObjection, who: Principal) -> bool:
        await (await self._chair(cmd, who)).answer_objection(
            cmd.council, cmd.number, who, cmd.objection_no, cmd.reply, upheld=cmd.upheld
        )
        return cmd.upheld

    async def _correct(self, cmd: c.CorrectNotice, who: Principal) -> bool:
        await (await self._chair(cmd, who)).correct_notice(cmd.council, cmd.number, who, cmd.text)
        return True

    async def _progress(self, cmd: c.ReportProgress, who: Principal) -> bool:
        await (await self._chair(cmd, who)).report_progress(
            cmd.council, cmd.number, who, cmd.text, photos=cmd.photos
        )
        return True

    async def _complete(self, cmd: c.CompleteImplementation, who: Principal) -> bool:
        return await (await self._chair(cmd, who)).complete(
            cmd.council, cmd.number, who, cmd.actual_cost
        )

    async def _withdraw(self, cmd: c.Withdraw, who: Principal) -> str:
        await (await self._chair(cmd, who)).withdraw(cmd.council, cmd.number, who, cmd.reason)
        return "withdrawn"

    async def _advance(self, cmd: c.AdvanceClock, who: Principal) -> bool:
        """Fast-forward an item's clock: drills and demos, on a server started in demo mode."""
        authorize(who, Action.ADVANCE_CLOCK, cmd.council)
        if not self.demo:
            raise DemoOnlyError("fast-forwarding is for a server started with --demo only")
        await asyncio.to_thread(self.app.issue, cmd.council, cmd.number)
        return await self._workflows().advance(cmd.council, cmd.number, cmd.days)
