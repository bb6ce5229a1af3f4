"""``govflow rating``: a year rated at the command line against a running server, each person
with their own token: evidence hashed from local files, an objection upheld, the revision; and
refusals exit with their class's code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.specimens import SteppingClock
from govflow.entrypoints.api import create_api
from govflow.entrypoints.cli import app as cli_app
from govflow.entrypoints.console import EXIT_DENIED, EXIT_INVALID, EXIT_RULE
from tests.application.annual_rating_story import RATED, WORKFLOWS, preset, set_up_rated_council
from tests.serving import serving

YEAR = "2026"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    set_up_rated_council(app)
    tokens = {who: app.issue_token(RATED, who, actor="clerk") for who in ("s1", "s2", "c1", "m1")}
    with serving(create_api(app, None, ProcedureLibrary(WORKFLOWS))) as url:
        yield url, tokens
    app.close()


def govflow(
    server: tuple[str, dict[str, str]], who: str, *args: str, tmp: Path | None = None
) -> Result:
    url, tokens = server
    env = {"GOVFLOW_SERVER": url, "GOVFLOW_TOKEN": tokens[who]}
    if tmp is not None:
        env["XDG_CONFIG_HOME"] = str(tmp)
    return CliRunner().invoke(cli_app, list(args), env=env)


def test_a_year_at_the_command_line(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    """Open, score (a file's sha256 computed locally, or a sha256 given), publish, object,
    uphold, score again, revise: ``show`` says 好 (90.00)."""
    opened = govflow(server, "s1", "rating", "open", RATED, YEAR)
    assert opened.exit_code == 0 and "s1, s2" in opened.output, opened.output
    ledger = tmp_path / "ledger.pdf"
    ledger.write_bytes(b"the year's ledger")
    for rater in ("s1", "s2"):
        for criterion in preset().criteria:
            options = []
            for kind in criterion.required_kinds:
                where = (
                    str(ledger) if kind == "ledger" else hashlib.sha256(kind.encode()).hexdigest()
                )
                options += ["--evidence", f"{kind}:{where}:已查阅"]
            done = govflow(
                server, rater, "rating", "score", RATED, YEAR, criterion.id, "88", *options
            )
            assert done.exit_code == 0, done.output
    published = govflow(server, "s2", "rating", "publish", RATED, YEAR)
    assert "较好 (88.00)" in published.output, published.output
    objected = govflow(server, "m1", "rating", "object", RATED, YEAR, "漏查财务台账", "--json")
    assert json.loads(objected.output) == {"objection_no": 1}
    upheld = govflow(server, "s1", "rating", "answer", RATED, YEAR, "1", "异议成立", "--upheld")
    assert upheld.exit_code == 0 and "upheld" in upheld.output
    digest = hashlib.sha256(b"the year's ledger").hexdigest()
    for rater in ("s1", "s2"):
        again = govflow(
            server, rater, "rating", "score", RATED, YEAR, "finances", "98",
            "--evidence", f"ledger:{digest}",
        )  # fmt: skip
        assert again.exit_code == 0, again.output
    revised = govflow(server, "s2", "rating", "revise", RATED, YEAR)
    assert "好 (90.00), published" in revised.output, revised.output
    shown = govflow(server, "m1", "rating", "show", RATED, YEAR, "--json")
    view = json.loads(shown.output)
    assert view["grade"] == "good" and view["round"] == 2
    listed = govflow(server, "m1", "rating", "show", RATED)
    assert f"{YEAR}: good (90.00), published" in listed.output


def test_refusals_exit_with_their_codes(server: tuple[str, dict[str, str]]) -> None:
    """A chair cannot rate (denied); a score without evidence is invalid; a second score breaks
    a rule; a path that is neither a file nor a sha256 is a usage error."""
    denied = govflow(server, "c1", "rating", "open", RATED, YEAR)
    assert denied.exit_code == EXIT_DENIED and "auth.forbidden" in denied.output
    assert govflow(server, "s1", "rating", "open", RATED, YEAR).exit_code == 0
    bare = govflow(server, "s1", "rating", "score", RATED, YEAR, "finances", "80")
    assert bare.exit_code == EXIT_INVALID and "annual_rating.evidence_missing" in bare.output
    sha = hashlib.sha256(b"x").hexdigest()
    first = govflow(server, "s1", "rating", "score", RATED, YEAR, "finances", "80",
                    "--evidence", f"ledger:{sha}")  # fmt: skip
    assert first.exit_code == 0, first.output
    second = govflow(server, "s1", "rating", "score", RATED, YEAR, "finances", "81",
                     "--evidence", f"ledger:{sha}")  # fmt: skip
    assert second.exit_code == EXIT_RULE and "annual_rating.already_scored" in second.output
    nowhere = govflow(server, "s1", "rating", "score", RATED, YEAR, "services", "80",
                      "--evidence", "service_log:/no/such/file")  # fmt: skip
    assert nowhere.exit_code == 2 and "neither a file nor a sha256" in nowhere.output
