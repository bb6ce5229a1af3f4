"""The tree's own promises: every proof it makes verifies, and any tampering is caught."""

from __future__ import annotations

import random

import pytest

from govflow.transparency import (
    Frontier,
    InvalidProofError,
    MerkleTree,
    leaf_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

SIZE = 70


def _tree(size: int = SIZE) -> MerkleTree:
    return MerkleTree(leaf_hash(i.to_bytes(4, "big")) for i in range(size))


def _flip(proof: list[bytes], at: int) -> list[bytes]:
    changed = bytearray(proof[at])
    changed[at % 32] ^= 1
    return [*proof[:at], bytes(changed), *proof[at + 1 :]]


def test_a_frontier_gives_the_same_roots_in_logarithmic_state() -> None:
    """After each append the frontier's root is the full tree's, and it holds one hash per
    set bit of the size."""
    tree = _tree(300)
    frontier = Frontier()
    for size in range(1, 301):
        frontier.append(tree.leaf(size - 1))
        assert frontier.root() == tree.root(size)
        assert len(frontier._peaks) == bin(size).count("1")


def test_every_inclusion_proof_verifies_and_is_logarithmic() -> None:
    """For every size up to 70 and every leaf, the proof verifies and has at most
    ceil(log2 size) hashes."""
    tree = _tree()
    for size in range(1, SIZE + 1):
        root = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert len(proof) <= (size - 1).bit_length()
            verify_inclusion(tree.leaf(index), index, size, proof, root)
            assert root_from_inclusion_proof(tree.leaf(index), index, size, proof) == root


def test_every_consistency_proof_verifies() -> None:
    """For every pair of sizes 1 <= old <= new <= 70 the proof verifies."""
    tree = _tree()
    for new in range(1, SIZE + 1):
        for old in range(1, new + 1):
            proof = tree.consistency_proof(old, new)
            assert len(proof) <= 2 * (new - 1).bit_length()
            verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def test_a_changed_hash_anywhere_in_a_proof_is_caught() -> None:
    """Flipping one bit of any proof hash, or proving another leaf or size, fails."""
    tree = _tree()
    rng = random.Random(13)
    for _ in range(200):
        size = rng.randrange(2, SIZE + 1)
        index = rng.randrange(size)
        proof = tree.inclusion_proof(index, size)
        for at in range(len(proof)):
            with pytest.raises(InvalidProofError):
                verify_inclusion(tree.leaf(index), index, size, _flip(proof, at), tree.root(size))
        other = (index + 1) % size
        with pytest.raises(InvalidProofError):
            verify_inclusion(tree.leaf(other), index, size, proof, tree.root(size))
        old = rng.randrange(1, size)
        proof = tree.consistency_proof(old, size)
        for at in range(len(proof)):
            with pytest.raises(InvalidProofError):
                verify_consistency(old, size, tree.root(old), tree.root(size), _flip(proof, at))
        with pytest.raises(InvalidProofError):
            verify_consistency(old, size, tree.root(old), tree.root(size), proof[:-1])
