"""Statutory minimums a procedure must not fall below (``govflow procedure lint``)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from govflow.domain.council import Body
from govflow.domain.notice import NoticeKind
from govflow.domain.procedure import Condition, Procedure, StageKind
from govflow.domain.spending import DISCLOSURES
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    stage: str | None = None


def _t(fraction: str, comparison: Comparison, base: Base) -> Threshold:
    return Threshold(fraction=Fraction(fraction), comparison=comparison, base=base)


# The weakest rule each body may use, with its source (see ../shared/docs/domain.md).
MINIMUM_RULES: dict[Body, tuple[VotingRule, str]] = {
    Body.RESIDENTS_ASSEMBLY: (
        VotingRule(
            quorum=_t("1/2", Comparison.MORE_THAN, Base.MEMBERS_OF_RECORD),
            passes=_t("1/2", Comparison.MORE_THAN, Base.PRESENT),
        ),
        "城市居民委员会组织法 Art. 9",
    ),
    Body.VILLAGERS_ASSEMBLY: (
        VotingRule(
            quorum=_t("1/2", Comparison.MORE_THAN, Base.MEMBERS_OF_RECORD),
            passes=_t("1/2", Comparison.MORE_THAN, Base.PRESENT),
        ),
        "村民委员会组织法 Arts. 21-22",
    ),
    Body.VILLAGERS_REPRESENTATIVES: (
        VotingRule(
            quorum=_t("2/3", Comparison.AT_LEAST, Base.MEMBERS_OF_RECORD),
            passes=_t("1/2", Comparison.MORE_THAN, Base.PRESENT),
        ),
        "村民委员会组织法 Art. 26",
    ),
    Body.PARTY_MEMBERS_ASSEMBLY: (
        VotingRule(
            quorum=_t("1/2", Comparison.AT_LEAST, Base.EXPECTED),
            passes=_t("1/2", Comparison.MORE_THAN, Base.EXPECTED),
        ),
        "中国共产党支部工作条例 Art. 11",
    ),
    Body.OWNERS_ASSEMBLY: (
        VotingRule(
            quorum=_t("2/3", Comparison.AT_LEAST, Base.MEMBERS_OF_RECORD),
            passes=_t("1/2", Comparison.MORE_THAN, Base.PARTICIPATING),
            area_weighted=True,
        ),
        "民法典 Art. 278",
    ),
}


def _as_strict(actual: Threshold | None, minimum: Threshold | None) -> bool:
    if minimum is None:
        return True
    if actual is None or actual.base is not minimum.base:
        return False
    if actual.fraction != minimum.fraction:
        return actual.fraction > minimum.fraction
    return actual.comparison is minimum.comparison or actual.comparison is Comparison.MORE_THAN


def _rule_findings(procedure: Procedure) -> list[Finding]:
    findings = []
    for stage in procedure.stages:
        if stage.rule is None or stage.body is None or stage.body not in MINIMUM_RULES:
            continue
        minimum, source = MINIMUM_RULES[stage.body]
        for name in dict.fromkeys((stage.rule, *stage.category_rules.values())):
            assert name is not None
            rule = procedure.rules[name]
            weak = (
                not _as_strict(rule.quorum, minimum.quorum)
                or not _as_strict(rule.passes, minimum.passes)
                or (minimum.area_weighted and not rule.area_weighted)
            )
            if weak:
                findings.append(
                    Finding(
                        "lint.rule_below_minimum",
                        f"rule {name!r} ({rule.describe()}) is weaker than {source}: "
                        f"{minimum.describe()}",
                        stage.id,
                    )
                )
    return findings


def _spending_findings(procedure: Procedure) -> list[Finding]:
    spends = procedure.applies_to == "spending" or any(
        s.when is Condition.AMOUNT_OVER_THRESHOLD for s in procedure.stages
    )
    if not spends:
        return []
    findings = []
    reviewed = any(
        s.kind in (StageKind.REVIEW, StageKind.VOTE) and s.body is Body.PARTY_MEMBERS_ASSEMBLY
        for s in procedure.stages
    )
    if not reviewed:
        findings.append(
            Finding(
                "lint.spending_review_missing",
                "spending over the threshold needs a review by the party members' assembly",
            )
        )
    disclosed = {s.notice.kind for s in procedure.stages if s.notice is not None}
    for kind in DISCLOSURES:
        if kind not in disclosed:
            findings.append(
                Finding(
                    "lint.disclosure_missing",
                    f"spending over the threshold needs a {kind.value} disclosure",
                )
            )
    return findings


def _period_findings(procedure: Procedure) -> list[Finding]:
    findings = []
    for stage in procedure.stages:
        if stage.kind is not StageKind.PROPOSE and stage.duration.days == 0:
            findings.append(
                Finding("lint.no_time_given", "a human wait needs at least one day", stage.id)
            )
        notice = stage.notice
        if notice is None:
            continue
        if notice.kind is not NoticeKind.MEETING and notice.display.days < 5:
            findings.append(
                Finding(
                    "lint.display_period_short", "notices are displayed at least 5 days", stage.id
                )
            )
        if notice.objection_window is not None and notice.reply_within is None:
            findings.append(
                Finding(
                    "lint.objection_reply_missing", "objections need a reply deadline", stage.id
                )
            )
    return findings


def lint(procedure: Procedure) -> list[Finding]:
    """Every statutory minimum ``procedure`` breaks; empty when it is sound."""
    return [
        *_rule_findings(procedure),
        *_spending_findings(procedure),
        *_period_findings(procedure),
    ]
