"""Use cases: a council's annual rating (分类定级) by the street office's raters, its result
posted as a notice (公示) with objections, and revisions after upheld objections."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from govflow.application.directory import AnnualRatingRow
from govflow.application.listing import ListingCases
from govflow.application.notices import NoticeCases
from govflow.application.views import View
from govflow.domain.annual_rating import (
    AnnualRating,
    Evidence,
    RatingStateError,
    Result,
    annual_rating_id,
)
from govflow.domain.annual_rating_procedure import (
    GRADE_LABELS,
    STREET_RATER,
    RatingProcedure,
    shown,
)
from govflow.domain.council import Council
from govflow.domain.errors import AlreadyExistsError, ConcurrentChangeError
from govflow.domain.notice import Notice, NoticeKind

SAVE_ATTEMPTS = 5  # raters scoring at once each reload and decide again, a few times at most


class RatedCriterion(View):
    id: str
    title: str
    weight: int
    evidence: list[str]
    scored_by: list[str]  # the raters whose score counts now
    mean: Decimal | None = None  # as published or revised


class AnnualRatingView(View):
    id: UUID
    council: str
    year: int
    procedure: str  # name@version
    procedure_digest: str
    status: str  # open | published | revising
    round: int
    panel: list[str]
    criteria: list[RatedCriterion]
    score: Decimal | None
    grade: str | None
    grade_label: str | None
    notice_id: UUID | None
    pending_objections: list[int]


def rating_panel(council: Council) -> dict[str, int]:
    """The street office's raters on ``council``'s record, each with their enrolment: members
    with the role ``street_rater`` who sit on none of its bodies and are neither its clerk nor
    an auditor (a council never rates itself; an auditor writes nothing, so could never
    score)."""
    return {
        member_id: member.enrolment
        for member_id, member in sorted(council.members.items())
        if STREET_RATER in member.roles
        and not member.bodies
        and not {"clerk", "auditor"} & set(member.roles)
    }


class AnnualRatingCases(NoticeCases, ListingCases):
    def annual_rating(self, code: str, year: int) -> AnnualRating:
        return self._get(AnnualRating, annual_rating_id(code, year), f"rating {code}/{year}")

    def open_annual_rating(
        self, code: str, year: int, procedure: RatingProcedure, *, actor: str
    ) -> UUID:
        """Open ``code``'s rating for ``year``: the procedure's terms and the raters on the
        record now are frozen in it."""
        council = self.council(code)
        rating = AnnualRating.open(
            code, year, procedure, rating_panel(council), at=self.now(), actor=actor
        )
        self._save_new(rating, what=f"the {year} rating of {code}")
        return rating.id

    def score_annual_rating(
        self,
        code: str,
        year: int,
        criterion: str,
        score: Decimal,
        evidence: Sequence[Evidence],
        *,
        actor: str,
        enrolment: int | None,
    ) -> None:
        """Record a rater's score of one criterion. Raters scoring at the same moment each
        decide again on the record as the other left it, so a second score by the same rater
        is refused however close the two came."""
        for attempt in range(SAVE_ATTEMPTS):
            rating = self.annual_rating(code, year)
            rating.score_criterion(
                criterion, score, tuple(evidence), at=self.now(), actor=actor, enrolment=enrolment
            )
            try:
                self.save(rating)
                return
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise ConcurrentChangeError("changed concurrently: try again") from None

    def annual_rating_raters(self, code: str, year: int) -> dict[str, str]:
        """The year's raters by name, as the council's record has them."""
        return self._rater_names(self.annual_rating(code, year))

    def _rater_names(self, rating: AnnualRating) -> dict[str, str]:
        """Each rater of the panel by name while the same person (the enrolment frozen with
        the panel) is on the council's record; else by member id: a newcomer enrolled under
        a rater's id is never named as the rater."""
        council = self.council_to_read(rating.council)
        enrolled = rating.enrolments or {  # opened before enrolments were kept: by id alone
            r: m.enrolment for r in rating.panel if (m := council.members.get(r)) is not None
        }
        return {
            rater: council.name_of(rater, enrolled.get(rater)) for rater in sorted(rating.panel)
        }

    def _result_text(self, rating: AnnualRating, result: Result) -> str:
        council = self.council_to_read(rating.council)
        lines = "；".join(
            f"{terms.title} {result.criterion_scores[c]}（权重 {terms.weight}）"
            for c, terms in rating.criteria.items()
        )
        score = shown(result.score)
        raters = list(self._rater_names(rating).values())
        return (
            f"{council.name}{rating.year}年度分类定级：{GRADE_LABELS[result.grade]}"
            f"（加权得分 {score}）。各项平均得分：{lines}。"
            f"评定人：{'、'.join(raters)}。"
        )

    def publish_annual_rating(
        self, code: str, year: int, *, actor: str, enrolment: int | None
    ) -> UUID:
        """Compute the result from the scores and post it as a notice with the procedure's
        objection window, in one transaction; returns the notice's id."""
        rating = self.annual_rating(code, year)
        rating.require_rater(actor, enrolment)
        result = rating.result()
        notice = self._new_notice(
            rating.id,
            NoticeKind.OTHER,
            1,
            f"{year}年度分类定级结果公示",
            self._result_text(rating, result),
            rating.period,
            actor=actor,
            step=None,
        )
        rating.publish(notice.id, result, at=notice.created_on, actor=actor, enrolment=enrolment)
        try:
            self.save(rating, notice)
        except IntegrityError:
            if self.annual_rating(code, year).notice_id is not None:
                raise AlreadyExistsError(
                    f"the {year} result of {code} is published already"
                ) from None
            raise ConcurrentChangeError("changed concurrently: try again") from None
        return notice.id

    def _published_notice(self, rating: AnnualRating) -> Notice:
        if rating.notice_id is None:
            raise RatingStateError(f"the {rating.year} result is not published yet")
        return self.notice(rating.notice_id)

    def object_to_annual_rating(self, code: str, year: int, text: str, *, actor: str) -> int:
        """File an objection to the published result (a member of the council, within the
        window); returns its number."""
        rating = self.annual_rating(code, year)
        return self.file_objection(self._published_notice(rating).id, text, actor=actor)

    def answer_annual_rating_objection(
        self,
        code: str,
        year: int,
        objection_no: int,
        reply: str,
        *,
        upheld: bool,
        actor: str,
        enrolment: int | None,
    ) -> None:
        """A rater answers an objection; an upheld one opens a revision of the scores (both
        recorded in one transaction)."""
        rating = self.annual_rating(code, year)
        rating.require_rater(actor, enrolment)
        notice = self._published_notice(rating)
        at = self.now()
        notice.answer_objection(objection_no, reply, upheld=upheld, at=at, actor=actor)
        if upheld:
            rating.uphold_objection(objection_no, at=at, actor=actor, enrolment=enrolment)
        self._save(notice, rating)

    def revise_annual_rating(
        self, code: str, year: int, *, actor: str, enrolment: int | None
    ) -> None:
        """Record the revised result (naming the upheld objections) from the scores that
        count now, and correct the notice with it: its display period and objection window
        start again."""
        rating = self.annual_rating(code, year)
        rating.require_rater(actor, enrolment)
        notice = self._published_notice(rating)
        result = rating.result()
        previous = f"{GRADE_LABELS[rating.grade]}（{rating.score}）" if rating.grade else ""
        objections = "、".join(f"第{n}号" for n in rating.pending_objections)
        at = self.now()
        rating.revise(result, at=at, actor=actor, enrolment=enrolment)
        period = notice.period
        display_until = self._until(at, period.display_days, period)
        assert display_until is not None
        text = (
            f"{self._result_text(rating, result)}"
            f"（异议{objections}成立后修正，原定级 {previous}。）"
        )
        notice.correct(
            text,
            display_until=display_until,
            objection_until=self._until(at, period.objection_days, period),
            at=at,
            actor=actor,
        )
        self._save(rating, notice)

    def get_annual_rating(self, code: str, year: int) -> AnnualRatingView:
        rating = self.annual_rating(code, year)
        published: dict[str, Decimal] = {}
        for event in self.domain_events(rating.id):
            scores = getattr(event, "criterion_scores", None)
            if isinstance(scores, dict):
                published = scores
        return AnnualRatingView(
            id=rating.id,
            council=rating.council,
            year=rating.year,
            procedure=rating.procedure,
            procedure_digest=rating.procedure_digest,
            status=rating.status,
            round=rating.round,
            panel=sorted(rating.panel),
            criteria=[
                RatedCriterion(
                    id=c,
                    title=terms.title,
                    weight=terms.weight,
                    evidence=list(terms.evidence),
                    scored_by=sorted(r for (r, k) in rating.scores if k == c),
                    mean=published.get(c),
                )
                for c, terms in rating.criteria.items()
            ],
            score=rating.score,
            grade=rating.grade.value if rating.grade else None,
            grade_label=GRADE_LABELS[rating.grade] if rating.grade else None,
            notice_id=rating.notice_id,
            pending_objections=list(rating.pending_objections),
        )

    def list_annual_ratings(self, code: str) -> list[AnnualRatingRow]:
        """The council's ratings, latest year first."""
        self.council_to_read(code)
        rows = self.directory.rows(AnnualRatingRow, code)
        return sorted(rows, key=lambda r: r.year, reverse=True)
