"""``/v1/log``: the verifiable log's signed checkpoints and its inclusion and consistency
proofs. Public, like the board: they show hashes only. Every record is a leaf, private ones
too (the log is complete), and a leaf commits to a salted digest of the record, so a hash
shows nothing of it. A council's verifiable export, and a record's proof with its line, are
for those who may read the council's events (a token): its records that its feed shows come
with data and salt, every other one with its commitment only. Hashes are base64, as in the
checkpoints' notes. Witnesses post their cosignatures here
without a token: only those by a witness the council's settings name are kept, and every
checkpoint served carries them (the note with the witnesses' lines after the log's)."""

from __future__ import annotations

from base64 import b64encode
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from govflow.application.log_store import StoredCheckpoint
from govflow.application.log_witnesses import LogWitnesses
from govflow.application.sealer import LogProofs
from govflow.entrypoints.deps import App, Caller, reader
from govflow.transparency import Verifier

router = APIRouter(prefix="/v1/log", tags=["log"])
Size = Annotated[int, Query(ge=1, le=2**63 - 1, description="a checkpoint's tree size")]
PathSize = Annotated[int, Path(ge=1, le=2**63 - 1, description="a checkpoint's tree size")]
MAX_COSIGNATURE = 16 * 1024  # a checkpoint note with a few lines is well under 1 KiB


async def _witnessing(request: Request, app: App) -> LogWitnesses:
    expected: tuple[Verifier, ...] = getattr(request.app.state, "log_witnesses", ())
    minimum: int = getattr(request.app.state, "log_min_witnesses", 0)
    return LogWitnesses.of(app, expected, minimum)


Witnessing = Annotated[LogWitnesses, Depends(_witnessing)]


class CheckpointView(BaseModel):
    size: int = Field(description="leaves (records) in the tree")
    notification_id: int = Field(description="the last record sealed in it")
    root: str = Field(description="base64 of the RFC 9162 root hash")
    note: str = Field(
        description="the checkpoint as a C2SP signed note: the log's signature, then the "
        "witnesses' cosignatures (c2sp.org/tlog-cosignature)"
    )
    signed_at: datetime
    witnesses: list[str] = Field(description="the names of the witnesses who co-signed it")
    witnessed: bool = Field(
        description="whether at least min_witnesses of the witnesses the council names "
        "co-signed it (always, with no minimum)"
    )
    min_witnesses: int = Field(description="the minimum (GOVFLOW_LOG_MIN_WITNESSES); 0: none")


class InclusionProofView(BaseModel):
    notification_id: int
    leaf_index: int
    tree_size: int
    proof: list[str] = Field(description="base64 sibling hashes, leaf to root (RFC 9162)")
    checkpoint: CheckpointView


class RecordProofView(InclusionProofView):
    record: str = Field(
        description="the record's line of the council's verifiable export: its data and salt "
        "if the council's feed shows it, else only its commitment; its leaf is recomputed "
        "from it (govflow verify-proof)"
    )


class ConsistencyProofView(BaseModel):
    old_size: int
    new_size: int
    proof: list[str] = Field(description="base64 hashes (RFC 9162 §2.1.4)")
    old: CheckpointView
    new: CheckpointView


def _views(witnessing: LogWitnesses, *checkpoints: StoredCheckpoint) -> list[CheckpointView]:
    return [
        CheckpointView(
            size=c.checkpoint.size,
            notification_id=c.checkpoint.notification_id,
            root=_b64(c.checkpoint.root),
            note=c.note,
            signed_at=c.checkpoint.signed_at,
            witnesses=c.witnesses,
            witnessed=c.witnessed,
            min_witnesses=c.minimum,
        )
        for c in witnessing.cosigned(checkpoints)
    ]


def _view(witnessing: LogWitnesses, checkpoint: StoredCheckpoint) -> CheckpointView:
    return _views(witnessing, checkpoint)[0]


def _b64(value: bytes) -> str:
    return b64encode(value).decode()


@router.get("/checkpoints")
def list_checkpoints(
    app: App,
    witnessing: Witnessing,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="a tree size")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[CheckpointView]:
    """Every signed checkpoint, oldest first, in pages: continue with ``after`` = the last
    size received. None is ever removed."""
    return _views(witnessing, *LogProofs.of(app).list_checkpoints(after, limit))


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "a C2SP signed note"}},
)
def checkpoint_note(app: App, witnessing: Witnessing) -> PlainTextResponse:
    """The newest checkpoint as its signed note with the witnesses' cosignatures, plain text
    (as C2SP tlog logs serve it): save it and give it to ``govflow verify``."""
    return PlainTextResponse(_view(witnessing, LogProofs.of(app).get_checkpoint()).note)


@router.get("/checkpoints/latest")
def latest_checkpoint(app: App, witnessing: Witnessing) -> CheckpointView:
    """The newest signed checkpoint."""
    return _view(witnessing, LogProofs.of(app).get_checkpoint())


@router.get("/checkpoints/{size}")
def get_checkpoint(size: PathSize, app: App, witnessing: Witnessing) -> CheckpointView:
    """The signed checkpoint of ``size`` leaves."""
    return _view(witnessing, LogProofs.of(app).get_checkpoint(size))


@router.post(
    "/checkpoints/{size}/cosignatures",
    openapi_extra={"requestBody": {"content": {"text/plain": {}}, "required": True}},
)
def add_cosignatures(
    size: PathSize,
    witnessing: Witnessing,
    body: Annotated[str, Body(media_type="text/plain", max_length=MAX_COSIGNATURE)],
) -> CheckpointView:
    """A witness's cosignature of the checkpoint of ``size`` leaves (c2sp.org/tlog-cosignature):
    the checkpoint's note with the witness's line, or the bare line, as text. No token: it is
    kept only if it verifies by the key of a witness the council expects (403
    ``witness.unknown`` otherwise, 422 ``witness.invalid_cosignature`` for a line that does not
    verify, 404 ``witness.unknown_checkpoint`` for a checkpoint the log never issued, 422
    ``witness.future_timestamp`` for one dated more than 5 minutes ahead of the server's
    clock); nothing is kept if one is refused. Returns the checkpoint with all its
    cosignatures."""
    cosigned = witnessing.add_cosignatures(size, body)
    return _views(witnessing, cosigned.checkpoint)[0]


@router.get("/proofs/inclusion")
def inclusion_proof(
    app: App,
    witnessing: Witnessing,
    notification_id: Annotated[int, Query(alias="id", ge=1, le=2**63 - 1)],
    size: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> InclusionProofView:
    """The proof that record ``id`` of the log is in the checkpoint of ``size`` leaves
    (default: the newest). Hash the record's leaf (see docs/transparency.md) and walk it up
    to the checkpoint's root."""
    index, proof, checkpoint = LogProofs.of(app).get_inclusion_proof(notification_id, size)
    return InclusionProofView(
        notification_id=notification_id,
        leaf_index=index,
        tree_size=checkpoint.size,
        proof=[_b64(h) for h in proof],
        checkpoint=_view(witnessing, checkpoint),
    )


@router.get("/councils/{code}/proofs/inclusion")
def record_proof(
    code: str,
    caller: Caller,
    app: App,
    witnessing: Witnessing,
    notification_id: Annotated[int, Query(alias="id", ge=1, le=2**63 - 1)],
    size: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> RecordProofView:
    """Record ``id``'s inclusion proof with its line of the council's verifiable export (any
    reader of the council): its data and salt if the council's feed shows it, else (private,
    another council's, a choice of an open or secret vote) only its commitment, which the
    proof still shows included. ``govflow verify-proof`` checks it as it is."""
    reader(caller, code)
    line = app.export_line(notification_id, code)
    index, proof, checkpoint = LogProofs.of(app).get_inclusion_proof(notification_id, size)
    return RecordProofView(
        notification_id=notification_id,
        leaf_index=index,
        tree_size=checkpoint.size,
        proof=[_b64(h) for h in proof],
        checkpoint=_view(witnessing, checkpoint),
        record=line.decode().rstrip("\n"),
    )


@router.get(
    "/councils/{code}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "JSON lines"}},
)
def council_export(code: str, caller: Caller, app: App) -> StreamingResponse:
    """The council's verifiable export of the whole log (any reader of the council), streamed
    as JSON lines in log order: a record of the council that its feed shows with its data and
    salt, every other one (private, another council's, a choice of an open or secret vote) with
    its commitment only. Every leaf can be recomputed from it:
    ``govflow verify export.jsonl checkpoint.txt --key ...``."""
    reader(caller, code)
    app.council_to_read(code)
    lines = app.export_lines(public=True, council=code)
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.get("/proofs/consistency")
def consistency_proof(
    app: App,
    witnessing: Witnessing,
    old_size: Annotated[int, Query(alias="from", ge=1, le=2**63 - 1)],
    new_size: Annotated[int, Query(alias="to", ge=1, le=2**63 - 1)],
) -> ConsistencyProofView:
    """The proof that the checkpoint of ``from`` leaves is a prefix of that of ``to``: the
    log only grew in between."""
    proof, old, new = LogProofs.of(app).get_consistency_proof(old_size, new_size)
    return ConsistencyProofView(
        old_size=old.size,
        new_size=new.size,
        proof=[_b64(h) for h in proof],
        old=_view(witnessing, old),
        new=_view(witnessing, new),
    )
