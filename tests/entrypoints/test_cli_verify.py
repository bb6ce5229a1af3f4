"""``govflow verify``: an export checked against signed checkpoints without the database."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from govflow.application import Governance
from govflow.application.log_store import StoredCheckpoint
from govflow.application.sealer import Sealer, log_store_of
from govflow.application.specimens import SteppingClock, play
from govflow.entrypoints.cli import app as cli
from govflow.entrypoints.console import EXIT_AUDIT, EXIT_INVALID
from govflow.transparency import Signer, generate_key, parse_note, sign_note
from tests.application.test_audit import tamper
from tests.conftest import Store

ORIGIN = "govflow/verify-test"
SKEY, VKEY = generate_key(ORIGIN)
WITNESS_SKEY, WITNESS_VKEY = generate_key("street-office.example/witness")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def sealed(app: Governance, tmp_path: Path, batch: int = 1000) -> tuple[Path, Path]:
    """The specimen log sealed, exported and its newest checkpoint written to a file."""
    play(app)
    checkpoint = Sealer.of(app, Signer.from_skey(SKEY), batch=batch).seal()
    assert checkpoint is not None
    return export(app, tmp_path), note_file(checkpoint, tmp_path / "checkpoint.txt")


def export(app: Governance, tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    with path.open("wb") as out:
        app.export_log(out)
    return path


def note_file(checkpoint: StoredCheckpoint, path: Path) -> Path:
    path.write_text(checkpoint.note)
    return path


def test_an_untouched_log_verifies_on_every_store(app: Governance, tmp_path: Path) -> None:
    """Signature, every leaf and the root hold (encrypted stores too: no key needed)."""
    log, note = sealed(app, tmp_path)
    code, out, err = run("verify", log, note, "--key", VKEY, "--json")
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["ok"] and verdict["size"] == app.recorder.max_notification_id()
    assert verdict["origin"] == ORIGIN and verdict["beyond"] == 0


def test_a_rewritten_event_is_caught(sql_app: Governance, sql_store: Store, tmp_path: Path) -> None:
    """An event rewritten in the database after sealing no longer makes the signed root,
    whoever recomputes the chain and checkpoints in the database."""
    _, note = sealed(sql_app, tmp_path)
    forged = orjson.dumps({"forged": True})
    tamper(
        sql_store,
        "UPDATE stored_events SET state = ? WHERE rowid = 7",
        "UPDATE governance_events SET state = %s WHERE notification_id = 7",
        forged,
    )
    sql_app.extend_audit_chain()  # the old chain is none the wiser about a fresh export
    code, _, err = run("verify", export(sql_app, tmp_path), note, "--key", VKEY)
    assert code == EXIT_AUDIT and "verify.root_mismatch" in err


def edited(line: bytes) -> bytes:
    """The export line with one byte of what its leaf is made of changed."""
    record = orjson.loads(line)
    if "stored" in record:  # encrypted: the ciphertext is what the leaf is made of
        stored = record["stored"]
        changed = stored[:10] + ("A" if stored[10] != "A" else "B") + stored[11:]
        return line.replace(stored.encode(), changed.encode())
    assert b'"timestamp":"20' in line
    return line.replace(b'"timestamp":"20', b'"timestamp":"19', 1)


def test_an_edited_export_line_is_caught(app: Governance, tmp_path: Path) -> None:
    """Changing one record's stored bytes in the export file breaks the root."""
    log, note = sealed(app, tmp_path)
    lines = log.read_bytes().splitlines(keepends=True)
    lines[4] = edited(lines[4])
    log.write_bytes(b"".join(lines))
    code, _, err = run("verify", log, note, "--key", VKEY)
    assert code == EXIT_AUDIT and "verify.root_mismatch" in err


def test_a_removed_record_is_caught(app: Governance, tmp_path: Path) -> None:
    """An export missing a record makes another root (or falls short of the size)."""
    log, note = sealed(app, tmp_path)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:10] + lines[11:]))
    code, out, _ = run("verify", log, note, "--key", VKEY, "--json")
    assert code == EXIT_AUDIT and json.loads(out)["code"] == "verify.export_too_short"
    log.write_bytes(b"".join(lines[:10] + lines[11:] + lines[-1:]))
    code, out, _ = run("verify", log, note, "--key", VKEY, "--json")
    assert code == EXIT_AUDIT and json.loads(out)["code"] == "export.malformed"  # out of order


def test_one_record_is_proved_included(app: Governance, tmp_path: Path) -> None:
    """--inclusion proves one record's leaf into the signed root; an unknown one is named."""
    log, note = sealed(app, tmp_path)
    code, out, _ = run("verify", log, note, "--key", VKEY, "--inclusion", "9")
    assert code == 0 and "record 9" in out and "leaf 8" in out
    code, _, err = run("verify", log, note, "--key", VKEY, "--inclusion", "999999")
    assert code == EXIT_AUDIT and "verify.no_such_record" in err


def test_an_older_checkpoint_is_checked_consistent(app: Governance, tmp_path: Path) -> None:
    """--consistency recomputes an older checkpoint's root from the same records."""
    log, note = sealed(app, tmp_path, batch=20)
    older = note_file(log_store_of(app).checkpoints()[1], tmp_path / "older.txt")
    code, out, _ = run("verify", log, note, "--key", VKEY, "--consistency", older)
    assert code == 0 and "checkpoint 40 is a prefix" in out
    body = log_store_of(app).checkpoints()[1].note.split("\n\n")[0].splitlines()
    body[2] = "A" * 43 + "="  # another root at that size, signed: a forked history
    fork = sign_note("\n".join(body) + "\n", Signer.from_skey(SKEY))
    (tmp_path / "fork.txt").write_text(fork)
    code, _, err = run("verify", log, note, "--key", VKEY, "--consistency", tmp_path / "fork.txt")
    assert code == EXIT_AUDIT and "verify.root_mismatch" in err


def test_keys_and_witnesses(app: Governance, tmp_path: Path) -> None:
    """Another log's key is refused; an expected witness must have co-signed."""
    log, note = sealed(app, tmp_path)
    _, stranger = generate_key(ORIGIN)
    code, _, err = run("verify", log, note, "--key", stranger)
    assert code == EXIT_AUDIT and "note.unverified" in err
    code, _, err = run("verify", log, note, "--key", VKEY, "--witness", WITNESS_VKEY)
    assert code == EXIT_AUDIT and "verify.missing_witness" in err
    note.write_text(sign_note(parse_note(note.read_text()), Signer.from_skey(WITNESS_SKEY)))
    code, out, _ = run("verify", log, note, "--key", VKEY, "--witness", WITNESS_VKEY)
    assert code == 0 and "street-office.example/witness" in out
    code, _, err = run("verify", log, note, "--key", "not-a-key")
    assert code == EXIT_INVALID and "note.invalid_key" in err


def test_a_checkpoint_over_v1_leaves_is_refused(app: Governance, tmp_path: Path) -> None:
    """A checkpoint without the v2 leaves' extension line (a superseded v1 tree's) is not
    checked against v2 leaves: it is named for what it is."""
    log, note = sealed(app, tmp_path)
    body = parse_note(note.read_text()).text.splitlines()
    v1 = sign_note("\n".join(body[:3]) + "\n", Signer.from_skey(SKEY))
    note.write_text(v1)
    code, _, err = run("verify", log, note, "--key", VKEY)
    assert code == EXIT_AUDIT and "verify.leaf_version" in err


@pytest.mark.parametrize("later", [0, 3])
def test_records_after_the_checkpoint_are_counted_not_checked(
    app: Governance, tmp_path: Path, later: int
) -> None:
    """An export taken after the checkpoint verifies its prefix and says how much is newer."""
    _, note = sealed(app, tmp_path)
    for i in range(later):
        app.enroll_member("specimen", f"m{30 + i}", "新成员", actor="clerk")
    code, out, _ = run("verify", export(app, tmp_path), note, "--key", VKEY, "--json")
    assert code == 0 and json.loads(out)["beyond"] == later


def test_the_operator_seals_now_and_the_note_verifies(tmp_path: Path) -> None:
    """govflow audit seal seals with the key from the settings and writes the checkpoint that
    govflow verify then accepts; without a key it says which setting is missing."""
    data = tmp_path / "var"
    data.mkdir()
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(data / "events.db")},
        clock=SteppingClock(),
    )
    play(app)
    app.close()
    env = {"GOVFLOW_DATA_DIR": str(data), "GOVFLOW_PERSISTENCE": "sqlite"}
    missing = CliRunner().invoke(cli, ["audit", "seal"], env=env)
    assert missing.exit_code == EXIT_INVALID and "GOVFLOW_LOG_SIGNING_KEY" in missing.stderr
    note = tmp_path / "checkpoint.txt"
    env["GOVFLOW_LOG_SIGNING_KEY"] = SKEY
    sealed = CliRunner().invoke(cli, ["audit", "seal", "--out", str(note), "--json"], env=env)
    assert sealed.exit_code == 0, sealed.stderr
    assert json.loads(sealed.stdout)["sealed"] > 0
    again = CliRunner().invoke(cli, ["audit", "seal", "--json"], env=env)
    assert json.loads(again.stdout)["sealed"] == 0  # nothing new: nothing sealed twice
    for public in ([], ["--public"]):  # the operator's export, and the public one
        log = tmp_path / "log.jsonl"
        exported = CliRunner().invoke(cli, ["audit", "export", "--out", str(log), *public], env=env)
        assert exported.exit_code == 0, exported.stderr
        code, out, _ = run("verify", log, note, "--key", VKEY)
        assert code == 0 and out.startswith("ok:")
        assert ("withheld (commitment only)" in out) == bool(public)


def test_a_record_and_two_checkpoints_check_with_served_proofs(
    app: Governance, tmp_path: Path
) -> None:
    """With the proofs /v1/log serves, one record's line and a checkpoint suffice, and two
    checkpoints suffice for their consistency: no whole export (a resident, a witness)."""
    from fastapi.testclient import TestClient

    from govflow.entrypoints.api import create_api

    log, note = sealed(app, tmp_path, batch=20)
    lines = log.read_bytes().splitlines(keepends=True)
    record = tmp_path / "record.jsonl"
    record.write_bytes(lines[30])  # record 31 (notification ids start at 1 on every store here)
    nid = orjson.loads(lines[30])["notification_id"]
    size = log_store_of(app).checkpoint().size  # type: ignore[union-attr]
    member = {"Authorization": f"Bearer {app.issue_token('specimen', 'm2', actor='clerk')}"}
    with TestClient(create_api(app)) as client:
        inclusion = client.get("/v1/log/proofs/inclusion", params={"id": nid}).json()
        with_line = client.get(
            "/v1/log/councils/specimen/proofs/inclusion", params={"id": nid}, headers=member
        ).json()
        consistency = client.get("/v1/log/proofs/consistency", params={"from": 40, "to": size})
    proof = tmp_path / "inclusion.json"
    proof.write_text(json.dumps(inclusion))
    code, out, err = run("verify-proof", note, proof, "--key", VKEY, "--record", record)
    assert code == 0 and f"record {nid}" in out, err
    (tmp_path / "with-line.json").write_text(json.dumps(with_line))  # a council reader's
    code, out, err = run("verify-proof", note, tmp_path / "with-line.json", "--key", VKEY)
    assert code == 0 and f"record {nid}" in out, err
    record.write_bytes(edited(lines[30]))  # the record rewritten
    code, _, err = run("verify-proof", note, proof, "--key", VKEY, "--record", record)
    assert code == EXIT_AUDIT and "merkle.root_mismatch" in err
    record.write_bytes(lines[31])  # another record with this proof
    code, _, err = run("verify-proof", note, proof, "--key", VKEY, "--record", record)
    assert code == EXIT_AUDIT and "verify.proof_mismatch" in err
    (tmp_path / "consistency.json").write_text(consistency.text)
    older = note_file(log_store_of(app).checkpoint(40), tmp_path / "older.txt")  # type: ignore[arg-type]
    code, out, _ = run(
        "verify-proof", note, tmp_path / "consistency.json", "--key", VKEY, "--old", older
    )
    assert code == 0 and "checkpoint 40 is a prefix" in out
    other = note_file(log_store_of(app).checkpoint(20), tmp_path / "other.txt")  # type: ignore[arg-type]
    code, _, err = run(
        "verify-proof", note, tmp_path / "consistency.json", "--key", VKEY, "--old", other
    )
    assert code == EXIT_AUDIT and "verify.proof_mismatch" in err
    code, _, err = run("verify-proof", note, record, "--key", VKEY)
    assert code == EXIT_INVALID and "input.malformed" in err
