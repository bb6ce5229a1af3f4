"""`govflow up` on a fresh data directory, driven to a closed item with the CLI alone,
stopped with Ctrl-C in the middle and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import output_of, start_govflow

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GOVFLOW_DATA_DIR": str(tmp_path / "var"),
        "GOVFLOW_TEMPORAL_PORT": str(free_port()),
        "GOVFLOW_TEMPORAL_UI_PORT": str(free_port()),
        "GOVFLOW_HTTP_PORT": str(free_port()),
        "COLUMNS": "200",
    }


def up(environ: dict[str, str]) -> subprocess.Popen[str]:
    return start_govflow(["up"], environ, "press Ctrl-C")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    time.sleep(0.2)  # let the drain thread read the last lines
    return output_of(process)


def govflow(environ: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "govflow", *args],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_up_then_an_item_to_closed_with_the_cli_across_a_restart(environ: dict[str, str]) -> None:
    """The stack starts, prints its URLs, survives Ctrl-C and a restart mid-item."""
    process = up(environ)
    try:
        govflow(environ, "council", "register", "demo", "示范社区")
        govflow(
            environ,
            "council",
            "add-member",
            "demo",
            "c1",
            "主任",
            "--chair",
            "party_members_assembly",
        )
        for member in ("m1", "m2"):
            govflow(
                environ,
                "council",
                "add-member",
                "demo",
                member,
                member,
                "--body",
                "party_members_assembly",
            )
        assert "issue-demo-1" in govflow(
            environ,
            "issue",
            "propose",
            "demo",
            "1",
            "活动室改造",
            "party-members-assembly",
            "--actor",
            "c1",
        )
        assert "review" in govflow(environ, "issue", "status", "demo", "1")
        api = f"http://127.0.0.1:{environ['GOVFLOW_HTTP_PORT']}"
        token = govflow(environ, "token", "issue", "demo", "m1").strip()
        request = urllib.request.Request(
            f"{api}/v1/councils/demo/issues/1/status", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["stage"] == "review"
        with urllib.request.urlopen(f"{api}/board/demo/issues/1") as response:
            assert "活动室改造" in response.read().decode()
        with urllib.request.urlopen(f"{api}/readyz") as response:
            assert json.load(response)["checks"] == {"event_store": "ok", "temporal": "ok"}
    finally:
        output = stop(process)
    assert "stopped" in output and process.returncode == 0

    process = up(environ)
    try:
        govflow(
            environ,
            "meeting",
            "hold",
            "demo",
            "1",
            "party_members_assembly",
            "party-members-assembly",
            "party_members_assembly",
            "--actor",
            "c1",
            "--present",
            "c1",
            "--present",
            "m1",
            "--yes",
            "2",
        )
        assert "passed" in govflow(
            environ, "issue", "resolve", "demo", "1", "1", "1", "--actor", "c1"
        )
        govflow(environ, "issue", "advance", "demo", "1", "8")
        for _ in range(50):  # the workflow closes the item just after the display period
            shown = govflow(environ, "issue", "show", "demo", "1", "--json")
            if '"outcome": "adopted"' in shown:
                break
            time.sleep(0.2)
    finally:
        stop(process)
    assert '"outcome": "adopted"' in shown
