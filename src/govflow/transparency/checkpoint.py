"""Checkpoints (c2sp.org/tlog-checkpoint): the signed head of a log's Merkle tree.

A checkpoint is a signed note whose text is::

    <origin: the log's unique name, e.g. example.org/council-log>
    <tree size in decimal, no leading zeros>
    <base64 of the 32-byte RFC 9162 root hash at that size>
    [optional extension lines, each non-empty]

The log signs with a key whose name SHOULD be the origin; witnesses add their signatures to the
same note.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from govflow.transparency.errors import MalformedCheckpointError
from govflow.transparency.merkle import HASH_SIZE
from govflow.transparency.note import OpenedNote, Signer, Verifier, open_note, sign_note


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, the tree size and the root hash at that size."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedCheckpointError("the origin is one non-empty line")
        if self.size < 0:
            raise MalformedCheckpointError("the tree size is not negative", size=self.size)
        if len(self.root) != HASH_SIZE:
            raise MalformedCheckpointError("the root hash is 32 bytes", length=len(self.root))
        if any(not line or "\n" in line for line in self.extensions):
            raise MalformedCheckpointError("extension lines are single non-empty lines")

    def body(self) -> str:
        """The note text that is signed."""
        root = base64.b64encode(self.root).decode()
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)

    def sign(self, *signers: Signer) -> str:
        """The checkpoint as a signed note."""
        return sign_note(self.body(), *signers)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint in a note text (the part before the signatures)."""
        if not text.endswith("\n"):
            raise MalformedCheckpointError("a checkpoint ends in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpointError("a checkpoint has at least three lines")
        origin, size, root, *extensions = lines
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise MalformedCheckpointError("the tree size is a decimal without leading zeros")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except binascii.Error as error:
            raise MalformedCheckpointError("the root hash is not base64") from error
        return cls(origin, int(size), root_hash, tuple(extensions))


def open_checkpoint(
    message: str | bytes, known: Iterable[Verifier], origin: str | None = None
) -> tuple[Checkpoint, OpenedNote]:
    """Verify a signed checkpoint against the known keys (see ``open_note``) and parse it.

    ``origin``, if given, must be the checkpoint's origin: a checkpoint of another log signed
    by a key that also signs this one's is refused.
    """
    opened = open_note(message, known)
    checkpoint = Checkpoint.parse(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise MalformedCheckpointError(
            "the checkpoint is of another log", origin=checkpoint.origin, expected=origin
        )
    return checkpoint, opened
