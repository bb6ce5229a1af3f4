"""Annual rating procedures (分类定级) as data: criteria and their weights, the evidence each
criterion requires, who rates, the grade bands and the publication period with objections.

A rating procedure file lives in ``workflows/ratings/`` and is validated against
:class:`RatingProcedure`; its digest is recorded on every year's rating opened with it, so a
rating keeps the exact terms it began with. The grade follows from the scores by
:func:`weighted_score` and :func:`grade_of`: exact fractions, never floats, and a band's lower
bound belongs to it (以上 includes the boundary).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from govflow.domain.procedure import Period, Slug, Source

STREET_RATER = "street_rater"
"""The role the council's record gives the street office's raters (see docs/ratings.md)."""

MAX_SCORE = Decimal(100)
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=4, decimal_places=1)]
"""A rater's score of one criterion: 0 to 100 points (per cent of the criterion's weight),
at most one decimal place."""


class Grade(StrEnum):
    """The four grades of 分类定级, best first."""

    GOOD = "good"  # 好
    FAIRLY_GOOD = "fairly_good"  # 较好
    FAIR = "fair"  # 一般
    POOR = "poor"  # 差

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]


GRADE_LABELS: dict[Grade, str] = {
    Grade.GOOD: "好",
    Grade.FAIRLY_GOOD: "较好",
    Grade.FAIR: "一般",
    Grade.POOR: "差",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceSpec(_Frozen):
    """A kind of evidence a criterion requires (a scanned register, minutes, a ledger)."""

    kind: Slug
    title: str = Field(min_length=1, max_length=100)


class Criterion(_Frozen):
    id: Slug
    title: str = Field(min_length=1, max_length=100)
    weight: int = Field(ge=1, le=100)
    evidence: list[EvidenceSpec] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _kinds_once(self) -> Criterion:
        kinds = [e.kind for e in self.evidence]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"criterion {self.id!r} names an evidence kind twice")
        return self

    @property
    def required_kinds(self) -> tuple[str, ...]:
        return tuple(e.kind for e in self.evidence)


class GradeBand(_Frozen):
    """A grade and its lower bound on the weighted score (0 to 100): 以上, the bound included."""

    grade: Grade
    at_least: int = Field(ge=0, le=100)


class Raters(_Frozen):
    """Who rates: the street office's raters, named on the rated council's record with the
    role ``street_rater`` (they sit on none of its bodies and are not its clerk); the panel
    is frozen when the year's rating opens and must have at least ``min_panel`` raters."""

    title: str = Field(default="街道办事处评定组", min_length=1, max_length=100)
    role: Literal["street_rater"] = "street_rater"
    min_panel: int = Field(default=1, ge=1, le=50)


class Publication(_Frozen):
    """The result's notice (公示): its display period, the objection window, and the time the
    raters have to answer an objection."""

    display: Period
    objection_window: Period
    reply_within: Period


class RatingProcedure(_Frozen):
    """An annual rating procedure: named, versioned, citing its sources."""

    name: Slug
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    applies_to: Literal["annual_rating"] = "annual_rating"
    sources: list[Source] = Field(min_length=1)
    raters: Raters = Raters()
    criteria: list[Criterion] = Field(min_length=1, max_length=30)
    bands: list[GradeBand] = Field(min_length=4, max_length=4)
    publication: Publication

    @model_validator(mode="after")
    def _consistent(self) -> RatingProcedure:
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criterion ids must be unique")
        total = sum(c.weight for c in self.criteria)
        if total != 100:
            raise ValueError(f"the criteria's weights sum to {total}, not 100")
        if [b.grade for b in self.bands] != list(Grade):
            raise ValueError("bands name 好, 较好, 一般, 差 (good … poor) once each, best first")
        bounds = [b.at_least for b in self.bands]
        if any(a <= b for a, b in pairwise(bounds)):
            raise ValueError("each band's lower bound is below the one before it")
        if bounds[-1] != 0:
            raise ValueError("the lowest band (差) starts at 0, so every score has a grade")
        return self

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON form: what a year's rating records it opened with."""
        data = self.model_dump(mode="json")
        return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)


def mean(scores: Iterable[Decimal]) -> Fraction:
    """The exact mean of one criterion's scores."""
    values = [Fraction(s) for s in scores]
    if not values:
        raise ValueError("no scores")
    return sum(values, Fraction(0)) / len(values)


def weighted_score(weights: Mapping[str, int], scores: Mapping[str, Sequence[Decimal]]) -> Fraction:
    """The weighted score (0 to 100): each criterion's mean score over its raters times its
    weight, summed, over 100. Every weighted criterion must have scores."""
    total = Fraction(0)
    for criterion, weight in weights.items():
        total += weight * mean(scores[criterion])
    return total / 100


def grade_of(score: Fraction, bands: Sequence[tuple[Grade, int]]) -> Grade:
    """The grade of the first band (best first) whose lower bound ``score`` reaches: the bound
    is included (以上)."""
    for grade, at_least in bands:
        if score >= at_least:
            return grade
    raise ValueError(f"no band takes a score of {score}")


def shown(score: Fraction) -> Decimal:
    """A score as shown, cut (never rounded up) to two places: a score below a band's bound
    never shows as reaching it."""
    return Decimal(math.floor(score * 100)).scaleb(-2)
