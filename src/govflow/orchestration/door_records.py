"""The command door's acts on the council's records: meetings, spending, the roll and
access, and signing in to the app."""

from __future__ import annotations

import asyncio

from govflow.application import commands as c
from govflow.application.invitations import NewInvitation
from govflow.application.notifications import ContactView
from govflow.application.views import SpendingView
from govflow.domain.access import token_uuid
from govflow.domain.errors import (
    GovflowError,
    InvalidInputError,
    WorkflowUnavailableError,
)
from govflow.domain.ids import issue_id
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.door_base import DoorBase, logger


class RecordActs(DoorBase):
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
