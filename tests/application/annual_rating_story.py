"""A council rated by the street office: the roll, the door, and scores with evidence."""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.annual_rating_library import RatingProcedureLibrary
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.annual_rating_procedure import RatingProcedure
from govflow.domain.council import Body
from govflow.orchestration.door import CommandDoor

WORKFLOWS = Path(__file__).parents[2] / "workflows"
RATED = "hexi"
YEAR = 2026
PRESET = "street-office-annual-rating"
RATERS = ("s1", "s2")


def preset() -> RatingProcedure:
    return RatingProcedureLibrary(WORKFLOWS).get(PRESET, 1)


def set_up_rated_council(app: Governance) -> CommandDoor:
    """A council with its clerk, a chair, a member, an auditor and the street office's two
    raters on its record; the door over the repository's procedures."""
    app.register_council(RATED, "河西社区", actor="clerk")
    app.enroll_member(RATED, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(RATED, "c1", "主任", actor="clerk", chairs=(Body.TWO_COMMITTEES,))
    app.enroll_member(RATED, "m1", "居民代表", actor="clerk", bodies=(Body.TWO_COMMITTEES,))
    app.enroll_member(RATED, "a1", "审计员", actor="clerk", roles=("auditor",))
    app.enroll_member(RATED, "s1", "街道评定员甲", actor="clerk", roles=("street_rater",))
    app.enroll_member(RATED, "s2", "街道评定员乙", actor="clerk", roles=("street_rater",))
    return CommandDoor(app, None, ProcedureLibrary(WORKFLOWS))


def run(door: CommandDoor, who: str, command: c.Command) -> Any:
    return asyncio.run(door.handle(command, door.app.principal(RATED, who)))


def evidence(criterion: str, *, skip: str | None = None) -> tuple[c.RatingEvidence, ...]:
    """Evidence of every kind ``criterion`` requires (but ``skip``)."""
    kinds = preset().criterion(criterion).required_kinds
    return tuple(
        c.RatingEvidence(
            kind=kind,
            sha256=hashlib.sha256(f"{criterion}/{kind}".encode()).hexdigest(),
            note=f"{kind} 已查阅",
        )
        for kind in kinds
        if kind != skip
    )


def score(criterion: str, points: str, *, year: int = YEAR) -> c.ScoreCriterion:
    return c.ScoreCriterion(
        council=RATED,
        year=year,
        criterion=criterion,
        score=Decimal(points),
        evidence=evidence(criterion),
    )


def score_all(door: CommandDoor, points: dict[str, str], raters: tuple[str, ...] = RATERS) -> None:
    """Each rater scores each criterion with ``points``."""
    for rater in raters:
        for criterion, value in points.items():
            run(door, rater, score(criterion, value))


ALL_88 = {c.id: "88" for c in preset().criteria}
