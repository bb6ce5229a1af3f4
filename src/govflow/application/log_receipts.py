"""Where one record stands in the verifiable log, for the pages that hand its proof to a
resident: a ballot receipt's record (the app), a notice or spending disclosure (the board).

:func:`inclusion_of` takes the newest checkpoint (or a named one), the record's inclusion proof
in it and the record's line of the verifiable export, and checks them here with the library
against the log's public key, as ``govflow verify-proof`` would, so a page only renders what it
returns. For a reader of a council (the app) the line is the council's verifiable export's
(``export_line``): a withheld record (a secret vote's choice, any choice of an open vote) by its
commitment only, so a proof never shows a choice. For anyone (the board) it is the record's
commitment only, even for a notice: the record's data holds more than the board shows (its
actor), and the board never shows actors; it proves the record is in the log at its place,
unchanged since sealed, and a council's reader gets the line with its data from the council's
proof (``/v1/log/councils/{code}/proofs/inclusion``). :func:`notice_position` is where a
notice's text (as posted, or as last corrected) is in the log.
"""

from __future__ import annotations

import threading
from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID
from weakref import WeakKeyDictionary

import orjson

from govflow.application.log_reader import scan
from govflow.application.log_witnesses import LogWitnesses
from govflow.application.sealer import LogProofs, log_store_of
from govflow.domain.errors import GovflowError, InvalidInputError, NotFoundError
from govflow.domain.notice import NoticeCorrected, NoticePosted
from govflow.transparency import TransparencyError, Verifier
from govflow.transparency.export_verify import check_inclusion_proof
from govflow.transparency.records import commitment

if TYPE_CHECKING:
    from govflow.application.core import GovernanceCore
    from govflow.application.governance import Governance


class LogKeyMissingError(GovflowError):
    """The server was given no public key of its log: a proof cannot be checked here."""

    code = "log_receipt.no_key"
    status = 503


class ProofNotVerifiedError(GovflowError):
    """The proof the log gives does not verify against its checkpoint and key (a damaged
    tree, or a key that is not the log's)."""

    code = "log_receipt.not_verified"
    status = 500


@dataclass(frozen=True)
class LogInclusion:
    """A record's place in the log and, once sealed, its checked proof.

    ``checkpoint_size`` is None while no checkpoint covers the record yet; otherwise ``proof``
    is the proof as ``/v1/log/proofs/inclusion`` serves it with the record's line (what
    ``govflow verify-proof`` takes) and ``note`` the checkpoint's signed note, cosignatures
    included; both verified with the log's key. ``withheld``: the line holds only the record's
    commitment (its content is not shown)."""

    notification_id: int
    checkpoint_size: int | None = None
    leaf_index: int | None = None
    note: str = ""
    proof: dict[str, Any] = field(default_factory=dict)
    withheld: bool = False

    @property
    def sealed(self) -> bool:
        return self.checkpoint_size is not None

    def proof_json(self) -> bytes:
        return orjson.dumps(self.proof, option=orjson.OPT_INDENT_2) + b"\n"


def inclusion_of(
    app: Governance,
    notification_id: int,
    log_keys: Sequence[Verifier],
    *,
    council: str | None = None,
    size: int | None = None,
) -> LogInclusion:
    """Record ``notification_id``'s inclusion in the checkpoint of ``size`` leaves (default:
    the newest), checked against ``log_keys``; not sealed yet (no checkpoint covers it), an
    inclusion without checkpoint. Its line: as ``council``'s verifiable export shows it to the
    council's readers, or (no council: anyone) its commitment only.

    Raises:
        LogKeyMissingError: no key to check the proof with (``log_receipt.no_key``).
        ProofNotVerifiedError: the proof does not verify (``log_receipt.not_verified``).
        NotFoundError: no such record, or no checkpoint of ``size`` leaves.
        InvalidInputError: the record was sealed after the checkpoint of ``size`` leaves.
    """
    if not log_keys:
        raise LogKeyMissingError("the log's public key is not configured on this server")
    proofs = LogProofs.of(app)
    try:
        index, hashes, checkpoint = proofs.get_inclusion_proof(notification_id, size)
    except (NotFoundError, InvalidInputError):
        if size is not None:
            raise
        app.export_line(notification_id)  # NotFoundError: no such record
        return LogInclusion(notification_id)  # not sealed yet (or sealed a moment ago)
    if council is not None:
        line = app.export_line(notification_id, council)
    else:
        line = committed_line(app, notification_id)
    cosigned = LogWitnesses.of(app, ()).cosigned([checkpoint])[0]  # the note as published
    proof: dict[str, Any] = {
        "notification_id": notification_id,
        "leaf_index": index,
        "tree_size": checkpoint.size,
        "proof": [b64encode(h).decode() for h in hashes],
        "checkpoint": {
            "size": checkpoint.size,
            "notification_id": checkpoint.notification_id,
            "root": b64encode(checkpoint.root).decode(),
            "note": cosigned.note,
            "signed_at": checkpoint.signed_at.isoformat(),
            "witnesses": cosigned.witnesses,
        },
        "record": line.decode().rstrip("\n"),
    }
    try:
        check_inclusion_proof(None, cosigned.note, proof, log_keys)
    except TransparencyError as error:
        raise ProofNotVerifiedError(
            f"the inclusion proof does not verify: {error.message}",
            notification_id=notification_id,
            size=checkpoint.size,
            reason=error.code,
        ) from None
    withheld = "commitment" in orjson.loads(line)
    return LogInclusion(notification_id, checkpoint.size, index, cosigned.note, proof, withheld)


def committed_line(app: GovernanceCore, notification_id: int) -> bytes:
    """A sealed record's line of a verifiable export by its commitment only (its id, originator,
    version, topic and the commitment of its salt and stored bytes): shows nothing of it."""
    records = app.log_reader.records(notification_id - 1, 1)
    salt = log_store_of(app).salts(notification_id - 1, notification_id).get(notification_id)
    if not records or records[0].id != notification_id or salt is None:
        raise NotFoundError("no such sealed record", notification_id=notification_id)
    record = records[0]
    line = {
        "notification_id": record.id,
        "originator_id": str(UUID(hex=record.originator)),
        "originator_version": record.version,
        "topic": record.topic,
        "commitment": commitment(salt, record.state).hex(),
    }
    return orjson.dumps(line) + b"\n"


class _NoticeIndex:
    """Each notice's latest text record (posted, or last corrected), kept current from the log
    by its notices' topics only; what was scanned is not scanned again."""

    def __init__(self) -> None:
        self.position = 0
        self.records: dict[UUID, int] = {}
        self.lock = threading.Lock()

    def of(self, app: GovernanceCore, notice_id: UUID) -> int | None:
        with self.lock:
            last = app.log_reader.last_id()
            if last > self.position:
                topics = (NoticePosted.TOPIC, NoticeCorrected.TOPIC)
                for record in scan(app.log_reader, self.position, stop=last, topics=topics):
                    self.records[UUID(hex=record.originator)] = record.id
                self.position = last
            return self.records.get(notice_id)


_indexes: WeakKeyDictionary[GovernanceCore, _NoticeIndex] = WeakKeyDictionary()
_indexes_lock = threading.Lock()


def notice_position(app: GovernanceCore, notice_id: UUID) -> int:
    """The notification id of the record holding notice ``notice_id``'s text as shown (its
    posting, or its last correction).

    Raises:
        NotFoundError: no such notice in the log.
    """
    with _indexes_lock:
        index = _indexes.get(app)
        if index is None:
            index = _indexes[app] = _NoticeIndex()
    found = index.of(app, notice_id)
    if found is None:
        raise NotFoundError("no such notice in the log", notice_id=str(notice_id))
    return found
