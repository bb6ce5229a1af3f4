"""Check an export of govflow's log against signed checkpoints, without the database.

``verify_export`` opens the checkpoint (its log signature, and each expected witness's),
recomputes every leaf from the export (:mod:`govflow.transparency.records`), folds them into
the tree and compares the root at the checkpoint's size; optionally it proves one record's
inclusion, and recomputes an older checkpoint's root from the same records (the older log is
then a prefix of the newer: consistency). Records beyond the checkpoint are counted, not
checked. ``check_inclusion_proof`` and ``check_consistency_proof`` check one record, or two
checkpoints, with the proofs the log serves instead of a whole export. Every failure is a
``TransparencyError`` with a stable code.

Leaves are v2 (salted commitments, :mod:`govflow.transparency.records`): the operator's full
export and a council's verifiable one both verify whole. A record such an export withholds is
checked through its commitment only: it is in the tree at its place, unchanged since it was
sealed, but what it says cannot be checked (nor seen) without its salt and bytes. A checkpoint
that does not name v2 leaves (an older v1 tree, superseded) is refused
(``verify.leaf_version``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from govflow.transparency.chain import CHAIN_GENESIS, ChainBinding, chain_binding, chain_step
from govflow.transparency.checkpoint import Checkpoint, open_checkpoint
from govflow.transparency.errors import TransparencyError
from govflow.transparency.merkle import (
    Frontier,
    MerkleTree,
    verify_consistency,
    verify_inclusion,
)
from govflow.transparency.note import Verifier
from govflow.transparency.records import (
    LEAF_EXTENSION,
    ExportedRecord,
    read_export,
    read_line,
)

PROGRESS_EVERY = 10_000


class VerificationError(TransparencyError):
    """The export does not match a checkpoint."""

    code = "verify.failed"


class RootMismatchError(VerificationError):
    """The export's records do not make the checkpoint's root: a record was changed,
    removed, inserted or reordered, or the checkpoint is of another history."""

    code = "verify.root_mismatch"


class ExportTooShortError(VerificationError):
    code = "verify.export_too_short"


class RecordNotFoundError(VerificationError):
    code = "verify.no_such_record"


class MissingWitnessError(VerificationError):
    code = "verify.missing_witness"


class TooFewWitnessesError(MissingWitnessError):
    """Fewer of the given witnesses co-signed the checkpoint (validly) than the minimum."""

    code = "verify.too_few_witnesses"


class CheckpointOrderError(VerificationError):
    code = "verify.checkpoint_order"


class LeafVersionError(VerificationError):
    """A checkpoint over leaves of another version (v1, before salted commitments)."""

    code = "verify.leaf_version"


class ChainMismatchError(VerificationError):
    """The export's first records do not make the audit chain digest the checkpoint binds."""

    code = "verify.chain_mismatch"


class ChainWithheldError(VerificationError):
    """A chain digest asked for cannot be recomputed: the export withholds a record before
    its position (a council's export; the operator's has every record's bytes)."""

    code = "verify.chain_withheld"


class NotSealedError(VerificationError):
    """A record within the checkpoint that the export gives without a salt or commitment."""

    code = "verify.not_sealed"


def _v2(checkpoint: Checkpoint) -> Checkpoint:
    if LEAF_EXTENSION not in checkpoint.extensions:
        raise LeafVersionError(
            "the checkpoint is not over govflow/log-record/v2 leaves (a superseded v1 tree?)",
            size=checkpoint.size,
        )
    return checkpoint


def _leaf(record: ExportedRecord) -> bytes:
    if record.leaf is None:
        raise NotSealedError(
            f"record {record.notification_id} (line {record.line}) has no salt or commitment: "
            "the export was made before it was sealed",
            notification_id=record.notification_id,
        )
    return record.leaf


@dataclass(frozen=True)
class Inclusion:
    notification_id: int
    leaf_index: int
    topic: str
    proof_length: int


@dataclass(frozen=True)
class Verdict:
    """What was checked: the checkpoint, the records in it and those after it, witnesses
    whose signatures verified, and the optional inclusion and older checkpoint."""

    checkpoint: Checkpoint
    checked: int
    beyond: int
    witnesses: tuple[str, ...]
    inclusion: Inclusion | None = None
    older: Checkpoint | None = None
    withheld: int = 0  # records of the checkpoint checked through their commitment only
    chain: ChainBinding | None = None  # the audit chain digest the checkpoint binds, if any
    chain_checked: bool = False  # recomputed from the export (False: a record was withheld)


def open_signed(
    note: str | bytes,
    log_keys: Sequence[Verifier],
    witness_keys: Sequence[Verifier] = (),
    min_witnesses: int | None = None,
) -> tuple[Checkpoint, tuple[str, ...]]:
    """Open a checkpoint signed by one of ``log_keys`` (its origin is that key's name) and
    co-signed by every one of ``witness_keys``, or, with ``min_witnesses``, by at least that
    many of them (a cosignature by a given witness that does not verify fails the note
    whole, ``note.invalid_signature``). Returns the checkpoint and the names of the given
    witnesses who co-signed it."""
    checkpoint, opened = open_checkpoint(note, [*log_keys, *witness_keys])
    by = opened.verified_by()
    if not by & {key.name for key in log_keys}:
        raise VerificationError(
            "the checkpoint is not signed by the log's key", signed_by=sorted(by)
        )
    if checkpoint.origin not in {key.name for key in log_keys} & by:
        raise VerificationError(
            "the checkpoint's origin is not the name of the log key that signed it",
            origin=checkpoint.origin,
        )
    expected = {key.name for key in witness_keys}
    missing = sorted(expected - by)
    if min_witnesses is not None:
        cosigned = len(expected & by)
        if cosigned < min_witnesses:
            raise TooFewWitnessesError(
                f"{cosigned} of the given witnesses co-signed the checkpoint, fewer than "
                f"{min_witnesses}",
                cosigned=cosigned,
                minimum=min_witnesses,
                missing=missing,
            )
        return checkpoint, tuple(sorted(expected & by))
    if missing:
        raise MissingWitnessError("an expected witness did not co-sign", missing=missing)
    return checkpoint, tuple(sorted(expected))


def verify_export(
    lines: Iterable[bytes],
    note: str | bytes,
    log_keys: Sequence[Verifier],
    *,
    witness_keys: Sequence[Verifier] = (),
    min_witnesses: int | None = None,
    inclusion: int | None = None,
    older_note: str | bytes | None = None,
    chain_digests: Sequence[ChainBinding] = (),
    progress: Callable[[int], None] | None = None,
) -> Verdict:
    """Check the export ``lines`` (binary, in log order) against the signed checkpoint
    ``note``; see the module's docstring.

    Raises:
        TransparencyError: a bad signature or note (``note.*``, ``checkpoint.*``), a malformed
            export (``export.malformed``) or a mismatch (``verify.*``).
    """
    checkpoint, witnesses = open_signed(note, log_keys, witness_keys, min_witnesses)
    _v2(checkpoint)
    older = None
    if older_note is not None:
        older, _ = open_signed(older_note, log_keys)
        _v2(older)
        if older.origin != checkpoint.origin or not 0 < older.size <= checkpoint.size:
            raise CheckpointOrderError(
                "the older checkpoint is not an earlier state of the same log",
                older=older.size,
                newer=checkpoint.size,
            )
    size = checkpoint.size
    bound = chain_binding(checkpoint.extensions, size)
    for kept in chain_digests:
        if not 0 < kept.position <= size:
            raise ChainMismatchError(
                f"the audit chain digest at {kept.position} is not within checkpoint {size}",
                position=kept.position,
                size=size,
            )
    links = [b for b in (bound, older_bound(older), *chain_digests) if b is not None]
    chain, chain_at, chain_whole = CHAIN_GENESIS, 0, True
    frontier = Frontier()
    # Only to prove one record's inclusion: every leaf hash (32 bytes each) up to the size.
    tree = MerkleTree() if inclusion is not None else None
    found: tuple[int, ExportedRecord] | None = None
    beyond = withheld = 0
    for record in read_export(lines):
        if frontier.size == size:
            beyond += 1
            continue
        leaf = _leaf(record)
        withheld += record.withheld
        if chain_whole and links and chain_at < max(b.position for b in links):
            if record.stored is None:
                chain_whole = False  # withheld: the chain cannot be recomputed past it
            else:
                chain = chain_step(
                    chain,
                    record.notification_id,
                    record.originator_id,
                    record.version,
                    record.topic,
                    record.stored,
                )
                chain_at += 1
                for link in links:
                    if link.position == chain_at and link.digest != chain:
                        raise ChainMismatchError(
                            f"the export's first {chain_at} records do not make the audit "
                            "chain digest a checkpoint binds",
                            position=chain_at,
                            expected=link.digest.hex(),
                            calculated=chain.hex(),
                        )
        frontier.append(leaf)
        if tree is not None:
            tree.append(leaf)
        if record.notification_id == inclusion:
            found = (frontier.size - 1, record)
        if older is not None and frontier.size == older.size:
            _check_root(frontier.root(), older, "the older checkpoint")
        if progress and frontier.size % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress:
        progress(frontier.size % PROGRESS_EVERY)
    if frontier.size < size:
        raise ExportTooShortError(
            f"the export holds {frontier.size} records, the checkpoint {size}",
            records=frontier.size,
            size=size,
        )
    _check_root(frontier.root(), checkpoint, "the checkpoint")
    proved = None
    if inclusion is not None:
        proved = _prove(tree, found, inclusion, checkpoint)
    chain_checked = bound is not None and chain_whole and chain_at >= bound.position
    for kept in chain_digests:
        if chain_at < kept.position:
            raise ChainWithheldError(
                f"the export withholds a record before {kept.position}: the audit chain cannot "
                "be recomputed (use the operator's export)",
                position=kept.position,
            )
    return Verdict(
        checkpoint, size, beyond, witnesses, proved, older, withheld, bound, chain_checked
    )


def older_bound(older: Checkpoint | None) -> ChainBinding | None:
    return chain_binding(older.extensions, older.size) if older is not None else None


def _check_root(root: bytes, checkpoint: Checkpoint, what: str) -> None:
    if root != checkpoint.root:
        raise RootMismatchError(
            f"the export's first {checkpoint.size} records do not make {what}'s root: "
            "the log was rewritten, or this export is of another history",
            size=checkpoint.size,
            expected=checkpoint.root.hex(),
            calculated=root.hex(),
        )


def _prove(
    tree: MerkleTree | None,
    found: tuple[int, ExportedRecord] | None,
    wanted: int,
    checkpoint: Checkpoint,
) -> Inclusion:
    """The record's inclusion proof, made from the export's tree and checked on its own
    against the signed root, as a resident holding only that record and proof would."""
    if tree is None or found is None:
        raise RecordNotFoundError(
            f"record {wanted} is not among the checkpoint's records", notification_id=wanted
        )
    index, record = found
    proof = tree.inclusion_proof(index)
    verify_inclusion(_leaf(record), index, checkpoint.size, proof, checkpoint.root)
    return Inclusion(record.notification_id, index, record.topic, len(proof))


class ProofMismatchError(VerificationError):
    """A proof (as served by /v1/log/proofs/...) that does not fit the record or the
    checkpoints it is checked with."""

    code = "verify.proof_mismatch"


def _hashes(values: Any) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ProofMismatchError("the proof's hashes are not a list of base64 strings")
    try:
        return [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, ValueError) as error:
        raise ProofMismatchError("a hash of the proof is not base64") from error


def check_inclusion_proof(
    record_line: bytes | None,
    note: str | bytes,
    proof: dict[str, Any],
    log_keys: Sequence[Verifier],
    witness_keys: Sequence[Verifier] = (),
    min_witnesses: int | None = None,
) -> Inclusion:
    """Check one record (its export line; by default the line a council's proof carries in
    ``record``) against a signed checkpoint with the inclusion proof the log served for it
    (``GET /v1/log/proofs/inclusion``): no whole export needed.

    Raises:
        TransparencyError: a bad note, a proof of another record or checkpoint
            (``verify.proof_mismatch``), or a proof that does not reach the signed root.
    """
    checkpoint, _ = open_signed(note, log_keys, witness_keys, min_witnesses)
    _v2(checkpoint)
    if record_line is None:
        served = proof.get("record")
        if not isinstance(served, str):
            raise ProofMismatchError("the proof carries no record line")
        record_line = served.encode()
    record = read_line(record_line, 1)
    if proof.get("notification_id") != record.notification_id:
        raise ProofMismatchError(
            "the proof is for another record",
            record=record.notification_id,
            proof=proof.get("notification_id"),
        )
    if proof.get("tree_size") != checkpoint.size:
        raise ProofMismatchError(
            "the proof is for another checkpoint",
            checkpoint=checkpoint.size,
            proof=proof.get("tree_size"),
        )
    index = proof.get("leaf_index")
    if not isinstance(index, int):
        raise ProofMismatchError("the proof has no leaf index")
    hashes = _hashes(proof.get("proof"))
    verify_inclusion(_leaf(record), index, checkpoint.size, hashes, checkpoint.root)
    return Inclusion(record.notification_id, index, record.topic, len(hashes))


def check_consistency_proof(
    old_note: str | bytes,
    new_note: str | bytes,
    proof: dict[str, Any],
    log_keys: Sequence[Verifier],
) -> tuple[Checkpoint, Checkpoint]:
    """Check that a newer signed checkpoint extends an older one with the consistency proof
    the log served (``GET /v1/log/proofs/consistency``): what a witness checks before it
    co-signs, no export needed.

    Raises:
        TransparencyError: a bad note, a proof of other sizes (``verify.proof_mismatch``),
            checkpoints of two logs or the wrong way round, or a proof that fails.
    """
    old, _ = open_signed(old_note, log_keys)
    new, _ = open_signed(new_note, log_keys)
    if old.origin != new.origin or not 0 < old.size <= new.size:
        raise CheckpointOrderError(
            "the older checkpoint is not an earlier state of the same log",
            older=old.size,
            newer=new.size,
        )
    if (proof.get("old_size"), proof.get("new_size")) != (old.size, new.size):
        raise ProofMismatchError(
            "the proof is for other checkpoints",
            proof=[proof.get("old_size"), proof.get("new_size")],
            checkpoints=[old.size, new.size],
        )
    verify_consistency(old.size, new.size, old.root, new.root, _hashes(proof.get("proof")))
    return old, new
