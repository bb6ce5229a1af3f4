"""Ballots through a live ``govflow up`` against raw store saves in the same run.

The server is a real ``python -m govflow up`` process (uvicorn, the worker, the embedded
Temporal dev server, the audit and webhook pollers) on a fresh store. The council, its
members and their person tokens are set up straight in that store before it starts (as an
operator's bootstrap would); the item is proposed and its public deliberation closed through
the API with the chair's token. Then ``CLIENTS`` concurrent keep-alive clients post every
member's own ballot with that member's token. The baseline is raw eventsourcing saves into a
fresh store of the same kind, measured while the server is stopped.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from govflow.bench.store import _stores, raw_saves_per_s
from govflow.bootstrap import Settings, build_governance
from govflow.domain.council import Body

LIVE_BALLOTS = 3_000
CLIENTS = 8
CODE = "bench"
CHAIR = "c1"
PROCEDURE = "residents-assembly"  # votes by ballots after a public deliberation the chair closes
READY = "press Ctrl-C"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(store: dict[str, str], data_dir: Path) -> dict[str, str]:
    """``GOVFLOW_*`` settings for a server on the eventsourcing store ``store``."""
    env = {
        "GOVFLOW_DATA_DIR": str(data_dir),
        "GOVFLOW_HTTP_PORT": str(free_port()),
        "GOVFLOW_TEMPORAL_PORT": str(free_port()),
        "GOVFLOW_TEMPORAL_UI_PORT": "0",  # headless
        "GOVFLOW_TOKEN_KEY": secrets.token_urlsafe(32),  # as production requires
    }
    if store["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return {
            **env,
            "GOVFLOW_PERSISTENCE": "sqlite",
            "GOVFLOW_SQLITE_PATH": store["SQLITE_DBNAME"],
        }
    env["GOVFLOW_PERSISTENCE"] = "postgres"
    for key in ("DBNAME", "HOST", "PORT", "USER", "PASSWORD"):
        env[f"GOVFLOW_POSTGRES_{key}"] = store[f"POSTGRES_{key}"]
    return env


def _settings(env: dict[str, str]) -> Settings:
    """The settings the server reads: this environment, overridden by ``env``."""
    values: dict[str, Any] = {k.removeprefix("GOVFLOW_").lower(): v for k, v in env.items()}
    return Settings(**values)


def bootstrap(env: dict[str, str], voters: int) -> tuple[str, list[str]]:
    """A council with ``voters`` members of the residents' assembly and its chair; returns the
    chair's token and one person token per member (the chair stays away from the vote)."""
    app = build_governance(_settings(env))
    try:
        app.register_council(CODE, "bench", actor="clerk")
        council = app.council(CODE)
        at = app.now()
        council.enroll_member(
            CHAIR, "chair", at=at, actor="clerk", chairs=(Body.RESIDENTS_ASSEMBLY,)
        )
        for i in range(voters):
            council.enroll_member(
                f"v{i}", f"v{i}", at=at, actor="clerk", bodies=(Body.RESIDENTS_ASSEMBLY,)
            )
        app.save(council)
        chair = app.issue_token(CODE, CHAIR, actor="clerk")
        return chair, [app.issue_token(CODE, f"v{i}", actor="clerk") for i in range(voters)]
    finally:
        app.close()


@dataclass
class LiveServer:
    """A running ``govflow up``: its base URL and its last lines of output."""

    base: str
    process: subprocess.Popen[str]
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def running_up(env: dict[str, str], *, timeout: float = 120) -> Iterator[LiveServer]:
    """``govflow up`` as a subprocess until the block ends (or the bench exits, Ctrl-C too).
    It runs in its own session, so a server that does not stop on SIGINT is killed together
    with its Temporal dev server. A failure inside the block carries the server's output."""
    process = subprocess.Popen(
        [sys.executable, "-m", "govflow", "up"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = LiveServer(f"http://127.0.0.1:{env['GOVFLOW_HTTP_PORT']}", process)

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    atexit.register(stop)
    try:
        _wait_ready(server, timeout)
        try:
            yield server
        except Exception as error:
            raise RuntimeError(f"{error}\ngovflow up said:\n{server.output()}") from error
    finally:
        stop()
        atexit.unregister(stop)


def _wait_ready(server: LiveServer, timeout: float) -> None:
    """Until the server says it runs and its port answers (it prints before uvicorn binds)."""
    assert server.process.stdout is not None
    out = server.process.stdout
    ready = threading.Event()

    def drain() -> None:  # a full pipe would block the server
        for line in out:
            server.lines.append(line)
            if READY in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not (ready.wait(0.1) and _answers(server.base)):
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("govflow up did not start:\n" + server.output())


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200
    except httpx.TransportError:
        return False


async def _at_vote(client: httpx.AsyncClient, chair: str, timeout: float = 60) -> str:
    """Propose the item, close its public deliberation as chair, wait until voting is open."""
    auth = {"Authorization": f"Bearer {chair}"}
    proposed = await client.post(
        f"/v1/councils/{CODE}/issues",
        json={"number": 1, "title": "bench", "procedure": PROCEDURE},
        headers=auth,
    )
    assert proposed.status_code == 201, proposed.text
    deadline = time.monotonic() + timeout
    closed = False
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = await client.get(f"/v1/councils/{CODE}/issues/1/status", headers=auth)
        if status.status_code == 200:
            body = status.json()
            if body.get("ballot_key"):
                return str(body["ballot_key"])
            if body.get("stage") == "public_deliberation" and not closed:
                answer = await client.post(
                    f"/v1/councils/{CODE}/issues/1/close-stage", headers=auth
                )
                assert answer.status_code == 200, answer.text
                closed = True
        await asyncio.sleep(0.05)
    raise TimeoutError(f"voting did not open on the live server: {body}")


class KeepAlive:
    """One keep-alive HTTP/1.1 connection with just enough client to post a prepared request
    and read its answer. The bench shares the machine with the server, and httpx spends about
    2 ms of CPU a request: as much as the server itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> KeepAlive:
        url = httpx.URL(base)
        return cls(*await asyncio.open_connection(url.host, url.port))

    @staticmethod
    def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """The answer's status and body (answers carry a Content-Length)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(head[9:12]), await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@dataclass
class Timing:
    seconds: float
    client_cpu: float  # this process
    server_cpu: float | None  # the govflow up process (not its Temporal dev server)


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of process ``pid`` so far; None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _cast(server: LiveServer, chair: str, tokens: list[str], clients: int) -> Timing:
    """How long ``clients`` keep-alive connections take to post every token's ballot, each
    with its member's token, and the CPU the bench and the server spent meanwhile."""
    base = server.base
    async with httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as setup:
        await _at_vote(setup, chair)
    pool = [await KeepAlive.open(base) for _ in range(clients)]
    try:
        for connection in pool:  # a first round trip on every connection before the clock
            status, _ = await connection.send(KeepAlive.request("GET", "/healthz", {}))
            assert status == 200
        url = f"/v1/councils/{CODE}/issues/1/ballots"
        ballots = [
            KeepAlive.request(
                "POST",
                url,
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                b'{"choice":"yes"}',
            )
            for token in tokens
        ]

        async def post_all(connection: KeepAlive, mine: list[bytes]) -> None:
            for ballot in mine:
                status, answer = await connection.send(ballot)
                assert status == 201, answer.decode()

        server_cpu = process_cpu(server.process.pid)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(
            *(post_all(connection, ballots[i::clients]) for i, connection in enumerate(pool))
        )
        seconds, client_cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_after = process_cpu(server.process.pid)
        if server_cpu is not None and server_after is not None:
            server_cpu = server_after - server_cpu
        return Timing(seconds, client_cpu, server_cpu)
    finally:
        for connection in pool:
            await connection.close()


def live_ballots(kind: str, ballots: int = LIVE_BALLOTS, clients: int = CLIENTS) -> dict[str, Any]:
    """Ballots/s through a live ``govflow up`` against raw saves measured just before it
    starts and just after it stops (their mean is the baseline: the machine's load drifts)."""
    with _stores(kind) as store, tempfile.TemporaryDirectory() as tmp:
        env = _server_env(store("live"), Path(tmp) / "var")
        chair, tokens = bootstrap(env, ballots)
        raw_before = raw_saves_per_s(store("raw_before"), ballots)
        with running_up(env) as server:
            timing = asyncio.run(_cast(server, chair, tokens, clients))
        raw_after = raw_saves_per_s(store("raw_after"), ballots)
    live_rate, raw_rate = ballots / timing.seconds, (raw_before + raw_after) / 2
    figures = {
        "ballots": ballots,
        "clients": clients,
        "live_per_s": round(live_rate),
        "raw_saves_per_s": round(raw_rate),
        "raw_before_after_per_s": [round(raw_before), round(raw_after)],
        "ratio": round(live_rate / raw_rate, 3),
        "client_cpu_share": round(timing.client_cpu / timing.seconds, 2),  # of one core
        "target_ratio": 0.5,
    }
    if timing.server_cpu is not None:
        figures["server_cpu_ms_per_ballot"] = round(timing.server_cpu / ballots * 1000, 2)
    return figures


def run(progress: Callable[[str], None]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    progress(f"ballots through a live govflow up ({CLIENTS} clients) vs raw saves (SQLite) ...")
    results["live_ballots_sqlite"] = live_ballots("sqlite")
    try:
        progress(
            f"ballots through a live govflow up ({CLIENTS} clients) vs raw saves (PostgreSQL) ..."
        )
        results["live_ballots_postgres"] = live_ballots("postgres")
    except Exception as error:  # a laptop without PostgreSQL still gets the other figures
        results["live_ballots_postgres"] = {"skipped": str(error).splitlines()[0]}
    return results
