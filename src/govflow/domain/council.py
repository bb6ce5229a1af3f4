"""The council: its members, the bodies they sit on, households and the spending threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from govflow.domain.base import SYSTEM_ACTOR, Aggregate, DomainEvent
from govflow.domain.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    UnknownMemberError,
)
from govflow.domain.grid import (
    Grid,
    GridAdded,
    GridChanged,
    GridRetired,
    GridRetiredError,
    UnknownGridError,
    check_grid,
)
from govflow.domain.ids import council_id
from govflow.domain.money import DEFAULT_THRESHOLD, Yuan


class Body(StrEnum):
    """Bodies that act in a procedure (names from the glossary)."""

    BRANCH_COMMITTEE = "branch_committee"  # 党支部委员会
    TWO_COMMITTEES = "two_committees"  # 两委联席会议
    PARTY_MEMBERS_ASSEMBLY = "party_members_assembly"  # 党员大会
    RESIDENTS_COMMITTEE = "residents_committee"  # 居民委员会
    RESIDENTS_ASSEMBLY = "residents_assembly"  # 居民会议
    RESIDENTS_REPRESENTATIVES = "residents_representatives"  # 居民代表会议
    VILLAGERS_ASSEMBLY = "villagers_assembly"  # 村民会议
    VILLAGERS_REPRESENTATIVES = "villagers_representatives"  # 村民代表会议
    OWNERS_ASSEMBLY = "owners_assembly"  # 业主大会
    OWNERS_COMMITTEE = "owners_committee"  # 业主委员会
    SUPERVISORY_COMMITTEE = "supervisory_committee"  # 监委会
    AFFECTED_HOUSEHOLDS = "affected_households"  # 相关住户 (一事一议)


# Bodies whose roll is the owners of registered households, weighted by exclusive area.
AREA_WEIGHTED = frozenset({Body.OWNERS_ASSEMBLY, Body.AFFECTED_HOUSEHOLDS})

Area = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
MemberId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class JointOwnersError(InvalidInputError):
    """A unit's joint owners named twice, or its representative also among the others."""

    code = "household.joint_owners"


class CouncilRegistered(DomainEvent):
    TOPIC = "govflow.council.registered"
    code: str
    name: str
    spending_threshold: Yuan
    timezone: str


class MemberEnrolled(DomainEvent):
    TOPIC = "govflow.council.member_enrolled"
    member_id: MemberId
    name: str
    roles: tuple[str, ...] = ()
    bodies: tuple[Body, ...] = ()
    chairs: tuple[Body, ...] = ()


class MemberChanged(DomainEvent):
    """A member's roles, bodies or chairs changed (same person, same enrolment): from now on
    every command is decided with these."""

    TOPIC = "govflow.council.member_changed"
    member_id: MemberId
    roles: tuple[str, ...] = ()
    bodies: tuple[Body, ...] = ()
    chairs: tuple[Body, ...] = ()


class MemberLeft(DomainEvent):
    TOPIC = "govflow.council.member_left"
    member_id: MemberId


class HouseholdRegistered(DomainEvent):
    """A unit of the property register: its exclusive area, the owner who votes for it (the
    representative its joint owners designated) and the other joint owners (共有人), who are
    recorded but never on a roll for this unit.

    Version 1 had no joint owners."""

    TOPIC = "govflow.council.household_registered"
    class_version = 2
    unit: str
    exclusive_area: Area
    owner_id: MemberId
    bodies: tuple[Body, ...] = ()
    co_owners: tuple[MemberId, ...] = ()

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no joint owners: the owner alone."""
        state.setdefault("co_owners", [])


class HouseholdChanged(DomainEvent):
    """Another representative or other joint owners for a registered unit: rolls frozen
    from now on take them (a vote already open keeps the roll it opened with)."""

    TOPIC = "govflow.council.household_changed"
    unit: str
    owner_id: MemberId
    co_owners: tuple[MemberId, ...] = ()


class SpendingThresholdChanged(DomainEvent):
    TOPIC = "govflow.council.spending_threshold_changed"
    spending_threshold: Yuan


@dataclass
class Member:
    name: str
    roles: tuple[str, ...]
    bodies: frozenset[Body]
    chairs: frozenset[Body]
    # The council's version at this person's enrolment: a member id enrolled again later is
    # another enrolment (another person), so credentials of the first never act as the second.
    enrolment: int = 0
    enrolled_at: datetime | None = None


@dataclass
class Household:
    exclusive_area: Decimal
    owner_id: str  # votes for the unit (the joint owners' representative)
    bodies: frozenset[Body] = field(default_factory=frozenset)
    co_owners: tuple[str, ...] = ()  # the other joint owners (共有人): never on a roll for it


@dataclass(frozen=True)
class Roll:
    """Voters of one body with their weight (exclusive area for owners, else 1)."""

    weights: dict[str, Decimal]
    area_weighted: bool

    @property
    def size(self) -> int:
        return len(self.weights)


class Council(Aggregate):
    created_by = (CouncilRegistered,)

    @classmethod
    def register(
        cls,
        code: str,
        name: str,
        *,
        at: datetime,
        actor: str,
        spending_threshold: Decimal = DEFAULT_THRESHOLD,
        timezone: str = "Asia/Shanghai",
    ) -> Council:
        if not code or not code.replace("-", "").replace("_", "").isalnum():
            raise InvalidInputError("a council code is letters, digits, '-' and '_'", code=code)
        return cls._create(
            CouncilRegistered,
            council_id(code),
            at=at,
            actor=actor,
            code=code,
            name=name,
            spending_threshold=spending_threshold,
            timezone=timezone,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CouncilRegistered():
                self.code = event.code
                self.name = event.name
                self.spending_threshold: Decimal = event.spending_threshold
                self.timezone = event.timezone
                self.members: dict[str, Member] = {}
                self.households: dict[str, Household] = {}
                self.grids: dict[str, Grid] = {}
            case MemberEnrolled():
                self.members[event.member_id] = Member(
                    event.name,
                    event.roles,
                    frozenset(event.bodies),
                    frozenset(event.chairs),
                    enrolment=event.originator_version,
                    enrolled_at=event.timestamp,
                )
            case MemberChanged():
                member = self.members[event.member_id]
                member.roles = event.roles
                member.bodies = frozenset(event.bodies)
                member.chairs = frozenset(event.chairs)
            case MemberLeft():
                del self.members[event.member_id]
                for grid in self.grids.values():  # who left serves no station
                    grid.staff = tuple(m for m in grid.staff if m != event.member_id)
            case HouseholdRegistered():
                self.households[event.unit] = Household(
                    event.exclusive_area, event.owner_id, frozenset(event.bodies), event.co_owners
                )
            case HouseholdChanged():
                household = self.households[event.unit]
                household.owner_id = event.owner_id
                household.co_owners = event.co_owners
            case SpendingThresholdChanged():
                self.spending_threshold = event.spending_threshold
            case GridAdded():
                self.grids[event.code] = Grid(event.code, event.name, event.station, event.staff)
            case GridChanged():
                grid = self.grids[event.code]
                grid.name, grid.station, grid.staff = event.name, event.station, event.staff
            case GridRetired():
                self.grids[event.code].retired = True

    def enroll_member(
        self,
        member_id: str,
        name: str,
        *,
        at: datetime,
        actor: str,
        roles: tuple[str, ...] = (),
        bodies: tuple[Body, ...] = (),
        chairs: tuple[Body, ...] = (),
    ) -> None:
        if member_id in self.members:
            raise AlreadyExistsError(f"member {member_id} is already enrolled", member_id=member_id)
        if member_id == SYSTEM_ACTOR or ":" in member_id:
            raise InvalidInputError(
                f"{member_id!r} is reserved for the system and integrations", member_id=member_id
            )
        bodies = tuple(dict.fromkeys((*bodies, *chairs)))
        self._trigger(
            MemberEnrolled,
            at=at,
            actor=actor,
            member_id=member_id,
            name=name,
            roles=roles,
            bodies=bodies,
            chairs=chairs,
        )

    def change_member(
        self,
        member_id: str,
        *,
        at: datetime,
        actor: str,
        roles: tuple[str, ...] = (),
        bodies: tuple[Body, ...] = (),
        chairs: tuple[Body, ...] = (),
    ) -> None:
        """Give a member other roles, bodies or chairs (a chair sits on the body it chairs)."""
        self.member(member_id)
        bodies = tuple(dict.fromkeys((*bodies, *chairs)))
        self._trigger(
            MemberChanged,
            at=at,
            actor=actor,
            member_id=member_id,
            roles=roles,
            bodies=bodies,
            chairs=chairs,
        )

    def remove_member(self, member_id: str, *, at: datetime, actor: str) -> None:
        self.member(member_id)
        self._trigger(MemberLeft, at=at, actor=actor, member_id=member_id)

    def register_household(
        self,
        unit: str,
        exclusive_area: Decimal,
        owner_id: str,
        *,
        at: datetime,
        actor: str,
        bodies: tuple[Body, ...] = (Body.OWNERS_ASSEMBLY,),
        co_owners: tuple[str, ...] = (),
    ) -> None:
        """Register a unit. With joint owners (``co_owners``), ``owner_id`` is the one they
        designated to vote for the unit, and every joint owner must be enrolled."""
        if unit in self.households:
            raise AlreadyExistsError(f"unit {unit} is already registered", unit=unit)
        self._check_owners(unit, owner_id, co_owners, enrolled=bool(co_owners))
        self._trigger(
            HouseholdRegistered,
            at=at,
            actor=actor,
            unit=unit,
            exclusive_area=exclusive_area,
            owner_id=owner_id,
            bodies=bodies,
            co_owners=co_owners,
        )

    def change_household(
        self,
        unit: str,
        owner_id: str,
        *,
        at: datetime,
        actor: str,
        co_owners: tuple[str, ...] = (),
    ) -> None:
        """Give a unit another representative or other joint owners (both enrolled). A vote
        open now keeps the roll it froze; votes opened later take the change."""
        household = self.household(unit)
        self._check_owners(unit, owner_id, co_owners, enrolled=True)
        if (household.owner_id, household.co_owners) == (owner_id, co_owners):
            return
        self._trigger(
            HouseholdChanged, at=at, actor=actor, unit=unit, owner_id=owner_id, co_owners=co_owners
        )

    def household(self, unit: str) -> Household:
        try:
            return self.households[unit]
        except KeyError:
            raise NotFoundError(f"unit {unit} is not registered", unit=unit) from None

    def _check_owners(
        self, unit: str, owner_id: str, co_owners: tuple[str, ...], *, enrolled: bool
    ) -> None:
        """Joint owners are each named once, the representative not among the others, and
        (``enrolled``) every one of them is a member of the council."""
        if len(set(co_owners)) != len(co_owners):
            raise JointOwnersError(
                f"unit {unit}: a joint owner is named twice", unit=unit, co_owners=co_owners
            )
        if owner_id in co_owners:
            raise JointOwnersError(
                f"unit {unit}: {owner_id} votes for the unit and is not also among the other "
                "joint owners",
                unit=unit,
                owner_id=owner_id,
            )
        for member_id in (owner_id, *co_owners) if enrolled else co_owners:
            self.member(member_id)

    def change_spending_threshold(self, threshold: Decimal, *, at: datetime, actor: str) -> None:
        self._trigger(SpendingThresholdChanged, at=at, actor=actor, spending_threshold=threshold)

    # -- grids (网格) and their service stations ----------------------------------------------

    def add_grid(
        self,
        code: str,
        name: str,
        station: str,
        staff: tuple[str, ...],
        *,
        at: datetime,
        actor: str,
    ) -> None:
        """Put a grid and its service station on the record; its staff are members."""
        if code in self.grids:
            raise AlreadyExistsError(f"grid {code} is already on record", grid=code)
        self._check_grid(name, station, staff)
        self._trigger(
            GridAdded, at=at, actor=actor, code=code, name=name, station=station, staff=staff
        )

    def change_grid(
        self,
        code: str,
        name: str,
        station: str,
        staff: tuple[str, ...],
        *,
        at: datetime,
        actor: str,
    ) -> None:
        """Another name, station or staff for a grid in use (unchanged: nothing recorded)."""
        grid = self.grid(code)
        self._check_grid(name, station, staff)
        if (grid.name, grid.station, grid.staff) == (name, station, staff):
            return
        self._trigger(
            GridChanged, at=at, actor=actor, code=code, name=name, station=station, staff=staff
        )

    def retire_grid(self, code: str, *, at: datetime, actor: str) -> None:
        self.grid(code)
        self._trigger(GridRetired, at=at, actor=actor, code=code)

    def grid(self, code: str, *, retired: bool = False) -> Grid:
        """The grid ``code`` in use (with ``retired``, a retired one too)."""
        grid = self.grids.get(code)
        if grid is None:
            raise UnknownGridError(f"council {self.code} has no grid {code!r}", grid=code)
        if grid.retired and not retired:
            raise GridRetiredError(f"grid {code} is retired", grid=code)
        return grid

    def grids_of(self, member_id: str) -> list[Grid]:
        """The grids in use whose station ``member_id`` staffs."""
        return [g for g in self.grids.values() if not g.retired and member_id in g.staff]

    def _check_grid(self, name: str, station: str, staff: tuple[str, ...]) -> None:
        check_grid(name, station, staff)
        for member_id in staff:
            self.member(member_id)

    def member(self, member_id: str) -> Member:
        try:
            return self.members[member_id]
        except KeyError:
            raise UnknownMemberError(
                f"{member_id} is not a member of council {self.code}", member_id=member_id
            ) from None

    def name_of(self, member_id: str, enrolment: int | None) -> str:
        """The member's name while the person enrolled as ``enrolment`` is on the record, else
        their id: someone enrolled later under the same id is another person, never named for
        what the first did."""
        member = self.members.get(member_id)
        return member.name if member is not None and member.enrolment == enrolment else member_id

    def is_chair(self, member_id: str, body: Body) -> bool:
        member = self.members.get(member_id)
        return member is not None and body in member.chairs

    def roll_of(self, body: Body) -> Roll:
        """The voters of ``body`` now, built one way for every body: members who sit on it
        and the owners of households registered with it, each once. Owners' bodies weigh by
        exclusive area (an owner of several units counts once, with their total area) and
        count only owners; every other body counts heads. A unit's joint owners vote once,
        through the representative they designated (``owner_id``): the other joint owners
        are not on a roll for that unit (one who represents another unit votes for that)."""
        area_weighted = body in AREA_WEIGHTED
        weights: dict[str, Decimal] = {}
        for household in self.households.values():
            if body in household.bodies:
                previous = weights.get(household.owner_id, Decimal(0))
                weight = household.exclusive_area if area_weighted else Decimal(1)
                weights[household.owner_id] = previous + weight if area_weighted else weight
        if not area_weighted:
            for member_id, member in self.members.items():
                if body in member.bodies:
                    weights[member_id] = Decimal(1)
        return Roll(dict(sorted(weights.items())), area_weighted=body is Body.OWNERS_ASSEMBLY)
