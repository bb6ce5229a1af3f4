"""``govflow rating``: a council's annual rating (分类定级), as the signed-in member through the
API: the street office's raters open a year, score criteria with evidence, publish and answer
objections; members object."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from govflow.entrypoints import cli_http as http
from govflow.entrypoints.cli_http import council_path
from govflow.entrypoints.console import JsonFlag, report

rating_app = typer.Typer(help="Annual ratings (分类定级) of a council.", no_args_is_help=True)
Year = Annotated[int, typer.Argument(help="The rated year, e.g. 2026.")]
Evidence = Annotated[
    list[str] | None,
    typer.Option(
        "--evidence",
        help="KIND:FILE (its sha256 is computed here; the file is not sent) or KIND:SHA256, "
        "optionally :NOTE after it (repeatable; every kind the criterion requires).",
    ),
]
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _year(code: str, year: int, *parts: object) -> str:
    return council_path(code, "ratings", year, *parts)


def evidence_of(items: list[str]) -> list[dict[str, str]]:
    """``KIND:FILE[:NOTE]`` or ``KIND:SHA256[:NOTE]`` as the API's evidence."""
    found = []
    for item in items:
        kind, _, rest = item.partition(":")
        where, _, note = rest.partition(":")
        if not kind or not where:
            raise typer.BadParameter(f"--evidence takes KIND:FILE or KIND:SHA256, not {item!r}")
        if HEX64.match(where):
            digest = where
        else:
            path = Path(where)
            if not path.is_file():
                raise typer.BadParameter(f"{where!r} is neither a file nor a sha256")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found.append({"kind": kind, "sha256": digest, "note": note})
    return found


def _summary(view: dict[str, Any]) -> str:
    grade = view.get("grade_label") or "—"
    score = view.get("score") or "—"
    return f"{view['year']}: {grade} ({score}), {view['status']}"


@rating_app.command("open")
def open_year(
    council: str,
    year: Year,
    procedure: Annotated[str, typer.Option(help="The rating procedure.")] = (
        "street-office-annual-rating"
    ),
    version: Annotated[int | None, typer.Option(help="Its version (default: latest).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """As one of the street office's raters, open the council's rating for YEAR."""
    body: dict[str, Any] = {"year": year, "procedure": procedure}
    if version is not None:
        body["version"] = version
    view = http.post(council_path(council, "ratings"), body)
    report(as_json, view, f"{year} rating opened; raters: {', '.join(view['panel'])}")


@rating_app.command("score")
def score(
    council: str,
    year: Year,
    criterion: str,
    points: Annotated[str, typer.Argument(help="0 to 100, at most one decimal.")],
    evidence: Evidence = None,
    as_json: JsonFlag = False,
) -> None:
    """As a rater, score one criterion with its evidence."""
    body = {"criterion": criterion, "score": points, "evidence": evidence_of(evidence or [])}
    view = http.post(_year(council, year, "scores"), body)
    report(as_json, view, f"{criterion} scored {points}")


@rating_app.command("publish")
def publish(council: str, year: Year, as_json: JsonFlag = False) -> None:
    """As a rater, publish the result (computed from every rater's scores) as a notice."""
    answer = http.post(_year(council, year, "publish"))
    view = http.get(_year(council, year))
    report(as_json, answer, f"published: {_summary(view)}; notice {answer['notice_id']}")


@rating_app.command("object")
def object_to(council: str, year: Year, text: str, as_json: JsonFlag = False) -> None:
    """As a member of the council, object to the published result within its window."""
    answer = http.post(_year(council, year, "objections"), {"text": text})
    report(as_json, answer, f"objection {answer['objection_no']} filed")


@rating_app.command("answer")
def answer_objection(
    council: str,
    year: Year,
    objection_no: int,
    reply: str,
    upheld: Annotated[bool, typer.Option("--upheld", help="The objection is upheld.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """As a rater, answer an objection; an upheld one lets the raters score again."""
    answer = http.post(
        _year(council, year, "objections", objection_no, "answer"),
        {"reply": reply, "upheld": upheld},
    )
    said = "upheld: score again, then govflow rating revise" if upheld else "not upheld"
    report(as_json, answer, f"objection {objection_no} {said}")


@rating_app.command("revise")
def revise(council: str, year: Year, as_json: JsonFlag = False) -> None:
    """As a rater, record the revised result after upheld objections."""
    view = http.post(_year(council, year, "revise"))
    report(as_json, view, f"revised: {_summary(view)}")


@rating_app.command("show")
def show(
    council: str,
    year: Annotated[int | None, typer.Argument(help="One year (default: every year).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The council's ratings, or one year's criteria and result."""
    if year is None:
        rows = http.get(council_path(council, "ratings"))
        lines = [
            f"{r['year']}: {r['grade'] or '—'} ({r['score'] or '—'}), {r['status']}" for r in rows
        ]
        report(as_json, rows, "\n".join(lines) or "no ratings")
        return
    view = http.get(_year(council, year))
    criteria = [
        f"  {c['title']} ({c['weight']}): {c['mean'] or '—'}; scored by "
        f"{', '.join(c['scored_by']) or 'nobody yet'}"
        for c in view["criteria"]
    ]
    report(as_json, view, "\n".join([_summary(view), *criteria]))
