"""The grade of an annual rating follows from the scores and weights, exactly: a band's bound
belongs to it (以上), a score a hair below it does not, and what is shown never rounds up
into a better band. Rating procedures are checked when they load."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from govflow.application.annual_rating_library import RatingProcedureLibrary
from govflow.domain.annual_rating import AnnualRating, Evidence
from govflow.domain.annual_rating_procedure import (
    Grade,
    Raters,
    RatingProcedure,
    grade_of,
    shown,
)

WORKFLOWS = Path(__file__).parents[2] / "workflows"
AT = datetime(2026, 12, 1, tzinfo=UTC)
PRESET = RatingProcedureLibrary(WORKFLOWS).get("street-office-annual-rating", 1)
BANDS = tuple((b.grade, b.at_least) for b in PRESET.bands)  # 好 90, 较好 80, 一般 60, 差 0
# Released rating procedures are never edited in place: a change is a new version file.
RELEASED = {
    "street-office-annual-rating.v1": (
        "083a6a4d411a0d985fa23babcc9502d7b63a85446ea3c386f2cd670003e2ff68"
    ),
}


def rated(scores: dict[str, list[str]]) -> AnnualRating:
    """A rating of the preset whose raters r0, r1 … gave ``scores`` (criterion → one score per
    rater)."""
    raters = tuple(f"r{i}" for i in range(len(next(iter(scores.values())))))
    one_or_more = PRESET.model_copy(update={"raters": Raters(min_panel=1)})
    rating = AnnualRating.open("c", 2026, one_or_more, dict.fromkeys(raters, 1), at=AT, actor="r0")
    for criterion, values in scores.items():
        kinds = PRESET.criterion(criterion).required_kinds
        evidence = tuple(Evidence(kind=k, sha256="0" * 64) for k in kinds)
        for rater, value in zip(raters, values, strict=True):
            rating.score_criterion(
                criterion, Decimal(value), evidence, at=AT, actor=rater, enrolment=1
            )
    return rating


def everywhere(*values: str) -> dict[str, list[str]]:
    return {c.id: list(values) for c in PRESET.criteria}


@pytest.mark.parametrize(
    ("bound", "grade", "below"),
    [(90, Grade.GOOD, Grade.FAIRLY_GOOD), (80, Grade.FAIRLY_GOOD, Grade.FAIR),
     (60, Grade.FAIR, Grade.POOR)],
)  # fmt: skip
def test_a_bound_belongs_to_its_band(bound: int, grade: Grade, below: Grade) -> None:
    """Every criterion at the bound: that band (以上). One rater 0.1 lower on the lightest
    criterion (weight 15 of 100, two raters): 0.0075 below the bound, the band below, shown
    as x.99, never as the bound."""
    at = rated(everywhere(str(bound), str(bound))).result()
    assert (at.grade, at.score, shown(at.score)) == (grade, bound, Decimal(f"{bound}.00"))
    scores = everywhere(str(bound), str(bound))
    scores["satisfaction"] = [str(bound), f"{bound - 1}.9"]
    just_below = rated(scores).result()
    assert just_below.score == bound - Fraction(3, 400)
    assert just_below.grade is below and shown(just_below.score) == Decimal(f"{bound - 1}.99")


def test_thirds_are_exact() -> None:
    """Three raters at 90, 90 and 89.9 everywhere: a mean of 89.9666…, not 90: 较好."""
    result = rated(everywhere("90", "90", "89.9")).result()
    assert result.score == 90 - Fraction(1, 30)
    assert result.grade is Grade.FAIRLY_GOOD and shown(result.score) == Decimal("89.96")


def test_the_extremes() -> None:
    """All 100: 好; all 0: 差 with a score of 0."""
    assert rated(everywhere("100")).result().grade is Grade.GOOD
    zero = rated(everywhere("0")).result()
    assert (zero.grade, zero.score) == (Grade.POOR, 0)


tenths = st.integers(min_value=0, max_value=1000)


@given(st.lists(st.lists(tenths, min_size=5, max_size=5), min_size=1, max_size=4))
def test_the_grade_is_the_band_of_the_exact_weighted_mean(raters: list[list[int]]) -> None:
    """For any scores: the weighted mean computed here by hand falls in the returned grade's
    band, and the shown score is that mean cut to two places."""
    ids = [c.id for c in PRESET.criteria]
    scores = {cid: [str(Decimal(r[i]) / 10) for r in raters] for i, cid in enumerate(ids)}
    result = rated(scores).result()
    exact = sum(
        (c.weight * Fraction(sum(r[i] for r in raters), 10 * len(raters))
         for i, c in enumerate(PRESET.criteria)),
        Fraction(0),
    ) / 100  # fmt: skip
    assert result.score == exact
    bounds = dict(BANDS)
    upper = {g: b for (g, b) in zip(list(bounds)[1:], list(bounds.values()), strict=False)}
    assert exact >= bounds[result.grade]
    assert result.grade is Grade.GOOD or exact < upper[result.grade]
    assert Fraction(shown(exact)) <= exact < Fraction(shown(exact)) + Fraction(1, 100)


@given(st.lists(tenths, min_size=5, max_size=5), st.integers(0, 4), st.integers(1, 100))
def test_a_higher_score_never_lowers_the_grade(base: list[int], which: int, more: int) -> None:
    """Raising one criterion's score never gives a worse grade."""
    order = list(Grade)
    ids = [c.id for c in PRESET.criteria]
    before = {cid: [str(Decimal(base[i]) / 10)] for i, cid in enumerate(ids)}
    raised = dict(before)
    raised[ids[which]] = [str(min(Decimal(base[which] + more) / 10, Decimal(100)))]
    low, high = rated(before).result().grade, rated(raised).result().grade
    assert order.index(high) <= order.index(low)


def test_grade_of_needs_a_band() -> None:
    """A score no band takes (below 0) is an error, never a grade."""
    with pytest.raises(ValueError):
        grade_of(Fraction(-1), BANDS)


def preset_data() -> dict[str, Any]:
    return PRESET.model_dump(mode="json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["criteria"][0].update(weight=21), "sum to 101"),
        (lambda d: d["criteria"].append({**d["criteria"][0]}), "unique"),
        (lambda d: d["criteria"][0].update(evidence=[]), "at least 1"),
        (lambda d: d["bands"].reverse(), "best first"),
        (lambda d: d["bands"][1].update(at_least=95), "below the one before"),
        (lambda d: d["bands"][3].update(at_least=10), "starts at 0"),
        (lambda d: d["raters"].update(role="clerk"), "street_rater"),
        (lambda d: d.update(publication={"display": {"days": 7}}), "objection_window"),
    ],
)
def test_a_procedure_that_does_not_add_up_is_refused(change: Any, message: str) -> None:
    """Weights summing to 100, unique criteria each with evidence, the four bands best first
    down to 0, the street office's raters, a publication with an objection window."""
    data = preset_data()
    change(data)
    with pytest.raises(ValidationError, match=message):
        RatingProcedure.model_validate(data)


def test_released_presets_keep_their_digest() -> None:
    """A released rating procedure is never edited in place: its digest is pinned here."""
    library = RatingProcedureLibrary(WORKFLOWS)
    found = {f"{p.name}.v{p.version}": p.digest for p in library.all()}
    assert {k: v for k, v in found.items() if k in RELEASED} == RELEASED
    assert set(found) == set(RELEASED), "a new rating preset: add its digest to RELEASED"
