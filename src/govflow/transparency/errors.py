"""The errors of the transparency library, each with a stable code.

The library imports nothing else from govflow (an import-linter contract says so), so these do
not derive from ``govflow.domain.errors``; a caller that serves them maps ``code`` itself.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TransparencyError(Exception):
    """Base of every error the transparency library raises on purpose.

    ``code`` is stable: callers and translations key on it, so never rename one.
    """

    code: ClassVar[str] = "transparency.error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidHashError(TransparencyError):
    """A value given as a SHA-256 hash is not 32 bytes long."""

    code = "merkle.invalid_hash"


class OutOfRangeError(TransparencyError):
    """A proof or root was asked for a leaf or size the tree does not have."""

    code = "merkle.out_of_range"


class InvalidProofError(TransparencyError):
    """A proof does not prove what it was presented for (wrong shape, sizes or hashes)."""

    code = "merkle.invalid_proof"


class RootMismatchError(InvalidProofError):
    """A well-formed proof leads to a root other than the expected one."""

    code = "merkle.root_mismatch"


class MalformedNoteError(TransparencyError):
    """Text that is not a signed note (or a note that cannot be signed) per c2sp.org/signed-note."""

    code = "note.malformed"


class InvalidKeyError(TransparencyError):
    """A signer or verifier key string that is not in the note key format."""

    code = "note.invalid_key"


class AmbiguousKeyError(TransparencyError):
    """Two known verifier keys share both name and key ID."""

    code = "note.ambiguous_key"


class InvalidSignatureError(TransparencyError):
    """A signature by a known key does not verify: the whole note is rejected."""

    code = "note.invalid_signature"


class UnverifiedNoteError(TransparencyError):
    """No signature on the note is by a known key."""

    code = "note.unverified"


class MalformedCheckpointError(TransparencyError):
    """A note text that is not a checkpoint body per c2sp.org/tlog-checkpoint."""

    code = "checkpoint.malformed"
