"""Who may do what, through the CLI and through the API, against one running server: every
person's write, as every kind of caller, is allowed or refused alike, as the policy says.

The matrix's CLI commands (and the clerk's setting up of the roll) run in this process
(``test_up.in_process``: the CLI's own command with a person's environment), not as ~120
interpreters each importing govflow, which was most of this test's time: what is compared is
each command's answer; a command as a real process is the other e2e tests' subject
(``test_cli_login``'s exit codes and its sixty runs, ``test_cli_clerk``, ``test_up``).
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.entrypoints.test_up import cli, in_process, seed, stack

__all__ = ["stack"]
pytestmark = pytest.mark.e2e

CODE = "matrix"
WHO = ("k1", "c1", "m1", "f1", "a1", "stranger", None)
MEMBERS = {"k1", "c1", "m1", "f1"}  # persons who are not read-only auditors
MEETING = ("party_members_assembly", "party-members-assembly", "party_members_assembly")
AT = "2030-01-10T09:00:00+08:00"

# (CLI arguments, the API's method, path and body, who may) with {n} a fresh number per call.
WRITES: list[tuple[list[str], str, str, dict[str, Any] | None, set[str]]] = [
    (["council", "add-member", CODE, "n{n}", "新成员"], "POST", "members",
     {"member_id": "n{n}", "name": "新成员"}, {"k1"}),
    (["council", "remove-member", CODE, "nobody"], "DELETE", "members/nobody", None, {"k1"}),
    (["council", "threshold", CODE, "10000.00"], "PUT", "spending-threshold",
     {"threshold": "10000.00"}, {"k1"}),
    (["token", "issue", CODE, "m1"], "POST", "tokens", {"holder": "m1"}, {"k1"}),
    (["issue", "propose", CODE, "{n}", "矩阵", "residents-assembly"], "POST", "issues",
     {"number": "{n}", "title": "矩阵", "procedure": "residents-assembly"}, MEMBERS),
    (["issue", "vote", CODE, "999", "yes"], "POST", "issues/999/ballots", {"choice": "yes"},
     MEMBERS),
    (["issue", "close-stage", CODE, "999"], "POST", "issues/999/close-stage", None, {"c1"}),
    (["issue", "withdraw", CODE, "999", "撤回"], "POST", "issues/999/withdraw",
     {"text": "撤回"}, {"c1"}),
    (["issue", "advance", CODE, "999", "1"], "POST", "issues/999/advance", {"days": 1}, {"k1"}),
    (["meeting", "schedule", CODE, "{n}", *MEETING, "会议", "--at", AT], "POST", "meetings",
     {"number": "{n}", "body": MEETING[0], "rule_of": MEETING[1], "rule": MEETING[2],
      "title": "会议", "scheduled_for": AT}, {"k1", "c1"}),
    (["meeting", "minutes", CODE, "1", "记录"], "POST", "meetings/1/minutes", {"text": "记录"},
     {"k1", "c1"}),
    (["spending", "request", CODE, "{n}", "300.00", "p", "q", "r"], "POST", "spending",
     {"number": "{n}", "amount": "300.00", "purpose": "p", "payee": "q", "budget_line": "r"},
     MEMBERS),
    (["spending", "disburse", CODE, "999", "1.00", "x"], "POST", "spending/999/disbursements",
     {"amount": "1.00", "reference": "x"}, {"f1"}),
    (["spending", "approve", CODE, "999", "1"], "POST", "spending/999/disbursements/1/approve",
     None, {"f1"}),
]  # fmt: skip


def fill(value: Any, n: int) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, n) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, n) if v != "{n}" else str(n) for v in value]
    if value == "{n}":
        return n
    return value.replace("{n}", str(n)) if isinstance(value, str) else value


def api(server: str, method: str, path: str, body: Any, token: str | None) -> int:
    request = urllib.request.Request(
        f"{server}/v1/councils/{CODE}/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "content-type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_the_cli_and_the_api_give_the_same_answers(stack: dict[str, str], tmp_path: Path) -> None:
    """Each person's write, as each kind of caller: refused as not allowed (CLI exit 4, HTTP
    401/403) exactly when the policy refuses it, through both doors; never a crash."""
    tokens = seed(stack, CODE, run=in_process)
    tokens["stranger"] = seed(stack, "matrix-other", run=in_process)["k1"]
    scheduled = cli(stack, "meeting", "schedule", CODE, "1", *MEETING, "会议", "--at", AT,
                    token=tokens["k1"])  # fmt: skip
    assert scheduled.returncode == 0, scheduled.stderr
    environ = {**stack, "XDG_CONFIG_HOME": str(tmp_path / "nobody")}  # no saved sign-in
    numbers = itertools.count(100)
    differences = []
    for args, method, path, body, allowed in WRITES:
        for who in WHO:
            token = tokens[who] if who else None
            ran = in_process(environ, *fill(args, next(numbers)), token=token)
            status = api(stack["GOVFLOW_SERVER"], method, path, fill(body, next(numbers)), token)
            assert ran.returncode in (0, 1, 4, 5, 6), (args, who, ran.stderr)
            assert status < 500, (method, path, who, status)
            refused_by_cli = ran.returncode == 4
            refused_by_api = status in (401, 403)
            if not (refused_by_cli == refused_by_api == (who not in allowed)):
                differences.append((" ".join(args[:2]), who, ran.returncode, status))
    assert not differences, differences
