"""``/v1/councils/{code}/ratings``: the council's annual ratings (分类定级), one per year: the
street office's raters open, score with evidence, publish and answer objections; members
object."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import Field

from govflow.application import commands as c
from govflow.application.annual_ratings import AnnualRatingView
from govflow.application.directory import AnnualRatingRow
from govflow.domain.annual_rating import FIRST_YEAR, LAST_YEAR
from govflow.entrypoints.api_bodies import Name, Number, PathNumber, Strict, Text
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}/ratings", tags=["ratings"])

Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="the rated year")]


class OpenRatingBody(Strict):
    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR, strict=True)
    procedure: Name = Field(default="street-office-annual-rating", min_length=1, max_length=100)
    version: Number | None = None


class ScoreBody(Strict):
    criterion: Name = Field(min_length=1, max_length=64)
    score: Decimal = Field(ge=0, le=100, max_digits=4, decimal_places=1)
    evidence: tuple[c.RatingEvidence, ...] = Field(default=(), max_length=20)


class ObjectionBody(Strict):
    text: Text = Field(min_length=1, max_length=10_000)


class AnswerBody(Strict):
    reply: Text = Field(min_length=1, max_length=10_000)
    upheld: bool = False


class Published(Strict):
    notice_id: UUID


class Objection(Strict):
    objection_no: int


class Answered(Strict):
    upheld: bool


@router.post("", status_code=201)
async def open_rating(
    code: str, body: OpenRatingBody, caller: Caller, door: Door
) -> AnnualRatingView:
    """As one of the street office's raters, open the council's rating for a year: the
    procedure's terms and the raters on the council's record now are frozen in it."""
    view: AnnualRatingView = await door.handle(
        c.OpenAnnualRating(council=code, **body.model_dump()), caller
    )
    return view


@router.get("")
def list_ratings(code: str, caller: Caller, app: App) -> list[AnnualRatingRow]:
    """The council's ratings, latest year first: grade, score, status, revisions."""
    reader(caller, code)
    return app.list_annual_ratings(code)


@router.get("/{year}")
def get_rating(code: str, year: Year, caller: Caller, app: App) -> AnnualRatingView:
    reader(caller, code)
    return app.get_annual_rating(code, year)


@router.post("/{year}/scores", status_code=201)
async def score_criterion(
    code: str, year: Year, body: ScoreBody, caller: Caller, door: Door
) -> AnnualRatingView:
    """As a rater of the year's panel, score one criterion (0 to 100) with every kind of
    evidence it requires (sha256 and a note each); once per criterion (once more in a
    revision after an upheld objection)."""
    command = c.ScoreCriterion(council=code, year=year, **body.model_dump())
    view: AnnualRatingView = await door.handle(command, caller)
    return view


@router.post("/{year}/publish")
async def publish_rating(code: str, year: Year, caller: Caller, door: Door) -> Published:
    """As a rater, publish the result (computed from every rater's scores) as a notice with
    the procedure's objection window."""
    notice_id = await door.handle(c.PublishAnnualRating(council=code, year=year), caller)
    return Published(notice_id=notice_id)


@router.post("/{year}/objections", status_code=201)
async def object_to_rating(
    code: str, year: Year, body: ObjectionBody, caller: Caller, door: Door
) -> Objection:
    """As a member of the council, object to the published result within its window."""
    command = c.ObjectToAnnualRating(council=code, year=year, text=body.text)
    return Objection(objection_no=await door.handle(command, caller))


@router.post("/{year}/objections/{objection_no}/answer")
async def answer_objection(
    code: str, year: Year, objection_no: PathNumber, body: AnswerBody, caller: Caller, door: Door
) -> Answered:
    """As a rater, answer an objection; an upheld one lets the raters score again."""
    command = c.AnswerAnnualRatingObjection(
        council=code, year=year, objection_no=objection_no, reply=body.reply, upheld=body.upheld
    )
    return Answered(upheld=await door.handle(command, caller))


@router.post("/{year}/revise")
async def revise_rating(code: str, year: Year, caller: Caller, door: Door) -> AnnualRatingView:
    """As a rater, record the revised result after upheld objections (it names them); the
    notice is corrected and its periods start again."""
    view: AnnualRatingView = await door.handle(
        c.ReviseAnnualRating(council=code, year=year), caller
    )
    return view
