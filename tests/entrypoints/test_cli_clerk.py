"""A clerk's, a chair's and two officers' day at the command line, each with their own token,
through a running server, with ``--json`` for scripts: the roll and tokens, a meeting with
evidence, spending paid in two acts, lists, the events feed and webhooks."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer.main

from govflow.entrypoints.cli import app as cli_app
from tests.application.test_webhooks import Receiver
from tests.entrypoints.test_up import answer, cli, govflow, in_process, seed, stack, until

__all__ = ["stack"]

# Commands that serve, stream or write files rather than answer: no --json for them.
WITHOUT_JSON = {"up", "api", "worker", "events", "audit export", "audit as-of", "schema export"}
PMA = ("party_members_assembly", "party-members-assembly", "party_members_assembly")


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
    """Scripts can read every answer as JSON."""
    missing = [
        name
        for name, command in commands(cli_app)
        if name not in WITHOUT_JSON and not any("--json" in p.opts for p in command.params)  # type: ignore[attr-defined]
    ]
    assert missing == []


def test_no_person_command_takes_an_actor() -> None:
    """Who acts is the token's member: no command lets the caller name someone else."""
    named = [
        name
        for name, command in commands(cli_app)
        if any("--actor" in p.opts for p in command.params)  # type: ignore[attr-defined]
    ]
    assert named == []


@pytest.mark.e2e
def test_the_roll_and_tokens(stack: dict[str, str]) -> None:
    """The clerk keeps the roll and issues and revokes tokens; a revoked token stops working."""
    code, clerk = "roll", seed(stack, "roll", run=in_process)["k1"]
    assert answer(
        stack, "council", "add-member", code, "k9", "文书", "--role", "clerk", token=clerk
    ) == {"member_id": "k9"}
    bad_role = cli(stack, "council", "add-member", code, "x", "x", "--role", "boss", token=clerk)
    assert bad_role.returncode == 2 and "role must be one of" in bad_role.stderr
    assert answer(stack, "council", "add-household", code, "5-01", "88.50", "m1", token=clerk) == {
        "unit": "5-01"
    }
    assert answer(stack, "council", "threshold", code, "20000", token=clerk) == {
        "threshold": "20000.00"
    }
    assert answer(stack, "council", "remove-member", code, "k9", token=clerk) == {"removed": "k9"}
    changed = answer(
        stack, "council", "change-member", code, "m2", "--chair", "two_committees", token=clerk
    )
    assert changed == {"changed": "m2"}
    roll = {
        m["member_id"]: m for m in answer(stack, "council", "show", code, token=clerk)["members"]
    }
    assert roll["m2"]["chairs"] == ["two_committees"] and "k9" not in roll
    shown = govflow(stack, "council", "show", code, token=clerk)
    assert "党员一" in shown and "¥20,000.00" in shown and "Asia/Shanghai" in shown

    token = answer(stack, "token", "issue", code, "m1", token=clerk)
    assert token["token"].startswith("gf_") and token["holder"] == "m1"
    assert answer(stack, "council", "show", code, token=token["token"])["code"] == code
    bot = answer(stack, "token", "issue", code, "grid-app", "--scope", "read", token=clerk)
    assert bot["token"].startswith("gf_")
    govflow(stack, "token", "revoke", code, token["token_id"], "--reason", "lost", token=clerk)
    revoked = cli(stack, "council", "show", code, token=token["token"])
    assert revoked.returncode == 4 and "(auth." in revoked.stderr


@pytest.mark.e2e
def test_a_meeting_with_evidence(stack: dict[str, str], tmp_path: Path) -> None:
    """The chair runs a meeting step by step; the evidence is kept by its sha256."""
    code, tokens = "meet", seed(stack, "meet", run=in_process)
    chair = tokens["c1"]
    held_at = (datetime.now(UTC) + timedelta(days=10)).astimezone(ZoneInfo("Asia/Shanghai"))
    held_at = held_at.replace(hour=19, minute=0, second=0, microsecond=0)
    at = held_at.isoformat()
    assert answer(
        stack, "meeting", "schedule", code, "7", *PMA, "党员大会", "--at", at, token=chair
    ) == {"number": 7}
    assert answer(stack, "meeting", "notice", code, "7", token=chair) == {"notice_period_met": True}
    refused = cli(stack, "meeting", "excuse", code, "7", "m2", "在外地", token=chair)
    assert refused.returncode == 4  # the chair may not shrink the quorum's base: the clerk does
    clerk = tokens["k1"]
    assert answer(stack, "meeting", "excuse", code, "7", "m2", "在外地", token=clerk) == {
        "excused": "m2"
    }
    present = ["--present", "c1", "--present", "m1"]
    assert answer(stack, "meeting", "attendance", code, "7", *present, token=chair) == {
        "quorum_met": True
    }
    motion = answer(stack, "meeting", "motion", code, "7", "同意方案", "--yes", "2", token=chair)
    assert motion == {"motion_no": 1, "passed": True}
    assert answer(stack, "meeting", "minutes", code, "7", "记录", token=chair) == {"recorded": True}
    photo = tmp_path / "签到表.jpg"
    photo.write_bytes(b"\xff\xd8 scanned sign-in sheet" * 50)
    evidence = answer(stack, "meeting", "evidence", code, "7", str(photo), token=chair)
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert evidence["sha256"] == digest and evidence["name"] == "签到表.jpg"
    stored = Path(stack["GOVFLOW_DATA_DIR"]) / "evidence" / digest
    assert stored.read_bytes() == photo.read_bytes()
    shown = govflow(stack, "meeting", "show", code, "7", token=tokens["a1"])
    assert f"{held_at:%Y-%m-%d} 19:00 (Asia/Shanghai)" in shown and "签到表.jpg" in shown
    not_chair = cli(stack, "meeting", "minutes", code, "7", "改写", token=tokens["m1"])
    assert not_chair.returncode == 4 and "(auth.forbidden)" in not_chair.stderr
    meetings = answer(stack, "list", "meetings", code, token=tokens["m1"])
    assert [m["number"] for m in meetings] == [7]


@pytest.mark.e2e
def test_two_officers_pay_in_two_acts(stack: dict[str, str]) -> None:
    """A reviewed spending is paid only when one officer asks and another approves: the one
    who asked cannot approve, and a member who is not an officer can do neither."""
    code, tokens = "pay", seed(stack, "pay", run=in_process)
    chair = tokens["c1"]
    govflow(
        stack,
        "spending",
        "request",
        code,
        "1",
        "12000.00",
        "化粪管更换",
        "市政工程队",
        "公益事业专项",
        token=chair,
    )
    govflow(
        stack,
        "issue",
        "propose",
        code,
        "1",
        "化粪管更换",
        "major-spending",
        "--spending",
        "1",
        token=chair,
    )
    until(stack, code, 1, chair, "deliberate")
    govflow(stack, "issue", "close-stage", code, "1", token=chair)
    until(stack, code, 1, chair, "review")
    held = answer(
        stack,
        "meeting",
        "hold",
        code,
        "1",
        *PMA,
        "--issue",
        "1",
        "--present",
        "c1",
        "--present",
        "m1",
        "--present",
        "m2",
        "--yes",
        "3",
        token=chair,
    )
    assert held["passed"]
    assert answer(
        stack, "issue", "resolve", code, "1", "1", str(held["motion_no"]), token=chair
    ) == {"passed": True}
    until(stack, code, 1, chair, "publish_resolution")

    not_officer = cli(stack, "spending", "disburse", code, "1", "6000.00", "凭证-001", token=chair)
    assert not_officer.returncode == 4 and "(auth.forbidden)" in not_officer.stderr
    asked = answer(
        stack, "spending", "disburse", code, "1", "6000.00", "凭证-001", token=tokens["f1"]
    )
    assert asked["disbursement_no"] == 1 and asked["status"] == "requested"
    own = cli(stack, "spending", "approve", code, "1", "1", token=tokens["f1"])
    assert own.returncode == 1 and "(spending.same_officer)" in own.stderr
    assert (
        Decimal(answer(stack, "spending", "show", code, "1", token=tokens["a1"])["disbursed"]) == 0
    )
    paid = govflow(stack, "spending", "approve", code, "1", "1", token=tokens["f2"])
    assert "¥6,000.00 disbursed in all" in paid
    ledger = answer(stack, "list", "spending", code, token=tokens["a1"])
    assert Decimal(ledger[0]["disbursed"]) == Decimal("6000.00")
    issues = answer(stack, "list", "issues", code, "--open", token=tokens["m1"])
    assert [i["number"] for i in issues] == [1]
    notices = govflow(stack, "list", "notices", code, token=tokens["m1"])
    assert "(Asia/Shanghai)" in notices and "resolution" in notices


@pytest.mark.e2e
def test_events_and_webhooks(stack: dict[str, str]) -> None:
    """The events feed pages with a cursor; a webhook subscription delivers to a receiver."""
    code, clerk = "hooks", seed(stack, "hooks", run=in_process)["k1"]
    feed = cli(stack, "events", code, "--limit", "5", token=clerk)
    lines = feed.stdout.splitlines()
    assert feed.returncode == 0 and len(lines) == 5
    last = json.loads(lines[-1])["id"]
    assert f"--after {last}" in feed.stderr
    more = cli(stack, "events", code, "--after", str(last), "--limit", "2", token=clerk)
    assert json.loads(more.stdout.splitlines()[0])["id"] > last

    receiver = Receiver()
    receiver.start()
    try:
        added = answer(
            stack,
            "webhook",
            "add",
            code,
            receiver.url,
            "--from-start",
            "--topic",
            "govflow.council.member_enrolled",
            token=clerk,
        )
        assert added["secret"].startswith("whsec_")
        sid = added["subscription"]["id"]
        for _ in range(100):  # the server delivers every second
            if len(receiver.topics()) >= 7:
                break
            time.sleep(0.1)
        assert set(receiver.topics()) == {"govflow.council.member_enrolled"}
        listed = answer(stack, "webhook", "list", code, token=clerk)
        assert next(w for w in listed if w["id"] == sid)["delivered"] >= 7
        assert answer(stack, "webhook", "show", code, sid, token=clerk)["failures"] == []
        assert receiver.url in govflow(stack, "webhook", "list", code, token=clerk)
        removed = cli(stack, "webhook", "remove", code, sid, token=clerk)
        assert removed.returncode == 0 and "unsubscribed" in removed.stdout
        delivered = answer(stack, "webhook", "deliver")  # the operator's pass by hand
        assert delivered["delivered"] >= 0
    finally:
        receiver.stop()


@pytest.mark.e2e
def test_owners_vote_with_their_own_ballots_and_check_their_receipts(
    stack: dict[str, str],
) -> None:
    """Each owner casts their own ballot once and checks the receipt against the log and the
    tally; someone who owns nothing is not on the roll."""
    code, tokens = "lift", seed(stack, "lift", run=in_process)
    for unit, owner in (("1-01", "m1"), ("1-02", "m2")):
        govflow(stack, "council", "add-household", code, unit, "90.00", owner, token=tokens["k1"])
    govflow(
        stack,
        "issue",
        "propose",
        code,
        "1",
        "加装电梯",
        "owners-assembly-art278",
        token=tokens["c1"],
    )
    until(stack, code, 1, tokens["c1"], "announce")
    govflow(stack, "issue", "advance", code, "1", "16", token=tokens["k1"])
    until(stack, code, 1, tokens["c1"], "resolve")

    receipt = answer(stack, "issue", "vote", code, "1", "yes", token=tokens["m1"])
    twice = cli(stack, "issue", "vote", code, "1", "no", token=tokens["m1"])
    assert twice.returncode == 1 and "(ballot.double_vote)" in twice.stderr
    outsider = cli(stack, "issue", "vote", code, "1", "yes", token=tokens["c1"])
    assert outsider.returncode == 4 and "(ballot.not_on_roll)" in outsider.stderr
    check = [code, "1", receipt["ballot_id"], str(receipt["notification_id"])]
    assert "not tallied yet" in govflow(stack, "issue", "receipt", *check, token=tokens["a1"])
    printed = govflow(stack, "issue", "vote", code, "1", "yes", token=tokens["m2"])
    assert "govflow issue receipt" in printed  # the last ballot: everyone has voted
    until(stack, code, 1, tokens["c1"], "publish_resolution")
    assert answer(stack, "issue", "receipt", *check, token=tokens["m1"])["counted"] is True
