"""The newcomer's path: `govflow up --demo`, `govflow demo`, the items on the board, the open
one acted on with the CLI after `govflow login` as its chair; then schemathesis fuzzes the
whole OpenAPI document against that live stack."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.entrypoints.test_up import ROOT, answer, cli, environ, get, govflow, up

__all__ = ["environ"]  # the fixture, shared with test_up
pytestmark = pytest.mark.e2e

SCHEMATHESIS_CONFIG = """
[parameters]
"path.code" = "sunshine"
# Real procedures and rules, so that proposals and meetings are accepted and the stateful
# phase can follow the OpenAPI links from them (propose -> status, close-stage, ballots ...).
"body.procedure" = { dictionary = "procedures" }
"body.rule_of" = { dictionary = "procedures" }
"body.rule" = { dictionary = "rules" }
"body.title" = { dictionary = "words" }
"body.description" = { dictionary = "words" }
"body.text" = { dictionary = "words" }

[dictionaries.procedures]
values = ["five-step-consultation", "major-spending"]

[dictionaries.rules]
values = ["party_members_assembly", "residents_representatives"]

[dictionaries.words]
values = ["口袋公园改造", "同意"]

[phases.stateful.generation]
max-examples = 60

[checks.positive_data_acceptance]
# A schema-valid request may still be refused by a rule the schema cannot state: besides the
# defaults (403 by the policy, 404 for an item that does not exist, 409 by a governance rule or
# the item's state), 422 for what only the record decides (an unknown procedure or rule, an
# amount over the council's limit) or the text rules (no control or bidirectional characters).
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""
STATEFUL = re.compile(r"Scenarios:\s+(\d+)\s+API Links:\s+(\d+) covered / (\d+) selected")


def test_demo_on_the_board_then_the_cli_then_a_fuzzed_api(
    environ: dict[str, str], tmp_path: Path
) -> None:
    """The demo plays its stories through the API with each person's token; a newcomer signs
    in with the chair's token it printed and acts on the open item."""
    stack = up(environ, "--demo")
    base = environ["GOVFLOW_SERVER"]
    try:
        played = answer(environ, "demo")
        assert played["council"] == "sunshine"
        assert played["board"][0] == f"{base}/board/sunshine/"
        council = get(played["board"][0])
        assert "阳光社区" in council and "口袋公园改造" in council
        assert "决议公开" in council  # a notice on display
        ledger = get(played["board"][1])
        assert "七号院化粪管更换" in ledger and "settled" in ledger and "¥11800.00" in ledger
        lift = get(f"{base}/board/sunshine/issues/3")
        assert "赞成 15" in lift and "adopted" in lift
        again = cli(environ, "demo")
        assert again.returncode == 1 and "(already_exists)" in again.stderr

        # the newcomer signs in as the chair and acts on the open item
        chair = played["tokens"]["c1"]
        signed_in = subprocess.run(
            [sys.executable, "-m", "govflow", "login"],
            input=chair,
            env=environ,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert signed_in.returncode == 0, signed_in.stderr
        assert "public_deliberation" in govflow(environ, "issue", "status", "sunshine", "2")
        govflow(environ, "issue", "close-stage", "sunshine", "2")
        assert answer(environ, "issue", "status", "sunshine", "2")["stage"] == "resolve"
        listed = answer(environ, "list", "issues", "sunshine")
        assert [i["number"] for i in listed] == [3, 2, 1]

        config = tmp_path / "schemathesis.toml"
        config.write_text(SCHEMATHESIS_CONFIG)
        st = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
        assert st is not None
        fuzz = subprocess.run(
            [
                st,
                "--config-file",
                str(config),
                "run",
                f"{base}/openapi.json",
                "-H",
                f"Authorization: Bearer {chair}",
                "--checks",
                "all",
                "--max-examples",
                "15",
                "--seed",
                "20261123",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=environ,
            cwd=tmp_path,  # its cache of crashes stays out of the checkout
        )
        assert fuzz.returncode == 0, fuzz.stdout[-6000:] + fuzz.stderr[-2000:]
        assert " passed" in fuzz.stdout
        stateful = STATEFUL.search(fuzz.stdout)
        assert stateful, fuzz.stdout[-3000:]
        scenarios, covered, links = map(int, stateful.groups())
        assert scenarios > 0 and covered > 0 and links > 0, stateful.group(0)
    finally:
        stack.stop()
    assert "stopped" in stack.output
