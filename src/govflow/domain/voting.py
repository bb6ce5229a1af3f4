"""Voting-rule arithmetic: exact fractions, every base explicit.

"以上" (at least) includes the boundary and "过半数/超过" (more than) excludes it
(民法典 Art. 1259): more than half is ``2 * yes > base``; at least two thirds is
``3 * yes >= 2 * base``.
An empty base never satisfies a threshold: nobody on the roll cannot decide anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

Number = int | Decimal | Fraction


class Comparison(StrEnum):
    MORE_THAN = "more_than"  # 过半数 / 超过: the boundary does not pass
    AT_LEAST = "at_least"  # 以上 / 不少于: the boundary passes


class Base(StrEnum):
    """What a fraction is taken of."""

    PRESENT = "present"  # 实到: those attending (or, for ballots, those who voted)
    MEMBERS_OF_RECORD = "members_of_record"  # everyone on the body's roll
    EXPECTED = "expected"  # 应到: those entitled and expected to vote
    PARTICIPATING = "participating"  # owners taking part in an owners' vote


def _parse_fraction(value: Any) -> Fraction:
    if isinstance(value, Fraction):
        fraction = value
    elif isinstance(value, int) and not isinstance(value, bool):
        fraction = Fraction(value)
    elif isinstance(value, str):
        try:
            fraction = Fraction(value.strip())
        except ValueError as error:
            raise ValueError(f"not an exact fraction such as '2/3': {value!r}") from error
    else:
        raise ValueError(f"fractions are written as strings such as '2/3', got {value!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"a threshold fraction lies in (0, 1], got {fraction}")
    return fraction


ExactFraction = Annotated[
    Fraction,
    BeforeValidator(_parse_fraction),
    PlainSerializer(str, return_type=str),
]


def satisfies(count: Number, base: Number, fraction: Fraction, comparison: Comparison) -> bool:
    """Whether ``count`` reaches ``fraction`` of ``base``, exactly."""
    if base <= 0:
        return False
    scaled_count = Fraction(count) * fraction.denominator
    scaled_base = Fraction(base) * fraction.numerator
    if comparison is Comparison.MORE_THAN:
        return scaled_count > scaled_base
    return scaled_count >= scaled_base


class Threshold(BaseModel):
    """``comparison`` ``fraction`` of ``base``, e.g. more than 1/2 of those present."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fraction: ExactFraction
    comparison: Comparison
    base: Base

    def describe(self) -> str:
        words = "more than" if self.comparison is Comparison.MORE_THAN else "at least"
        return f"{words} {self.fraction} of {self.base.value.replace('_', ' ')}"


class VotingRule(BaseModel):
    """Quorum and passing thresholds of one body.

    With ``area_weighted`` (owners, 民法典 Art. 278) every threshold must hold twice: on
    exclusive area and on headcount, one owner counting once however many units they own.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    quorum: Threshold | None = None
    passes: Threshold
    area_weighted: bool = False

    def describe(self) -> str:
        quorum = f"quorum {self.quorum.describe()}; " if self.quorum else ""
        weighting = " (area and headcount)" if self.area_weighted else ""
        return f"{quorum}passes with {self.passes.describe()}{weighting}"


@dataclass(frozen=True)
class Electorate:
    """The bases a vote is measured against, frozen when voting opens."""

    members_of_record: int
    expected: int
    area_of_record: Decimal = Decimal(0)


@dataclass(frozen=True)
class Counts:
    """What happened: attendance (or participation) and the votes cast."""

    present: int
    yes: int
    no: int = 0
    abstain: int = 0
    present_area: Decimal = Decimal(0)
    yes_area: Decimal = Decimal(0)


@dataclass(frozen=True)
class Decision:
    quorum_met: bool
    passed: bool
    rule: str


def _base_value(base: Base, electorate: Electorate, counts: Counts, by_area: bool) -> Number:
    if base in (Base.PRESENT, Base.PARTICIPATING):
        return counts.present_area if by_area else counts.present
    if base is Base.MEMBERS_OF_RECORD:
        return electorate.area_of_record if by_area else electorate.members_of_record
    return electorate.area_of_record if by_area else electorate.expected


def _holds(
    threshold: Threshold,
    count: Number,
    area: Decimal,
    *,
    rule: VotingRule,
    electorate: Electorate,
    counts: Counts,
) -> bool:
    by_head = satisfies(
        count,
        _base_value(threshold.base, electorate, counts, False),
        threshold.fraction,
        threshold.comparison,
    )
    if not rule.area_weighted:
        return by_head
    by_area = satisfies(
        area,
        _base_value(threshold.base, electorate, counts, True),
        threshold.fraction,
        threshold.comparison,
    )
    return by_head and by_area


def decide(rule: VotingRule, electorate: Electorate, counts: Counts) -> Decision:
    """Apply ``rule`` to ``counts``: a motion passes only when the quorum is met too."""
    quorum_met = rule.quorum is None or _holds(
        rule.quorum,
        counts.present,
        counts.present_area,
        rule=rule,
        electorate=electorate,
        counts=counts,
    )
    passed = quorum_met and _holds(
        rule.passes, counts.yes, counts.yes_area, rule=rule, electorate=electorate, counts=counts
    )
    return Decision(quorum_met=quorum_met, passed=passed, rule=rule.describe())
