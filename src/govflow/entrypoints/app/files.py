"""Files the app keeps beside the log (a meeting's sign-in sheet, an item's progress photos):
each by its sha256 in the evidence store, and checked against it again when read back."""

from __future__ import annotations

from collections.abc import Container

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from govflow.domain.errors import NotFoundError
from govflow.entrypoints.evidence import evidence_store, keep, read_checked


async def keep_file(request: Request, content: bytes) -> str:
    """Keep ``content`` in the evidence store (when the server has one); its sha256."""
    return await keep(evidence_store(request), content)


async def kept_file(request: Request, sha256: str, listed: Container[str], on: str) -> bytes:
    """The kept file ``sha256`` that a record (``on``: meeting, item) lists, checked again
    (``not_found`` if the record does not list it or the store does not hold it)."""
    content = None
    if sha256 in listed:
        content = await run_in_threadpool(read_checked, evidence_store(request), sha256)
    if content is None:
        raise NotFoundError(f"no such file on this {on}", sha256=sha256)
    return content
