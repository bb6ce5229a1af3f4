"""A council's annual rating (分类定级) for one year: the street office's raters score each
criterion with its evidence, the grade follows from the scores and the weights, the result is
published as a notice with an objection window, and an upheld objection reopens the scores for
a revised result that names it. Not to be confused with :mod:`govflow.domain.rating` (residents'
satisfaction with an item, 评议).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from govflow.domain.annual_rating_procedure import (
    MAX_SCORE,
    Grade,
    RatingProcedure,
    grade_of,
    mean,
    shown,
    weighted_score,
)
from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.calendar import DayType
from govflow.domain.council import MemberId
from govflow.domain.errors import InvalidInputError, NotOnRollError, RuleViolationError
from govflow.domain.ids import NAMESPACE
from govflow.domain.notice import NoticePeriod
from govflow.domain.procedure import Slug

FIRST_YEAR, LAST_YEAR = 2000, 2100


def annual_rating_id(council: str, year: int) -> UUID:
    """The rating of ``council`` for ``year``: one per council per year."""
    return uuid5(NAMESPACE, f"annual_rating:{council}:{year}")


# -- errors ---------------------------------------------------------------------------------


class UnknownRaterError(NotOnRollError):
    """Not one of the year's raters (the panel frozen when the rating opened)."""

    code = "annual_rating.unknown_rater"


class EvidenceMissingError(InvalidInputError):
    """A criterion scored without every kind of evidence it requires."""

    code = "annual_rating.evidence_missing"


class ScoreOutOfRangeError(InvalidInputError):
    code = "annual_rating.score_out_of_range"


class UnknownCriterionError(InvalidInputError):
    code = "annual_rating.unknown_criterion"


class AlreadyScoredError(RuleViolationError):
    """A rater scores each criterion once (once more in each revision an objection opens)."""

    code = "annual_rating.already_scored"


class RatingStateError(RuleViolationError):
    """The act does not fit where the year's rating is (open, published, revising)."""

    code = "annual_rating.state"


class ScoresIncompleteError(RuleViolationError):
    """A result needs every rater's score of every criterion."""

    code = "annual_rating.incomplete"


class RatingPanelError(RuleViolationError):
    """Fewer raters on the council's record than the procedure requires."""

    code = "annual_rating.panel"


# -- events ---------------------------------------------------------------------------------


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionTerms(_Part):
    id: Slug
    title: str
    weight: int
    evidence: tuple[Slug, ...]


class Evidence(_Part):
    """One piece of evidence behind a score: its kind, the file's sha256 and a note."""

    kind: Slug
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    note: str = Field(default="", max_length=1000)


class AnnualRatingOpened(DomainEvent):
    """A year's rating opened with its procedure's terms and the frozen panel of raters."""

    TOPIC = "govflow.annual_rating.opened"
    council: str
    year: int
    procedure_name: str
    procedure_version: int
    procedure_digest: str
    criteria: tuple[CriterionTerms, ...]
    bands: tuple[tuple[Grade, int], ...]
    panel: tuple[MemberId, ...]
    display_days: int
    objection_days: int
    reply_days: int
    day_type: DayType = DayType.NATURAL
    # each rater's enrolment: a member id enrolled again later is another person, no rater
    enrolments: dict[MemberId, int] = Field(default_factory=dict)


class CriterionScored(DomainEvent):
    """A rater's score of one criterion with its evidence (``round`` 1, or the revision an
    upheld objection opened)."""

    TOPIC = "govflow.annual_rating.criterion_scored"
    rater: MemberId
    criterion: Slug
    score: Decimal
    evidence: tuple[Evidence, ...]
    round: int = 1


class AnnualRatingPublished(DomainEvent):
    """The result, computed from the scores, posted as a notice (公示) with its objection
    window."""

    TOPIC = "govflow.annual_rating.published"
    score: Decimal  # cut to two places; the grade comes from the exact score
    grade: Grade
    criterion_scores: dict[str, Decimal]
    notice_id: UUID


class AnnualRatingObjectionUpheld(DomainEvent):
    """An objection to the result was upheld: the raters may score again (a new round)."""

    TOPIC = "govflow.annual_rating.objection_upheld"
    notice_id: UUID
    objection_no: int
    round: int


class AnnualRatingRevised(DomainEvent):
    """The revised result after upheld objections (named), the notice corrected with it."""

    TOPIC = "govflow.annual_rating.revised"
    objections: tuple[int, ...]
    score: Decimal
    grade: Grade
    criterion_scores: dict[str, Decimal]
    previous_score: Decimal
    previous_grade: Grade
    round: int


# -- the aggregate --------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    score: Fraction
    grade: Grade
    criterion_scores: dict[str, Decimal]


OPEN, PUBLISHED, REVISING = "open", "published", "revising"


class AnnualRating(Aggregate):
    created_by = (AnnualRatingOpened,)

    @classmethod
    def open(
        cls,
        council: str,
        year: int,
        procedure: RatingProcedure,
        panel: Mapping[str, int],
        *,
        at: datetime,
        actor: str,
    ) -> AnnualRating:
        """Open ``council``'s rating for ``year`` with ``procedure`` and the raters on the
        record now (``panel``: each with their enrolment, frozen); the opener must be one of
        them."""
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidInputError(f"a rating year is {FIRST_YEAR} to {LAST_YEAR}", year=year)
        if year > at.year:
            raise InvalidInputError(
                f"{year} has not begun: a year is rated once it has", year=year, now=at.year
            )
        if len(panel) < procedure.raters.min_panel:
            raise RatingPanelError(
                f"{procedure.name} needs at least {procedure.raters.min_panel} raters "
                f"(role {procedure.raters.role}) on the council's record; it names {len(panel)}",
                panel=len(panel),
            )
        if actor not in panel:
            raise UnknownRaterError(f"{actor} is not one of the raters", rater=actor)
        publication = procedure.publication
        return cls._create(
            AnnualRatingOpened,
            annual_rating_id(council, year),
            at=at,
            actor=actor,
            council=council,
            year=year,
            procedure_name=procedure.name,
            procedure_version=procedure.version,
            procedure_digest=procedure.digest,
            criteria=tuple(
                CriterionTerms(id=c.id, title=c.title, weight=c.weight, evidence=c.required_kinds)
                for c in procedure.criteria
            ),
            bands=tuple((b.grade, b.at_least) for b in procedure.bands),
            panel=tuple(sorted(panel)),
            enrolments=dict(sorted(panel.items())),
            display_days=publication.display.days,
            objection_days=publication.objection_window.days,
            reply_days=publication.reply_within.days,
            day_type=publication.display.day_type,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case AnnualRatingOpened():
                self.council = event.council
                self.year = event.year
                self.procedure = f"{event.procedure_name}@{event.procedure_version}"
                self.procedure_digest = event.procedure_digest
                self.period = NoticePeriod(
                    event.display_days, event.objection_days, event.reply_days, event.day_type
                )
                self.criteria = {c.id: c for c in event.criteria}
                self.bands = event.bands
                self.panel = frozenset(event.panel)
                self.enrolments = dict(event.enrolments)  # empty: opened before they were kept
                self.status = OPEN
                self.round = 1
                # (rater, criterion) -> the score that counts now, and the round it came in
                self.scores: dict[tuple[str, str], tuple[Decimal, int]] = {}
                self.notice_id: UUID | None = None
                self.score: Decimal | None = None
                self.grade: Grade | None = None
                self.pending_objections: tuple[int, ...] = ()
            case CriterionScored():
                self.scores[(event.rater, event.criterion)] = (event.score, event.round)
            case AnnualRatingPublished():
                self.status = PUBLISHED
                self.score, self.grade, self.notice_id = event.score, event.grade, event.notice_id
            case AnnualRatingObjectionUpheld():
                self.status, self.round = REVISING, event.round
                self.pending_objections = (*self.pending_objections, event.objection_no)
            case AnnualRatingRevised():
                self.status = PUBLISHED
                self.score, self.grade = event.score, event.grade
                self.pending_objections = ()

    def require_rater(self, actor: str, enrolment: int | None) -> None:
        """Refuse anyone but a rater of the year's panel, as enrolled when it was frozen."""
        if actor not in self.panel:
            raise UnknownRaterError(
                f"{actor} is not one of the {self.year} raters of {self.council}", rater=actor
            )
        if self.enrolments and self.enrolments.get(actor) != enrolment:
            raise UnknownRaterError(
                f"{actor} was enrolled again after the {self.year} panel was frozen: another "
                "person, not one of its raters",
                rater=actor,
            )

    def score_criterion(
        self,
        criterion: str,
        score: Decimal,
        evidence: tuple[Evidence, ...],
        *,
        at: datetime,
        actor: str,
        enrolment: int | None,
    ) -> None:
        """Record ``actor``'s score of ``criterion``: a rater of the panel, once per
        criterion (once more in a revision), with every kind of evidence it requires."""
        self.require_rater(actor, enrolment)
        if self.status == PUBLISHED:
            raise RatingStateError(
                "the result is published: scores change only after an upheld objection"
            )
        terms = self.criteria.get(criterion)
        if terms is None:
            raise UnknownCriterionError(
                f"the {self.year} rating has no criterion {criterion!r}", criterion=criterion
            )
        if (
            not score.is_finite()
            or not Decimal(0) <= score <= MAX_SCORE
            or score != score.quantize(Decimal("0.1"))
        ):
            raise ScoreOutOfRangeError(
                "a criterion's score is 0 to 100 with at most one decimal", score=str(score)
            )
        missing = [k for k in terms.evidence if k not in {e.kind for e in evidence}]
        if missing:
            raise EvidenceMissingError(
                f"criterion {criterion!r} needs evidence of kind {', '.join(missing)}",
                criterion=criterion,
                missing=missing,
            )
        earlier = self.scores.get((actor, criterion))
        if earlier is not None and earlier[1] == self.round:
            raise AlreadyScoredError(
                f"{actor} has scored {criterion!r} already"
                + (" in this revision" if self.round > 1 else ""),
                rater=actor,
                criterion=criterion,
            )
        self._trigger(
            CriterionScored,
            at=at,
            actor=actor,
            rater=actor,
            criterion=criterion,
            score=Decimal(f"{+score:f}"),  # 1E+2 recorded as 100, -0 as 0, as people write them
            evidence=evidence,
            round=self.round,
        )

    def result(self) -> Result:
        """The weighted score and grade from the scores that count now (every rater's score
        of every criterion)."""
        missing = [
            f"{rater}/{criterion}"
            for rater in sorted(self.panel)
            for criterion in self.criteria
            if (rater, criterion) not in self.scores
        ]
        if missing:
            raise ScoresIncompleteError(f"scores missing: {', '.join(missing)}", missing=missing)
        by_criterion = {
            criterion: [self.scores[(rater, criterion)][0] for rater in sorted(self.panel)]
            for criterion in self.criteria
        }
        weights = {c: t.weight for c, t in self.criteria.items()}
        exact = weighted_score(weights, by_criterion)
        means = {c: shown(mean(scores)) for c, scores in by_criterion.items()}
        return Result(exact, grade_of(exact, self.bands), means)

    def publish(
        self, notice_id: UUID, result: Result, *, at: datetime, actor: str, enrolment: int | None
    ) -> None:
        self.require_rater(actor, enrolment)
        if self.status != OPEN:
            raise RatingStateError(f"the {self.year} result is published already")
        self._trigger(
            AnnualRatingPublished,
            at=at,
            actor=actor,
            score=shown(result.score),
            grade=result.grade,
            criterion_scores=result.criterion_scores,
            notice_id=notice_id,
        )

    def uphold_objection(
        self, objection_no: int, *, at: datetime, actor: str, enrolment: int | None
    ) -> None:
        """An objection to the published result was upheld: open a revision round (or, in
        one already open, name this objection too)."""
        self.require_rater(actor, enrolment)
        if self.notice_id is None:
            raise RatingStateError("the result is not published yet")
        revising = self.status == REVISING
        self._trigger(
            AnnualRatingObjectionUpheld,
            at=at,
            actor=actor,
            notice_id=self.notice_id,
            objection_no=objection_no,
            round=self.round if revising else self.round + 1,
        )

    def revise(self, result: Result, *, at: datetime, actor: str, enrolment: int | None) -> None:
        """Record the revised result, naming the upheld objections it answers."""
        self.require_rater(actor, enrolment)
        if self.status != REVISING:
            raise RatingStateError("no upheld objection awaits a revised result")
        assert self.score is not None and self.grade is not None
        self._trigger(
            AnnualRatingRevised,
            at=at,
            actor=actor,
            objections=self.pending_objections,
            score=shown(result.score),
            grade=result.grade,
            criterion_scores=result.criterion_scores,
            previous_score=self.score,
            previous_grade=self.grade,
            round=self.round,
        )
