"""Use cases: inviting members to the app, opening sessions with the links, ending sessions.

A session is a person's access token (the same principal and policy as the API) opened by
redeeming an invitation, or by another way of signing in that vouched for the member (a city's
identity provider: :meth:`InvitationCases.open_session_for`). Which sessions and invitations a
member holds is read from the log's private access events (:class:`AccessIndex`), kept in this
process and caught up on each read.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from govflow.application.listing import ListingCases
from govflow.application.log_reader import LogReader, Record, scan
from govflow.domain.access import AccessToken, HolderKind, TokenIssued, TokenRevoked, token_uuid
from govflow.domain.base import DomainEvent
from govflow.domain.council import Council
from govflow.domain.errors import ConcurrentChangeError, NotFoundError
from govflow.domain.invitation import (
    Invitation,
    InvitationError,
    InvitationIssued,
    InvitationMemberGoneError,
    InvitationRedeemed,
    InvitationRevoked,
    InvitationUsedError,
    invitation_uuid,
    parse_invitation,
)
from govflow.domain.policy import Action, Principal, authorize

INVITATION_DAYS = 7


@dataclass(frozen=True)
class NewInvitation:
    """An invitation just issued: its link's last segment is shown once, never stored."""

    member_id: str
    name: str
    link: str  # gi_<id>_<secret>
    expires_at: datetime


@dataclass
class SessionRow:
    id: UUID  # the session token's id
    council: str
    holder: str
    enrolment: int
    opened_at: datetime
    ended: bool = False


@dataclass
class InvitationRow:
    id: UUID
    council: str
    member: str
    enrolment: int
    issued_at: datetime
    expires_at: datetime
    redeemed: bool = False
    revoked: bool = False

    def live(self, at: datetime) -> bool:
        return not self.redeemed and not self.revoked and at < self.expires_at


@dataclass(frozen=True)
class MemberAccess:
    """A member's sessions (open ones) and invitations (all, newest first)."""

    member_id: str
    name: str
    sessions: list[SessionRow]
    invitations: list[InvitationRow]


_TOPICS = (
    TokenIssued.TOPIC,
    InvitationIssued.TOPIC,
    InvitationRedeemed.TOPIC,
    InvitationRevoked.TOPIC,
    TokenRevoked.TOPIC,
)


class AccessIndex:
    """Sessions and invitations by member, projected from the private access events."""

    def __init__(self, reader: LogReader, decode: Callable[[Record], DomainEvent]) -> None:
        self._reader, self._decode = reader, decode
        self._lock = threading.Lock()
        self.position = 0
        self.invitations: dict[UUID, InvitationRow] = {}
        self.sessions: dict[UUID, SessionRow] = {}

    def refresh(self) -> None:
        with self._lock:
            for record in scan(self._reader, self.position, topics=_TOPICS):
                self._apply(self._decode(record))
                self.position = record.id

    def _apply(self, event: DomainEvent) -> None:
        oid = event.originator_id
        match event:
            case InvitationIssued():
                self.invitations[oid] = InvitationRow(
                    oid,
                    event.council,
                    event.member,
                    event.enrolment,
                    event.timestamp,
                    event.expires_at,
                )
            case InvitationRedeemed() if (row := self.invitations.get(oid)) is not None:
                row.redeemed = True
                self.sessions[event.session] = SessionRow(
                    event.session, row.council, row.member, row.enrolment, event.timestamp
                )
            case InvitationRevoked() if (row := self.invitations.get(oid)) is not None:
                row.revoked = True
            case TokenIssued() if (
                event.kind is HolderKind.PERSON
                and event.actor == event.holder
                and event.enrolment is not None
            ):  # a person's token they opened themselves: a session (a link's, or OIDC's)
                self.sessions.setdefault(
                    oid,
                    SessionRow(oid, event.council, event.holder, event.enrolment, event.timestamp),
                )
            case TokenRevoked() if (session := self.sessions.get(oid)) is not None:
                session.ended = True

    def of(self, council: Council, member_id: str) -> tuple[list[SessionRow], list[InvitationRow]]:
        """The open sessions and the invitations of the member's current enrolment."""
        enrolment = council.member(member_id).enrolment
        sessions = [
            s
            for s in self.sessions.values()
            if (s.council, s.holder, s.enrolment) == (council.code, member_id, enrolment)
            and not s.ended
        ]
        invitations = [
            i
            for i in self.invitations.values()
            if (i.council, i.member, i.enrolment) == (council.code, member_id, enrolment)
        ]
        return (
            sorted(sessions, key=lambda s: s.opened_at, reverse=True),
            sorted(invitations, key=lambda i: i.issued_at, reverse=True),
        )


class InvitationCases(ListingCases):
    _access_index: AccessIndex | None = None

    @property
    def access_index(self) -> AccessIndex:
        if self._access_index is None:
            self._access_index = AccessIndex(self.log_reader, self._decode)
        self._access_index.refresh()
        return self._access_index

    def invite_members(
        self,
        code: str,
        member_ids: tuple[str, ...] = (),
        *,
        uninvited: bool = False,
        days: int = INVITATION_DAYS,
        actor: str,
    ) -> list[NewInvitation]:
        """One new invitation per member named (each in their current enrolment) and, with
        ``uninvited``, per member without an open session or a live invitation; all saved
        together. The links are returned once."""
        council = self.council_to_read(code)
        at = self.now()
        chosen = list(dict.fromkeys(member_ids))
        for member_id in chosen:
            council.member(member_id)  # refuses a member not on the roll
        if uninvited:
            index = self.access_index
            for member_id in council.members:
                sessions, rows = index.of(council, member_id)
                fresh = not sessions and not any(i.live(at) for i in rows)
                if fresh and member_id not in chosen:
                    chosen.append(member_id)
        made: list[NewInvitation] = []
        invitations: list[Invitation] = []
        expires_at = at + timedelta(days=days)
        for member_id in chosen:
            member = council.member(member_id)
            invitation_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
            invitations.append(
                Invitation.issue(
                    invitation_id,
                    secret,
                    council=code,
                    member=member_id,
                    enrolment=member.enrolment,
                    expires_at=expires_at,
                    at=at,
                    actor=actor,
                    key=self.token_key,
                )
            )
            made.append(
                NewInvitation(member_id, member.name, f"gi_{invitation_id}_{secret}", expires_at)
            )
        if invitations:
            self._save_new(*invitations, what="invitation")
        return made

    def redeem_invitation(self, presented: str) -> str:
        """Open a session with a sign-in link: the new session's token (returned once).
        Refused, recording nothing, for a wrong, used, expired or withdrawn link, or one of a
        member who left or whose member id was enrolled again."""
        invitation_id, secret = parse_invitation(presented)
        try:
            invitation = self._get(Invitation, invitation_uuid(invitation_id), "invitation")
        except NotFoundError:
            raise InvitationError("this is not a valid sign-in link") from None
        at = self.now()
        invitation.check(secret, at=at, key=self.token_key)
        member = self.council_to_read(invitation.council).members.get(invitation.member)
        if member is None or member.enrolment != invitation.enrolment:
            raise InvitationMemberGoneError(
                "this sign-in link was for a member no longer on the roll: ask for a new one"
            )
        token_id, token_secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        token = AccessToken.issue(
            token_id,
            token_secret,
            council=invitation.council,
            holder=invitation.member,
            kind=HolderKind.PERSON,
            scopes=(),
            at=at,
            actor=invitation.member,
            key=self.token_key,
            enrolment=invitation.enrolment,
        )
        invitation.redeem(secret, token.id, at=at, key=self.token_key)
        try:
            self._save(invitation, token)
        except ConcurrentChangeError:  # the same link redeemed at the same moment
            raise InvitationUsedError("this sign-in link was used already") from None
        return f"gf_{token_id}_{token_secret}"

    def open_session_for(self, code: str, member_id: str, *, via: str) -> str:
        """Open a session for a member another way of signing in vouched for (``via``, e.g.
        ``oidc``): the same person's token, in the member's current enrolment, that a
        redeemed invitation gives; returned once. Only the token is recorded; refused,
        recording nothing, for an unknown council or a member not on its roll."""
        member = self.council_to_read(code).member(member_id)
        token_id, token_secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        token = AccessToken.issue(
            token_id,
            token_secret,
            council=code,
            holder=member_id,
            kind=HolderKind.PERSON,
            scopes=(),
            at=self.now(),
            actor=member_id,
            key=self.token_key,
            enrolment=member.enrolment,
        )
        self._save_new(token, what=f"session ({via})")
        return f"gf_{token_id}_{token_secret}"

    def revoke_invitation(self, code: str, invitation: UUID, reason: str, *, actor: str) -> None:
        found = self._get(Invitation, invitation, "invitation")
        if found.council != code:
            raise NotFoundError("invitation not found", id=str(invitation))
        found.revoke(reason, at=self.now(), actor=actor)
        self._save(found)

    def session_owner(self, code: str, session: UUID) -> tuple[str, int | None]:
        """Whose session (a person's token of the council) ``session`` is: member id and
        enrolment, the facts the policy needs to let someone end it."""
        token = self._get(AccessToken, session, "session")
        if token.council != code or token.kind is not HolderKind.PERSON:
            raise NotFoundError("session not found", id=str(session))
        return token.holder, token.enrolment

    def end_session(self, session: UUID, reason: str, *, actor: str) -> None:
        token = self._get(AccessToken, session, "session")
        token.revoke(reason, at=self.now(), actor=actor)
        self._save(token)

    def member_access(self, who: Principal, code: str, member_id: str) -> MemberAccess:
        """A member's open sessions and invitations: their own, or any member's for the
        clerk."""
        if member_id != who.holder:
            authorize(who, Action.INVITE, code)
        else:
            authorize(who, Action.READ, code)
        council = self.council_to_read(code)
        sessions, invitations = self.access_index.of(council, member_id)
        return MemberAccess(member_id, council.member(member_id).name, sessions, invitations)

    def roll_access(self, who: Principal, code: str) -> list[MemberAccess]:
        """Every member's sessions and invitations (the clerk's invitations page)."""
        authorize(who, Action.INVITE, code)
        council = self.council_to_read(code)
        index = self.access_index
        rows = []
        for member_id, member in sorted(council.members.items()):
            sessions, invitations = index.of(council, member_id)
            rows.append(MemberAccess(member_id, member.name, sessions, invitations))
        return rows


def session_id_of(token_id: str | None) -> UUID | None:
    """The session (token aggregate) id of a presented token's id."""
    return token_uuid(token_id) if token_id else None


__all__ = [
    "AccessIndex",
    "InvitationCases",
    "InvitationRow",
    "MemberAccess",
    "NewInvitation",
    "SessionRow",
    "session_id_of",
]
