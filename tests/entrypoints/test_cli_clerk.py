"""A clerk's day at the office machine, command by command, with ``--json`` for scripts:
the roll, a meeting with evidence, spending, lists, the events feed and webhooks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from govflow.entrypoints.cli import app as cli_app
from tests.application.test_webhooks import Receiver
from tests.entrypoints.test_cli import data_dir, govflow

__all__ = ["data_dir"]

# Commands that serve, stream or write files rather than answer: no --json for them.
WITHOUT_JSON = {"up", "api", "worker", "events", "audit export", "audit as-of", "schema export"}


def run(data_dir: Path, *args: str) -> object:
    result = govflow(*args, "--json", data_dir=data_dir)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def commands(group: typer.Typer, prefix: str = "") -> Iterator[tuple[str, object]]:
    click_group = typer.main.get_command(group)
    for name, command in click_group.commands.items():  # type: ignore[attr-defined]
        full = f"{prefix}{name}"
        if hasattr(command, "commands"):
            for sub, sub_command in command.commands.items():
                yield f"{full} {sub}", sub_command
        else:
            yield full, command


def test_every_command_that_answers_has_json_output() -> None:
    missing = [
        name
        for name, command in commands(cli_app)
        if name not in WITHOUT_JSON and not any("--json" in p.opts for p in command.params)  # type: ignore[attr-defined]
    ]
    assert missing == []


def test_the_roll_a_meeting_with_evidence_and_spending(data_dir: Path, tmp_path: Path) -> None:
    code = "specimen"
    assert run(data_dir, "council", "add-member", code, "k9", "文书", "--role", "clerk") == {
        "member_id": "k9"
    }
    bad_role = govflow("council", "add-member", code, "x", "x", "--role", "boss", data_dir=data_dir)
    assert bad_role.returncode == 2 and "role must be one of" in bad_role.stderr
    assert run(data_dir, "council", "add-household", code, "5-01", "88.50", "m1") == {
        "unit": "5-01"
    }
    assert run(data_dir, "council", "threshold", code, "20000") == {"threshold": "20000.00"}
    assert run(data_dir, "council", "remove-member", code, "k9") == {"removed": "k9"}
    token = run(data_dir, "token", "issue", code, "m1")
    assert isinstance(token, dict) and token["token"].startswith("gf_")
    assert run(data_dir, "token", "revoke", code and token["id"], "lost") == {
        "revoked": token["id"]
    }

    meeting = ["meeting"]
    pma = ("party_members_assembly", "party-members-assembly", "party_members_assembly")
    at = "2026-12-01T19:00+08:00"
    assert run(data_dir, *meeting, "schedule", code, "7", *pma, "党员大会", "--at", at,
               "--actor", "m1") == {"number": 7}  # fmt: skip
    assert run(data_dir, *meeting, "notice", code, "7", "--actor", "m1") == {
        "notice_period_met": True
    }
    present = ["--present", "m1", "--present", "m2", "--present", "m3"]
    assert run(data_dir, *meeting, "attendance", code, "7", "--actor", "m1", *present) == {
        "quorum_met": True
    }
    motion = run(data_dir, *meeting, "motion", code, "7", "同意方案", "--actor", "m1",
                 "--yes", "3")  # fmt: skip
    assert motion == {"motion_no": 1, "passed": True}
    assert run(data_dir, *meeting, "minutes", code, "7", "记录", "--actor", "m1") == {
        "recorded": True
    }
    photo = tmp_path / "签到表.jpg"
    photo.write_bytes(b"\xff\xd8 scanned sign-in sheet" * 50)
    evidence = run(data_dir, *meeting, "evidence", code, "7", str(photo), "--actor", "m1")
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert isinstance(evidence, dict) and evidence["sha256"] == digest
    assert (data_dir / "evidence" / digest).read_bytes() == photo.read_bytes()
    no_offset = govflow(*meeting, "schedule", code, "8", *pma, "x", "--at", "2026-12-01T19:00",
                        "--actor", "m1", data_dir=data_dir)  # fmt: skip
    assert no_offset.returncode == 2 and "offset" in no_offset.stderr

    assert run(data_dir, "spending", "request", code, "9", "300.00", "灯泡", "五金店", "维修",
               "--actor", "m1") == {"number": 9}  # fmt: skip
    spending = run(data_dir, "list", "spending", code)
    assert isinstance(spending, list) and spending[0]["number"] == 9
    meetings = run(data_dir, "list", "meetings", code)
    assert isinstance(meetings, list) and meetings[0]["number"] == 7
    issues = run(data_dir, "list", "issues", code)
    assert isinstance(issues, list) and [i["number"] for i in issues] == [3, 2, 1]
    notices = run(data_dir, "list", "notices", code, "--all")
    assert isinstance(notices, list) and len(notices) >= 4


def test_events_and_webhooks_from_the_command_line(data_dir: Path) -> None:
    code = "specimen"
    feed = govflow("events", code, "--limit", "5", data_dir=data_dir)
    lines = feed.stdout.splitlines()
    assert feed.returncode == 0 and len(lines) == 5
    last = json.loads(lines[-1])["id"]
    assert f"--after {last}" in feed.stderr
    more = govflow("events", code, "--after", str(last), "--limit", "2", data_dir=data_dir)
    assert json.loads(more.stdout.splitlines()[0])["id"] > last

    receiver = Receiver()
    receiver.start()
    try:
        added = run(data_dir, "webhook", "add", code, receiver.url, "--from-start",
                    "--topic", "govflow.issue.closed")  # fmt: skip
        assert isinstance(added, dict) and added["secret"].startswith("whsec_")
        sid = added["subscription"]["id"]
        assert run(data_dir, "webhook", "deliver") == {"delivered": 1}  # issue 1 closed
        assert receiver.topics() == ["govflow.issue.closed"]
        listed = run(data_dir, "webhook", "list", code)
        assert isinstance(listed, list)
        assert next(w for w in listed if w["id"] == sid)["delivered"] == 1
        shown = run(data_dir, "webhook", "show", code, sid)
        assert isinstance(shown, dict) and shown["failures"] == []
        table = govflow("webhook", "list", code, data_dir=data_dir)
        assert receiver.url in table.stdout
        removed = govflow("webhook", "remove", code, sid, data_dir=data_dir)
        assert removed.returncode == 0 and "unsubscribed" in removed.stdout
    finally:
        receiver.stop()


@pytest.mark.parametrize("args", [("webhook", "add", "specimen", "ftp://x/y")])
def test_bad_input_is_a_clear_error(data_dir: Path, args: tuple[str, ...]) -> None:
    result = govflow(*args, data_dir=data_dir)
    assert result.returncode == 1 and "error [input.invalid]" in result.stderr
