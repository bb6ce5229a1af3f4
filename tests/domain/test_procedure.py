from pathlib import Path

import pytest

from govflow.application.procedures import ProcedureLibrary, load_procedure, parse_procedure
from govflow.domain.errors import InvalidProcedureError
from govflow.domain.procedure_lint import lint

WORKFLOWS = Path(__file__).parents[2] / "workflows"
PRESETS = [
    "four-deliberations-two-disclosures",
    "five-step-consultation",
    "residents-assembly",
    "villagers-representatives",
    "party-members-assembly",
    "owners-assembly-art278",
    "major-spending",
]


def spending_yaml(extra_stage: str = "") -> str:
    return f"""\
name: small-spending
version: 1
title: spending without safeguards
applies_to: spending
sources:
  - title: a test
rules:
  majority:
    passes: {{fraction: "1/2", comparison: more_than, base: present}}
stages:
  - id: propose
    kind: propose
    title: 申请
    duration: {{days: 0}}
  - id: decide
    kind: vote
    title: 决定
    body: two_committees
    rule: majority
    vote_by: meeting
    duration: {{days: 3}}
{extra_stage}"""


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_is_valid_lint_clean_and_cites_sources(name: str) -> None:
    """Each preset loads, breaks no statutory minimum and cites at least one source."""
    procedure = ProcedureLibrary(WORKFLOWS).get(name)
    assert procedure.sources
    assert lint(procedure) == []


def test_validation_names_the_line_and_reason() -> None:
    """A malformed field is reported with the line it is on."""
    text = spending_yaml().replace("duration: {days: 3}", "duration: {days: -3}")
    with pytest.raises(InvalidProcedureError) as caught:
        parse_procedure(text, "bad.yaml")
    assert caught.value.details["line"] == 21
    assert "bad.yaml:21" in caught.value.message
    assert "stages.1.duration.days" in caught.value.message


def test_yaml_syntax_errors_name_the_line() -> None:
    """Broken YAML is reported with its line too."""
    with pytest.raises(InvalidProcedureError) as caught:
        parse_procedure("name: x\nstages: [\n  - a: b\n", "broken.yaml")
    assert caught.value.details["line"] >= 2


def test_unknown_stage_reference_is_refused() -> None:
    """A notice that reopens at a stage that does not exist is refused."""
    extra = """\
  - id: publish
    kind: publish
    title: 公示
    duration: {days: 5}
    notice: {kind: resolution, display: {days: 5}, reopen_at: nowhere}
"""
    with pytest.raises(InvalidProcedureError, match="nowhere"):
        parse_procedure(spending_yaml(extra))


def test_lint_flags_spending_without_review_or_disclosures() -> None:
    """Spending without the assembly review or the three disclosures fails lint."""
    codes = sorted(f.code for f in lint(parse_procedure(spending_yaml())))
    assert codes == ["lint.disclosure_missing"] * 3 + ["lint.spending_review_missing"]


def test_lint_flags_a_rule_weaker_than_the_statute() -> None:
    """An owners' vote counted by headcount only is weaker than Civil Code Art. 278."""
    text = (WORKFLOWS / "owners-assembly-art278.v1.yaml").read_text(encoding="utf-8")
    weak = parse_procedure(text.replace("area_weighted: true", "area_weighted: false"))
    findings = lint(weak)
    assert {f.code for f in findings} == {"lint.rule_below_minimum"}
    assert "民法典 Art. 278" in findings[0].message


def test_file_name_must_match_name_and_version(tmp_path: Path) -> None:
    """Released procedures are new files per version: the file name must say which."""
    path = tmp_path / "small-spending.yaml"
    path.write_text(spending_yaml(), encoding="utf-8")
    with pytest.raises(InvalidProcedureError, match=r"small-spending\.v1\.yaml"):
        load_procedure(path)


def test_owners_special_categories_use_the_supermajority_rule() -> None:
    """Raising the maintenance fund uses 3/4; using it is an ordinary matter."""
    procedure = ProcedureLibrary(WORKFLOWS).get("owners-assembly-art278")
    stage = procedure.stage("resolve")
    assert str(procedure.rule_for(stage, "raise_maintenance_fund").passes.fraction) == "3/4"
    assert str(procedure.rule_for(stage, "use_maintenance_fund").passes.fraction) == "1/2"


def test_digest_changes_with_content() -> None:
    """The recorded procedure hash tells two versions apart."""
    a = parse_procedure(spending_yaml())
    b = parse_procedure(spending_yaml().replace("days: 3", "days: 4"))
    assert a.digest != b.digest and len(a.digest) == 64


def test_every_stage_has_an_acting_body_and_spending_a_review_stage() -> None:
    """A stage that names no body (notices, implementation) is chaired by the procedure's
    default acting body, else the body that put the item forward: never by "any chair"."""
    library = ProcedureLibrary(WORKFLOWS)
    for procedure in library.all():
        assert all(procedure.acting_body(s) is not None for s in procedure.stages), procedure.name
    spending = library.get("major-spending")
    first = next(s.body for s in spending.stages if s.body is not None)
    publish = next(s for s in spending.stages if s.body is None)
    assert spending.acting_body(publish) == first
    review = spending.review_stage()
    assert review is not None and review.body == spending.defaults.review_body
