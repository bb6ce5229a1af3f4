"""The old linear audit chain, bound into the Merkle tree's checkpoints.

Before the tree, govflow's log was sealed by a linear hash chain, kept and still extended
beside the tree (``govflow audit verify`` checks it, and every chain checkpoint published
before the tree keeps verifying)::

    digest_0 = 32 zero bytes
    digest_p = SHA-256(digest_{p-1} || "<id>|<originator, 32 hex digits>|<version>|<topic>|"
                       || stored payload bytes)

where record p is the p-th record of the log (its notification id, originator id, version,
topic and stored bytes, as in a leaf). Every checkpoint the sealer signs names the newest
chain digest it covers in an extension line::

    govflow/audit-chain <position p> <digest_p, 64 lowercase hex digits>

with p at most the checkpoint's size, so the log's key signs that the first p leaves of the
tree and the first p links of the chain are the same records: the tree's first checkpoint
binds the chain's last digest as it was, and a digest of the chain published before the tree
(a chain checkpoint someone kept) can be held against the same signed history.
``govflow verify`` recomputes the chain from an export whose first p records are whole (the
operator's) and refuses a mismatch (``verify.chain_mismatch``); from an export that withholds
one of them (a council's) it says the binding was not checked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from govflow.transparency.errors import MalformedCheckpointError

CHAIN_EXTENSION = "govflow/audit-chain"
CHAIN_GENESIS = bytes(32)
_LINE = re.compile(r"govflow/audit-chain ([1-9][0-9]{0,18}) ([0-9a-f]{64})")


@dataclass(frozen=True)
class ChainBinding:
    """A checkpoint's claim: the chain's digest after the first ``position`` records."""

    position: int
    digest: bytes

    def line(self) -> str:
        return f"{CHAIN_EXTENSION} {self.position} {self.digest.hex()}"


def chain_binding(extensions: Sequence[str], size: int) -> ChainBinding | None:
    """The audit chain binding among a checkpoint's extension lines (None if it has none).

    Raises:
        MalformedCheckpointError: a chain line that does not parse, beyond the checkpoint's
            size, or given twice.
    """
    found = [e for e in extensions if e.split(" ", 1)[0] == CHAIN_EXTENSION]
    if not found:
        return None
    matched = _LINE.fullmatch(found[0])
    if len(found) > 1 or matched is None or int(matched.group(1)) > size:
        raise MalformedCheckpointError("the checkpoint's audit chain line is malformed")
    return ChainBinding(int(matched.group(1)), bytes.fromhex(matched.group(2)))


def chain_step(
    previous: bytes,
    notification_id: int,
    originator_id: str,
    version: int,
    topic: str,
    stored: bytes,
) -> bytes:
    """The chain's next digest: ``originator_id`` as a UUID, hyphenated or 32 hex digits."""
    originator = originator_id.replace("-", "").lower()
    digest = hashlib.sha256(previous)
    digest.update(f"{notification_id}|{originator}|{version}|{topic}|".encode())
    digest.update(stored)
    return digest.digest()
