"""``/v1/log``: the verifiable log's signed checkpoints and its inclusion and consistency
proofs. Public, like the board: they show hashes only. Every record is a leaf, private ones
too (the log is complete), but no record's data is served here; a leaf hash shows nothing of
it. Hashes are base64, as in the checkpoints' notes."""

from __future__ import annotations

from base64 import b64encode
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from govflow.application.log_store import StoredCheckpoint
from govflow.application.sealer import LogProofs
from govflow.entrypoints.deps import App

router = APIRouter(prefix="/v1/log", tags=["log"])
Size = Annotated[int, Query(ge=1, le=2**63 - 1, description="a checkpoint's tree size")]


class CheckpointView(BaseModel):
    size: int = Field(description="leaves (records) in the tree")
    notification_id: int = Field(description="the last record sealed in it")
    root: str = Field(description="base64 of the RFC 9162 root hash")
    note: str = Field(description="the checkpoint as a C2SP signed note, as published")
    signed_at: datetime


class InclusionProofView(BaseModel):
    notification_id: int
    leaf_index: int
    tree_size: int
    proof: list[str] = Field(description="base64 sibling hashes, leaf to root (RFC 9162)")
    checkpoint: CheckpointView


class ConsistencyProofView(BaseModel):
    old_size: int
    new_size: int
    proof: list[str] = Field(description="base64 hashes (RFC 9162 §2.1.4)")
    old: CheckpointView
    new: CheckpointView


def _view(checkpoint: StoredCheckpoint) -> CheckpointView:
    return CheckpointView(
        size=checkpoint.size,
        notification_id=checkpoint.notification_id,
        root=_b64(checkpoint.root),
        note=checkpoint.note,
        signed_at=checkpoint.signed_at,
    )


def _b64(value: bytes) -> str:
    return b64encode(value).decode()


@router.get("/checkpoints")
def list_checkpoints(
    app: App,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="a tree size")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[CheckpointView]:
    """Every signed checkpoint, oldest first, in pages: continue with ``after`` = the last
    size received. None is ever removed."""
    return [_view(c) for c in LogProofs.of(app).list_checkpoints(after, limit)]


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "a C2SP signed note"}},
)
def checkpoint_note(app: App) -> PlainTextResponse:
    """The newest checkpoint as its signed note, plain text (as C2SP tlog logs serve it):
    save it and give it to ``govflow verify``."""
    return PlainTextResponse(LogProofs.of(app).get_checkpoint().note)


@router.get("/checkpoints/latest")
def latest_checkpoint(app: App) -> CheckpointView:
    """The newest signed checkpoint."""
    return _view(LogProofs.of(app).get_checkpoint())


@router.get("/checkpoints/{size}")
def get_checkpoint(size: int, app: App) -> CheckpointView:
    """The signed checkpoint of ``size`` leaves."""
    return _view(LogProofs.of(app).get_checkpoint(size))


@router.get("/proofs/inclusion")
def inclusion_proof(
    app: App,
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
        checkpoint=_view(checkpoint),
    )


@router.get("/proofs/consistency")
def consistency_proof(
    app: App,
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
        old=_view(old),
        new=_view(new),
    )
