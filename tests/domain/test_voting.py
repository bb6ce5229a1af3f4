from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govflow.domain.voting import (
    Base,
    Comparison,
    Counts,
    Electorate,
    Threshold,
    VotingRule,
    decide,
    satisfies,
)

HALF, TWO_THIRDS, THREE_QUARTERS = Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)


@given(st.integers(min_value=1, max_value=10_000))
def test_exactly_half_is_not_more_than_half(n: int) -> None:
    """过半数 excludes the boundary: exactly half never passes, one more does."""
    base = 2 * n
    assert not satisfies(n, base, HALF, Comparison.MORE_THAN)
    assert satisfies(n + 1, base, HALF, Comparison.MORE_THAN)
    assert satisfies(n, base, HALF, Comparison.AT_LEAST)


@given(st.integers(min_value=1, max_value=10_000))
def test_exactly_two_thirds_is_at_least_two_thirds(n: int) -> None:
    """以上 includes the boundary: exactly 2/3 passes, one fewer does not."""
    base = 3 * n
    assert satisfies(2 * n, base, TWO_THIRDS, Comparison.AT_LEAST)
    assert not satisfies(2 * n - 1, base, TWO_THIRDS, Comparison.AT_LEAST)
    assert not satisfies(2 * n, base, TWO_THIRDS, Comparison.MORE_THAN)


@given(st.integers(min_value=1, max_value=10_000))
def test_exactly_three_quarters(n: int) -> None:
    """At least 3/4 is ``4*yes >= 3*base``, exactly at the boundary too."""
    base = 4 * n
    assert satisfies(3 * n, base, THREE_QUARTERS, Comparison.AT_LEAST)
    assert not satisfies(3 * n - 1, base, THREE_QUARTERS, Comparison.AT_LEAST)


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_matches_integer_arithmetic(yes: int, base: int) -> None:
    """The fraction test agrees with the statute's integer forms for every count."""
    assert satisfies(yes, base, HALF, Comparison.MORE_THAN) == (2 * yes > base)
    assert satisfies(yes, base, TWO_THIRDS, Comparison.AT_LEAST) == (3 * yes >= 2 * base)
    assert satisfies(yes, base, THREE_QUARTERS, Comparison.AT_LEAST) == (4 * yes >= 3 * base)


@given(st.integers(min_value=0, max_value=5), st.sampled_from(list(Comparison)))
def test_empty_base_never_passes(yes: int, comparison: Comparison) -> None:
    """An empty roll cannot decide anything, even 'at least' zero of zero."""
    assert not satisfies(yes, 0, HALF, comparison)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2))
def test_area_fractions_are_exact(area: Decimal) -> None:
    """Decimal areas compare exactly: exactly half of the area is not more than half."""
    assert not satisfies(area, area * 2, HALF, Comparison.MORE_THAN)
    assert satisfies(area + Decimal("0.01"), area * 2, HALF, Comparison.MORE_THAN)


PARTY = VotingRule(
    quorum=Threshold(fraction=HALF, comparison=Comparison.AT_LEAST, base=Base.EXPECTED),
    passes=Threshold(fraction=HALF, comparison=Comparison.MORE_THAN, base=Base.EXPECTED),
)


def test_party_assembly_counts_yes_against_expected_members() -> None:
    """Party members' assembly: yes must exceed half of the expected members, not of present."""
    electorate = Electorate(members_of_record=20, expected=20)
    present_half = Counts(present=10, yes=10)
    assert decide(PARTY, electorate, present_half) == decide(PARTY, electorate, present_half)
    result = decide(PARTY, electorate, present_half)
    assert result.quorum_met and not result.passed
    assert decide(PARTY, electorate, Counts(present=11, yes=11)).passed
    assert not decide(PARTY, electorate, Counts(present=9, yes=9)).quorum_met


OWNERS_SPECIAL = VotingRule(
    quorum=Threshold(
        fraction=TWO_THIRDS, comparison=Comparison.AT_LEAST, base=Base.MEMBERS_OF_RECORD
    ),
    passes=Threshold(
        fraction=THREE_QUARTERS, comparison=Comparison.AT_LEAST, base=Base.PARTICIPATING
    ),
    area_weighted=True,
)


@pytest.mark.parametrize(
    ("present", "present_area", "yes", "yes_area", "quorum", "passed"),
    [
        (8, Decimal("800"), 6, Decimal("600"), True, True),  # exactly 2/3 and exactly 3/4
        (8, Decimal("799.99"), 6, Decimal("600"), False, False),  # area 1 fen short of quorum
        (7, Decimal("900"), 6, Decimal("700"), False, False),  # headcount short of quorum
        (8, Decimal("800"), 6, Decimal("599.99"), True, False),  # area 1 fen short of 3/4
        (8, Decimal("800"), 5, Decimal("700"), True, False),  # headcount short of 3/4
    ],
)
def test_owners_double_thresholds(
    present: int, present_area: Decimal, yes: int, yes_area: Decimal, quorum: bool, passed: bool
) -> None:
    """Owners' votes must clear every threshold on area and on headcount at once."""
    electorate = Electorate(members_of_record=12, expected=12, area_of_record=Decimal("1200"))
    counts = Counts(present=present, yes=yes, present_area=present_area, yes_area=yes_area)
    decision = decide(OWNERS_SPECIAL, electorate, counts)
    assert (decision.quorum_met, decision.passed) == (quorum, passed)


def test_tie_does_not_pass() -> None:
    """A tie among those present is not a majority."""
    rule = VotingRule(
        passes=Threshold(fraction=HALF, comparison=Comparison.MORE_THAN, base=Base.PRESENT)
    )
    assert not decide(rule, Electorate(10, 10), Counts(present=10, yes=5, no=5)).passed


def test_fractions_are_written_as_strings() -> None:
    """Thresholds refuse floats so no rounding creeps into a rule file."""
    with pytest.raises(ValueError, match="strings"):
        Threshold.model_validate({"fraction": 0.5, "comparison": "more_than", "base": "present"})
    assert (
        Threshold.model_validate(
            {"fraction": "2/3", "comparison": "at_least", "base": "present"}
        ).fraction
        == TWO_THIRDS
    )
