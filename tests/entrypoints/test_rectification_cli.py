"""``govflow order`` against a running server, each person with their own token: an inspection
recorded (its evidence hashed from a local file), an order reported done, sent back, done again
and verified; refusals exit with their class's code and record nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from govflow.application import Governance
from govflow.entrypoints.api import create_api
from govflow.entrypoints.cli import app as cli_app
from govflow.entrypoints.console import EXIT_DENIED, EXIT_USAGE
from tests.application.test_rectification import (
    DISSATISFIED,
    RESIDENTS_CHAIR,
    SUPERVISOR,
    WORKER,
    enroll_order_people,
    evaluated,
    issue_order,
)
from tests.orchestration.conftest import COUNCIL, enroll_council
from tests.serving import serving

Server = tuple[str, dict[str, str], Governance]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app, 1)  # recorded as the door would (no workflow service here)
    app.list_orders(COUNCIL)  # the lists built now, not logged amid a command's output
    people = (SUPERVISOR, WORKER, RESIDENTS_CHAIR, "m1")
    tokens = {who: app.issue_token(COUNCIL, who, actor="clerk") for who in people}
    with serving(create_api(app)) as url:
        yield url, tokens, app
    app.close()


def govflow(server: Server, who: str, *args: str) -> Result:
    url, tokens, _ = server
    env = {"GOVFLOW_SERVER": url, "GOVFLOW_TOKEN": tokens[who]}
    return CliRunner().invoke(cli_app, list(args), env=env)


def test_an_order_at_the_command_line(server: Server, tmp_path: Path) -> None:
    """Report done with a photo's sha256 computed here, send back with a new date, report
    again, accept: ``show`` lists it verified; others are refused (exit 4), nothing recorded."""
    app = server[2]
    photo = tmp_path / "drain.jpg"
    photo.write_bytes(b"a photo of the drain")
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    head = app.recorder.max_notification_id()
    denied = govflow(
        server, "m1", "order", "complete", COUNCIL, "1", "已疏通", "--evidence", str(photo)
    )
    assert denied.exit_code == EXIT_DENIED, denied.output
    assert app.recorder.max_notification_id() == head
    done = govflow(
        server, WORKER, "order", "complete", COUNCIL, "1", "已疏通", "--evidence", str(photo)
    )
    assert done.exit_code == 0 and "completed" in done.output, done.output
    assert app.get_order(COUNCIL, 1).steps[-1].evidence == (digest,)

    other = govflow(server, RESIDENTS_CHAIR, "order", "verify", COUNCIL, "1")
    assert other.exit_code == EXIT_DENIED
    due = (date.today() + timedelta(days=5)).isoformat()
    back = govflow(
        server, SUPERVISOR, "order", "verify", COUNCIL, "1", "--send-back", "仍有堵塞", "--due", due
    )
    assert back.exit_code == 0 and "open, round 2" in back.output, back.output
    again = govflow(
        server, WORKER, "order", "complete", COUNCIL, "1", "已更换", "--evidence", digest
    )
    assert again.exit_code == 0, again.output
    accepted = govflow(server, SUPERVISOR, "order", "verify", COUNCIL, "1", "--note", "已核实")
    assert accepted.exit_code == 0 and "verified" in accepted.output
    listed = govflow(server, "m1", "order", "show", COUNCIL, "--json")
    assert [(r["number"], r["status"]) for r in json.loads(listed.output)] == [(1, "verified")]
    assert govflow(server, "m1", "order", "show", COUNCIL, "--open").output.strip() == "no orders"
    steps = govflow(server, "m1", "order", "show", COUNCIL, "1")
    assert "sent_back (round 2) 仍有堵塞" in steps.output


def test_an_inspection_and_an_order_named_from_two_sources(server: Server, tmp_path: Path) -> None:
    """The supervisory committee's chair records an inspection; a residents' committee chair
    may not; an order naming two sources is refused before anything is sent."""
    photo = tmp_path / "lane.jpg"
    photo.write_bytes(b"a photo of the fire lane")
    no = govflow(
        server, RESIDENTS_CHAIR, "order", "inspect", COUNCIL, "1", "杂物", "--evidence", str(photo)
    )
    assert no.exit_code == EXIT_DENIED
    yes = govflow(
        server, SUPERVISOR, "order", "inspect", COUNCIL, "1", "杂物", "--evidence", str(photo)
    )
    assert yes.exit_code == 0, yes.output
    assert (
        server[2].get_inspection(COUNCIL, 1).evidence_sha256
        == hashlib.sha256(photo.read_bytes()).hexdigest()
    )
    two = govflow(
        server, SUPERVISOR, "order", "create", COUNCIL, "2", "--what", "清理", "--why", "检查",
        "--assignee", WORKER, "--body", "supervisory_committee", "--due", "2030-01-01",
        "--from-evaluation", "2300", "--from-inspection", "1",
    )  # fmt: skip
    assert two.exit_code == EXIT_USAGE
