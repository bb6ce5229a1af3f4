"""Building blocks for application tests: a council with bodies, households and rules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from govflow.application import Governance
from govflow.domain.council import Body
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule

COUNCIL = "qinghe"
CLERK = "clerk"
PARTY_MEMBERS = [f"p{i}" for i in range(1, 8)]  # seven party members
REPRESENTATIVES = [f"r{i}" for i in range(1, 6)]

PARTY_RULE = VotingRule(
    quorum=Threshold(fraction=Fraction(1, 2), comparison=Comparison.AT_LEAST, base=Base.EXPECTED),
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.EXPECTED),
)
MAJORITY_OF_PRESENT = VotingRule(
    quorum=Threshold(
        fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.MEMBERS_OF_RECORD
    ),
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PRESENT),
)


# p1 is the secretary; p1, p2 and p3 are officers (two of them move money)
OFFICERS = {"p1": ("secretary", "officer"), "p2": ("officer",), "p3": ("officer",)}


def set_up_council(app: Governance) -> None:
    app.register_council(COUNCIL, "清河社区", actor=CLERK)
    for member in PARTY_MEMBERS:
        chairs = (Body.PARTY_MEMBERS_ASSEMBLY, Body.TWO_COMMITTEES) if member == "p1" else ()
        app.enroll_member(
            COUNCIL,
            member,
            f"党员{member}",
            actor=CLERK,
            bodies=(Body.PARTY_MEMBERS_ASSEMBLY,),
            chairs=chairs,
            roles=OFFICERS.get(member, ()),
        )
    for member in REPRESENTATIVES:
        app.enroll_member(
            COUNCIL, member, f"代表{member}", actor=CLERK, bodies=(Body.RESIDENTS_REPRESENTATIVES,)
        )
    for owner in ("o1", "o2", "o3"):
        app.enroll_member(COUNCIL, owner, f"业主{owner}", actor=CLERK)
    for i, owner in enumerate(["o1", "o2", "o3", "o1"], start=1):  # o1 owns two units
        app.register_household(COUNCIL, f"1-{100 + i}", Decimal("80.00") + i, owner, actor=CLERK)
