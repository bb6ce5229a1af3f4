"""The command door: the one way in for every write.

An entry point authenticates the caller (a :class:`~govflow.domain.policy.Principal` built from
the council's current record), builds a command and calls :meth:`CommandDoor.handle`. The
command's handler asks the policy whether the principal may, takes every fact a rule needs
from the record, and only then records events or talks to the item's workflow (whose update
validators ask the same policy). A refused command records nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from temporalio.service import RPCError

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.consultation import (
    record_signed_reply,
    refuse_if_barred,
    takes_signed_replies,
)
from govflow.application.invitations import NewInvitation
from govflow.application.notifications import ContactView
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import BallotReceipt, IssueView, SpendingView
from govflow.application.voting import Cast
from govflow.domain.access import token_uuid
from govflow.domain.consultation import SignatureRequiredError
from govflow.domain.errors import (
    DemoOnlyError,
    GovflowError,
    InvalidInputError,
    NotFoundError,
    WorkflowUnavailableError,
)
from govflow.domain.ids import issue_id
from govflow.domain.issue import IssueProposed
from govflow.domain.paper import PaperEntry
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.procedure import Paper, Procedure, Proxies, Stage, StageKind
from govflow.orchestration.client import IssueClient

Handler = Callable[[Any, Principal], Awaitable[Any]]
logger = structlog.get_logger("govflow.door")


class CommandDoor:
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
        }

    async def handle(self, command: c.Command, who: Principal) -> Any:
        """Perform ``command`` for ``who``, or refuse it with a coded error."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise InvalidInputError(f"no handler for {type(command).__name__}")
        return await handler(command, who)

    # -- shared --------------------------------------------------------------------------------

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

    async def _reply_to_consultation(
        self, cmd: c.ReplyToConsultation, who: Principal
    ) -> BallotReceipt:
        """A signed reply: the voter's own (as a ballot), or a paper one the clerk enters."""
        by_clerk = cmd.voter is not None and cmd.voter != who.holder
        action = Action.ENTER_SIGNED_REPLY if by_clerk else Action.CAST_BALLOT
        actor = authorize(who, action, cmd.council)
        voter = cmd.voter if cmd.voter is not None and by_clerk else who.holder
        enrolment = None if by_clerk else who.enrolment

        def record() -> BallotReceipt:
            if not takes_signed_replies(self.app, self.procedures, cmd.council, cmd.number):
                raise InvalidInputError(
                    f"item {cmd.number}'s vote is not a written consultation: cast a ballot",
                    number=cmd.number,
                )
            return record_signed_reply(
                self.app, cmd.council, cmd.number, voter, cmd.choice, cmd.signature_sha256,
                entered_by="clerk" if by_clerk else "voter", actor=actor, enrolment=enrolment,
            )  # fmt: skip

        receipt = await asyncio.to_thread(record)
        return await self.counted(cmd, receipt)

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

    # -- proxies (委托) ---------------------------------------------------------------------------

    def ballot_stage(
        self, council: str, number: int, stage: str | None
    ) -> tuple[Procedure, Stage, bool]:
        """The item's vote stage by ballots (``stage``, or its first), its procedure, and
        whether that is still the procedure the item began with (blocking)."""
        if self.procedures is None:
            raise WorkflowUnavailableError("no procedure library is loaded")
        proposed = next(self.app.domain_events(issue_id(council, number)), None)
        if not isinstance(proposed, IssueProposed):
            raise NotFoundError(f"issue {council}/{number} not found")
        procedure = self.procedures.get(proposed.procedure_name, proposed.procedure_version)
        votes = [s for s in procedure.stages if s.kind is StageKind.VOTE and s.vote_by == "ballots"]
        found = next((s for s in votes if stage in (None, s.id)), None)
        if found is None:
            raise InvalidInputError(
                f"item {number} has no vote by ballots {stage or ''}".strip(), stage=stage
            )
        return procedure, found, procedure.matches(proposed.procedure_hash)

    def proxy_stage(self, council: str, number: int, stage: str | None) -> tuple[str, Proxies]:
        """The vote stage and what its procedure, as the item began with it, says of proxies
        (none, if the library's copy changed since)."""
        _, found, same = self.ballot_stage(council, number, stage)
        return found.id, found.proxies if same else Proxies()

    async def _appoint_proxy(self, cmd: c.AppointProxy, who: Principal) -> str:
        principal = cmd.principal or who.holder
        actor = authorize(who, Action.APPOINT_PROXY, cmd.council, owner=(principal, None))

        def appoint() -> str:
            stage, proxies = self.proxy_stage(cmd.council, cmd.number, cmd.stage)
            appointment = self.app.appoint_proxy(
                cmd.council, cmd.number, stage, principal, cmd.proxy, cmd.proxy_form_sha256,
                proxies=proxies, actor=actor,
            )  # fmt: skip
            return str(appointment)

        return await asyncio.to_thread(appoint)

    async def _revoke_proxy(self, cmd: c.RevokeProxy, who: Principal) -> bool:
        principal = cmd.principal or who.holder
        actor = authorize(who, Action.APPOINT_PROXY, cmd.council, owner=(principal, None))

        def revoke() -> bool:
            stage, _ = self.proxy_stage(cmd.council, cmd.number, cmd.stage)
            self.app.revoke_proxy(
                cmd.council, cmd.number, stage, principal, reason=cmd.reason, actor=actor
            )
            return True

        return await asyncio.to_thread(revoke)

    def meeting_proxies(self, council: str, number: int) -> Proxies:
        """What the procedure of meeting ``number``'s item, as the item began with it, says of
        proxies at its vote by meeting (none for a meeting of no item, or a changed
        procedure): the first such stage that allows them (blocking)."""
        meeting = self.app.meeting(council, number)
        if meeting.issue_id is None or self.procedures is None:
            return Proxies()
        proposed = next(self.app.domain_events(meeting.issue_id), None)
        if not isinstance(proposed, IssueProposed):
            return Proxies()
        procedure = self.procedures.get(proposed.procedure_name, proposed.procedure_version)
        if not procedure.matches(proposed.procedure_hash):
            return Proxies()
        at_meeting = [
            s.proxies
            for s in procedure.stages
            if s.kind is StageKind.VOTE and s.vote_by == "meeting" and s.proxies.allowed
        ]
        return at_meeting[0] if at_meeting else Proxies()

    async def _appoint_meeting_proxy(self, cmd: c.AppointMeetingProxy, who: Principal) -> str:
        principal = cmd.principal or who.holder
        actor = authorize(who, Action.APPOINT_PROXY, cmd.council, owner=(principal, None))

        def appoint() -> str:
            proxies = self.meeting_proxies(cmd.council, cmd.number)
            appointment = self.app.appoint_meeting_proxy(
                cmd.council, cmd.number, principal, cmd.proxy, cmd.proxy_form_sha256,
                proxies=proxies, actor=actor,
            )  # fmt: skip
            return str(appointment)

        return await asyncio.to_thread(appoint)

    async def _revoke_meeting_proxy(self, cmd: c.RevokeMeetingProxy, who: Principal) -> bool:
        principal = cmd.principal or who.holder
        actor = authorize(who, Action.APPOINT_PROXY, cmd.council, owner=(principal, None))
        await asyncio.to_thread(
            lambda: self.app.revoke_meeting_proxy(
                cmd.council, cmd.number, principal, reason=cmd.reason, actor=actor
            )
        )
        return True

    # -- paper ballots (纸质选票) ----------------------------------------------------------------

    def paper_stage(
        self, council: str, number: int, stage: str | None
    ) -> tuple[str, Paper, str | None]:
        """The vote stage, what its procedure, as the item began with it, says of paper
        ballots, and the stage's body (blocking)."""
        procedure, found, same = self.ballot_stage(council, number, stage)
        body = procedure.acting_body(found)
        return found.id, found.paper if same else Paper(), body.value if body else None

    async def _enter_paper_ballots(self, cmd: c.EnterPaperBallots, who: Principal) -> int:
        stage, paper, body = await asyncio.to_thread(
            self.paper_stage, cmd.council, cmd.number, cmd.stage
        )
        actor = authorize(who, Action.ENTER_PAPER_BALLOTS, cmd.council, body=body)
        entries = [
            PaperEntry(voter=b.voter, choice=b.choice.value, scan_sha256=b.scan_sha256)
            for b in cmd.ballots
        ]
        return await asyncio.to_thread(
            self.app.enter_paper_ballots,
            cmd.council, cmd.number, stage, entries, paper=paper, actor=actor,
        )  # fmt: skip

    async def _confirm_paper_ballots(self, cmd: c.ConfirmPaperBallots, who: Principal) -> int:
        """Confirm a batch; if its ballots complete the roll, tell the workflow (as the last
        online ballot would)."""
        actor = authorize(who, Action.CONFIRM_PAPER_BALLOTS, cmd.council)

        def confirm() -> tuple[int, str | None]:
            count = self.app.confirm_paper_ballots(cmd.council, cmd.number, cmd.batch, actor=actor)
            return count, self.app.whole_roll_voted(cmd.council, cmd.number)

        count, completed = await asyncio.to_thread(confirm)
        if completed is not None:
            await self.tell_all_voted(cmd.council, cmd.number, completed)
        return count

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

    async def _extend_consultation(self, cmd: c.ExtendConsultation, who: Principal) -> str:
        """Extend the open written consultation (the chair of its body, or the clerk); the
        new deadline. The workflow asks the policy and the procedure's cap again."""
        workflows = self._workflows()
        status = await workflows.status(cmd.council, cmd.number)
        authorize(who, Action.EXTEND_CONSULTATION, cmd.council, body=status.body)
        due = await workflows.extend_consultation(cmd.council, cmd.number, who, cmd.days)
        return due.isoformat()

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

    # -- meetings ------------------------------------------------------------------------------

    async def _schedule(self, cmd: c.ScheduleMeeting, who: Principal) -> int:
        actor = authorize(who, Action.RUN_MEETING, cmd.council, body=cmd.body.value)
        if self.procedures is None:
            raise WorkflowUnavailableError("no procedure library is loaded")
        rules = self.procedures.get(cmd.rule_of).rules
        if cmd.rule not in rules:
            raise InvalidInputError(f"{cmd.rule_of} has no rule {cmd.rule!r}")
        if cmd.issue_number is not None:
            await asyncio.to_thread(self.app.issue, cmd.council, cmd.issue_number)
        await asyncio.to_thread(
            lambda: self.app.schedule_meeting(
                cmd.council,
                cmd.number,
                cmd.body,
                cmd.kind,
                cmd.title,
                scheduled_for=cmd.scheduled_for,
                notice_days_required=cmd.notice_days_required,
                rule=rules[cmd.rule],
                actor=actor,
                issue_id=issue_id(cmd.council, cmd.issue_number) if cmd.issue_number else None,
            )
        )
        return cmd.number

    async def _meeting_notice(self, cmd: c.GiveMeetingNotice, who: Principal) -> bool:
        actor = await self._run_meeting(who, cmd.council, cmd.number)
        return await asyncio.to_thread(
            lambda: self.app.issue_meeting_notice(cmd.council, cmd.number, actor=actor)
        )

    async def _excuse(self, cmd: c.ExcuseMember, who: Principal) -> str:
        """The clerk, keeper of the roll, excuses a member before the meeting: the chair
        who would gain from a smaller quorum base may not."""
        actor = authorize(who, Action.EXCUSE_MEMBER, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.excuse_member(
                cmd.council, cmd.number, cmd.member_id, cmd.reason, actor=actor
            )
        )
        return cmd.member_id

    async def _attendance(self, cmd: c.RecordAttendance, who: Principal) -> bool:
        actor = await self._run_meeting(who, cmd.council, cmd.number)
        return await asyncio.to_thread(
            lambda: self.app.record_attendance(
                cmd.council, cmd.number, list(cmd.present), actor=actor
            )
        )

    async def _motion(self, cmd: c.RecordMotion, who: Principal) -> tuple[int, bool]:
        actor = await self._run_meeting(who, cmd.council, cmd.number)

        def record() -> tuple[int, bool]:
            no = self.app.record_motion(
                cmd.council,
                cmd.number,
                cmd.text,
                yes=cmd.yes,
                no=cmd.no,
                abstain=cmd.abstain,
                actor=actor,
            )
            return no, self.app.meeting(cmd.council, cmd.number).motion_passed(no)

        return await asyncio.to_thread(record)

    async def _minutes(self, cmd: c.RecordMinutes, who: Principal) -> bool:
        actor = await self._run_meeting(who, cmd.council, cmd.number)
        await asyncio.to_thread(
            lambda: self.app.record_minutes(cmd.council, cmd.number, cmd.text, actor=actor)
        )
        return True

    async def _evidence(self, cmd: c.AttachEvidence, who: Principal) -> str:
        actor = await self._run_meeting(who, cmd.council, cmd.number)
        return await asyncio.to_thread(
            lambda: self.app.attach_evidence(
                cmd.council, cmd.number, cmd.name, cmd.content, actor=actor
            )
        )

    # -- spending ------------------------------------------------------------------------------

    async def _request_spending(self, cmd: c.RequestSpending, who: Principal) -> SpendingView:
        actor = authorize(who, Action.REQUEST_SPENDING, cmd.council)

        def request() -> SpendingView:
            if cmd.issue_number is not None:
                self.app.issue(cmd.council, cmd.issue_number)
            self.app.request_spending(
                cmd.council,
                cmd.number,
                cmd.amount,
                purpose=cmd.purpose,
                payee=cmd.payee,
                budget_line=cmd.budget_line,
                actor=actor,
                issue_id=issue_id(cmd.council, cmd.issue_number) if cmd.issue_number else None,
            )
            return self.app.get_spending(cmd.council, cmd.number)

        return await asyncio.to_thread(request)

    async def _request_disbursement(self, cmd: c.RequestDisbursement, who: Principal) -> int:
        """One officer asks; nothing moves until another officer approves."""
        actor = authorize(who, Action.REQUEST_DISBURSEMENT, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.request_disbursement(
                cmd.council, cmd.number, cmd.amount, reference=cmd.reference, actor=actor
            )
        )

    async def _approve_disbursement(
        self, cmd: c.ApproveDisbursement, who: Principal
    ) -> SpendingView:
        """A different officer approves with their own credentials: the money moves."""
        actor = authorize(who, Action.APPROVE_DISBURSEMENT, cmd.council)

        def approve() -> SpendingView:
            self.app.approve_disbursement(cmd.council, cmd.number, cmd.disbursement_no, actor=actor)
            return self.app.get_spending(cmd.council, cmd.number)

        return await asyncio.to_thread(approve)

    # -- the roll and access -------------------------------------------------------------------

    async def _enroll(self, cmd: c.EnrollMember, who: Principal) -> str:
        actor = authorize(who, Action.KEEP_ROLL, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.enroll_member(
                cmd.council,
                cmd.member_id,
                cmd.name,
                actor=actor,
                roles=cmd.roles,
                bodies=cmd.bodies,
                chairs=cmd.chairs,
            )
        )
        return cmd.member_id

    async def _change_member(self, cmd: c.ChangeMember, who: Principal) -> str:
        actor = authorize(who, Action.KEEP_ROLL, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.change_member(
                cmd.council,
                cmd.member_id,
                actor=actor,
                roles=cmd.roles,
                bodies=cmd.bodies,
                chairs=cmd.chairs,
            )
        )
        return cmd.member_id

    async def _remove(self, cmd: c.RemoveMember, who: Principal) -> str:
        actor = authorize(who, Action.KEEP_ROLL, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.remove_member(cmd.council, cmd.member_id, actor=actor)
        )
        return cmd.member_id

    async def _household(self, cmd: c.RegisterHousehold, who: Principal) -> str:
        actor = authorize(who, Action.KEEP_ROLL, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.register_household(
                cmd.council,
                cmd.unit,
                cmd.exclusive_area,
                cmd.owner_id,
                actor=actor,
                bodies=cmd.bodies,
                co_owners=cmd.co_owners,
            )
        )
        return cmd.unit

    async def _change_household(self, cmd: c.ChangeHousehold, who: Principal) -> str:
        actor = authorize(who, Action.KEEP_ROLL, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.change_household(
                cmd.council, cmd.unit, cmd.owner_id, actor=actor, co_owners=cmd.co_owners
            )
        )
        return cmd.unit

    async def _threshold(self, cmd: c.ChangeThreshold, who: Principal) -> str:
        actor = authorize(who, Action.KEEP_ROLL, cmd.council)

        def change() -> str:
            self.app.change_spending_threshold(cmd.council, cmd.spending_threshold, actor=actor)
            return str(self.app.council(cmd.council).spending_threshold)

        return await asyncio.to_thread(change)

    async def _issue_token(self, cmd: c.IssueToken, who: Principal) -> str:
        return await asyncio.to_thread(
            lambda: self.app.issue_token_as(
                who, cmd.council, cmd.holder, kind=cmd.kind, scopes=cmd.scopes
            )
        )

    async def _set_contact(self, cmd: c.SetContact, who: Principal) -> ContactView:
        """Set a member's contact: the member themself (as enrolled now) or the clerk."""
        council = await asyncio.to_thread(self.app.council_to_read, cmd.council)
        member = council.members.get(cmd.member_id)
        owner = (cmd.member_id, member.enrolment if member else None)
        actor = authorize(who, Action.SET_CONTACT, cmd.council, owner=owner)
        return await asyncio.to_thread(
            lambda: self.app.set_contact(
                cmd.council,
                cmd.member_id,
                email=cmd.email,
                gateway=cmd.gateway,
                follows=cmd.follows,
                actor=actor,
            )
        )

    async def _revoke_token(self, cmd: c.RevokeToken, who: Principal) -> bool:
        await asyncio.to_thread(
            lambda: self.app.revoke_token_as(who, cmd.council, cmd.token_id, cmd.reason)
        )
        return True

    # -- signing in to the app -----------------------------------------------------------------

    async def _invite(self, cmd: c.InviteMembers, who: Principal) -> list[NewInvitation]:
        actor = authorize(who, Action.INVITE, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.invite_members(
                cmd.council, cmd.member_ids, uninvited=cmd.uninvited, days=cmd.days, actor=actor
            )
        )

    async def _revoke_invitation(self, cmd: c.RevokeInvitation, who: Principal) -> bool:
        actor = authorize(who, Action.INVITE, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.revoke_invitation(
                cmd.council, cmd.invitation_id, cmd.reason, actor=actor
            )
        )
        return True

    async def _end_session(self, cmd: c.EndSession, who: Principal) -> bool:
        """The member ends their own session, the clerk anyone's of the council."""
        authorize(who, Action.READ, cmd.council)  # nothing is looked up for another council
        owner = await asyncio.to_thread(self.app.session_owner, cmd.council, cmd.session_id)
        actor = authorize(who, Action.END_SESSION, cmd.council, owner=owner)
        await asyncio.to_thread(
            lambda: self.app.end_session(cmd.session_id, cmd.reason, actor=actor)
        )
        return True

    async def redeem(self, cmd: c.RedeemInvitation) -> str:
        """Open a session with a sign-in link (public: the link's secret is the credential)
        and end the session the browser held, if any (rotation on sign-in). The new
        session's token, once."""
        token = await asyncio.to_thread(self.app.redeem_invitation, cmd.invitation)
        if cmd.replaces and cmd.replaces != token:
            try:
                old = await asyncio.to_thread(self.app.authenticate, cmd.replaces)
            except GovflowError:
                return token  # not a working session: nothing to end
            if old.is_person and old.token_id is not None:
                ending = c.EndSession(
                    council=old.council,
                    session_id=token_uuid(old.token_id),
                    reason="replaced by a new sign-in",
                )
                try:
                    await self._end_session(ending, old)
                except GovflowError as kept:  # the new session stands all the same
                    logger.warning("session_not_rotated", council=old.council, code=kept.code)
        return token
