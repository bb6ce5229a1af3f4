"""RFC 9162 §2.1 Merkle trees: hashing, an append-only tree, inclusion and consistency proofs.

Hashing (SHA-256, domain-separated so a leaf can never pass for an interior node):

- leaf hash = SHA-256(0x00 || leaf bytes)
- node hash = SHA-256(0x01 || left child hash || right child hash)
- root of the empty tree = SHA-256("") (no leaves, no prefix)

``MerkleTree`` keeps every complete subtree's hash, level by level, in flat byte arrays (about
64 bytes per leaf in all), so a root at any size and any proof read O(log n) stored hashes and
compute O(log n) new ones. ``Frontier`` keeps only the O(log n) hashes needed to go on appending
and to give the current root: the state of a sealer or of a verifier streaming a whole log.
The verifiers are RFC 9162 §2.1.3.2 and §2.1.4.2 word for word, with the size checks of
transparency-dev/merkle (a consistency proof from the empty tree is refused as meaningless).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

from govflow.transparency.errors import (
    InvalidHashError,
    InvalidProofError,
    OutOfRangeError,
    RootMismatchError,
)

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 hash of one leaf: SHA-256(0x00 || data)."""
    return sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    return sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n > 1): where RFC 9162 splits n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidHashError(f"{what} is {len(value)} bytes, not {HASH_SIZE}", length=len(value))


class Frontier:
    """The right edge of a tree (a compact range from leaf 0): enough to append and to give
    the root, in O(log n) hashes. It cannot make proofs; ``MerkleTree`` can."""

    def __init__(self) -> None:
        self._size = 0
        # One hash per set bit of the size: the complete subtrees of the size's binary
        # decomposition, largest (leftmost) first.
        self._peaks: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    @classmethod
    def resume(cls, size: int, peaks: Sequence[bytes]) -> Frontier:
        """The right edge of a tree of ``size`` leaves, from its peaks: the roots of the
        complete subtrees of the size's binary decomposition, largest (leftmost) first."""
        if size < 0 or len(peaks) != size.bit_count():
            raise OutOfRangeError(
                f"a tree of {size} leaves has {max(size, 0).bit_count()} peaks, not {len(peaks)}",
                size=size,
            )
        for peak in peaks:
            _check_hash(peak, "peak")
        frontier = cls()
        frontier._size, frontier._peaks = size, list(peaks)
        return frontier

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash (``leaf_hash(data)``) at the right edge; the subtrees it completes,
        each as ``(level, index at that level, hash)`` (none when the new size is odd)."""
        _check_hash(leaf, "leaf hash")
        node, index, level = leaf, self._size, 0
        completed: list[tuple[int, int, bytes]] = []
        while index & 1:
            node = node_hash(self._peaks.pop(), node)
            index >>= 1
            level += 1
            completed.append((level, index, node))
        self._peaks.append(node)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """The root hash at the current size."""
        if not self._peaks:
            return EMPTY_ROOT
        acc = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            acc = node_hash(peak, acc)
        return acc


class MerkleTree:
    """An append-only RFC 9162 tree that keeps every complete subtree's hash.

    Level 0 holds the leaf hashes; level k holds the hash of each complete, aligned subtree of
    2**k leaves. Appending hashes one node per level the new leaf completes (on average one).
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = []
        self._size = 0
        self.extend(leaves)

    @property
    def size(self) -> int:
        return self._size

    @property
    def stored_bytes(self) -> int:
        """The bytes of hashes kept: about 64 a leaf (each leaf's, and each subtree's)."""
        return sum(len(level) for level in self._levels)

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash (``leaf_hash(data)``); return its index."""
        _check_hash(leaf, "leaf hash")
        levels = self._levels
        index = self._size
        node = leaf
        level = 0
        while True:
            if level == len(levels):
                levels.append(bytearray())
            row = levels[level]
            row += node
            if not index & 1:
                break
            node = sha256(_NODE + row[-64:]).digest()
            index >>= 1
            level += 1
        self._size += 1
        return self._size - 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        self._check_index(index, self._size)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (default: all of them)."""
        size = self._check_size(size)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the sibling hashes from leaf to root."""
        size = self._check_size(size)
        self._check_index(index, size)
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            mid = start + _split(end - start)
            if index < mid:
                path.append(self._range_hash(mid, end))
                end = mid
            else:
                path.append(self._range_hash(start, mid))
                start = mid
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]): what shows the tree of
        ``old_size`` leaves is a prefix of the tree of ``new_size`` leaves."""
        new_size = self._check_size(new_size)
        if not 0 < old_size <= new_size:
            raise OutOfRangeError(
                f"no consistency proof from size {old_size} to {new_size}",
                old_size=old_size,
                new_size=new_size,
            )
        path: list[bytes] = []
        start, end, m, complete = 0, new_size, old_size, True
        # SUBPROOF(m, D[start:end], complete), unrolled; the hashes come out root first.
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
                m -= k
                complete = False
        if not complete:
            path.append(self._range_hash(start, end))
        path.reverse()
        return path

    def _node(self, level: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a non-empty range whose start is a multiple of the largest power
        of two not above its length (every range in the RFC's recursion is): the fold, right to
        left, of the complete subtrees of the length's binary decomposition."""
        n = end - start
        acc = b""
        pos = end
        for level in range(n.bit_length()):
            if n >> level & 1:
                pos -= 1 << level
                node = self._node(level, pos >> level)
                acc = node_hash(node, acc) if acc else node
        return acc

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise OutOfRangeError(
                f"size {size} is not between 0 and the tree's {self._size}",
                size=size,
                tree_size=self._size,
            )
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise OutOfRangeError(
                f"leaf {index} is not in a tree of {size} leaves", index=index, size=size
            )


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``proof`` leads to from ``leaf`` at ``index``."""
    if not 0 <= index < size:
        raise InvalidProofError(
            f"leaf {index} is not in a tree of {size} leaves", index=index, size=size
        )
    _check_proof_hash(leaf)
    for element in proof:
        _check_proof_hash(element)
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise InvalidProofError("inclusion proof is too long", length=len(proof))
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("inclusion proof is too short", length=len(proof))
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Raises:
        InvalidProofError: the proof is malformed for that index and size.
        RootMismatchError: the proof leads to another root.
    """
    _check_root(root_from_inclusion_proof(leaf, index, size, proof), root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree ``old_root`` of ``old_size`` leaves is a prefix
    of the tree ``new_root`` of ``new_size`` leaves.

    Raises:
        InvalidProofError: the sizes or the proof's shape are wrong.
        RootMismatchError: the proof does not lead to both roots.
    """
    if new_size < old_size:
        raise InvalidProofError(
            f"new size {new_size} is below old size {old_size}",
            old_size=old_size,
            new_size=new_size,
        )
    if old_size == 0:
        raise InvalidProofError("a consistency proof from the empty tree is meaningless")
    if old_size == new_size:
        if proof:
            raise InvalidProofError("equal sizes need an empty proof", length=len(proof))
        _check_root(old_root, new_root)
        return
    if not proof:
        raise InvalidProofError("consistency proof is empty")
    for element in proof:
        _check_proof_hash(element)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProofError("consistency proof is too long", length=len(proof))
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("consistency proof is too short", length=len(proof))
    _check_root(fr, old_root)
    _check_root(sr, new_root)


def _check_proof_hash(element: bytes) -> None:
    if len(element) != HASH_SIZE:
        raise InvalidProofError(
            f"a hash in the proof is {len(element)} bytes, not {HASH_SIZE}", length=len(element)
        )


def _check_root(calculated: bytes, expected: bytes) -> None:
    if calculated != expected:
        raise RootMismatchError(
            "the proof leads to another root",
            expected=expected.hex(),
            calculated=calculated.hex(),
        )
