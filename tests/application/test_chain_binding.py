"""Moving on from the linear audit chain (issue 13): the chain and its checkpoints keep
verifying beside the tree, and every checkpoint of the tree binds the chain's digest it covers
(an extension line ``govflow/audit-chain P DIGEST`` signed with the log's key), the first one
the chain's last digest before the tree; ``govflow verify`` recomputes the chain from an export
and refuses a checkpoint that binds another digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.audit import chain_digest
from govflow.application.sealer import LogProofs, Sealer
from govflow.application.specimens import play
from govflow.entrypoints.console import EXIT_AUDIT, EXIT_INVALID
from govflow.transparency import Checkpoint, Signer, generate_key, parse_note
from govflow.transparency.chain import (
    CHAIN_GENESIS,
    ChainBinding,
    chain_binding,
    chain_step,
)
from govflow.transparency.errors import MalformedCheckpointError
from govflow.transparency.records import hyphenated
from tests.entrypoints.test_cli_verify import export, run

ORIGIN = "govflow/chain-binding-test"
SKEY, VKEY = generate_key(ORIGIN)
LOG = Signer.from_skey(SKEY)


def opened(note: str) -> Checkpoint:
    return Checkpoint.parse(parse_note(note).text)


def test_the_verifier_computes_the_chain_as_the_engine_does(app: Governance) -> None:
    """The library's chain step (no engine) gives the engine's digest at every position."""
    play(app)
    head = app.extend_audit_chain()
    assert head is not None
    digest = CHAIN_GENESIS
    for record in app.log_reader.records(0, 10_000):
        expected = chain_digest(digest.hex(), record)
        digest = chain_step(
            digest, record.id, hyphenated(record.originator), record.version, record.topic,
            record.state,
        )  # fmt: skip
        assert digest.hex() == expected
    assert digest.hex() == head.digest


def test_an_existing_chain_is_bound_by_the_trees_first_checkpoint(app: Governance) -> None:
    """A store with a chain and its published checkpoints, and no tree yet, gains the tree:
    its first checkpoint binds the chain's last digest; the chain and its old checkpoints
    still verify; each later checkpoint binds the chain's newest link it covers."""
    play(app)
    old = app.record_checkpoint()  # the linear chain's checkpoint, published before the tree
    first = Sealer.of(app, LOG).seal()
    assert first is not None
    bound = chain_binding(opened(first.note).extensions, first.size)
    assert bound == ChainBinding(old.position, bytes.fromhex(old.digest))
    assert bound.position == first.size  # the chain and the tree hold the same records
    report = app.verify_audit_chain()
    assert report.ok and report.checkpoints_checked >= 1

    app.register_council("later", "后来社区", actor="clerk")  # the chain lags a moment
    lagging = Sealer.of(app, LOG).seal()
    assert lagging is not None
    assert chain_binding(opened(lagging.note).extensions, lagging.size) == bound
    head = app.extend_audit_chain()
    assert head is not None
    app.register_council("later2", "后来社区二", actor="clerk")
    app.extend_audit_chain()
    newest = Sealer.of(app, LOG).seal()
    assert newest is not None
    bound = chain_binding(opened(newest.note).extensions, newest.size)
    assert bound is not None and bound.position == newest.size
    assert app.verify_audit_chain().ok


def test_a_store_without_a_chain_signs_no_chain_line(app: Governance) -> None:
    play(app)
    first = Sealer.of(app, LOG, batch=20).seal()
    assert first is not None
    checkpoints = LogProofs.of(app).list_checkpoints()
    assert all(chain_binding(opened(c.note).extensions, c.size) is None for c in checkpoints)


def test_govflow_verify_recomputes_the_bound_chain(app: Governance, tmp_path: Path) -> None:
    """The operator's export recomputes the chain digest the checkpoint binds; a checkpoint
    binding another digest (signed with the log's key: an operator showing a chain of another
    history) is refused with verify.chain_mismatch; a council's export, which withholds
    records, cannot recompute it and says so."""
    play(app)
    app.record_checkpoint()
    sealed = Sealer.of(app, LOG, batch=25).seal()
    assert sealed is not None
    note = tmp_path / "checkpoint.txt"
    note.write_text(LogProofs.of(app).get_checkpoint(25).note)  # binds the chain at 25 of ...
    log = export(app, tmp_path)
    code, out, err = run("verify", log, note, "--key", VKEY, "--json")
    assert code == 0, err
    verdict = json.loads(out)["audit_chain"]
    assert verdict["checked"] and verdict["position"] == 25
    code, out, _ = run("verify", log, note, "--key", VKEY)
    assert "binds the old audit chain's digest after record 25: recomputed" in out

    checkpoint = opened(note.read_text())
    bound = chain_binding(checkpoint.extensions, checkpoint.size)
    assert bound is not None
    forged_chain = ChainBinding(bound.position, bytes(32))
    forged = Checkpoint(
        ORIGIN, checkpoint.size, checkpoint.root, (checkpoint.extensions[0], forged_chain.line())
    ).sign(LOG)
    forged_note = tmp_path / "forged.txt"
    forged_note.write_text(forged)
    code, _, err = run("verify", log, forged_note, "--key", VKEY)
    assert code == EXIT_AUDIT and "(verify.chain_mismatch)" in err
    code, _, err = run("verify", log, note, "--key", VKEY, "--consistency", forged_note)
    assert code == EXIT_AUDIT and "(verify.chain_mismatch)" in err  # an older one's too

    council = tmp_path / "council.jsonl"
    code_name = app.list_councils()[0].code
    council.write_bytes(b"".join(app.export_lines(public=True, council=code_name)))
    code, out, err = run("verify", council, note, "--key", VKEY, "--json")
    assert code == 0, err
    assert json.loads(out)["audit_chain"]["checked"] is False


@pytest.mark.parametrize(
    "line",
    [
        "govflow/audit-chain 0 " + "00" * 32,
        "govflow/audit-chain 99 " + "00" * 32,  # beyond the checkpoint's size
        "govflow/audit-chain 5 " + "0" * 63,
        "govflow/audit-chain 5 " + "AB" * 32,
        "govflow/audit-chain  5 " + "00" * 32,
    ],
)
def test_a_malformed_chain_line_is_refused(line: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        chain_binding(("govflow/log-record/v2", line), 10)
    twice = ("govflow/audit-chain 5 " + "00" * 32,) * 2
    with pytest.raises(MalformedCheckpointError):
        chain_binding(twice, 10)


def test_a_kept_chain_digest_is_held_against_the_signed_history(
    app: Governance, tmp_path: Path
) -> None:
    """A digest of the old chain someone kept from before the tree (as /board/audit showed
    it) is checked without the database: the export that makes the signed root makes that
    digest at its position too (``--expect-chain POSITION:DIGEST``)."""
    play(app)
    old = app.record_checkpoint()  # published before the tree
    app.register_council("later", "后来社区", actor="clerk")
    sealed = Sealer.of(app, LOG).seal()
    assert sealed is not None and sealed.size > old.position
    note = tmp_path / "checkpoint.txt"
    note.write_text(sealed.note)
    log = export(app, tmp_path)
    kept = f"{old.position}:{old.digest}"
    code, out, err = run("verify", log, note, "--key", VKEY, "--expect-chain", kept)
    assert code == 0, err
    assert f"at record {old.position}: recomputed from the export, the same" in out
    other = f"{old.position}:{'0' * 64}"
    code, _, err = run("verify", log, note, "--key", VKEY, "--expect-chain", other)
    assert code == EXIT_AUDIT and "(verify.chain_mismatch)" in err
    beyond = f"{sealed.size + 1}:{old.digest}"
    code, _, err = run("verify", log, note, "--key", VKEY, "--expect-chain", beyond)
    assert code == EXIT_AUDIT and "(verify.chain_mismatch)" in err
    code, _, err = run("verify", log, note, "--key", VKEY, "--expect-chain", "7:abc")
    assert code == EXIT_INVALID and "(input.malformed)" in err
    council = tmp_path / "council.jsonl"
    council.write_bytes(b"".join(app.export_lines(public=True, council="later")))
    code, _, err = run("verify", council, note, "--key", VKEY, "--expect-chain", kept)
    assert code == EXIT_INVALID and "(verify.chain_withheld)" in err
