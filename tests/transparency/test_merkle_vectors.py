"""The Merkle tree against transparency-dev/merkle's published vectors (RFC 6962/9162 hashing).

The vectors are copied in data/merkle_vectors.json; its ``_source`` names the files and commits.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from govflow.transparency import (
    EMPTY_ROOT,
    Frontier,
    InvalidProofError,
    MerkleTree,
    OutOfRangeError,
    TransparencyError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "merkle_vectors.json").read_text())
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]
ROOTS = [bytes.fromhex(h) for h in VECTORS["roots_hex"]]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _tree() -> MerkleTree:
    return MerkleTree(leaf_hash(data) for data in LEAVES)


def test_leaf_hashes_are_sha256_of_0x00_and_the_data() -> None:
    """Each reference leaf hashes to the published level-0 node hash."""
    assert [leaf_hash(data).hex() for data in LEAVES] == VECTORS["leaf_hashes_hex"]


def test_the_empty_tree_root_is_sha256_of_nothing() -> None:
    """A tree with no leaves has root SHA-256("")."""
    assert MerkleTree().root() == EMPTY_ROOT == ROOTS[0]
    assert Frontier().root() == EMPTY_ROOT


def test_roots_at_every_size_match_the_reference() -> None:
    """The tree's root at each size 0..8, and a frontier's after each append, are the
    reference roots."""
    tree = _tree()
    frontier = Frontier()
    assert tree.root(0) == ROOTS[0]
    for size, data in enumerate(LEAVES, start=1):
        frontier.append(leaf_hash(data))
        assert tree.root(size) == ROOTS[size] == frontier.root()


@pytest.mark.parametrize("case", VECTORS["inclusion_proofs"], ids=str)
def test_generated_inclusion_proofs_match_the_reference(case: dict[str, Any]) -> None:
    """Inclusion proofs are the reference's, hash for hash, and verify."""
    tree = _tree()
    index, size = case["leaf_1based"] - 1, case["size"]
    proof = tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == case["proof_hex"]
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize("case", VECTORS["consistency_proofs"], ids=str)
def test_generated_consistency_proofs_match_the_reference(case: dict[str, Any]) -> None:
    """Consistency proofs are the reference's, hash for hash, and verify."""
    tree = _tree()
    old, new = case["size1"], case["size2"]
    proof = tree.consistency_proof(old, new)
    assert [p.hex() for p in proof] == case["proof_hex"]
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize("probe", VECTORS["probes"]["inclusion"], ids=lambda p: p["file"])
def test_inclusion_probes_verify_exactly_when_the_reference_says(probe: dict[str, Any]) -> None:
    """Each published inclusion probe passes or fails as its ``wantErr`` says."""

    def verify() -> None:
        verify_inclusion(
            _b64(probe["leafHash"]),
            probe["leafIdx"],
            probe["treeSize"],
            [_b64(p) for p in probe["proof"] or []],
            _b64(probe["root"]),
        )

    if probe["wantErr"]:
        with pytest.raises(InvalidProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("probe", VECTORS["probes"]["consistency"], ids=lambda p: p["file"])
def test_consistency_probes_verify_exactly_when_the_reference_says(probe: dict[str, Any]) -> None:
    """Each published consistency probe passes or fails as its ``wantErr`` says."""

    def verify() -> None:
        verify_consistency(
            probe["size1"],
            probe["size2"],
            _b64(probe["root1"]),
            _b64(probe["root2"]),
            [_b64(p) for p in probe["proof"] or []],
        )

    if probe["wantErr"]:
        with pytest.raises(InvalidProofError):
            verify()
    else:
        verify()


def test_proofs_outside_the_tree_are_refused_with_a_stable_code() -> None:
    """Asking for a leaf or size the tree does not have raises merkle.out_of_range."""
    tree = _tree()
    for ask in (
        lambda: tree.inclusion_proof(8),
        lambda: tree.inclusion_proof(0, 9),
        lambda: tree.consistency_proof(0, 4),
        lambda: tree.consistency_proof(5, 4),
        lambda: tree.root(9),
        lambda: tree.leaf(-1),
    ):
        with pytest.raises(OutOfRangeError) as caught:
            ask()
        assert caught.value.code == "merkle.out_of_range"
        assert isinstance(caught.value, TransparencyError)


def test_a_leaf_hash_of_the_wrong_length_is_refused() -> None:
    """Appending anything but a 32-byte hash raises merkle.invalid_hash."""
    for target in (MerkleTree(), Frontier()):
        with pytest.raises(TransparencyError) as caught:
            target.append(b"not a hash")
        assert caught.value.code == "merkle.invalid_hash"
