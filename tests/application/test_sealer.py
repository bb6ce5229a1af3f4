"""The sealer: the log into a Merkle tree, a signed checkpoint per batch, resumable; proofs."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.log_store import (
    LogStore,
    SealConflictError,
    SealedLeaf,
    StoredCheckpoint,
    StoredCosignature,
)
from govflow.application.migration import migrate
from govflow.application.sealer import LogProofs, Sealer, copy_log_tree, log_store_of
from govflow.application.specimens import SteppingClock, play
from govflow.domain.errors import InvalidInputError, NotFoundError
from govflow.transparency import (
    MerkleTree,
    Signer,
    Verifier,
    generate_key,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from govflow.transparency.records import read_export
from tests.conftest import postgres_env

ORIGIN = "govflow/test-site"
SKEY, VKEY = generate_key(ORIGIN)


def signer() -> Signer:
    return Signer.from_skey(SKEY)


def exported_tree(app: Governance) -> tuple[MerkleTree, list[int]]:
    """The tree a verifier recomputes from the operator's export alone."""
    out = io.BytesIO()
    app.export_log(out)
    records = list(read_export(out.getvalue().splitlines()))
    return MerkleTree(r.leaf for r in records), [r.notification_id for r in records]


def test_the_sealed_root_is_the_one_recomputed_from_the_export(app: Governance) -> None:
    """Every record, private ones included, is a leaf whose hash the export alone gives."""
    play(app)
    checkpoint = Sealer.of(app, signer(), batch=1000).seal()
    tree, ids = exported_tree(app)
    assert checkpoint is not None
    assert checkpoint.size == tree.size == app.recorder.max_notification_id()
    assert checkpoint.root == tree.root()
    assert checkpoint.notification_id == ids[-1]
    opened, _ = open_checkpoint(checkpoint.note, [Verifier.from_vkey(VKEY)], origin=ORIGIN)
    assert (opened.size, opened.root) == (tree.size, tree.root())


def test_each_batch_keeps_a_signed_checkpoint_and_a_second_run_adds_none(app: Governance) -> None:
    """Batches of 10 records leave one checkpoint each; re-running seals nothing twice."""
    play(app)
    sealer = Sealer.of(app, signer(), batch=10)
    sealer.seal()
    assert sealer.seal() is None
    store = log_store_of(app)
    total = app.recorder.max_notification_id()
    sizes = [c.size for c in store.checkpoints()]
    assert sizes == [*range(10, total, 10), total] if total % 10 else list(range(10, total + 1, 10))
    assert store.size() == (total, total)


def test_new_records_extend_the_tree_consistently(app: Governance) -> None:
    """A later round seals only what is new, and its checkpoint extends the earlier one."""
    play(app)
    sealer = Sealer.of(app, signer())
    first = sealer.seal()
    app.enroll_member("specimen", "m20", "新成员", actor="clerk")
    second = sealer.seal()
    assert first is not None and second is not None and second.size == first.size + 1
    proofs = LogProofs.of(app)
    proof, old, new = proofs.get_consistency_proof(first.size, second.size)
    verify_consistency(old.size, new.size, old.root, new.root, proof)
    assert exported_tree(app)[0].root() == second.root


class FailingStore:
    """The real store, but the ``fail_at``-th sealed batch dies before it is written: a sealer
    killed mid-batch."""

    def __init__(self, store: LogStore, fail_at: int) -> None:
        self.store, self.fail_at, self.calls = store, fail_at, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def seal(
        self,
        leaves: Sequence[SealedLeaf],
        nodes: Sequence[tuple[int, int, bytes]],
        checkpoint: StoredCheckpoint,
    ) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("killed mid-batch")
        self.store.seal(leaves, nodes, checkpoint)


def test_killed_mid_batch_it_resumes_without_gap_or_double_leaf(app: Governance) -> None:
    """A batch that dies is not written at all; the next run seals from where the last whole
    batch ended, and the tree is the one a single uninterrupted run makes."""
    play(app)
    store = log_store_of(app)
    failing = FailingStore(store, fail_at=3)
    with pytest.raises(RuntimeError, match="killed"):
        Sealer(app.log_reader, failing, signer(), batch=8).seal()  # type: ignore[arg-type]
    assert store.size()[0] == 16
    last = Sealer.of(app, signer(), batch=8).seal()
    tree, ids = exported_tree(app)
    assert last is not None and last.root == tree.root() and last.size == len(ids)
    for index, notification_id in enumerate(ids):
        assert store.leaf_index(notification_id) == index
    sizes = [c.size for c in store.checkpoints()]
    assert sizes == sorted(set(sizes)) and sizes[:2] == [8, 16]


def test_a_second_sealer_racing_the_first_writes_nothing(app: Governance) -> None:
    """Two sealers that read the same position: the one that writes second is refused whole."""
    play(app)
    store = log_store_of(app)
    late = Sealer.of(app, signer())
    late_read = app.log_reader.records

    def read_then_be_overtaken(after: int, limit: int, **kw: object) -> list:  # type: ignore[type-arg]
        records = late_read(after, limit)
        if after == 0:
            Sealer.of(app, signer()).seal()  # the other sealer gets there first
        return records

    late.reader = type("Reader", (), {"records": staticmethod(read_then_be_overtaken)})()
    with pytest.raises(SealConflictError):
        late.seal()
    total = app.recorder.max_notification_id()
    assert store.size() == (total, total) and len(store.checkpoints()) == 1


def test_every_record_has_an_inclusion_proof_in_every_later_checkpoint(app: Governance) -> None:
    """Each sealed record's proof leads from its leaf to the signed root."""
    play(app)
    Sealer.of(app, signer(), batch=25).seal()
    tree, ids = exported_tree(app)
    proofs = LogProofs.of(app)
    for checkpoint in proofs.list_checkpoints():
        for index in range(0, checkpoint.size, 7):
            found, proof, at = proofs.get_inclusion_proof(ids[index], checkpoint.size)
            assert found == index and at == checkpoint
            verify_inclusion(tree.leaf(index), index, at.size, proof, at.root)


def test_every_pair_of_checkpoints_is_consistent(app: Governance) -> None:
    """Every checkpoint is a prefix of every later one, and the proofs say so."""
    play(app)
    Sealer.of(app, signer(), batch=13).seal()
    proofs = LogProofs.of(app)
    checkpoints = proofs.list_checkpoints()
    assert len(checkpoints) > 3
    for i, old in enumerate(checkpoints):
        for new in checkpoints[i:]:
            proof, _, _ = proofs.get_consistency_proof(old.size, new.size)
            verify_consistency(old.size, new.size, old.root, new.root, proof)


def test_proofs_refuse_what_they_cannot_show(app: Governance) -> None:
    """No checkpoint of that size, a record not sealed, or sizes the wrong way round."""
    play(app)
    proofs = LogProofs.of(app)
    with pytest.raises(NotFoundError):
        proofs.get_checkpoint()
    Sealer.of(app, signer(), batch=10).seal()
    with pytest.raises(NotFoundError):
        proofs.get_checkpoint(11)
    with pytest.raises(NotFoundError):
        proofs.get_inclusion_proof(10**9)
    with pytest.raises(InvalidInputError):
        proofs.get_inclusion_proof(15, 10)  # sealed after the checkpoint of 10
    with pytest.raises(InvalidInputError):
        proofs.get_consistency_proof(20, 10)


def test_the_signing_key_setting_takes_a_note_signer_key_only() -> None:
    """GOVFLOW_LOG_SIGNING_KEY is a signed-note signer key; its name is the log's origin."""
    from pydantic import ValidationError

    from govflow.bootstrap import Settings, build_log_signer

    settings = Settings(log_signing_key=SKEY)  # type: ignore[arg-type]
    found = build_log_signer(settings)
    assert found is not None and found.name == ORIGIN
    assert build_log_signer(Settings(log_signing_key="")) is None  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="keys new"):
        Settings(log_signing_key="PRIVATE+KEY+nonsense")  # type: ignore[arg-type]


@pytest.mark.postgres
def test_a_migrated_store_keeps_the_tree_and_every_signed_checkpoint(
    tmp_path: Path, postgres_db: str
) -> None:
    """govflow migrate rebuilds the same tree on the target and keeps every checkpoint signed
    on the source; proofs against them hold there, and sealing goes on consistently."""
    source = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    target = Governance(postgres_env(postgres_db))
    try:
        play(source)
        Sealer.of(source, signer(), batch=20).seal()
        source.enroll_member("specimen", "late", "后来者", actor="clerk")  # not yet sealed
        signed = log_store_of(source).checkpoints()
        at = datetime(2026, 3, 1, tzinfo=UTC)
        cosigned = StoredCosignature(signed[1].size, "w.example/w", 7, "— w.example/w AAA=\n", at)
        log_store_of(source).add_cosignatures([cosigned])
        report = migrate(source, target)
        assert report.log_checkpoints == len(signed)
        assert log_store_of(target).checkpoints() == signed
        assert copy_log_tree(source, target) == len(signed)  # again: nothing doubled
        assert log_store_of(target).cosignatures(c.size for c in signed) == {
            signed[1].size: [cosigned]
        }
        proofs = LogProofs.of(target)
        first, last = signed[0], signed[-1]
        proof, _, _ = proofs.get_consistency_proof(first.size, last.size)
        verify_consistency(first.size, last.size, first.root, last.root, proof)
        target.enroll_member("specimen", "new", "新成员", actor="clerk")
        newest = Sealer.of(target, signer()).seal()
        assert newest is not None and newest.size == target.recorder.max_notification_id()
        proof, _, _ = proofs.get_consistency_proof(last.size, newest.size)
        verify_consistency(last.size, newest.size, last.root, newest.root, proof)
        assert exported_tree(target)[0].root() == newest.root
    finally:
        source.close()
        target.close()
