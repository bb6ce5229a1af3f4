"""Use cases: issuing, revoking and checking access tokens.

A person's token belongs to one enrolment: when the member leaves, or the member id is enrolled
again for someone else, the token stops working.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from govflow.application.core import GovernanceCore
from govflow.domain.access import AccessToken, HolderKind, Scope, token_uuid
from govflow.domain.council import Council, Member
from govflow.domain.errors import AuthenticationError, NotFoundError
from govflow.domain.policy import Action, Principal, authorize

__all__ = ["AccessCases", "Principal"]


class AccessCases(GovernanceCore):
    def issue_token(
        self,
        code: str,
        holder: str,
        *,
        kind: HolderKind = HolderKind.PERSON,
        scopes: tuple[Scope, ...] = (),
        actor: str,
    ) -> str:
        """A new token; the plaintext is returned once and never stored."""
        council = self.council_to_read(code)
        enrolment = council.member(holder).enrolment if kind is HolderKind.PERSON else None
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        token = AccessToken.issue(
            token_id,
            secret,
            council=code,
            holder=holder,
            kind=kind,
            scopes=scopes,
            at=self.now(),
            actor=actor,
            key=self.token_key,
            enrolment=enrolment,
        )
        self._save_new(token, what="token")
        return f"gf_{token_id}_{secret}"

    def issue_token_as(
        self,
        who: Principal,
        code: str,
        holder: str,
        *,
        kind: HolderKind = HolderKind.PERSON,
        scopes: tuple[Scope, ...] = (),
    ) -> str:
        """The clerk issues a member's or an integration's token."""
        actor = authorize(who, Action.ISSUE_TOKEN, code)
        return self.issue_token(code, holder, kind=kind, scopes=scopes, actor=actor)

    def revoke_token(self, token_id: str, reason: str, *, actor: str) -> None:
        token = self._get(AccessToken, token_uuid(token_id), f"token {token_id}")
        token.revoke(reason, at=self.now(), actor=actor)
        self._save(token)

    def revoke_token_as(self, who: Principal, code: str, token_id: str, reason: str) -> None:
        """The clerk revokes a token of the council."""
        actor = authorize(who, Action.ISSUE_TOKEN, code)
        token = self._get(AccessToken, token_uuid(token_id), f"token {token_id}")
        if token.council != code:
            raise NotFoundError(f"token {token_id} not found")
        token.revoke(reason, at=self.now(), actor=actor)
        self._save(token)

    def authenticate(self, presented: str) -> Principal:
        """The principal behind a token, as the council's record says now."""
        prefix, _, rest = presented.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != "gf" or not token_id or not secret:
            raise AuthenticationError("expected a token like gf_<id>_<secret>")
        try:
            token = self._get(AccessToken, token_uuid(token_id), "token")
        except NotFoundError:
            raise AuthenticationError("the token is not valid") from None
        token.check(secret, self.token_key)
        if token.kind is not HolderKind.PERSON:
            return Principal(
                token.council,
                token.holder,
                token.kind,
                scopes=frozenset(token.scopes),
                token_id=token_id,
            )
        council = self.council_to_read(token.council)
        principal = principal_of(council, token.holder, _enrolled(council, token))
        return replace(principal, token_id=token_id)

    def principal(self, code: str, member_id: str) -> Principal:
        """The principal of a member as the record says now (operator tools and tests)."""
        council = self.council_to_read(code)
        return principal_of(council, member_id, council.member(member_id))


def _enrolled(council: Council, token: AccessToken) -> Member:
    """The member the token was issued to, if that enrolment is still current."""
    member = council.members.get(token.holder)
    if member is None:
        raise AuthenticationError("the token's member has left the council")
    if token.enrolment is not None:
        current = token.enrolment == member.enrolment
    else:  # tokens issued before enrolments were recorded: compare the times instead
        current = member.enrolled_at is None or token.issued_on >= member.enrolled_at
    if not current:
        raise AuthenticationError("the token belongs to an earlier enrolment of this member id")
    return member


def principal_of(council: Council, member_id: str, member: Member) -> Principal:
    return Principal(
        council.code,
        member_id,
        HolderKind.PERSON,
        roles=frozenset(member.roles),
        chairs=frozenset(body.value for body in member.chairs),
        bodies=frozenset(body.value for body in member.bodies),
        enrolment=member.enrolment,
    )
