from pathlib import Path

import pytest
from pydantic import ValidationError

from govflow.application.procedures import ProcedureLibrary, load_procedure, parse_procedure
from govflow.domain.errors import InvalidProcedureError
from govflow.domain.procedure import RECORDED, Stage
from govflow.domain.procedure_lint import lint

WORKFLOWS = Path(__file__).parents[2] / "workflows"
PRESET_FILES = sorted(WORKFLOWS.glob("*.v*.yaml"))


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


@pytest.mark.parametrize("path", PRESET_FILES, ids=lambda p: p.stem)
def test_every_preset_is_valid_lint_clean_and_cites_sources(path: Path) -> None:
    """Each version of each preset loads, breaks no statutory minimum and cites a source."""
    procedure = load_procedure(path)
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


def test_proxies_and_paper_ballots_came_as_second_versions() -> None:
    """Version 1 of the owners' and residents' assemblies is as released (no proxies, no paper
    ballots); version 2 adds them, with a named vote, and is what a new item gets."""
    library = ProcedureLibrary(WORKFLOWS)
    for name in ("owners-assembly-art278", "residents-assembly"):
        first, second = library.get(name, 1).stage("resolve"), library.get(name, 2).stage("resolve")
        assert not first.proxies.allowed and not first.paper.allowed and first.ballot == "secret"
        assert second.ballot == "named" and library.get(name).version == 2
    assert library.get("owners-assembly-art278", 2).stage("resolve").proxies.cap == 1
    assert library.get("residents-assembly", 2).stage("resolve").paper.wins == "paper"


def test_a_vote_with_proxies_paper_or_written_replies_is_named() -> None:
    """Proxies, paper ballots and written consultation each link a choice to its voter: every
    preset stage that has one is a named vote (记名表决)."""
    for path in PRESET_FILES:
        for stage in load_procedure(path).stages:
            if stage.proxies.allowed or stage.paper.allowed or stage.written_consultation:
                assert stage.ballot == "named", f"{path.name}: {stage.id}"


def test_the_villagers_assembly_follows_the_organic_law() -> None:
    """村民委员会组织法 Arts. 21-22: 10 days' notice; more than half of the adult villagers
    present; more than half of those present decide; paper ballots beside online ones."""
    procedure = ProcedureLibrary(WORKFLOWS).get("villagers-assembly")
    rule = procedure.rules["villagers_assembly"]
    assert (
        rule.quorum is not None and rule.quorum.describe() == "more than 1/2 of members of record"
    )
    assert rule.passes.describe() == "more than 1/2 of present"
    announce, resolve = procedure.stage("announce"), procedure.stage("resolve")
    assert announce.notice is not None and announce.notice.display.days == 10
    assert resolve.body is not None and resolve.body.value == "villagers_assembly"
    assert resolve.vote_by == "ballots" and resolve.ballot == "named"
    assert resolve.paper.allowed and resolve.paper.wins == "paper"
    assert {s.article for s in procedure.sources} >= {"Art. 21", "Art. 22", "Art. 24", "Art. 30"}


# What an item started under each released preset holds (IssueProposed.procedure_hash), one
# line per file: the procedure's digest, then name.vN.
RELEASED_DIGESTS = Path(__file__).parent / "preset_digests.txt"


def test_a_released_preset_is_never_edited_in_place() -> None:
    """Items started under a preset hold its digest, so a released file never changes: a change
    is a new version file (``name.vN+1.yaml``) with its own line in preset_digests.txt."""
    library = ProcedureLibrary(WORKFLOWS)
    digests = {f"{p.digest}  {p.name}.v{p.version}" for p in library.all()}
    assert digests == set(RELEASED_DIGESTS.read_text(encoding="utf-8").splitlines())


# Digests items recorded when the presets first shipped (c57fda3), before stages had a
# ``ballot`` field: a secret vote went unsaid then.
FIRST_DIGESTS = {
    "owners-assembly-art278": "766372b522271a0716414db524cfc2ad270a8aa4fc2e4b0dc143d2953df1a6bf",
    "residents-assembly": "5e8a3fb5c71c9563b92638d10d1fc761660ebd5a98b4d5a82506363c959a8c69",
    "party-members-assembly": "c01b547bf0cd180514cc2fdeaeb5beadcc2f3893b3192cadcd9963a12d8a4f41",
}


@pytest.mark.parametrize("name", sorted(FIRST_DIGESTS))
def test_an_item_recorded_before_the_ballot_field_still_matches_its_procedure(name: str) -> None:
    procedure = ProcedureLibrary(WORKFLOWS).get(name, 1)
    assert procedure.digest != FIRST_DIGESTS[name]  # the field is stated in today's digest
    assert procedure.matches(FIRST_DIGESTS[name]) and procedure.matches(procedure.digest)
    assert not procedure.matches("0" * 64)


def test_a_recorded_procedure_keeps_a_secret_vote_with_proxies_a_new_one_may_not() -> None:
    """A running item's procedure, recorded before secret votes refused proxies, validates
    again as it was (the workflow's context); a new procedure with both is refused."""
    stage = {
        "id": "resolve", "kind": "vote", "title": "表决", "body": "owners_assembly",
        "rule": "r", "vote_by": "ballots", "duration": {"days": 7},
        "proxies": {"allowed": True, "cap": 1},
    }  # fmt: skip
    with pytest.raises(ValidationError, match="ballot: named"):
        Stage.model_validate(stage)
    assert Stage.model_validate(stage, context={RECORDED: True}).proxies.allowed
