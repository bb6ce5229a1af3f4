"""Files the app keeps beside the log (a meeting's sign-in sheet, an item's progress photos):
each by its sha256 in the evidence store, and checked against it again when read back."""

from __future__ import annotations

import hashlib
from collections.abc import Container
from pathlib import Path

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from govflow.domain.errors import GovflowError, NotFoundError
from govflow.entrypoints.evidence import store_evidence


async def keep_file(request: Request, content: bytes) -> str:
    """Keep ``content`` in the evidence store (when the server has one); its sha256."""
    digest = hashlib.sha256(content).hexdigest()
    store: Path | None = request.app.state.evidence_dir
    if store is not None:
        await run_in_threadpool(store_evidence, store, digest, content)
    return digest


async def kept_file(request: Request, sha256: str, listed: Container[str], on: str) -> bytes:
    """The kept file ``sha256`` that a record (``on``: meeting, item) lists, checked again
    (``not_found`` if the record does not list it or the store does not hold it)."""
    store: Path | None = request.app.state.evidence_dir
    if sha256 not in listed or store is None or not (store / sha256).exists():
        raise NotFoundError(f"no such file on this {on}", sha256=sha256)
    content = await run_in_threadpool((store / sha256).read_bytes)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise GovflowError("the stored file does not match its sha256")
    return content
