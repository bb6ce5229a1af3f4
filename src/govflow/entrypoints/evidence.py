"""Uploaded files through the server's evidence store (:mod:`govflow.application.evidence_store`):
kept by sha256, and checked against it again when read back."""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from govflow.application.evidence_store import EvidenceStore
from govflow.domain.errors import GovflowError


def evidence_store(request: Request) -> EvidenceStore | None:
    """The store this server keeps files in (None: it keeps none)."""
    store: EvidenceStore | None = request.app.state.evidence
    return store


async def keep(store: EvidenceStore | None, content: bytes) -> str:
    """Keep ``content`` in ``store`` (when there is one), off the event loop; its sha256."""
    digest = hashlib.sha256(content).hexdigest()
    if store is not None:
        await run_in_threadpool(store.put, digest, content)
    return digest


def read_checked(store: EvidenceStore | None, sha256: str) -> bytes | None:
    """The file ``sha256`` from ``store`` (None: not kept), refused if its bytes have changed."""
    content = store.get(sha256) if store is not None else None
    if content is not None and hashlib.sha256(content).hexdigest() != sha256:
        raise GovflowError("the stored file does not match its sha256")
    return content
