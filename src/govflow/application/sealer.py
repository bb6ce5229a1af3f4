"""The verifiable log: seal the notification log into an RFC 9162 Merkle tree, sign a
checkpoint per sealed batch, and answer inclusion and consistency proofs.

One consumer (:class:`Sealer`) reads new records in log order, hashes each into a leaf (every
record, private ones included: the log is complete), and writes the leaves with each record's
salt, the new subtree hashes, its position and a checkpoint signed with the log's key in one
transaction per batch (:mod:`govflow.application.log_store`). A leaf commits to a salted digest
of the record's stored bytes (v2, :mod:`govflow.transparency.records`): 16 random bytes per
record, made here and kept with the leaf, so that a leaf hash served in a proof cannot be
matched against guessed contents (a ballot's choice). A tree found sealed with v1 leaves is
superseded (its checkpoints kept aside, listed) and the v2 tree built from the first record.
Killed mid-batch, it loses that batch only and seals it again on the next run; a second sealer
racing it writes nothing. Proofs (:class:`LogProofs`) read O(log n) stored hashes and need no
key.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from govflow.application.audit_store import AuditStore
from govflow.application.log_reader import LogReader
from govflow.application.log_store import (
    InMemoryLogStore,
    LogStore,
    Node,
    SealedLeaf,
    StoredCheckpoint,
    postgres_log_store,
    sqlite_log_store,
)
from govflow.domain.errors import InvalidInputError, NotFoundError
from govflow.transparency import Checkpoint, Frontier, MerkleTree, Signer
from govflow.transparency.chain import ChainBinding
from govflow.transparency.records import (
    LEAF_EXTENSION,
    SALT_SIZE,
    hyphenated,
    record_leaf_hash,
)

if TYPE_CHECKING:
    from govflow.application.core import GovernanceCore

BATCH = 10_000
Progress = Callable[[int], None]
Salts = Callable[[int, int], dict[int, bytes]]  # (after, upto] -> salts kept elsewhere
ChainAt = Callable[[int], ChainBinding | None]  # a tree size -> the chain digest it binds
_stores: WeakKeyDictionary[GovernanceCore, LogStore] = WeakKeyDictionary()
_stores_lock = threading.Lock()


def log_store_of(app: GovernanceCore) -> LogStore:
    """The log's tables beside ``app``'s events (one store per application: an in-memory
    one must be shared by the sealer and the proof reads)."""
    with _stores_lock:
        store = _stores.get(app)
        if store is None:

            def memory() -> LogStore:
                return InMemoryLogStore()

            store = _stores[app] = app.side_store(sqlite_log_store, postgres_log_store, memory)
        return store


def peak_nodes(size: int) -> list[Node]:
    """The complete subtrees of a tree of ``size`` leaves' right edge (one per set bit of the
    size), largest (leftmost) first: all a sealer needs to go on appending."""
    return [
        (level, (size >> level) - 1)
        for level in reversed(range(size.bit_length()))
        if size >> level & 1
    ]


class Sealer:
    """Seals new records of the notification log into the tree and signs checkpoints.

    Args:
        reader: the notification log.
        store: where the tree and the checkpoints are kept.
        signer: the log's key; its name is the checkpoints' origin.
        clock: when a checkpoint is signed.
        batch: records per transaction (and per checkpoint).
        chain: the old linear audit chain's digest each checkpoint binds (its newest link
            within the checkpoint's size, :func:`chain_binding_of`); None: none.
    """

    def __init__(
        self,
        reader: LogReader,
        store: LogStore,
        signer: Signer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch: int = BATCH,
        chain: ChainAt | None = None,
    ) -> None:
        self.reader, self.store, self.signer = reader, store, signer
        self.clock, self.batch, self.chain = clock, batch, chain

    @classmethod
    def of(cls, app: GovernanceCore, signer: Signer, batch: int = BATCH) -> Sealer:
        audit: AuditStore | None = getattr(app, "audit_store", None)
        chain = chain_binding_of(audit) if audit is not None else None
        return cls(app.log_reader, log_store_of(app), signer, app.clock, batch, chain)

    @property
    def origin(self) -> str:
        return self.signer.name

    def seal(self, progress: Progress | None = None) -> StoredCheckpoint | None:
        """Seal every record not yet in the tree, one signed checkpoint per batch; returns the
        last checkpoint written (None if there was nothing new). A v1 tree is superseded
        first (``superseded``: how many of its checkpoints were moved aside) and the whole
        log sealed again."""
        if self.store.is_legacy():
            self.superseded = self.store.supersede()
        return extend_tree(self.reader, self.store, self._sign, self.batch, progress)

    superseded = 0

    def _sign(self, size: int, notification_id: int, root: bytes) -> StoredCheckpoint:
        bound = self.chain(size) if self.chain is not None else None
        extensions = (LEAF_EXTENSION, *((bound.line(),) if bound is not None else ()))
        note = Checkpoint(self.origin, size, root, extensions).sign(self.signer)
        return StoredCheckpoint(size, notification_id, root, note, self.clock())


def chain_binding_of(audit: AuditStore) -> ChainAt:
    """The audit chain's digest a checkpoint of ``size`` leaves binds: its link at that
    position, or its head if the chain has not got that far (the worker extends it on its
    own round); None while the chain is empty. The chain and the tree hold the same records
    in the same order, so the chain's position p is the tree's first p leaves."""

    def at(size: int) -> ChainBinding | None:
        head = audit.head()
        if head is None:
            return None
        link = head
        if head.position > size:
            found = audit.links(size - 1, 1)
            if not found or found[0].position != size:
                return None
            link = found[0]
        return ChainBinding(link.position, bytes.fromhex(link.digest))

    return at


def extend_tree(
    reader: LogReader,
    store: LogStore,
    sign: Callable[[int, int, bytes], StoredCheckpoint] | None,
    batch: int = BATCH,
    progress: Progress | None = None,
    salts: Salts | None = None,
) -> StoredCheckpoint | None:
    """Append every record after the tree's position, a batch per transaction, each batch
    with the checkpoint ``sign`` makes of it (none without ``sign``: a rebuilt tree). Each
    record gets a fresh random salt, or the one ``salts`` gives for it (a copied tree)."""
    if store.is_legacy():
        raise RuntimeError("the tree holds v1 leaves: supersede it before extending it")
    size, after = store.size()
    found = store.nodes(peak_nodes(size))
    # KeyError: a damaged tree, loudly
    frontier = Frontier.resume(size, [found[key] for key in peak_nodes(size)])
    latest = None
    while True:
        records = reader.records(after, batch)
        if not records:
            return latest
        leaves: list[SealedLeaf] = []
        nodes: list[tuple[int, int, bytes]] = []
        fresh = secrets.token_bytes(SALT_SIZE * len(records))
        kept = salts(after, records[-1].id) if salts else {}
        for n, record in enumerate(records):
            salt = kept.get(record.id) or fresh[n * SALT_SIZE : (n + 1) * SALT_SIZE]
            leaf = record_leaf_hash(
                record.id,
                hyphenated(record.originator),
                record.version,
                record.topic,
                record.state,
                salt,
            )
            leaves.append(SealedLeaf(frontier.size, record.id, leaf, salt))
            nodes.extend(frontier.append(leaf))  # the subtrees the new leaf completes
        checkpoint = sign(frontier.size, records[-1].id, frontier.root()) if sign else None
        store.seal(leaves, nodes, checkpoint)
        latest, after = checkpoint or latest, records[-1].id
        if progress:
            progress(len(records))
        if len(records) < batch:
            return latest


def copy_log_tree(source: GovernanceCore, target: GovernanceCore) -> int:
    """After a migration: build the target's tree from its own records and the source's
    salts (the same ids, bytes and salts, so the same leaves) and copy every signed checkpoint
    of the source, each checked against the rebuilt tree first, with its witnesses'
    cosignatures, and the superseded checkpoints of a v1 tree it had (not their cosignatures).
    Returns how many checkpoints were copied; safe to re-run.

    Raises:
        RuntimeError: a source checkpoint's root is not the target's at that size: the
            copied log differs from the one that was signed; or the source's tree is v1
            (seal it once with ``govflow audit seal`` first, which supersedes it).
    """
    store, kept = log_store_of(target), log_store_of(source)
    if kept.is_legacy():
        raise RuntimeError(
            "the source's tree has v1 leaves: run govflow audit seal on it first (it rebuilds "
            "the tree with salted v2 leaves)"
        )
    extend_tree(target.log_reader, store, None, salts=kept.salts)
    proofs, copied = LogProofs(store), 0
    size = store.size()[0]
    sizes: list[int] = []

    def copy_cosignatures() -> None:  # witnesses' lines verify over the same checkpoint text
        store.add_cosignatures([c for found in kept.cosignatures(sizes).values() for c in found])
        sizes.clear()

    for checkpoint in iterate_checkpoints(kept):
        if checkpoint.size > size or proofs.root(checkpoint.size) != checkpoint.root:
            raise RuntimeError(
                f"checkpoint {checkpoint.size} of the source does not match the copied log"
            )
        store.add_checkpoint(checkpoint)
        copied += 1
        sizes.append(checkpoint.size)
        if len(sizes) >= 1000:
            copy_cosignatures()
    copy_cosignatures()
    store.keep_superseded(kept.superseded_checkpoints())  # a v1 tree's, listed as before
    return copied


def iterate_checkpoints(store: LogStore, batch: int = 1000) -> Iterator[StoredCheckpoint]:
    after = 0
    while True:
        page = store.checkpoints(after, batch)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].size


class _StoredTree(MerkleTree):
    """The stored tree seen through MerkleTree's proof algorithms: its nodes come from
    ``lookup`` instead of memory (MerkleTree reads every node through ``_node``)."""

    def __init__(self, size: int, lookup: Callable[[int, int], bytes]) -> None:
        super().__init__()
        self._size = size
        self._lookup = lookup

    def _node(self, level: int, index: int) -> bytes:
        return self._lookup(level, index)


class LogProofs:
    """Checkpoints and proofs of the stored tree: public reads, no key needed."""

    def __init__(self, store: LogStore) -> None:
        self.store = store

    @classmethod
    def of(cls, app: GovernanceCore) -> LogProofs:
        return cls(log_store_of(app))

    def list_checkpoints(self, after_size: int = 0, limit: int = 1000) -> list[StoredCheckpoint]:
        return self.store.checkpoints(after_size, limit)

    def get_checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        """The checkpoint of ``size`` leaves (default: the latest)."""
        checkpoint = self.store.checkpoint(size)
        if checkpoint is None:
            raise NotFoundError(
                "no checkpoint of that size" if size is not None else "nothing is sealed yet",
                size=size,
            )
        return checkpoint

    def get_inclusion_proof(
        self, notification_id: int, size: int | None = None
    ) -> tuple[int, list[bytes], StoredCheckpoint]:
        """The leaf index of a record and the proof that it is in the checkpoint of ``size``
        leaves (default: the latest), with that checkpoint."""
        checkpoint = self.get_checkpoint(size)
        index = self.store.leaf_index(notification_id)
        if index is None:
            raise NotFoundError("that record is not sealed yet", notification_id=notification_id)
        if index >= checkpoint.size:
            raise InvalidInputError(
                "that record was sealed after this checkpoint",
                notification_id=notification_id,
                size=checkpoint.size,
            )
        proof = self._prove(checkpoint.size, lambda tree: tree.inclusion_proof(index))
        return index, proof, checkpoint

    def get_consistency_proof(
        self, old_size: int, new_size: int
    ) -> tuple[list[bytes], StoredCheckpoint, StoredCheckpoint]:
        """The proof that the checkpoint of ``old_size`` leaves is a prefix of that of
        ``new_size``, with both checkpoints."""
        if not 0 < old_size <= new_size:
            raise InvalidInputError(
                "a consistency proof goes from a smaller non-empty tree to a larger one",
                old_size=old_size,
                new_size=new_size,
            )
        old, new = self.get_checkpoint(old_size), self.get_checkpoint(new_size)
        proof = self._prove(new_size, lambda tree: tree.consistency_proof(old_size))
        return proof, old, new

    def root(self, size: int) -> bytes:
        """The stored tree's root at ``size`` (at most its size) leaves."""
        return self._prove(size, lambda tree: [tree.root()])[0]

    def _prove(self, size: int, make: Callable[[MerkleTree], list[bytes]]) -> list[bytes]:
        """Run a proof twice: once to learn which stored hashes it reads, then on them, read
        in one query."""
        wanted: list[Node] = []

        def record(level: int, index: int) -> bytes:
            wanted.append((level, index))
            return bytes(32)

        make(_StoredTree(size, record))
        found = self.store.nodes(wanted)
        return make(_StoredTree(size, lambda level, index: found[(level, index)]))
