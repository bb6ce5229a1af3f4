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
    NotFoundError,
    NotOnRollError,
    RuleViolationError,
)
from govflow.domain.ids import issue_id
from govflow.domain.procedure import Proxies
from govflow.domain.proxy import (
    Proxy,
    ProxyAppointed,
    ProxyHolder,
    ProxyRevoked,
    holder_id,
    proxy_id,
)


@dataclass(frozen=True)
class Appointment:
    """A live appointment: ``proxy`` votes for ``principal`` in the item's vote ``stage``."""

    principal: str
    proxy: str
    proxy_form_sha256: str
    used: bool


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
        holder = holder_id(proxy, issue=issue.id, stage=stage, meeting=None)
        for _ in range(3):  # a racing appointment for the same proxy: count again
            # the holder record first: the count below is of its version or a later one, so
            # an appointment landing meanwhile makes this one's save of it fail
            record = self._holder(holder)
            held = [
                other
                for other, appointment in self.appointments(code, number, stage).items()
                if appointment.proxy == proxy and other != principal
            ]
            if len(held) >= proxies.cap:
                raise RuleViolationError(
                    f"{proxy} already stands for {len(held)} voter(s) in this vote, the most "
                    "the procedure allows",
                    proxy=proxy,
                    cap=proxies.cap,
                )
            appointment = Proxy.appoint(
                self._appointment(code, number, stage, principal),
                council=code,
                issue=issue.id,
                stage=stage,
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
        appointment = self._appointment(code, number, stage, principal)
        if appointment is None:
            raise NotFoundError(f"{principal} has appointed no proxy for this vote")
        holder = holder_id(
            appointment.proxy, issue=issue_id(code, number), stage=stage, meeting=None
        )
        record = self._holder(holder)  # before the count (see appoint_proxy)
        appointment.revoke(reason, at=self.now(), actor=actor)
        stays = [
            other
            for other, held in self.appointments(code, number, stage).items()
            if held.proxy == appointment.proxy and other != principal
        ]
        holding = ProxyHolder.holding(
            record, holder, appointment.proxy, stays, at=self.now(), actor=actor
        )
        self._save(appointment, holding)

    def _appointment(self, code: str, number: int, stage: str, principal: str) -> Proxy | None:
        try:
            return self._get(
                Proxy, proxy_id(issue_id(code, number), stage, principal), "appointment"
            )
        except NotFoundError:
            return None

    def appointments(self, code: str, number: int, stage: str) -> dict[str, Appointment]:
        """The live appointments for the item's vote ``stage``, by principal."""
        wanted = str(issue_id(code, number))
        live: dict[str, dict[str, str]] = {}
        topics = (ProxyAppointed.TOPIC, ProxyRevoked.TOPIC)
        for record in scan(self.log_reader, topics=topics):
            if record.topic == ProxyRevoked.TOPIC:
                live.pop(record.originator, None)
                continue
            state = orjson.loads(self.payload(record.state))
            if state.get("issue_id") == wanted and state.get("stage") == stage:
                live[record.originator] = state
        found: dict[str, Appointment] = {}
        for state in live.values():
            principal = state["principal"]
            appointment = self._appointment(code, number, stage, principal)
            found[principal] = Appointment(
                principal=principal,
                proxy=state["proxy"],
                proxy_form_sha256=state["proxy_form_sha256"],
                used=bool(appointment is not None and appointment.used_in),
            )
        return found
