"""Running govflow commands as real processes in tests."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

ROOT = Path(__file__).parents[1]
OUTPUTS: dict[int, deque[str]] = {}  # pid -> the process's last lines, for failure messages


def start_govflow(args: list[str], environ: dict[str, str], ready: str) -> subprocess.Popen[str]:
    """Start ``python -m govflow ARGS`` and return once it prints a line containing ``ready``.

    Its output is drained from then on (a full pipe would block the process); the last lines
    are kept in ``OUTPUTS[pid]``.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "govflow", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    seen: deque[str] = deque(maxlen=200)
    for line in process.stdout:
        seen.append(line)
        if ready in line:
            OUTPUTS[process.pid] = seen
            threading.Thread(target=_drain, args=(process, seen), daemon=True).start()
            return process
    raise AssertionError(f"govflow {' '.join(args)} did not start:\n" + "".join(seen))


def _drain(process: subprocess.Popen[str], seen: deque[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)


def output_of(process: subprocess.Popen[str]) -> str:
    return "".join(OUTPUTS.get(process.pid, ()))
