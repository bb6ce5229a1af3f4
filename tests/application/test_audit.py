"""Audit: history, past state, the hash chain (with tampering behind the engine's back), export."""

from __future__ import annotations

import io
import sqlite3
import uuid

import orjson

from govflow.application import Governance
from govflow.application.specimens import play
from tests.conftest import Store

SPECIMEN = "specimen"


def test_history_lists_every_event_with_time_and_actor(app: Governance) -> None:
    """The history of an issue shows each step in order, who took it and when."""
    play(app)
    issue = app.issue(SPECIMEN, 1)
    history = app.get_history(issue.id)
    assert [h.version for h in history] == list(range(1, issue.version + 1))
    assert history[0].actor == "m1" and history[0].data["title"] == "更换化粪管"
    timestamps = [h.timestamp for h in history]
    assert timestamps == sorted(timestamps)
    assert any(h.topic == "govflow.issue.escalated" and h.actor == "system" for h in history)


def test_state_as_of_a_past_time(app: Governance) -> None:
    """The spending as it stood before approval still shows it as requested."""
    play(app)
    spending = app.spending(SPECIMEN, 1)
    history = app.get_history(spending.id)
    before_approval = history[1].timestamp  # the review was recorded, not yet approved
    state = app.get_state_as_of(spending.id, before_approval)
    assert state["status"] == "requested" and state["review_passed"] is True
    assert app.get_state_as_of(spending.id, history[-1].timestamp)["status"] == "settled"


def test_verify_passes_on_an_untouched_log(app: Governance) -> None:
    """A freshly sealed log verifies, and new events are reported as not yet sealed."""
    play(app)
    checkpoint = app.record_checkpoint()
    app.enroll_member(SPECIMEN, "m20", "新成员", actor="clerk")
    report = app.verify_audit_chain({checkpoint.position: checkpoint.digest})
    assert report.ok and report.checked == checkpoint.position and report.unsealed == 1
    assert report.checkpoints_checked == 2  # the stored one and the one held outside


def test_a_rewritten_chain_is_caught_by_a_published_checkpoint(app: Governance) -> None:
    """Someone who recomputes the stored chain cannot match a digest published earlier."""
    play(app)
    published = app.record_checkpoint()
    report = app.verify_audit_chain({published.position: "f" * 64})
    assert report.problem is not None and report.problem.kind == "checkpoint_mismatch"


def test_export_writes_every_record_as_json_lines(app: Governance) -> None:
    """The export has one JSON line per notification, in order, with the decoded payload."""
    play(app)
    out = io.BytesIO()
    count = app.export_log(out)
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(lines) == app.recorder.max_notification_id()
    assert [line["notification_id"] for line in lines] == sorted(
        line["notification_id"] for line in lines
    )
    assert lines[0]["topic"] == "govflow.council.registered"
    assert lines[0]["data"]["code"] == SPECIMEN


# -- tampering with the database behind the engine's back ----------------------------------


def tamper(store: Store, sql_sqlite: str, sql_postgres: str, *params: object) -> None:
    if store.kind == "sqlite":
        assert store.path is not None
        with sqlite3.connect(store.path) as conn:
            conn.execute(sql_sqlite, params)
    else:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={store.dbname}") as conn:
            conn.execute(sql_postgres, params)


def delete_row(store: Store, notification_id: int) -> None:
    tamper(
        store,
        "DELETE FROM stored_events WHERE rowid = ?",
        "DELETE FROM governance_events WHERE notification_id = %s",
        notification_id,
    )


def test_an_edited_row_is_named(sql_app: Governance, sql_store: Store) -> None:
    """Changing a stored event's bytes in the database is detected at that record."""
    play(sql_app)
    sql_app.record_checkpoint()
    payload = orjson.dumps({"forged": True})
    tamper(
        sql_store,
        "UPDATE stored_events SET state = ? WHERE rowid = 7",
        "UPDATE governance_events SET state = %s WHERE notification_id = 7",
        payload,
    )
    report = sql_app.verify_audit_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.notification_id) == ("altered", 7)


def test_a_deleted_row_is_named(sql_app: Governance, sql_store: Store) -> None:
    """Removing a stored event is detected at the missing record."""
    play(sql_app)
    sql_app.record_checkpoint()
    delete_row(sql_store, 12)
    report = sql_app.verify_audit_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.notification_id) == ("removed", 12)


def test_an_inserted_row_is_named(sql_app: Governance, sql_store: Store) -> None:
    """A record slipped into a gap of the sealed log (ids skipped by rolled-back inserts)."""
    play(sql_app)
    delete_row(sql_store, 5)  # the gap a rolled-back PostgreSQL insert leaves
    sql_app.record_checkpoint()
    forged = str(uuid.uuid4())
    tamper(
        sql_store,
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
        "VALUES (5, ?, 1, 'govflow.council.member_left', ?)",
        "INSERT INTO governance_events (notification_id, originator_id, originator_version, "
        "topic, state) VALUES (5, %s, 1, 'govflow.council.member_left', %s)",
        forged,
        b"{}",
    )
    report = sql_app.verify_audit_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.notification_id) == ("inserted", 5)


def test_as_of_from_snapshots_equals_a_full_replay(app: Governance) -> None:
    """Past states served from snapshots match a replay from the first event, at every point,
    whatever order the questions come in; history pages cover the whole history once."""
    from govflow.application.audit import SNAPSHOT_EVERY
    from govflow.application.specimens import specimen_procedure

    app.register_council("snap", "快照社区", actor="clerk")
    app.enroll_member("snap", "m1", "王芳", actor="clerk")
    app.propose_issue("snap", 1, "长议题", specimen_procedure(), actor="m1")
    app.open_stage("snap", 1, "propose", deadline=None, actor="m1")
    issue = app.issue("snap", 1)
    for i in range(3 * SNAPSHOT_EVERY + 17):
        issue.record_opinion("propose", f"意见 {i}", at=app.now(), actor="m1")
    app.save(issue)
    history = app.get_history(issue.id)
    assert len(history) > 3 * SNAPSHOT_EVERY
    pages, after = [], 0
    while page := app.get_history(issue.id, after=after, limit=400):
        pages.extend(page)
        after = page[-1].version
    assert [h.version for h in pages] == [h.version for h in history]

    fresh = (
        Governance(dict(app.env))
        if app.env.get("PERSISTENCE_MODULE") != ("eventsourcing.popo")
        else None
    )
    points = [history[i].timestamp for i in (len(history) - 1, 3, SNAPSHOT_EVERY, 1_234, 777)]
    for at in points:
        served = app.get_state_as_of(issue.id, at)  # later ones start from snapshots
        events = [e for e in app.domain_events(issue.id) if e.timestamp <= at]
        replayed = None
        for event in events:
            replayed = event.mutate(replayed)
        assert replayed is not None and served["version"] == replayed.version
        assert served == app.get_state_as_of(issue.id, at)
        if fresh is not None:
            assert fresh.get_state_as_of(issue.id, at) == served  # no snapshots there yet
    assert app._snapshot_cache and len(app._snapshot_cache[issue.id]) == 3
    if fresh is not None:
        fresh.close()
