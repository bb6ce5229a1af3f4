"""A verifiable log's building blocks, usable on their own: RFC 9162 Merkle trees with
inclusion and consistency proofs (signed notes and checkpoints to follow).

Nothing here imports the rest of govflow (an import-linter contract keeps it so), so a resident's
or a witness's verifier can use it without the engine. See docs/transparency.md.
"""

from govflow.transparency.errors import (
    InvalidHashError,
    InvalidProofError,
    OutOfRangeError,
    RootMismatchError,
    TransparencyError,
)
from govflow.transparency.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "InvalidHashError",
    "InvalidProofError",
    "MerkleTree",
    "OutOfRangeError",
    "RootMismatchError",
    "TransparencyError",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
