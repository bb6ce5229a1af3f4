"""Real govflow processes on one PostgreSQL database and one Temporal server: API processes and
workers started, killed with SIGKILL and restarted, and a real local webhook receiver.

Used by the reliability suite (``test_scale_out.py``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from govflow.transparency import generate_key
from tests.processes import ROOT, output_of, start_govflow

WORKFLOWS = ROOT / "workflows"
HOLD_AT_MOST = 8.0  # seconds a held webhook request waits (a delivery gives up after 10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_settings(dbname: str) -> dict[str, str]:
    """The GOVFLOW_* settings of a process on the test database ``dbname``."""
    return {
        "GOVFLOW_PERSISTENCE": "postgres",
        "GOVFLOW_POSTGRES_DBNAME": dbname,
        "GOVFLOW_POSTGRES_HOST": "127.0.0.1",
        "GOVFLOW_POSTGRES_PORT": "5432",
        "GOVFLOW_POSTGRES_USER": "postgres",
        "GOVFLOW_POSTGRES_PASSWORD": "",
    }


@dataclass
class Cluster:
    """The settings every process shares (one store, one Temporal, one task queue, the same
    token key and log key) and the processes started, killed or not."""

    dbname: str
    temporal: str
    task_queue: str
    data_dir: Path
    origin: str = "govflow/scale-out-test"
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.signing_key, self.public_key = generate_key(self.origin)
        self.token_key = secrets.token_hex(32)

    @property
    def environ(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("GOVFLOW_")}
        return {
            **base,
            **postgres_settings(self.dbname),
            "GOVFLOW_TEMPORAL_ADDRESS": self.temporal,
            "GOVFLOW_TASK_QUEUE": self.task_queue,
            "GOVFLOW_WORKFLOWS_DIR": str(WORKFLOWS),
            "GOVFLOW_DATA_DIR": str(self.data_dir),
            "GOVFLOW_EVIDENCE_STORE": "database",  # API processes need not share a disk
            "GOVFLOW_TOKEN_KEY": self.token_key,
            "GOVFLOW_LOG_PUBLIC_KEY": self.public_key,
            "GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "GOVFLOW_WEBHOOK_LEASE_SECONDS": "15",  # the shortest the settings allow
            "GOVFLOW_NOTIFY_ENABLED": "false",
            "GOVFLOW_LOG_FORMAT": "console",
            "COLUMNS": "200",
        }

    def start_api(self) -> Api:
        """``govflow api --demo`` on a free port (demo: the clerk may advance an item's clock
        on the time-skipping test server)."""
        port = free_port()
        environ = {**self.environ, "GOVFLOW_HTTP_PORT": str(port)}
        process = start_govflow(["api", "--demo"], environ, "Board:")
        self.processes.append(process)
        return Api(process, f"http://127.0.0.1:{port}")

    def start_worker(self) -> subprocess.Popen[str]:
        """``govflow worker`` with the log's signing key: it runs the sealer too."""
        environ = {**self.environ, "GOVFLOW_LOG_SIGNING_KEY": self.signing_key}
        process = start_govflow(["worker"], environ, "worker on task queue")
        self.processes.append(process)
        return process

    def govflow(self, *args: str, signing: bool = False) -> str:
        """``govflow ARGS`` as the operator on this store; must succeed; its standard output."""
        environ = self.environ
        if signing:
            environ = {**environ, "GOVFLOW_LOG_SIGNING_KEY": self.signing_key}
        done = subprocess.run(
            [sys.executable, "-m", "govflow", *args],
            env=environ,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def stop_all(self) -> str:
        """Kill what still runs; the output of every process (for a failing test)."""
        shown = []
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            shown.append(f"--- pid {process.pid} ---\n{output_of(process)}")
        return "\n".join(shown)


@dataclass
class Api:
    process: subprocess.Popen[str]
    url: str

    def kill(self) -> None:
        sigkill(self.process)


def sigkill(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


@dataclass
class Delivery:
    subscription: str
    delivery: int
    topic: str
    body: dict[str, Any]


class Receiver:
    """A real HTTP webhook receiver on 127.0.0.1 that answers 200 and keeps every request it
    got, in arrival order (duplicates included). While its ``gate`` is closed it holds each
    request unanswered (at most :data:`HOLD_AT_MOST` seconds, within a delivery's time budget),
    so that a delivery is in flight for as long as a test needs."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                with receiver.lock:
                    receiver.received.append(
                        Delivery(
                            self.headers["Govflow-Subscription"],
                            int(self.headers["Govflow-Delivery"]),
                            self.headers["Govflow-Event"],
                            body,
                        )
                    )
                receiver.gate.wait(HOLD_AT_MOST)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self.received)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
