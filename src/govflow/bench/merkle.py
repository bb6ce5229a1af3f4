"""Merkle tree figures on a 1,000,000-leaf tree, each against a baseline from the same run:

- appends per second (leaf hashed, then appended) vs bare SHA-256 of each leaf alone, the least
  any tree must do; the same for a ``Frontier`` (the O(log n) state a sealer or a streaming
  verifier keeps);
- an inclusion proof and a consistency proof, each generated and verified, in ms, vs computing
  as many bare node hashes as a proof has elements; proof sizes in hashes and bytes against
  ceil(log2 n).

And on a SQLite event store of 100,000 records (the specimen history's payloads repeated):

- sealing per second (leaves hashed, tree and checkpoint stored, one signed checkpoint per
  10,000) vs reading the same log alone and vs extending the linear audit chain;
- verifying the operator's whole export against the signed checkpoint (``govflow verify``'s
  work) per second vs parsing the export's lines alone; the same for the public export
  (withheld records by their commitment only).

Leaves are v2 (salted commitments): sealing makes a random salt and two SHA-256 per record.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson

from govflow.application import Governance
from govflow.application.log_reader import scan
from govflow.transparency import (
    Frontier,
    MerkleTree,
    Verifier,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = 1_000_000
PROOFS = 1_000
SEALED_EVENTS = 100_000


def _per_s(count: int, seconds: float) -> int:
    return round(count / seconds)


def _appends(data: list[bytes]) -> tuple[MerkleTree, dict[str, Any]]:
    """Build the tree, timing the appends against bare leaf hashing of the same data."""
    started = time.perf_counter()
    for item in data:
        sha256(b"\x00" + item).digest()
    bare = time.perf_counter() - started
    tree = MerkleTree()
    started = time.perf_counter()
    for item in data:
        tree.append(leaf_hash(item))
    tree_s = time.perf_counter() - started
    frontier = Frontier()
    started = time.perf_counter()
    for item in data:
        frontier.append(leaf_hash(item))
    frontier_s = time.perf_counter() - started
    assert frontier.root() == tree.root()
    figures = {
        "append_per_s": _per_s(len(data), tree_s),
        "frontier_append_per_s": _per_s(len(data), frontier_s),
        "bare_leaf_hash_per_s": _per_s(len(data), bare),
        "append_vs_bare": round(bare / tree_s, 2),
        "stored_bytes_per_leaf": round(tree.stored_bytes / len(data), 1),
    }
    return tree, figures


def _proofs(tree: MerkleTree, proofs: int, prove: Callable[[random.Random], int]) -> dict[str, Any]:
    """Time ``proofs`` calls of ``prove`` (each generates and verifies one proof and returns
    its length) against as many bare node hashes as the proofs had elements."""
    rng = random.Random(9162)
    lengths: list[int] = []
    started = time.perf_counter()
    for _ in range(proofs):
        lengths.append(prove(rng))
    seconds = time.perf_counter() - started
    left, right = tree.leaf(0), tree.leaf(1)
    started = time.perf_counter()
    for _ in range(sum(lengths)):
        node_hash(left, right)
    bare = time.perf_counter() - started
    return {
        "ms_per_proof": round(seconds / proofs * 1000, 3),
        "bare_hashes_ms_per_proof": round(bare / proofs * 1000, 4),
        "vs_bare_hashes": round(seconds / bare, 1),
        "max_hashes": max(lengths),
        "mean_hashes": round(sum(lengths) / proofs, 1),
        "max_bytes": max(lengths) * 32,
        "log2_leaves": (tree.size - 1).bit_length(),
    }


def measure(leaves: int = LEAVES, proofs: int = PROOFS) -> dict[str, Any]:
    """All Merkle figures on a tree of ``leaves`` leaves (``proofs`` of each kind)."""
    data = [i.to_bytes(8, "big") for i in range(leaves)]
    tree, figures = _appends(data)
    root = tree.root()

    def inclusion(rng: random.Random) -> int:
        index = rng.randrange(leaves)
        proof = tree.inclusion_proof(index)
        verify_inclusion(leaf_hash(data[index]), index, leaves, proof, root)
        return len(proof)

    def consistency(rng: random.Random) -> int:
        old = rng.randrange(1, leaves + 1)
        proof = tree.consistency_proof(old)
        verify_consistency(old, leaves, tree.root(old), root, proof)
        return len(proof)

    figures["leaves"] = leaves
    figures["inclusion"] = _proofs(tree, proofs, inclusion)
    figures["consistency"] = _proofs(tree, proofs, consistency)
    return figures


def _filled_store(path: Path, events: int) -> Governance:
    """A SQLite store of ``events`` records: the specimen history's, then copies of its
    payloads under fresh originators (inserted raw: the bench times sealing, not saving)."""
    from eventsourcing.persistence import StoredEvent

    from govflow.application.specimens import SteppingClock, play

    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
        clock=SteppingClock(),
    )
    play(app)
    model = list(scan(app.log_reader))
    remaining = events - len(model)
    while remaining > 0:
        batch = [
            StoredEvent(uuid.uuid4(), 1, record.topic, record.state)
            for record in model[: min(remaining, len(model))]
        ]
        app.recorder.insert_events(batch)
        remaining -= len(batch)
    return app


def sealing(events: int = SEALED_EVENTS) -> dict[str, Any]:
    """Seal and verify a SQLite log of ``events`` records, each against its baseline."""
    from govflow.application.sealer import Sealer
    from govflow.transparency import Signer, generate_key
    from govflow.transparency.export_verify import verify_export

    with tempfile.TemporaryDirectory() as tmp:
        app = _filled_store(Path(tmp) / "events.db", events)
        try:
            total = app.log_reader.last_id()
            read_s = _seconds(lambda: sum(1 for _ in scan(app.log_reader)))
            skey, vkey = generate_key("govflow/bench")
            sealer = Sealer.of(app, Signer.from_skey(skey))
            checkpoint = None

            def seal() -> None:
                nonlocal checkpoint
                checkpoint = sealer.seal()

            seal_s = _seconds(seal)
            chain_s = _seconds(app.extend_audit_chain)
            assert checkpoint is not None and checkpoint.size == total
            export, public = Path(tmp) / "log.jsonl", Path(tmp) / "public.jsonl"
            with export.open("wb") as out:
                app.export_log(out)
            with public.open("wb") as out:
                app.export_log(out, public=True)
        finally:
            app.close()
        with export.open("rb") as lines:
            parse_s = _seconds(lambda: [orjson.loads(line) for line in lines])
        with export.open("rb") as lines:
            verify_s = _seconds(
                lambda: verify_export(lines, checkpoint.note, [Verifier.from_vkey(vkey)])
            )
        withheld = 0

        def verify_public() -> None:
            nonlocal withheld
            with public.open("rb") as lines:
                keys = [Verifier.from_vkey(vkey)]
                withheld = verify_export(lines, checkpoint.note, keys).withheld

        public_s = _seconds(verify_public)
    return {
        "events": total,
        "sealed_per_s": _per_s(total, seal_s),
        "read_per_s": _per_s(total, read_s),
        "audit_chain_per_s": _per_s(total, chain_s),
        "seal_vs_read": round(read_s / seal_s, 2),
        "seal_vs_audit_chain": round(chain_s / seal_s, 2),
        "verified_per_s": _per_s(total, verify_s),
        "parsed_per_s": _per_s(total, parse_s),
        "verify_vs_parse": round(parse_s / verify_s, 2),
        "public_verified_per_s": _per_s(total, public_s),
        "public_withheld": withheld,
    }


def _seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"Merkle tree of {LEAVES:,} leaves: appends and proofs ...")
    figures = {"merkle_1000000": measure()}
    progress(f"Sealing and verifying a SQLite log of {SEALED_EVENTS:,} records ...")
    figures["sealing_sqlite"] = sealing()
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(print), indent=2))
