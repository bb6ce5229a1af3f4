"""Running govflow commands as real processes in tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def start_govflow(args: list[str], environ: dict[str, str], ready: str) -> subprocess.Popen[str]:
    """Start ``python -m govflow ARGS`` and return once it prints a line containing ``ready``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "govflow", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if ready in line:
            return process
    raise AssertionError(f"govflow {' '.join(args)} did not start:\n" + "".join(seen))
