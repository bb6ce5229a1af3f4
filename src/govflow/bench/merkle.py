"""Merkle tree figures on a 1,000,000-leaf tree, each against a baseline from the same run:

- appends per second (leaf hashed, then appended) vs bare SHA-256 of each leaf alone, the least
  any tree must do; the same for a ``Frontier`` (the O(log n) state a sealer or a streaming
  verifier keeps);
- an inclusion proof and a consistency proof, each generated and verified, in ms, vs computing
  as many bare node hashes as a proof has elements; proof sizes in hashes and bytes against
  ceil(log2 n).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from hashlib import sha256
from typing import Any

from govflow.transparency import (
    Frontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = 1_000_000
PROOFS = 1_000


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


def run(progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"Merkle tree of {LEAVES:,} leaves: appends and proofs ...")
    return {"merkle_1000000": measure()}


if __name__ == "__main__":
    import json

    print(json.dumps(run(print), indent=2))
