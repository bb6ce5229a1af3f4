"""Use cases: proxies (委托) for an item's vote stage.

Whether a stage allows proxies, and how many voters one proxy may stand for, is the procedure's
(the caller passes the stage's :class:`~govflow.domain.procedure.Proxies`). An appointment is
refused, recording nothing, when the procedure does not allow proxies, when the proxy already
holds its cap of live appointments for that vote, when a voter names themself, or when the vote
is open and the principal is not on its frozen roll.

Each appointment and revocation also writes a new version of the proxy's holder record (whom it
stands for), in the same save: two appointments counted against the cap from the same state
race on that version, and the store takes only one (the other counts again).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError

from govflow.application.core import GovernanceCore
from govflow.application.log_reader import scan
from govflow.domain.errors import (
    ConcurrentChangeError,
    MeetingStateError,
    NotFoundError,
    NotOnMeetingRollError,
    NotOnRollError,
    RuleViolationError,
)
from govflow.domain.ids import issue_id, meeting_id
from govflow.domain.meeting import Meeting
from govflow.domain.procedure import Proxies
from govflow.domain.proxy import (
    Proxy,
    ProxyAppointed,
    ProxyHolder,
    ProxyRevoked,
    holder_id,
    meeting_proxy_id,
    proxy_id,
)


@dataclass(frozen=True)
class Appointment:
    """A live appointment: ``proxy`` votes for ``principal`` in the item's vote ``stage`` (or
    attends one meeting for them)."""

    principal: str
    proxy: str
    proxy_form_sha256: str
    used: bool


@dataclass(frozen=True)
class Scope:
    """What appointments are for: one item's vote stage, or one meeting."""

    issue: UUID | None = None
    stage: str | None = None
    meeting: UUID | None = None

    def appointment(self, principal: str) -> UUID:
        if self.meeting is not None:
            return meeting_proxy_id(self.meeting, principal)
        assert self.issue is not None and self.stage is not None
        return proxy_id(self.issue, self.stage, principal)

    def holder(self, proxy: str) -> UUID:
        return holder_id(proxy, issue=self.issue, stage=self.stage, meeting=self.meeting)

    def holds(self, state: dict[str, str]) -> bool:
        """Whether an appointment's recorded ``state`` is for this scope."""
        if self.meeting is not None:
            return state.get("meeting_id") == str(self.meeting)
        return state.get("issue_id") == str(self.issue) and state.get("stage") == self.stage


class ProxyCases(GovernanceCore):
    def appoint_proxy(
        self,
        code: str,
        number: int,
        stage: str,
        principal: str,
        proxy: str,
        proxy_form_sha256: str,
        *,
        proxies: Proxies,
        actor: str,
    ) -> UUID:
        """Record ``principal``'s appointment of ``proxy`` for the item's vote ``stage``, on
        the 委托书 whose scan is ``proxy_form_sha256``; returns the appointment's id."""
        if not proxies.allowed:
            raise RuleViolationError(
                "the procedure does not allow proxies for this vote", stage=stage
            )
        council = self.council_to_read(code)
        council.member(principal)
        council.member(proxy)
        issue = self.issue(code, number)
        voting = issue.voting
        if (
            voting is not None
            and voting.is_open
            and voting.ballot_key.rsplit("#", 1)[0] == stage
            and principal not in voting.roll
        ):
            raise NotOnRollError(
                f"{principal} is not on the roll frozen when voting opened", voter=principal
            )
        scope = Scope(issue=issue.id, stage=stage)
        return self._appoint(code, scope, principal, proxy, proxy_form_sha256, proxies, actor)

    def appoint_meeting_proxy(
        self,
        code: str,
        number: int,
        principal: str,
        proxy: str,
        proxy_form_sha256: str,
        *,
        proxies: Proxies,
        actor: str,
    ) -> UUID:
        """Record ``principal``'s appointment of ``proxy`` to attend meeting ``number`` for
        them (委托出席), before attendance is taken; both are members of the meeting's body."""
        if not proxies.allowed:
            raise RuleViolationError(
                "the meeting's procedure does not allow proxies", meeting=number
            )
        council = self.council_to_read(code)
        meeting = self._get(Meeting, meeting_id(code, number), f"meeting {code}/{number}")
        if meeting.attendance is not None:
            raise MeetingStateError("attendance is recorded: appoint a proxy before it")
        roll = council.roll_of(meeting.body).weights
        for member in (principal, proxy):
            council.member(member)
            if member not in roll:
                raise NotOnMeetingRollError(
                    f"{member} is not on the roll of {meeting.body.value}", member=member
                )
        if principal in meeting.excused:
            raise RuleViolationError(f"{principal} was excused", principal=principal)
        scope = Scope(meeting=meeting.id)
        return self._appoint(code, scope, principal, proxy, proxy_form_sha256, proxies, actor)

    def _appoint(
        self,
        code: str,
        scope: Scope,
        principal: str,
        proxy: str,
        proxy_form_sha256: str,
        proxies: Proxies,
        actor: str,
    ) -> UUID:
        holder = scope.holder(proxy)
        for _ in range(3):  # a racing appointment for the same proxy: count again
            # the holder record first: the count below is of its version or a later one, so
            # an appointment landing meanwhile makes this one's save of it fail
            record = self._holder(holder)
            held = [
                other
                for other, appointment in self._live(scope).items()
                if appointment.proxy == proxy and other != principal
            ]
            if len(held) >= proxies.cap:
                raise RuleViolationError(
                    f"{proxy} already stands for {len(held)} voter(s) here, the most the "
                    "procedure allows",
                    proxy=proxy,
                    cap=proxies.cap,
                )
            appointment = Proxy.appoint(
                self._find(scope.appointment(principal)),
                council=code,
                issue=scope.issue,
                stage=scope.stage,
                meeting=scope.meeting,
                principal=principal,
                proxy=proxy,
                proxy_form_sha256=proxy_form_sha256,
                at=self.now(),
                actor=actor,
            )
            holding = ProxyHolder.holding(
                record, holder, proxy, [*held, principal], at=self.now(), actor=actor
            )
            try:
                self.save(appointment, holding)
            except IntegrityError:
                continue
            return appointment.id
        raise ConcurrentChangeError("appointments for this proxy changed concurrently: try again")

    def _holder(self, holder: UUID) -> ProxyHolder | None:
        try:
            return self._get(ProxyHolder, holder, "holder")
        except NotFoundError:
            return None

    def revoke_proxy(
        self, code: str, number: int, stage: str, principal: str, *, reason: str, actor: str
    ) -> None:
        """Revoke ``principal``'s appointment, refused once the proxy has voted with it."""
        self._revoke(Scope(issue=issue_id(code, number), stage=stage), principal, reason, actor)

    def revoke_meeting_proxy(
        self, code: str, number: int, principal: str, *, reason: str, actor: str
    ) -> None:
        """Revoke ``principal``'s appointment for meeting ``number``, refused once attendance
        counted it."""
        meeting = self._get(Meeting, meeting_id(code, number), f"meeting {code}/{number}")
        self._revoke(Scope(meeting=meeting.id), principal, reason, actor)

    def _revoke(self, scope: Scope, principal: str, reason: str, actor: str) -> None:
        appointment = self._find(scope.appointment(principal))
        if appointment is None:
            raise NotFoundError(f"{principal} has appointed no proxy here")
        holder = scope.holder(appointment.proxy)
        record = self._holder(holder)  # before the count (see _appoint)
        appointment.revoke(reason, at=self.now(), actor=actor)
        stays = [
            other
            for other, held in self._live(scope).items()
            if held.proxy == appointment.proxy and other != principal
        ]
        holding = ProxyHolder.holding(
            record, holder, appointment.proxy, stays, at=self.now(), actor=actor
        )
        self._save(appointment, holding)

    def _appointment(self, code: str, number: int, stage: str, principal: str) -> Proxy | None:
        return self._find(proxy_id(issue_id(code, number), stage, principal))

    def _find(self, appointment: UUID) -> Proxy | None:
        try:
            return self._get(Proxy, appointment, "appointment")
        except NotFoundError:
            return None

    def appointments(self, code: str, number: int, stage: str) -> dict[str, Appointment]:
        """The live appointments for the item's vote ``stage``, by principal."""
        return self._live(Scope(issue=issue_id(code, number), stage=stage))

    def meeting_appointments(self, code: str, number: int) -> dict[str, Appointment]:
        """The live appointments for meeting ``number``, by principal."""
        return self._live(Scope(meeting=meeting_id(code, number)))

    def _live(self, scope: Scope) -> dict[str, Appointment]:
        live: dict[str, dict[str, str]] = {}
        topics = (ProxyAppointed.TOPIC, ProxyRevoked.TOPIC)
        for record in scan(self.log_reader, topics=topics):
            if record.topic == ProxyRevoked.TOPIC:
                live.pop(record.originator, None)
                continue
            state = orjson.loads(self.payload(record.state))
            if scope.holds(state):
                live[record.originator] = state
        found: dict[str, Appointment] = {}
        for state in live.values():
            principal = state["principal"]
            appointment = self._find(scope.appointment(principal))
            found[principal] = Appointment(
                principal=principal,
                proxy=state["proxy"],
                proxy_form_sha256=state["proxy_form_sha256"],
                used=bool(appointment is not None and appointment.used_in),
            )
        return found
