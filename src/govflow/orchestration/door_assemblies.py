"""The command door's acts of assemblies as they really run: proxies (委托) for an item's vote
or a meeting, paper ballots (纸质选票) with their scrutineers, and written consultation
(书面征求意见): signed replies and extensions."""

from __future__ import annotations

import asyncio

from govflow.application import commands as c
from govflow.application.consultation import (
    record_signed_reply,
    takes_signed_replies,
)
from govflow.application.views import BallotReceipt
from govflow.domain.errors import (
    InvalidInputError,
    NotFoundError,
    WorkflowUnavailableError,
)
from govflow.domain.ids import issue_id
from govflow.domain.issue import IssueProposed
from govflow.domain.paper import PaperEntry
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.procedure import Paper, Procedure, Proxies, Stage, StageKind
from govflow.orchestration.door_base import DoorBase


class AssemblyActs(DoorBase):
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

    async def _extend_consultation(self, cmd: c.ExtendConsultation, who: Principal) -> str:
        """Extend the open written consultation (the chair of its body, or the clerk); the
        new deadline. The workflow asks the policy and the procedure's cap again."""
        workflows = self._workflows()
        status = await workflows.status(cmd.council, cmd.number)
        authorize(who, Action.EXTEND_CONSULTATION, cmd.council, body=status.body)
        due = await workflows.extend_consultation(cmd.council, cmd.number, who, cmd.days)
        return due.isoformat()
