"""The annual rating's part of the scripted specimen history (see :mod:`specimens`)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING

from govflow.application.annual_rating_library import RatingProcedureLibrary
from govflow.domain.annual_rating import Evidence
from govflow.domain.council import Body

if TYPE_CHECKING:
    from govflow.application.governance import Governance


def annual_rating(app: Governance) -> None:
    """A year's rating (分类定级), in a council of its own: two street office raters score
    every criterion, the result is posted, a member's objection is upheld, the finances are
    scored again and the revised result names the objection."""
    c, clerk, year = "specimen-rating", "clerk", 2025
    app.register_council(c, "定级样例社区", actor=clerk)
    app.enroll_member(c, "m1", "居民代表", actor=clerk, bodies=(Body.TWO_COMMITTEES,))
    for rater in ("r1", "r2"):
        app.enroll_member(c, rater, f"街道评定员{rater}", actor=clerk, roles=("street_rater",))
    procedure = RatingProcedureLibrary().get("street-office-annual-rating", 1)
    app.open_annual_rating(c, year, procedure, actor="r1")
    members = app.council(c).members
    enrolled = {rater: members[rater].enrolment for rater in ("r1", "r2")}

    def evidence(kinds: tuple[str, ...]) -> list[Evidence]:
        return [
            Evidence(kind=k, sha256=hashlib.sha256(k.encode()).hexdigest(), note="已查阅")
            for k in kinds
        ]

    for rater in ("r1", "r2"):
        for criterion in procedure.criteria:
            app.score_annual_rating(
                c, year, criterion.id, Decimal("88"), evidence(criterion.required_kinds),
                actor=rater, enrolment=enrolled[rater],
            )  # fmt: skip
    app.publish_annual_rating(c, year, actor="r1", enrolment=enrolled["r1"])
    app.object_to_annual_rating(c, year, "财务台账漏查了第四季度", actor="m1")
    app.answer_annual_rating_objection(c, year, 1, "经核实，异议成立", upheld=True, actor="r2",
                                      enrolment=enrolled["r2"])  # fmt: skip
    finances = procedure.criterion("finances").required_kinds
    app.score_annual_rating(c, year, "finances", Decimal("98"), evidence(finances), actor="r1",
                            enrolment=enrolled["r1"])  # fmt: skip
    app.revise_annual_rating(c, year, actor="r2", enrolment=enrolled["r2"])
