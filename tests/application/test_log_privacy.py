"""The verifiable log leaks no choice: leaves are salted commitments (v2), proofs serve no
guessable hash, and the public export verifies whole while withholding what the board
withholds (private records, choices of open and secret votes)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.log_reader import Record
from govflow.application.migration import migrate
from govflow.application.sealer import Sealer, log_store_of
from govflow.domain.ballot import BallotCast, Choice, SecretChoiceCast
from govflow.entrypoints.api import create_api
from govflow.transparency import Signer, Verifier, generate_key
from govflow.transparency.errors import TransparencyError
from govflow.transparency.export_verify import verify_export
from govflow.transparency.records import COMMITMENT_PREFIX, hyphenated, record_leaf_hash
from tests.application.scenario import COUNCIL
from tests.application.test_audit import tamper
from tests.application.test_voting import at_vote
from tests.conftest import Store

ORIGIN = "govflow/privacy-test"
SKEY, VKEY = generate_key(ORIGIN)
CHOICES = (b"yes", b"no", b"abstain")


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _header(record: Record) -> bytes:
    return b"%d\n%s\n%d\n%s\n" % (
        record.id,
        hyphenated(record.originator).encode(),
        record.version,
        record.topic.encode(),
    )


def guesses(app: Governance, record: Record) -> Iterator[bytes]:
    """What anyone can hash for a ballot whose every field but the choice is public: its
    JSON with each candidate choice, as a v1 leaf (the stored bytes) and as a v2 leaf made
    without the salt."""
    plain = app.payload(record.state, record.topic)
    chosen = orjson.loads(plain)["choice"].encode()
    for choice in CHOICES:
        candidate = plain.replace(b'"choice":"%s"' % chosen, b'"choice":"%s"' % choice)
        yield _sha(b"\x00govflow/log-record/v1\n" + _header(record) + candidate)
        unsalted = _sha(COMMITMENT_PREFIX + candidate)
        yield _sha(b"\x00govflow/log-record/v2\n" + _header(record) + unsalted)


def two_open_votes(app: Governance) -> list[Record]:
    """A secret vote and a named one, both open, a ballot cast in each, more records after;
    returns the records holding the two choices."""
    at_vote(app)  # item 1: secret
    at_vote(app, 2, secret=False)  # item 2: named
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    app.cast_ballot(COUNCIL, 2, "r2", Choice.ABSTAIN)
    app.cast_ballot(COUNCIL, 2, "r3", Choice.NO)  # a neighbour after the named ballot
    topics = (SecretChoiceCast.TOPIC, BallotCast.TOPIC)
    return app.log_reader.records(0, 100, topics=topics)


def test_served_proofs_and_the_public_export_leak_no_choice(app: Governance) -> None:
    """The leak, reproduced and closed: in a store in clear, a v1 leaf of a ballot is one of
    three guessable hashes; the proofs now served (for every record, so each ballot's leaf
    is a sibling of its neighbours') hold none of them, though they do hold each ballot's
    real (salted) leaf. The public export verifies whole and shows none of those choices."""
    ballots = two_open_votes(app)
    assert [r.topic for r in ballots] == [SecretChoiceCast.TOPIC, *[BallotCast.TOPIC] * 2]
    Sealer.of(app, Signer.from_skey(SKEY)).seal()
    head = app.recorder.max_notification_id()
    salts = log_store_of(app).salts(0, head)
    served: set[bytes] = set()
    lines: dict[int, dict[str, object]] = {}
    member = {"Authorization": f"Bearer {app.issue_token(COUNCIL, 'r1', actor='clerk')}"}
    with TestClient(create_api(app)) as client:
        for nid in range(1, head + 1):
            proof = client.get(
                f"/v1/log/councils/{COUNCIL}/proofs/inclusion", params={"id": nid}, headers=member
            ).json()
            served.update(base64.b64decode(h) for h in proof["proof"])
            lines[nid] = orjson.loads(proof["record"])
        note = client.get("/v1/log/checkpoint").text
        export = client.get(f"/v1/log/councils/{COUNCIL}/export", headers=member).content
    for record in ballots:
        real = record_leaf_hash(
            record.id,
            hyphenated(record.originator),
            record.version,
            record.topic,
            record.state,
            salts[record.id],
        )
        assert real in served  # the ballot's leaf is served, as a neighbour's sibling
        candidates = set(guesses(app, record))
        assert len(candidates) == 2 * len(CHOICES)
        assert not candidates & served
        # the proof's own line shows the commitment only, never the data or the salt
        assert set(lines[record.id]) == {
            "notification_id",
            "originator_id",
            "originator_version",
            "topic",
            "commitment",
        }
    for record in ballots:
        if app.payload(record.state, record.topic) == record.state:  # a store in clear
            # the v1 leaf of the stored bytes is one of the guesses: the leak itself
            v1 = _sha(b"\x00govflow/log-record/v1\n" + _header(record) + record.state)
            assert v1 in set(guesses(app, record))
    verdict = verify_export(export.splitlines(), note, [Verifier.from_vkey(VKEY)])
    assert verdict.checked == head and verdict.withheld >= len(ballots)
    for line in export.splitlines():
        record_line = orjson.loads(line)
        if record_line["topic"] in (SecretChoiceCast.TOPIC, BallotCast.TOPIC):
            assert "data" not in record_line and "salt" not in record_line
        assert b'"choice":"' not in line


def forge(line: bytes) -> bytes:
    """The named ballot's choice changed: in an encrypted store's line, the ciphertext the
    leaf is over (``data`` there is not checked against it without the key)."""
    stored = orjson.loads(line).get("stored")
    if stored is not None:
        changed = stored[:10] + ("A" if stored[10] != "A" else "B") + stored[11:]
        return line.replace(stored.encode(), changed.encode())
    return line.replace(b'"choice":"abstain"', b'"choice":"yes"')


def test_a_closed_named_vote_shows_its_ballots_and_still_verifies(app: Governance) -> None:
    """Once the named vote closes, the public export shows its ballots (data and salt), the
    secret vote's choice stays withheld, and it verifies against a new checkpoint; a
    changed public record is caught."""
    two_open_votes(app)
    app.close_voting(COUNCIL, 2, "deadline", actor="system")
    app.close_voting(COUNCIL, 1, "deadline", actor="system")
    checkpoint = Sealer.of(app, Signer.from_skey(SKEY)).seal()
    assert checkpoint is not None
    lines = list(app.export_lines(public=True))
    shown = {orjson.loads(x)["topic"]: orjson.loads(x) for x in lines}
    assert "data" in shown[BallotCast.TOPIC] and "salt" in shown[BallotCast.TOPIC]
    assert "commitment" in shown[SecretChoiceCast.TOPIC]
    keys = [Verifier.from_vkey(VKEY)]
    assert verify_export(lines, checkpoint.note, keys).checked == checkpoint.size
    forged = [forge(x) if b'"choice":"abstain"' in x else x for x in lines]
    assert forged != lines
    with pytest.raises(TransparencyError) as caught:
        verify_export(forged, checkpoint.note, keys)
    assert caught.value.code == "verify.root_mismatch"


def test_a_v1_tree_is_superseded_and_sealed_again(
    sql_store: Store, sql_app: Governance, tmp_path: Path
) -> None:
    """A store whose tree was sealed before salts (no salt column, v1 leaves): the column is
    added, the next seal moves the old checkpoints aside (listed as superseded) and seals
    the whole log again with v2 leaves, which the operator's export verifies. A migration
    copies the salts (its checkpoints check against the copy) and the superseded list."""
    two_open_votes(sql_app)
    first = Sealer.of(sql_app, Signer.from_skey(SKEY), batch=20).seal()
    assert first is not None
    old = log_store_of(sql_app).checkpoints()
    tamper(
        sql_store,
        "ALTER TABLE log_leaves DROP COLUMN salt",
        "ALTER TABLE log_leaves DROP COLUMN salt",
    )
    reopened = Governance(sql_store.env, clock=sql_app.clock)
    try:
        store = log_store_of(reopened)
        assert store.is_legacy()
        sealer = Sealer.of(reopened, Signer.from_skey(SKEY), batch=20)
        latest = sealer.seal()
        assert sealer.superseded == len(old) and not store.is_legacy()
        assert [c.note for c in store.superseded_checkpoints()] == [c.note for c in old]
        assert latest is not None and latest.size == first.size
        lines = list(reopened.export_lines())
        verdict = verify_export(lines, latest.note, [Verifier.from_vkey(VKEY)])
        assert verdict.checked == latest.size and verdict.withheld == 0
        target = Governance(
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "t.db")}
        )
        try:
            report = migrate(reopened, target)
            assert report.log_checkpoints == len(store.checkpoints())
            copied = log_store_of(target)
            assert copied.superseded_checkpoints() == store.superseded_checkpoints()
            assert copied.salts(0, latest.size) == store.salts(0, latest.size)
            assert list(target.export_lines()) == lines
        finally:
            target.close()
    finally:
        reopened.close()
