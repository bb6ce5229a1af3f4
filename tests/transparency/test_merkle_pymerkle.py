"""The Merkle tree cross-checked with pymerkle, an independent implementation, on random trees."""

from __future__ import annotations

import random

import pytest
from pymerkle import InmemoryTree, InvalidProof
from pymerkle import verify_consistency as pymerkle_verify_consistency
from pymerkle import verify_inclusion as pymerkle_verify_inclusion

from govflow.transparency import (
    InvalidProofError,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

SIZES = [1, 2, 3, 5, 8, 13, 31, 32, 33, 100, 255, 256, 257, 513]


def _trees(size: int, seed: int) -> tuple[MerkleTree, InmemoryTree]:
    """The same random leaves (of random lengths, some empty) in both implementations."""
    rng = random.Random(seed)
    ours = MerkleTree()
    theirs = InmemoryTree(algorithm="sha256")
    for _ in range(size):
        data = rng.randbytes(rng.randrange(0, 80))
        ours.append(leaf_hash(data))
        theirs.append_entry(data)
    return ours, theirs


@pytest.mark.parametrize("size", SIZES)
def test_leaf_hashes_and_roots_at_every_size_agree(size: int) -> None:
    """Leaf hashes and the root at every prefix size are pymerkle's."""
    ours, theirs = _trees(size, seed=size)
    for index in range(size):
        assert ours.leaf(index) == theirs.get_leaf(index + 1)
    for prefix in range(1, size + 1):
        assert ours.root(prefix) == theirs.get_root(prefix)


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs_agree_and_cross_verify(size: int) -> None:
    """Our inclusion proofs are pymerkle's audit paths, verify in pymerkle against our root,
    and pymerkle's verify against its root in ours."""
    ours, theirs = _trees(size, seed=1000 + size)
    rng = random.Random(size)
    for _ in range(25):
        prefix = rng.randrange(1, size + 1)
        index = rng.randrange(prefix)
        proof = ours.inclusion_proof(index, prefix)
        reference = theirs.prove_inclusion(index + 1, prefix)
        assert [bytes.fromhex(h) for h in reference.serialize()["path"][1:]] == proof
        pymerkle_verify_inclusion(ours.leaf(index), ours.root(prefix), reference)
        verify_inclusion(theirs.get_leaf(index + 1), index, prefix, proof, theirs.get_root(prefix))


@pytest.mark.parametrize("size", SIZES)
def test_consistency_proofs_cross_verify(size: int) -> None:
    """Consistency between random prefixes verifies in both implementations against the
    other's roots (pymerkle's proofs have another shape, so only verdicts are compared)."""
    ours, theirs = _trees(size, seed=2000 + size)
    rng = random.Random(size)
    for _ in range(25):
        new = rng.randrange(1, size + 1)
        old = rng.randrange(1, new + 1)
        verify_consistency(
            old, new, theirs.get_root(old), theirs.get_root(new), ours.consistency_proof(old, new)
        )
        reference = theirs.prove_consistency(old, new)
        pymerkle_verify_consistency(ours.root(old), ours.root(new), reference)


def test_a_forked_history_fails_in_both() -> None:
    """A tree whose leaf 3 was rewritten is not consistent with the original in either
    implementation, and the original's proofs fail against it."""
    ours, theirs = _trees(40, seed=7)
    forked = MerkleTree(ours.leaf(i) if i != 3 else leaf_hash(b"rewritten") for i in range(40))
    with pytest.raises(InvalidProofError):
        verify_consistency(10, 40, ours.root(10), forked.root(40), ours.consistency_proof(10, 40))
    with pytest.raises(InvalidProof):
        pymerkle_verify_consistency(
            forked.root(10), ours.root(40), theirs.prove_consistency(10, 40)
        )
    with pytest.raises(InvalidProofError):
        verify_inclusion(ours.leaf(3), 3, 40, ours.inclusion_proof(3), forked.root())
