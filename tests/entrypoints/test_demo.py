"""The newcomer's path: `govflow up`, `govflow demo`, the items on the board, one acted on with
the CLI; then schemathesis fuzzes the whole OpenAPI document against that live stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.entrypoints.test_up import ROOT, environ, govflow, stop, up

__all__ = ["environ"]  # the fixture, shared with test_up

SCHEMATHESIS_CONFIG = """
[parameters]
"path.code" = "sunshine"
"""


def fetch(url: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return str(response.read().decode())


def test_demo_on_the_board_then_the_cli_then_a_fuzzed_api(
    environ: dict[str, str], tmp_path: Path
) -> None:
    process = up(environ)
    base = f"http://127.0.0.1:{environ['GOVFLOW_HTTP_PORT']}"
    try:
        played = json.loads(govflow(environ, "demo", "--json"))
        assert played["council"] == "sunshine"
        assert played["board"][0] == f"{base}/board/sunshine/"
        council = fetch(played["board"][0])
        assert "阳光社区" in council and "口袋公园改造" in council
        assert "决议公开" in council  # a notice on display
        ledger = fetch(played["board"][1])
        assert "七号院化粪管更换" in ledger and "settled" in ledger and "¥11800.00" in ledger
        lift = fetch(f"{base}/board/sunshine/issues/3")
        assert "赞成 15" in lift and "adopted" in lift
        again = subprocess.run(
            [sys.executable, "-m", "govflow", "demo"],
            env=environ,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 1 and "already_exists" in again.stderr

        # the newcomer acts on the open item from the command line
        govflow(environ, "issue", "close-stage", "sunshine", "2", "--actor", "c1")
        status = json.loads(govflow(environ, "issue", "status", "sunshine", "2", "--json"))
        assert status["stage"] == "resolve"
        listed = json.loads(govflow(environ, "list", "issues", "sunshine", "--json"))
        assert [i["number"] for i in listed] == [3, 2, 1]

        token = govflow(environ, "token", "issue", "sunshine", "c1").strip()
        assert json.loads(fetch(f"{base}/v1/councils/sunshine/issues?open=true", token))
        config = tmp_path / "schemathesis.toml"
        config.write_text(SCHEMATHESIS_CONFIG)
        st = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
        assert st is not None
        fuzz = subprocess.run(
            [
                st,
                "--config-file",
                str(config),
                "run",
                f"{base}/openapi.json",
                "-H",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance",
                "--max-examples",
                "15",
                "--seed",
                "20261123",
                "--phases",
                "examples,coverage,fuzzing",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=environ,
        )
        assert fuzz.returncode == 0, fuzz.stdout[-6000:] + fuzz.stderr[-2000:]
        assert " passed" in fuzz.stdout
    finally:
        output = stop(process)
    assert "stopped" in output
