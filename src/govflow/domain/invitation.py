"""Invitations: a one-time sign-in link the clerk gives a member of the council.

An invitation reads ``gi_<invitation id>_<secret>`` and belongs to one enrolment of a member.
Only the secret's digest is recorded (keyed like tokens' when the installation has a token
key), so the log never holds a usable link. Redeeming it once, before it expires, opens a
session (a person's access token); a used, expired or revoked invitation opens nothing.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from uuid import UUID, uuid5

from pydantic import AwareDatetime

from govflow.domain.access import digest
from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import AuthenticationError
from govflow.domain.ids import NAMESPACE


class InvitationError(AuthenticationError):
    """An invitation that opens nothing (the link is the credential, hence 401)."""

    code = "invitation.invalid"


class InvitationUsedError(InvitationError):
    code = "invitation.used"
    status = 410


class InvitationExpiredError(InvitationError):
    code = "invitation.expired"
    status = 410


class InvitationRevokedError(InvitationError):
    code = "invitation.revoked"
    status = 410


class InvitationMemberGoneError(InvitationError):
    """The member left, or the member id was enrolled again (another person)."""

    code = "invitation.member_gone"
    status = 410


class InvitationIssued(DomainEvent):
    """The clerk invited a member (one enrolment) to sign in to the app, until ``expires_at``;
    ``secret_sha256`` is the link secret's digest (HMAC under the token key with ``keyed``)."""

    TOPIC = "govflow.access.invitation_issued"
    council: str
    member: str
    enrolment: int
    secret_sha256: str
    keyed: bool = False
    expires_at: AwareDatetime


class InvitationRedeemed(DomainEvent):
    """The link was used: it opened the session ``session`` (an access token's id)."""

    TOPIC = "govflow.access.invitation_redeemed"
    session: UUID


class InvitationRevoked(DomainEvent):
    TOPIC = "govflow.access.invitation_revoked"
    reason: str


def invitation_uuid(invitation_id: str) -> UUID:
    return uuid5(NAMESPACE, f"invitation:{invitation_id}")


def parse_invitation(presented: str) -> tuple[str, str]:
    """The invitation id and secret of a link's last segment ``gi_<id>_<secret>``."""
    prefix, _, rest = presented.partition("_")
    invitation_id, _, secret = rest.partition("_")
    if prefix != "gi" or not invitation_id or not secret or len(presented) > 200:
        raise InvitationError("this is not a sign-in link")
    return invitation_id, secret


class Invitation(Aggregate):
    created_by = (InvitationIssued,)

    @classmethod
    def issue(
        cls,
        invitation_id: str,
        secret: str,
        *,
        council: str,
        member: str,
        enrolment: int,
        expires_at: datetime,
        at: datetime,
        actor: str,
        key: bytes | None = None,
    ) -> Invitation:
        return cls._create(
            InvitationIssued,
            invitation_uuid(invitation_id),
            at=at,
            actor=actor,
            council=council,
            member=member,
            enrolment=enrolment,
            secret_sha256=digest(secret, key),
            keyed=key is not None,
            expires_at=expires_at,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case InvitationIssued():
                self.council = event.council
                self.member = event.member
                self.enrolment = event.enrolment
                self.secret_sha256 = event.secret_sha256
                self.keyed = event.keyed
                self.issued_on = event.timestamp
                self.expires_at = event.expires_at
                self.session: UUID | None = None
                self.revoked = False
            case InvitationRedeemed():
                self.session = event.session
            case InvitationRevoked():
                self.revoked = True

    def live(self, at: datetime) -> bool:
        """Whether the link would still open a session at ``at``."""
        return self.session is None and not self.revoked and at < self.expires_at

    def check(self, secret: str, *, at: datetime, key: bytes | None = None) -> None:
        """Refuse a wrong secret (in constant time) and then a used, revoked or expired link."""
        if self.keyed and key is None:
            raise InvitationError("the token key (GOVFLOW_TOKEN_KEY) is not configured")
        stored = digest(secret, key if self.keyed else None)
        if not hmac.compare_digest(self.secret_sha256, stored):
            raise InvitationError("this is not a valid sign-in link")
        if self.session is not None:
            raise InvitationUsedError("this sign-in link was used already: ask for a new one")
        if self.revoked:
            raise InvitationRevokedError("this sign-in link was withdrawn: ask for a new one")
        if at >= self.expires_at:
            raise InvitationExpiredError("this sign-in link has expired: ask for a new one")

    def redeem(self, secret: str, session: UUID, *, at: datetime, key: bytes | None) -> None:
        self.check(secret, at=at, key=key)
        self._trigger(InvitationRedeemed, at=at, actor=self.member, session=session)

    def revoke(self, reason: str, *, at: datetime, actor: str) -> None:
        if self.session is None and not self.revoked:
            self._trigger(InvitationRevoked, at=at, actor=actor, reason=reason)
