"""Use cases: councils, their members and households."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from govflow.application.core import GovernanceCore
from govflow.application.views import CouncilView, MemberView
from govflow.domain.council import Body, Council
from govflow.domain.money import DEFAULT_THRESHOLD, parse_yuan


class CouncilCases(GovernanceCore):
    def register_council(
        self,
        code: str,
        name: str,
        *,
        actor: str,
        spending_threshold: Decimal | str = DEFAULT_THRESHOLD,
        timezone: str = "Asia/Shanghai",
    ) -> UUID:
        council = Council.register(
            code,
            name,
            at=self.now(),
            actor=actor,
            timezone=timezone,
            spending_threshold=parse_yuan(spending_threshold),
        )
        self._save_new(council, what=f"council {code}")
        return council.id

    def enroll_member(
        self,
        code: str,
        member_id: str,
        name: str,
        *,
        actor: str,
        roles: tuple[str, ...] = (),
        bodies: tuple[Body, ...] = (),
        chairs: tuple[Body, ...] = (),
    ) -> None:
        council = self.council(code)
        council.enroll_member(
            member_id, name, at=self.now(), actor=actor, roles=roles, bodies=bodies, chairs=chairs
        )
        self._save(council)

    def change_member(
        self,
        code: str,
        member_id: str,
        *,
        actor: str,
        roles: tuple[str, ...] = (),
        bodies: tuple[Body, ...] = (),
        chairs: tuple[Body, ...] = (),
    ) -> None:
        council = self.council(code)
        council.change_member(
            member_id, at=self.now(), actor=actor, roles=roles, bodies=bodies, chairs=chairs
        )
        self._save(council)

    def remove_member(self, code: str, member_id: str, *, actor: str) -> None:
        council = self.council(code)
        council.remove_member(member_id, at=self.now(), actor=actor)
        self._save(council)

    def register_household(
        self,
        code: str,
        unit: str,
        exclusive_area: Decimal,
        owner_id: str,
        *,
        actor: str,
        bodies: tuple[Body, ...] = (Body.OWNERS_ASSEMBLY,),
        co_owners: tuple[str, ...] = (),
    ) -> None:
        council = self.council(code)
        council.register_household(
            unit,
            exclusive_area,
            owner_id,
            at=self.now(),
            actor=actor,
            bodies=bodies,
            co_owners=co_owners,
        )
        self._save(council)

    def change_household(
        self,
        code: str,
        unit: str,
        owner_id: str,
        *,
        actor: str,
        co_owners: tuple[str, ...] = (),
    ) -> None:
        """Another representative or other joint owners for ``unit`` (votes opened later)."""
        council = self.council(code)
        council.change_household(unit, owner_id, at=self.now(), actor=actor, co_owners=co_owners)
        self._save(council)

    def change_spending_threshold(self, code: str, threshold: Decimal | str, *, actor: str) -> None:
        council = self.council(code)
        council.change_spending_threshold(parse_yuan(threshold), at=self.now(), actor=actor)
        self._save(council)

    def get_council(self, code: str) -> CouncilView:
        council = self.council_to_read(code)
        members = [
            MemberView(
                member_id=mid,
                name=m.name,
                roles=list(m.roles),
                bodies=sorted(m.bodies),
                chairs=sorted(m.chairs),
            )
            for mid, m in sorted(council.members.items())
        ]
        return CouncilView(
            id=council.id,
            code=council.code,
            name=council.name,
            spending_threshold=council.spending_threshold,
            timezone=council.timezone,
            members=members,
            households=len(council.households),
        )
