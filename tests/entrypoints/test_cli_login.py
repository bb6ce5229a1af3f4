"""A person's CLI against a running server: signing in, whose token acts, the API's refusals
as exit codes, and no crash however often a command that reaches the workflow runs."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.entrypoints.test_up import (
    ROOT,
    answer,
    cli,
    free_port,
    govflow,
    in_process,
    seed,
    stack,
    until,
)

__all__ = ["stack"]
pytestmark = pytest.mark.e2e


def login(environ: dict[str, str], token: str) -> subprocess.CompletedProcess[str]:
    """``govflow login`` with the token on stdin, as a script would pipe it."""
    return subprocess.run(
        [sys.executable, "-m", "govflow", "login", "--server", environ["GOVFLOW_SERVER"]],
        input=token + "\n",
        env={k: v for k, v in environ.items() if k != "GOVFLOW_SERVER"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_login_keeps_the_token_private_and_the_environment_overrides_it(
    stack: dict[str, str], tmp_path: Path
) -> None:
    """`govflow login` checks the token and keeps it 0600 in the config directory; commands
    then act as its holder, GOVFLOW_TOKEN and GOVFLOW_SERVER take precedence over the file,
    and `govflow logout` forgets it."""
    tokens = seed(stack, "signin", run=in_process)
    environ = {**stack, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    person = {k: v for k, v in environ.items() if k != "GOVFLOW_SERVER"}  # the file's server

    refused = login(environ, "gf_0000_not-a-token")
    assert refused.returncode == 4 and "(auth.unauthenticated)" in refused.stderr
    assert not (tmp_path / "config").exists()

    signed_in = login(environ, tokens["k1"])
    assert signed_in.returncode == 0, signed_in.stderr
    kept = tmp_path / "config" / "govflow" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert json.loads(kept.read_text())["tokens"][stack["GOVFLOW_SERVER"]] == tokens["k1"]

    assert govflow(person, "council", "add-member", "signin", "m9", "新成员").strip()
    as_member = cli(person, "council", "add-member", "signin", "m8", "x", token=tokens["m1"])
    assert as_member.returncode == 4 and "(auth.forbidden)" in as_member.stderr
    elsewhere = {**person, "GOVFLOW_SERVER": f"http://127.0.0.1:{free_port()}"}
    unreachable = cli(elsewhere, "council", "show", "signin", token=tokens["k1"])
    assert unreachable.returncode == 7
    assert "cannot reach the govflow server at http://127.0.0.1:" in unreachable.stderr
    assert "is `govflow up` running?" in unreachable.stderr

    out = cli(person, "logout")
    assert out.returncode == 0 and "signed out" in out.stdout and not kept.exists()
    signed_out = cli(person, "council", "show", "signin")
    assert signed_out.returncode == 4 and "(auth.not_signed_in)" in signed_out.stderr


def test_a_member_who_may_not_act_gets_the_apis_refusal(stack: dict[str, str]) -> None:
    """The acting person is the token's member: a member who does not chair the stage's body
    cannot close it, an auditor writes nothing, an officer cannot approve their own request."""
    tokens = seed(stack, "refuse", run=in_process)
    spending = ("1", "20000.00", "围墙修缮", "工程队", "维修")
    govflow(stack, "spending", "request", "refuse", *spending, token=tokens["m1"])
    propose = ("refuse", "1", "围墙修缮", "major-spending", "--spending", "1")
    govflow(stack, "issue", "propose", *propose, token=tokens["c1"])
    until(stack, "refuse", 1, tokens["c1"], "deliberate")
    for who in ("m1", "a1"):
        closed = cli(stack, "issue", "close-stage", "refuse", "1", token=tokens[who])
        assert closed.returncode == 4, (who, closed.stderr)
        assert closed.stderr.startswith("error: ") and "(auth.forbidden)" in closed.stderr
        assert len(closed.stderr.strip().splitlines()) == 1
    assert answer(stack, "issue", "close-stage", "refuse", "1", token=tokens["c1"]) == {
        "closed": "deliberate"
    }
    missing = cli(stack, "issue", "status", "refuse", "99", token=tokens["m1"])
    assert missing.returncode == 5 and "Traceback" not in missing.stderr


def test_a_command_that_reaches_the_workflow_never_crashes(stack: dict[str, str]) -> None:
    """`govflow issue status` (a workflow query through the API) exits 0 sixty times: no CLI
    process opens a Temporal client any more (the exit 134 at interpreter shutdown). Four
    processes at a time, each still its own interpreter from start to exit."""
    tokens = seed(stack, "often", run=in_process)
    govflow(
        stack,
        "issue",
        "propose",
        "often",
        "1",
        "活动室改造",
        "party-members-assembly",
        token=tokens["c1"],
    )
    until(stack, "often", 1, tokens["c1"], "review")

    def status(run: int) -> tuple[int, int, str] | None:
        result = cli(stack, "issue", "status", "often", "1", "--json", token=tokens["m2"])
        if result.returncode != 0 or json.loads(result.stdout)["stage"] != "review":
            return (run, result.returncode, result.stderr[-500:])
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [failed for failed in pool.map(status, range(60)) if failed]
    assert failures == []


MISTAKES: list[tuple[list[str], int, str]] = [
    (["council", "show", "nowhere"], 4, "(auth.forbidden)"),  # a council the token is not of
    (["issue", "status", "mistakes", "77"], 5, "(not_found)"),
    (["issue", "propose", "mistakes", "5", "t", "no-such-procedure"], 6, "no procedure named"),
    (
        [
            "meeting",
            "schedule",
            "mistakes",
            "1",
            "party_members_assembly",
            "party-members-assembly",
            "party_members_assembly",
            "t",
            "--at",
            "tomorrow",
        ],
        2,
        "Invalid value for '--at'",
    ),
    (
        [
            "meeting",
            "schedule",
            "mistakes",
            "1",
            "party_members_assembly",
            "party-members-assembly",
            "party_members_assembly",
            "t",
            "--at",
            "2026-12-01T19:00",
        ],
        2,
        "offset",
    ),
    (["meeting", "evidence", "mistakes", "1", "/no/such/file.jpg"], 6, "cannot read"),
    (["spending", "request", "mistakes", "1", "lots", "p", "q", "r"], 2, "amount of yuan"),
    (["issue", "vote", "mistakes", "1", "maybe"], 2, "maybe"),
    (["procedure", "validate", "/no/such/dir"], 6, "no such file or directory"),
    (
        ["audit", "as-of", "00000000-0000-0000-0000-000000000000", "yesterday"],
        2,
        "Invalid value for 'at'",
    ),
    (
        [
            "council",
            "bootstrap",
            "zz",
            "Z",
            "--clerk",
            "k1",
            "--clerk-name",
            "K",
            "--timezone",
            "Mars/Olympus",
        ],
        6,
        "not a time zone",
    ),
    (["login", "--server", "localhost:8000", "--token", "gf_x_y"], 6, "not a server URL"),
]


@pytest.fixture(scope="module")
def chair(stack: dict[str, str]) -> str:
    """The token of c1, chair in the council ``mistakes``."""
    return seed(stack, "mistakes", run=in_process)["c1"]


@pytest.mark.parametrize(
    ("args", "code", "says"), MISTAKES, ids=[" ".join(m[0][:2]) for m in MISTAKES]
)
def test_a_users_mistake_is_one_line_and_no_traceback(
    stack: dict[str, str], chair: str, args: list[str], code: int, says: str
) -> None:
    """Wrong names, dates, files, amounts or addresses: one `error:` line (or the usage
    message), a non-zero exit code of its class, never a traceback."""
    result = cli(stack, *args, token=chair)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert says in result.stderr and "Traceback" not in result.stderr + result.stdout
