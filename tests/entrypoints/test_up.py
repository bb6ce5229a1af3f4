"""`govflow up`: it serves from any directory, stops within 10 s of SIGTERM whatever is in
flight, and keeps running items across a restart while people drive them with the CLI (a
client of its API, each with their own token).

The helpers here (a stack on free ports, the CLI as a person or as the operator, a seeded
council) are shared by the other end-to-end CLI tests.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
GOVFLOW = Path(sys.executable).parent / "govflow"  # the installed console script
CHAIRS = ("party_members_assembly", "two_committees")
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_environ(base: Path) -> dict[str, str]:
    """An operator's environment on free ports, its data and config under ``base``."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOVFLOW_")}
    return {
        **environ,
        "GOVFLOW_DATA_DIR": str(base / "data"),
        "GOVFLOW_TEMPORAL_PORT": str(free_port()),
        "GOVFLOW_TEMPORAL_UI_PORT": "0",  # headless
        "GOVFLOW_HTTP_PORT": str(port),
        "GOVFLOW_SERVER": f"http://127.0.0.1:{port}",
        "GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",  # the tests' webhook receivers
        "XDG_CONFIG_HOME": str(base / "config"),
        "COLUMNS": "200",
    }


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return make_environ(tmp_path)


@dataclass
class Up:
    """A running ``govflow up`` and the lines it printed."""

    process: subprocess.Popen[str]
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=300))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, sig: int = signal.SIGINT, within: float = 10) -> float:
        """Send ``sig``; returns the seconds it took to exit (fails past ``within``)."""
        start = time.monotonic()
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"govflow up ignored {sig!r} for {within} s:\n{self.output}"
            ) from None
        time.sleep(0.2)  # let the drain thread read the last lines
        return time.monotonic() - start


def up(environ: dict[str, str], *args: str, cwd: Path = ROOT) -> Up:
    """Start ``govflow up ARGS`` in ``cwd`` and return once it serves."""
    process = subprocess.Popen(
        [str(GOVFLOW), "up", *args],
        env=environ,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Up(process)
    assert process.stdout is not None
    for line in process.stdout:
        running.lines.append(line)
        if "press Ctrl-C" in line:
            threading.Thread(target=_drain, args=(running,), daemon=True).start()
            return running
    process.wait()
    raise AssertionError("govflow up did not start:\n" + running.output)


def _drain(running: Up) -> None:
    assert running.process.stdout is not None
    for line in running.process.stdout:
        running.lines.append(line)


def cli(
    environ: dict[str, str], *args: str, token: str | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``govflow ARGS`` as a person holding ``token`` (GOVFLOW_TOKEN), or as the operator."""
    env = {**environ, **({"GOVFLOW_TOKEN": token} if token else {})}
    return subprocess.run(
        [sys.executable, "-m", "govflow", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def govflow(environ: dict[str, str], *args: str, token: str | None = None) -> str:
    """``govflow ARGS``, which must succeed; its standard output."""
    result = cli(environ, *args, token=token)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def answer(environ: dict[str, str], *args: str, token: str | None = None) -> Any:
    """``govflow ARGS --json``, which must succeed; its JSON."""
    return json.loads(govflow(environ, *args, "--json", token=token))


def in_process(
    environ: dict[str, str], *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``govflow ARGS`` as :func:`cli` runs a person's command (a client of the server), but in
    this process: Typer's runner with ``environ``'s settings and ``token`` as GOVFLOW_TOKEN (no
    other GOVFLOW_ variable of this process). ~0.05 s instead of an interpreter's ~1 s, for
    setting up people; an unexpected exception fails the test. Not for the operator's commands
    (they open the store relative to the working directory) nor for what only a process shows
    (its exit at shutdown, its environment read at start)."""
    from typer.testing import CliRunner

    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GOVFLOW_")}
    env.update((k, v) for k, v in environ.items() if k.startswith(("GOVFLOW_", "XDG_")))
    env["GOVFLOW_TOKEN"] = token
    code = 0
    with CliRunner().isolation(env=env) as (out, err, _):
        try:
            _command().main(list(args), prog_name="govflow", standalone_mode=True)
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return subprocess.CompletedProcess(["govflow", *args], code, stdout, stderr)


@functools.cache
def _command() -> Any:
    """The CLI's click command, built once (Typer's own runner builds it on every call)."""
    import typer.main

    from govflow.entrypoints.cli import app

    return typer.main.get_command(app)


Run = Callable[..., subprocess.CompletedProcess[str]]


def seed(environ: dict[str, str], code: str, run: Run = cli) -> dict[str, str]:
    """A council with a clerk k1 (bootstrapped by the operator), a chair c1 of the party
    members' assembly and the two committees, members m1 and m2 of that assembly, officers
    f1 and f2 and an auditor a1, all enrolled by the clerk; the tokens of all, by member id.

    ``run`` runs the clerk's commands: real processes by default, :func:`in_process` for tests
    whose subject is not the roll (the operator's bootstrap is a process either way)."""

    def ok(*args: str) -> str:
        result = run(environ, *args, token=tokens["k1"])
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    tokens = {
        "k1": answer(
            environ,
            "council",
            "bootstrap",
            code,
            f"{code}社区",
            "--clerk",
            "k1",
            "--clerk-name",
            "文书",
        )["token"]
    }
    roll = [
        ("c1", "主任", [a for b in CHAIRS for a in ("--chair", b)]),
        ("m1", "党员一", ["--body", CHAIRS[0]]),
        ("m2", "党员二", ["--body", CHAIRS[0]]),
        ("f1", "出纳", ["--role", "officer"]),
        ("f2", "会计", ["--role", "officer"]),
        ("a1", "监委", ["--role", "auditor"]),
    ]
    for member_id, name, options in roll:
        ok("council", "add-member", code, member_id, name, *options)
        issued = json.loads(ok("token", "issue", code, member_id, "--json"))
        tokens[member_id] = issued["token"]
    return tokens


def until(environ: dict[str, str], code: str, number: int, token: str, stage: str) -> Any:
    """The item's status once it reaches ``stage`` (with its notice, for a publish stage)."""
    status = None
    for _ in range(150):
        status = answer(environ, "issue", "status", code, str(number), token=token)
        if status["stage"] == stage and (not stage.startswith("publish") or status["notice_id"]):
            return status
        time.sleep(0.2)
    raise AssertionError(f"item {number} did not reach {stage}: {status}")


def get(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        body = response.read().decode()
        return json.loads(body) if "json" in response.headers.get("content-type", "") else body


def test_up_then_an_item_to_closed_with_the_cli_across_a_restart(environ: dict[str, str]) -> None:
    """The stack starts, people act through it with their tokens, it survives Ctrl-C and a
    restart mid-item, and a demo server fast-forwards the item to its end."""
    stack = up(environ, "--demo")
    try:
        tokens = seed(environ, "demo")
        proposed = answer(
            environ,
            "issue",
            "propose",
            "demo",
            "1",
            "活动室改造",
            "party-members-assembly",
            token=tokens["c1"],
        )
        assert proposed["number"] == 1
        status = until(environ, "demo", 1, tokens["m1"], "review")
        assert status["actions"]  # who may do what now
        table = govflow(environ, "issue", "status", "demo", "1", token=tokens["m1"])
        assert "review" in table and "(Asia/Shanghai)" in table
        api = environ["GOVFLOW_SERVER"]
        assert get(f"{api}/v1/councils/demo/issues/1/status", tokens["m1"])["stage"] == "review"
        assert "活动室改造" in get(f"{api}/board/demo/issues/1")
        assert get(f"{api}/readyz")["checks"] == {"event_store": "ok", "temporal": "ok"}
    finally:
        stack.stop()
    assert "stopped" in stack.output and stack.process.returncode == 0

    stack = up(environ, "--demo")
    try:
        held = answer(
            environ,
            "meeting",
            "hold",
            "demo",
            "1",
            "party_members_assembly",
            "party-members-assembly",
            "party_members_assembly",
            "--issue",
            "1",
            "--present",
            "c1",
            "--present",
            "m1",
            "--yes",
            "2",
            token=tokens["c1"],
        )
        assert held["quorum_met"] and held["passed"]
        assert "passed" in govflow(
            environ, "issue", "resolve", "demo", "1", "1", "1", token=tokens["c1"]
        )
        until(environ, "demo", 1, tokens["c1"], "publish_resolution")
        govflow(environ, "issue", "advance", "demo", "1", "8", token=tokens["k1"])
        for _ in range(50):  # the workflow closes the item just after the display period
            shown = answer(environ, "issue", "show", "demo", "1", token=tokens["a1"])
            if shown["issue"]["outcome"] == "adopted":
                break
            time.sleep(0.2)
    finally:
        stack.stop()
    assert shown["issue"]["outcome"] == "adopted"


def test_up_serves_from_another_directory_with_its_data_where_told(tmp_path: Path) -> None:
    """From a directory that is not the checkout, `govflow up` finds its presets and serves;
    with GOVFLOW_DATA_DIR elsewhere it creates nothing where it was started, and neither do
    people's commands run there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environ = make_environ(tmp_path)
    stack = up(environ, cwd=elsewhere)
    try:
        clerk = json.loads(
            cli(
                environ,
                "council",
                "bootstrap",
                "far",
                "远方社区",
                "--clerk",
                "k1",
                "--clerk-name",
                "文书",
                "--json",
                cwd=elsewhere,
            ).stdout
        )["token"]
        propose = cli(
            environ,
            "issue",
            "propose",
            "far",
            "1",
            "路灯维修",
            "residents-assembly",
            token=clerk,
            cwd=elsewhere,
        )
        assert propose.returncode == 0, propose.stderr
        status = cli(environ, "issue", "status", "far", "1", "--json", token=clerk, cwd=elsewhere)
        assert status.returncode == 0 and json.loads(status.stdout)["number"] == 1
    finally:
        stack.stop()
    assert list(elsewhere.iterdir()) == []
    assert (tmp_path / "data" / "events.db").is_file()


def test_sigterm_stops_up_within_10_seconds_whatever_is_in_flight(environ: dict[str, str]) -> None:
    """Work in flight (a half-sent request, one that waits on a workflow, a webhook delivery
    to a receiver that never answers) does not keep `govflow up` alive: SIGTERM ends it, and
    its Temporal dev server, within 10 s."""
    stack = up(environ, "--demo")
    try:
        tokens = seed(environ, "busy", run=in_process)
        govflow(
            environ,
            "issue",
            "propose",
            "busy",
            "1",
            "活动室改造",
            "party-members-assembly",
            token=tokens["c1"],
        )
        until(environ, "busy", 1, tokens["c1"], "review")
        govflow(
            environ,
            "meeting",
            "hold",
            "busy",
            "1",
            "party_members_assembly",
            "party-members-assembly",
            "party_members_assembly",
            "--issue",
            "1",
            "--present",
            "c1",
            "--present",
            "m1",
            "--yes",
            "2",
            token=tokens["c1"],
        )
        black_hole = socket.create_server(("127.0.0.1", 0))  # takes deliveries, never answers
        hook = f"http://127.0.0.1:{black_hole.getsockname()[1]}/hook"
        govflow(environ, "webhook", "add", "busy", hook, "--from-start", token=tokens["k1"])
        port = int(environ["GOVFLOW_HTTP_PORT"])
        half_sent = socket.create_connection(("127.0.0.1", port))
        half_sent.sendall(b"POST /v1/councils/busy/issues/1/resolution HTTP/1.1\r\nHost: x\r\n")
        waiting = threading.Thread(
            target=cli,
            args=(environ, "issue", "resolve", "busy", "1", "1", "99"),
            kwargs={"token": tokens["c1"]},
            daemon=True,
        )
        waiting.start()
        time.sleep(2)  # a delivery is waiting on the black hole by now
    finally:
        took = stack.stop(signal.SIGTERM, within=10)
    half_sent.close()
    black_hole.close()
    assert took < 10 and "stopped" in stack.output
    with pytest.raises(OSError):  # the dev server is gone too
        socket.create_connection(("127.0.0.1", int(environ["GOVFLOW_TEMPORAL_PORT"])), timeout=1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One `govflow up --demo` for a module's tests; yields its operator environment."""
    environ = make_environ(tmp_path_factory.mktemp("stack"))
    running = up(environ, "--demo")
    try:
        yield environ
    finally:
        running.stop()
