"""The board's annual ratings (分类定级): a council's years with their grades, and each year's
criteria, scores with their evidence, the published result, objections and revisions, in
order. Public, like the rest of the board: the raters act for the street office, so their
names are shown with their scores; an objection shows its number and the raters' answer, not
the objector."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from govflow.application import Governance
from govflow.application.annual_rating_library import RatingProcedureLibrary
from govflow.application.annual_ratings import AnnualRatingView
from govflow.domain.annual_rating import FIRST_YEAR, LAST_YEAR
from govflow.domain.annual_rating_procedure import GRADE_LABELS, Grade
from govflow.domain.errors import GovflowError

Render = Callable[..., HTMLResponse]

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "ratings": "年度分类定级",
        "year": "年度",
        "grade": "等次",
        "score": "加权得分",
        "status": "状态",
        "revisions": "修正次数",
        "no_ratings": "尚无年度分类定级。",
        "procedure": "定级办法",
        "digest": "办法摘要（SHA-256）",
        "panel": "评定人（街道办事处）",
        "criteria": "评定项目",
        "criterion": "项目",
        "weight": "权重",
        "evidence": "所需佐证",
        "mean": "平均得分",
        "history": "过程记录",
        "notice": "结果公示",
        "open": "评分中",
        "published": "已公示",
        "revising": "异议成立，重新评分中",
        "opened": "开始定级",
        "scored": "评分",
        "rescored": "重新评分",
        "result": "定级结果",
        "objection": "异议",
        "filed": "已提出",
        "answered_upheld": "异议成立",
        "answered_rejected": "异议不成立",
        "revised": "修正定级",
        "previous": "原定级",
        "naming": "依据异议",
        "pending": "—",
        "how": (
            "等次由各项目平均得分按权重计算得出（以上含本数）；每项评分须附该项要求的全部佐证"
            "（文件的 SHA-256）；结果公示期内本社区成员可提出异议，异议成立则重新评分并修正定级。"
        ),
    },
    "en": {
        "ratings": "Annual ratings",
        "year": "Year",
        "grade": "Grade",
        "score": "Weighted score",
        "status": "Status",
        "revisions": "Revisions",
        "no_ratings": "No annual rating yet.",
        "procedure": "Rating procedure",
        "digest": "Procedure digest (SHA-256)",
        "panel": "Raters (street office)",
        "criteria": "Criteria",
        "criterion": "Criterion",
        "weight": "Weight",
        "evidence": "Evidence required",
        "mean": "Mean score",
        "history": "Record",
        "notice": "Published notice",
        "open": "being scored",
        "published": "published",
        "revising": "objection upheld, being scored again",
        "opened": "rating opened",
        "scored": "scored",
        "rescored": "scored again",
        "result": "result",
        "objection": "objection",
        "filed": "filed",
        "answered_upheld": "upheld",
        "answered_rejected": "not upheld",
        "revised": "revised result",
        "previous": "was",
        "naming": "after objection",
        "pending": "—",
        "how": (
            "The grade follows from each criterion's mean score and weight (a band's bound "
            "included); each score carries every piece of evidence its criterion requires (the "
            "file's SHA-256); during the notice's objection window the council's members may "
            "object, and an upheld objection leads to scores given again and a revised result."
        ),
    },
}

GRADES_EN = {Grade.GOOD: "good", Grade.FAIRLY_GOOD: "fairly good", Grade.FAIR: "fair",
             Grade.POOR: "poor"}  # fmt: skip


def grade_name(grade: str | None, lang: str) -> str:
    if grade is None:
        return "—"
    return GRADE_LABELS[Grade(grade)] if lang == "zh" else GRADES_EN[Grade(grade)]


def procedure_name(name_version: str, lang: str) -> str:
    """``street-office-annual-rating@1`` as a reader sees it: 第1版 / version 1."""
    name, _, version = name_version.partition("@")
    return f"{name} 第{version}版" if lang == "zh" else f"{name}, version {version}"


def evidence_titles(name_version: str, digest: str) -> dict[str, str]:
    """The titles of the evidence kinds of the procedure a rating opened with, if the shipped
    preset of that name and version is still the one it recorded (else the kinds)."""
    name, _, version = name_version.partition("@")
    try:
        procedure = RatingProcedureLibrary().get(name, int(version))
    except (GovflowError, ValueError):
        return {}
    if procedure.digest != digest:
        return {}
    return {e.kind: e.title for c in procedure.criteria for e in c.evidence}


def _json(value: Any) -> Any:
    return str(value) if not isinstance(value, datetime) else value.isoformat()


def create_ratings_board(app: Governance, render: Render) -> APIRouter:
    """The ratings pages, rendered with the board's ``render`` (its layout and languages);
    included in the board's router by :func:`govflow.entrypoints.board.create_board`."""
    router = APIRouter()

    def lang_of(request: Request) -> str:
        return "en" if request.query_params.get("lang") == "en" else "zh"

    @router.get("/{code}/ratings", response_class=HTMLResponse)
    def ratings(request: Request, code: str) -> HTMLResponse:
        lang = lang_of(request)
        return render(
            request,
            "ratings/list.html",
            council=app.get_council(code),
            rows=app.list_annual_ratings(code),
            rt=TEXT[lang],
            grade=lambda g: grade_name(g, lang),
        )

    @router.get("/{code}/ratings.json")
    def ratings_json(code: str) -> Response:
        rows = [r.model_dump() for r in app.list_annual_ratings(code)]
        return Response(orjson.dumps(rows, default=_json), media_type="application/json")

    @router.get("/{code}/ratings/{year}", response_class=HTMLResponse)
    def rating(
        request: Request, code: str, year: int = Path(ge=FIRST_YEAR, le=LAST_YEAR)
    ) -> HTMLResponse:
        lang = lang_of(request)
        view = app.get_annual_rating(code, year)
        return render(
            request,
            "ratings/year.html",
            council=app.get_council(code),
            rating=view,
            names=app.annual_rating_raters(code, year),
            procedure=procedure_name(view.procedure, lang),
            kinds=evidence_titles(view.procedure, view.procedure_digest),
            record=_record(app, view, lang),
            rt=TEXT[lang],
            grade=lambda g: grade_name(g, lang),
        )

    return router


def _record(app: Governance, view: AnnualRatingView, lang: str) -> list[dict[str, Any]]:
    """The year's events and its notice's objections and answers, in time order, each as
    the board shows it."""
    t = TEXT[lang]
    tz = ZoneInfo(app.timezone)
    titles = {c.id: c.title for c in view.criteria}
    lines: list[tuple[datetime, int, dict[str, Any]]] = []
    for order, entry in enumerate(app.get_history(view.id)):
        d = entry.data
        line: dict[str, Any] = {"actor": entry.actor}
        kind = entry.topic.rsplit(".", 1)[-1]
        if kind == "opened":
            name = f"{d['procedure_name']}@{d['procedure_version']}"
            line["what"] = f"{t['opened']} · {procedure_name(name, lang)}"
        elif kind == "criterion_scored":
            rescored = int(d.get("round", 1)) > 1
            line["what"] = (
                f"{t['rescored'] if rescored else t['scored']} · "
                f"{titles.get(d['criterion'], d['criterion'])} {d['score']}"
            )
            line["evidence"] = d.get("evidence") or []
        elif kind == "published":
            line["what"] = f"{t['result']} · {grade_name(d['grade'], lang)} ({d['score']})"
            line["notice"] = d.get("notice_id")
        elif kind == "revised":
            named = ", ".join(str(n) for n in d.get("objections", []))
            line["what"] = (
                f"{t['revised']} · {grade_name(d['grade'], lang)} ({d['score']}) · "
                f"{t['previous']} {grade_name(d['previous_grade'], lang)} "
                f"({d['previous_score']}) · {t['naming']} {named}"
            )
        else:
            continue
        lines.append((entry.timestamp, order, line))
    if view.notice_id is not None:
        for order, entry in enumerate(app.get_history(view.notice_id), start=10_000):
            d = entry.data
            if entry.topic == "govflow.notice.objection_filed":
                line = {"what": f"{t['objection']} {d['objection_no']} · {t['filed']}"}
            elif entry.topic == "govflow.notice.objection_answered":
                answer = t["answered_upheld"] if d.get("upheld") else t["answered_rejected"]
                line = {
                    "what": f"{t['objection']} {d['objection_no']} · {answer}",
                    "reply": d.get("reply", ""),
                    "actor": entry.actor,
                }
            else:
                continue
            lines.append((entry.timestamp, order, line))
    lines.sort(key=lambda x: (x[0], x[1]))
    return [{"at": at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), **line} for at, _, line in lines]
