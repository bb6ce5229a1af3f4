"""Meeting evidence on disk: content-addressed by sha256, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def store_evidence(directory: Path, digest: str, content: bytes) -> Path:
    """Keep ``content`` as ``directory/<sha256>`` (a crash leaves no half file under it)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / digest
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-")
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    return target
