"""Hostile reads: audit reads of private aggregates, exports across councils, choices of open
and secret votes, feed cursors stalled by private records, the cost and the claim of verify,
and the board's page number."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.log_reader import scan
from govflow.application.specimens import (
    PARTY_RULE,
    START,
    SteppingClock,
    play,
    specimen_procedure,
)
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.ids import ballot_id, issue_id
from govflow.domain.issue import StageOutcome
from govflow.entrypoints.api import create_api

C = "specimen"


@dataclass
class Site:
    app: Governance
    client: TestClient
    tokens: dict[str, str]
    published: Path

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    published = tmp_path / "outside" / "published-digests.txt"
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
        published_digests=published,
    )
    play(app)
    app.enroll_member(C, "a1", "审计员", actor="clerk", roles=("auditor",))
    app.register_council("other", "另一社区", actor="clerk")
    app.enroll_member("other", "o1", "外人", actor="clerk", roles=("auditor",))
    app.propose_issue("other", 1, "别处的议题", specimen_procedure(), actor="o1")
    tokens = {
        who: app.issue_token(code, who, actor="clerk")
        for code, who in ((C, "m2"), (C, "a1"), ("other", "o1"))
    }
    with TestClient(create_api(app)) as client:
        yield Site(app, client, tokens, published)
    app.close()


def open_vote(app: Governance, number: int, *, named: bool = False) -> str:
    """Item ``number`` with its vote open and ``m1 yes``, ``m2 no`` cast."""
    app.propose_issue(C, number, "表决", specimen_procedure(), actor="m1")
    app.open_stage(C, number, "propose", deadline=None, actor="m1")
    app.close_stage(C, number, "propose", StageOutcome.COMPLETED, actor="m1")
    app.open_stage(C, number, "deliberate", deadline=START + timedelta(days=7), actor="m1")
    app.close_stage(C, number, "deliberate", StageOutcome.COMPLETED, actor="m1")
    app.skip_stage(C, number, "review", "not over the threshold", actor="system")
    app.open_stage(C, number, "resolve", deadline=START + timedelta(days=99), actor="system")
    key = app.open_voting(
        C,
        number,
        "resolve",
        body=Body.PARTY_MEMBERS_ASSEMBLY,
        rule=PARTY_RULE,
        closes_at=START + timedelta(days=99),
        actor="system",
        secret=not named,
    )
    app.cast_ballot(C, number, "m1", Choice.YES)
    app.cast_ballot(C, number, "m2", Choice.NO)
    return key


CHOICE_TOPICS = ("govflow.ballot.cast", "govflow.ballot.secret_choice")


def choices_shown(site: Site, number: int, key: str) -> list[object]:
    """Every choice of item ``number``'s ballots that a member or auditor can read: feed,
    history, as-of and export."""
    seen: list[object] = []
    for topic in CHOICE_TOPICS:
        feed = site.client.get(
            f"/v1/councils/{C}/events",
            params={"topic": topic, "limit": 500},
            headers=site.as_("m2"),
        ).json()["events"]
        ours = [e for e in feed if e["data"]["issue_id"] == str(issue_id(C, number))]
        seen += [e["data"]["choice"] for e in ours]
        for event in ours if topic == "govflow.ballot.secret_choice" else ():
            history = site.client.get(
                f"/v1/audit/history/{event['aggregate_id']}", headers=site.as_("m2")
            ).json()
            seen += [entry["data"]["choice"] for entry in history]
    for voter in ("m1", "m2"):
        ballot = ballot_id(issue_id(C, number), key, voter)
        history = site.client.get(f"/v1/audit/history/{ballot}", headers=site.as_("m2")).json()
        # a secret vote's record of who took part holds no choice at all
        seen += [entry["data"]["choice"] for entry in history if "choice" in entry["data"]]
        state = site.client.get(
            f"/v1/audit/as-of/{ballot}",
            params={"at": (START + timedelta(days=999)).isoformat()},
            headers=site.as_("m2"),
        ).json()
        seen.append(state["choice"])
    export = site.client.get("/v1/audit/export", headers=site.as_("a1")).text.splitlines()
    seen += [
        line["data"]["choice"]
        for line in map(orjson.loads, export)
        if line["topic"] in CHOICE_TOPICS and line["data"]["issue_id"] == str(issue_id(C, number))
    ]
    return seen


def test_no_choice_is_shown_while_a_vote_is_open(site: Site) -> None:
    key = open_vote(site.app, 11, named=True)
    shown = choices_shown(site, 11, key)
    assert len(shown) == 8 and set(shown) == {None}


def test_a_secret_vote_never_shows_choices_a_named_vote_does_once_closed(site: Site) -> None:
    secret, named = open_vote(site.app, 11), open_vote(site.app, 12, named=True)
    for number in (11, 12):
        site.app.close_voting(C, number, "deadline", actor="system")
    hidden = choices_shown(site, 11, secret)
    assert len(hidden) == 8 and set(hidden) == {None}  # feed, history, as-of, export
    assert sorted(map(str, choices_shown(site, 12, named))) == ["no"] * 4 + ["yes"] * 4
    # who took part stays public for both
    for number, topic in ((11, "govflow.ballot.took_part"), (12, "govflow.ballot.cast")):
        feed = site.client.get(
            f"/v1/councils/{C}/events",
            params={"topic": topic, "limit": 500},
            headers=site.as_("m2"),
        ).json()["events"]
        ours = str(issue_id(C, number))
        voters = {e["data"]["voter"] for e in feed if e["data"]["issue_id"] == ours}
        assert voters == {"m1", "m2"}


def test_private_aggregates_are_never_served_by_audit_reads(site: Site) -> None:
    """Token digests (and any other private record) are not history, whatever council their
    events name; the member asking is of that very council."""
    private = {
        r.originator
        for r in scan(site.app.log_reader)
        if r.topic.startswith(("govflow.access.", "govflow.idempotency.", "govflow.webhook."))
    }
    assert private
    at = (START + timedelta(days=999)).isoformat()
    for hex_id in private:
        aggregate = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
        for path, params in (
            (f"/v1/audit/history/{aggregate}", {}),
            (f"/v1/audit/as-of/{aggregate}", {"at": at}),
        ):
            answer = site.client.get(path, params=params, headers=site.as_("a1"))
            assert answer.status_code == 404, answer.text
            assert "digest" not in answer.text


def test_an_export_holds_only_the_callers_council(site: Site) -> None:
    lines = [
        orjson.loads(line)
        for line in site.client.get("/v1/audit/export", headers=site.as_("o1")).text.splitlines()
    ]
    assert lines, "the other council's auditor gets its own council's events"
    assert all(not line["topic"].startswith("govflow.access.") for line in lines)
    ours = {str(issue_id(C, 1)), str(issue_id(C, 2))}
    assert not ours & {line["originator_id"] for line in lines}
    assert {line["originator_id"] for line in lines} >= {str(issue_id("other", 1))}
    everything = site.client.get("/v1/audit/export", headers=site.as_("a1")).text
    assert str(issue_id("other", 1)) not in everything and "token_sha256" not in everything
    assert site.client.get("/v1/audit/export", headers=site.as_("m2")).status_code == 403


def test_the_feed_cursor_moves_past_records_it_does_not_publish(site: Site) -> None:
    """A page of a busy log whose records are private or another council's still advances
    its cursor, and its work is bounded."""
    app = site.app
    for i in range(30):  # private records after every public one
        app.issue_token(C, "m3", actor="clerk")
        if i % 10 == 0:
            app.enroll_member("other", f"x{i}", "x", actor="clerk")
    head = app.recorder.max_notification_id()
    assert head is not None
    last_public = max(e.id for e in app.read_feed(0, 1000) if e.topic != "")
    page = site.client.get(
        f"/v1/councils/{C}/events", params={"after": last_public}, headers=site.as_("m2")
    ).json()
    assert page["events"] == [] and page["next_after"] == head


def test_verify_needs_a_token_is_shared_and_says_what_it_proves(site: Site) -> None:
    assert site.client.get("/v1/audit/verify").status_code == 401
    first = site.client.get("/v1/audit/verify", headers=site.as_("m2")).json()
    site.app.issue_token(C, "m3", actor="clerk")  # the log moves on
    second = site.client.get("/v1/audit/verify", headers=site.as_("m2")).json()
    assert first["ok"] and second["verified_at"] == first["verified_at"]
    assert "self-consistency only" in first["proves"] and "--expect" in first["proves"]
    board = site.client.get("/board/audit?lang=en").text
    assert "Only a digest you keep yourself" in board


def test_a_rewritten_chain_is_caught_by_the_digests_published_before(
    site: Site, tmp_path: Path
) -> None:
    """Someone with write access rewrites an event and recomputes the chain and checkpoints:
    the digests published before (kept outside the database) still catch it."""
    app = site.app
    checkpoint = app.record_checkpoint()
    assert site.published.read_text().startswith(f"{checkpoint.position}:{checkpoint.digest}")
    db = sqlite3.connect(tmp_path / "e.db")
    with db:
        rowid, state = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic = ? ORDER BY rowid LIMIT 1",
            ("govflow.issue.proposed",),
        ).fetchone()
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (state.replace("更换化粪管".encode(), "更换水管管".encode()), rowid),
        )
        for table in ("audit_chain", "audit_checkpoints"):
            db.execute(f"DELETE FROM {table}")
    db.close()
    rewritten = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    rewritten.record_checkpoint()  # the chain recomputed over the rewritten log
    assert rewritten.verify_audit_chain().ok  # the database agrees with itself
    rewritten.close()
    report = app.verify_audit_chain()
    assert report.problem is not None and report.problem.kind == "checkpoint_mismatch"
    board = site.client.get("/board/audit?lang=en").text
    assert "Differs from the digest published before" in board
    served = site.client.get("/v1/audit/checkpoints").json()
    assert [(c["rewritten"], c["published"]) for c in served] == [(True, checkpoint.digest)]


def test_callers_never_wait_on_a_verification_in_progress(site: Site) -> None:
    """While one caller recomputes an expired report, the others get the last one at once
    instead of holding a worker thread each."""
    app = site.app
    first, made = app.verify_cached()
    app._verified = (0.0, first, made)  # expired
    lock = app.__dict__["_verify_lock"]
    with lock:  # a recomputation in progress
        again, at = app.verify_cached()
    assert again is first and at == made
    fresh, later = app.verify_cached()
    assert fresh is not first and later >= made


@pytest.mark.parametrize("page", ["9" * 5000, "²", "٣", "0", "-1"])
def test_the_boards_page_number_is_checked(site: Site, page: str) -> None:
    answer = site.client.get(f"/board/{C}/issues", params={"page": page})
    assert answer.status_code == 422, answer.text  # an HTML page in the board's language
    assert answer.headers["content-type"].startswith("text/html") and "状态码：422" in answer.text
