"""A verifiable log's building blocks, usable on their own: RFC 9162 Merkle trees with
inclusion and consistency proofs, and C2SP signed notes and checkpoints (Ed25519).

Nothing here imports the rest of govflow (an import-linter contract keeps it so), so a resident's
or a witness's verifier can use it without the engine. See docs/transparency.md.
"""

from govflow.transparency.checkpoint import Checkpoint, open_checkpoint
from govflow.transparency.errors import (
    AmbiguousKeyError,
    InvalidHashError,
    InvalidKeyError,
    InvalidProofError,
    InvalidSignatureError,
    MalformedCheckpointError,
    MalformedNoteError,
    OutOfRangeError,
    RootMismatchError,
    TransparencyError,
    UnverifiedNoteError,
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
from govflow.transparency.note import (
    Note,
    OpenedNote,
    Signature,
    Signer,
    Verifier,
    generate_key,
    open_note,
    parse_note,
    sign_note,
)

__all__ = [
    "EMPTY_ROOT",
    "AmbiguousKeyError",
    "Checkpoint",
    "Frontier",
    "InvalidHashError",
    "InvalidKeyError",
    "InvalidProofError",
    "InvalidSignatureError",
    "MalformedCheckpointError",
    "MalformedNoteError",
    "MerkleTree",
    "Note",
    "OpenedNote",
    "OutOfRangeError",
    "RootMismatchError",
    "Signature",
    "Signer",
    "TransparencyError",
    "UnverifiedNoteError",
    "Verifier",
    "generate_key",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "root_from_inclusion_proof",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
]
