"""The command door's acts of annual ratings (分类定级): the street office's raters open a
year's rating, score criteria with evidence, publish the result and answer objections to it;
the council's members object. No workflow: the notice's periods are recorded deadlines."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from govflow.application import commands as c
from govflow.application.annual_rating_library import RatingProcedureLibrary
from govflow.application.annual_ratings import AnnualRatingView
from govflow.domain.annual_rating import Evidence
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.door_base import DoorBase, Handler


class RatingActs(DoorBase):
    _rating_library: RatingProcedureLibrary | None = None

    def annual_rating_handlers(self) -> dict[type[c.Command], Handler]:
        """The handlers of annual rating commands, for :class:`CommandDoor`'s table."""
        return {
            c.OpenAnnualRating: self._open_rating,
            c.ScoreCriterion: self._score_criterion,
            c.PublishAnnualRating: self._publish_rating,
            c.ObjectToAnnualRating: self._object_to_rating,
            c.AnswerAnnualRatingObjection: self._answer_rating_objection,
            c.ReviseAnnualRating: self._revise_rating,
        }

    @property
    def rating_procedures(self) -> RatingProcedureLibrary:
        """The rating procedures beside the item procedures (``ratings/`` of each of their
        directories: the presets, then ``GOVFLOW_WORKFLOWS_DIR``), else the presets'."""
        if self._rating_library is None:
            roots: tuple[Path, ...] = self.procedures.roots if self.procedures else ()
            self._rating_library = RatingProcedureLibrary(*roots)
        return self._rating_library

    async def _open_rating(self, cmd: c.OpenAnnualRating, who: Principal) -> AnnualRatingView:
        actor = authorize(who, Action.RATE_COUNCIL, cmd.council)
        procedure = self.rating_procedures.get(cmd.procedure, cmd.version)

        def open_rating() -> AnnualRatingView:
            self.app.open_annual_rating(cmd.council, cmd.year, procedure, actor=actor)
            return self.app.get_annual_rating(cmd.council, cmd.year)

        return await asyncio.to_thread(open_rating)

    async def _score_criterion(self, cmd: c.ScoreCriterion, who: Principal) -> AnnualRatingView:
        actor = authorize(who, Action.RATE_COUNCIL, cmd.council)
        evidence = [Evidence(kind=e.kind, sha256=e.sha256, note=e.note) for e in cmd.evidence]

        def score() -> AnnualRatingView:
            self.app.score_annual_rating(
                cmd.council,
                cmd.year,
                cmd.criterion,
                cmd.score,
                evidence,
                actor=actor,
                enrolment=who.enrolment,
            )
            return self.app.get_annual_rating(cmd.council, cmd.year)

        return await asyncio.to_thread(score)

    async def _publish_rating(self, cmd: c.PublishAnnualRating, who: Principal) -> UUID:
        actor = authorize(who, Action.RATE_COUNCIL, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.publish_annual_rating(
                cmd.council, cmd.year, actor=actor, enrolment=who.enrolment
            )
        )

    async def _object_to_rating(self, cmd: c.ObjectToAnnualRating, who: Principal) -> int:
        actor = authorize(who, Action.FILE_OBJECTION, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.object_to_annual_rating(cmd.council, cmd.year, cmd.text, actor=actor)
        )

    async def _answer_rating_objection(
        self, cmd: c.AnswerAnnualRatingObjection, who: Principal
    ) -> bool:
        actor = authorize(who, Action.RATE_COUNCIL, cmd.council)
        await asyncio.to_thread(
            lambda: self.app.answer_annual_rating_objection(
                cmd.council,
                cmd.year,
                cmd.objection_no,
                cmd.reply,
                upheld=cmd.upheld,
                actor=actor,
                enrolment=who.enrolment,
            )
        )
        return cmd.upheld

    async def _revise_rating(self, cmd: c.ReviseAnnualRating, who: Principal) -> AnnualRatingView:
        actor = authorize(who, Action.RATE_COUNCIL, cmd.council)

        def revise() -> AnnualRatingView:
            self.app.revise_annual_rating(
                cmd.council, cmd.year, actor=actor, enrolment=who.enrolment
            )
            return self.app.get_annual_rating(cmd.council, cmd.year)

        return await asyncio.to_thread(revise)
