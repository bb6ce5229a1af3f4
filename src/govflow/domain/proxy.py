"""A proxy (委托): a voter appoints another member to vote for them in one item's vote stage
(or at one meeting), on a written 委托书 whose scan is kept by its sha256.

The appointment is revoked by the principal (or the clerk for them) only before the proxy has
voted: the proxy's ballot records its use on the appointment in the same save, so a revocation
racing the proxy's ballot loses to the store (one of the two saves is refused).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid5

from pydantic import Field

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import AlreadyExistsError, RuleViolationError
from govflow.domain.ids import NAMESPACE

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def proxy_id(issue: UUID, stage: str, principal: str) -> UUID:
    """The appointment of ``principal``'s proxy for one item's vote stage (every round)."""
    return uuid5(NAMESPACE, f"proxy:{issue}:{stage}:{principal}")


def meeting_proxy_id(meeting: UUID, principal: str) -> UUID:
    """The appointment of ``principal``'s proxy for one meeting."""
    return uuid5(NAMESPACE, f"proxy:meeting:{meeting}:{principal}")


class ProxyAppointed(DomainEvent):
    """A voter appointed a proxy (委托), on a 委托书 kept by its scan's sha256."""

    TOPIC = "govflow.proxy.appointed"
    council: str
    issue_id: UUID | None = None
    stage: str | None = None  # the item's vote stage the appointment is for
    meeting_id: UUID | None = None
    principal: str
    proxy: str
    proxy_form_sha256: Sha256  # the 委托书 scan


class ProxyRevoked(DomainEvent):
    """The appointment was revoked before the proxy voted."""

    TOPIC = "govflow.proxy.revoked"
    reason: str


class ProxyUsed(DomainEvent):
    """The proxy voted for the principal in one voting round."""

    TOPIC = "govflow.proxy.used"
    ballot_key: str


class Proxy(Aggregate):
    created_by = (ProxyAppointed,)

    @classmethod
    def appoint(
        cls,
        existing: Proxy | None,
        *,
        council: str,
        principal: str,
        proxy: str,
        proxy_form_sha256: str,
        at: datetime,
        actor: str,
        issue: UUID | None = None,
        stage: str | None = None,
        meeting: UUID | None = None,
    ) -> Proxy:
        """Appoint ``proxy`` for ``principal`` for one item's vote ``stage`` (or one
        ``meeting``); again after a revocation, never over a live appointment."""
        if proxy == principal:
            raise RuleViolationError("a voter cannot be their own proxy", principal=principal)
        if (issue is None or stage is None) == (meeting is None):
            raise RuleViolationError("a proxy is appointed for one item's vote or one meeting")
        fields: dict[str, Any] = {
            "council": council,
            "issue_id": issue,
            "stage": stage,
            "meeting_id": meeting,
            "principal": principal,
            "proxy": proxy,
            "proxy_form_sha256": proxy_form_sha256,
        }
        if existing is None:
            aggregate_id = (
                meeting_proxy_id(meeting, principal)
                if meeting is not None
                else proxy_id(issue, stage, principal)  # type: ignore[arg-type]
            )
            return cls._create(ProxyAppointed, aggregate_id, at=at, actor=actor, **fields)
        if existing.live:
            raise AlreadyExistsError(
                f"{principal} already has a proxy ({existing.proxy}): revoke it first",
                principal=principal,
            )
        existing._trigger(ProxyAppointed, at=at, actor=actor, **fields)
        return existing

    def revoke(self, reason: str, *, at: datetime, actor: str) -> None:
        """Revoke the appointment, refused once the proxy has voted."""
        if not self.live:
            raise RuleViolationError("this appointment is not live", principal=self.principal)
        if self.used_in:
            raise RuleViolationError(
                f"the proxy {self.proxy} has already voted for {self.principal}",
                principal=self.principal,
            )
        self._trigger(ProxyRevoked, at=at, actor=actor, reason=reason)

    def use(self, ballot_key: str, proxy: str, *, at: datetime) -> None:
        """Record that ``proxy`` voted for the principal in ``ballot_key``."""
        if not self.live or proxy != self.proxy:
            raise RuleViolationError(
                f"{proxy} holds no live appointment from {self.principal}",
                principal=self.principal,
            )
        if ballot_key in self.used_in:
            raise RuleViolationError(
                f"the proxy has already voted for {self.principal} in {ballot_key}",
                principal=self.principal,
            )
        self._trigger(ProxyUsed, at=at, actor=proxy, ballot_key=ballot_key)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ProxyAppointed():
                self.council = event.council
                self.issue_id = event.issue_id
                self.stage = event.stage
                self.meeting_id = event.meeting_id
                self.principal = event.principal
                self.proxy = event.proxy
                self.proxy_form_sha256 = event.proxy_form_sha256
                self.live = True
                self.used_in: set[str] = set()
            case ProxyRevoked():
                self.live = False
            case ProxyUsed():
                self.used_in.add(event.ballot_key)


def holder_id(proxy: str, *, issue: UUID | None, stage: str | None, meeting: UUID | None) -> UUID:
    """The record of whom ``proxy`` stands for in one item's vote stage or one meeting."""
    scope = f"meeting:{meeting}" if meeting is not None else f"{issue}:{stage}"
    return uuid5(NAMESPACE, f"proxy-holder:{scope}:{proxy}")


class ProxyHoldingsChanged(DomainEvent):
    """Whom a proxy stands for now (after an appointment or a revocation): every change for
    one proxy is a new version of one record, so two appointments racing past the cap
    cannot both be saved (the store refuses the second version)."""

    TOPIC = "govflow.proxy.holdings_changed"
    proxy: str
    principals: list[str]


class ProxyHolder(Aggregate):
    """The principals one proxy stands for in one vote stage or meeting."""

    created_by = (ProxyHoldingsChanged,)

    @classmethod
    def holding(
        cls,
        existing: ProxyHolder | None,
        holder: UUID,
        proxy: str,
        principals: list[str],
        *,
        at: datetime,
        actor: str,
    ) -> ProxyHolder:
        """Record that ``proxy`` now stands for ``principals`` (a new version of the record:
        saved with the appointment or revocation that changed it)."""
        fields: dict[str, Any] = {"proxy": proxy, "principals": sorted(principals)}
        if existing is None:
            return cls._create(ProxyHoldingsChanged, holder, at=at, actor=actor, **fields)
        existing._trigger(ProxyHoldingsChanged, at=at, actor=actor, **fields)
        return existing

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, ProxyHoldingsChanged):
            self.proxy = event.proxy
            self.principals = list(event.principals)
