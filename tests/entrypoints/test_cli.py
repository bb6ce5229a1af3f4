"""The operator's commands, which open this machine's event store: procedures, audit,
council bootstrap, offline tokens, migration. Real processes on a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.specimens import SteppingClock, play

ROOT = Path(__file__).parents[2]


def govflow(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GOVFLOW_")},
        "GOVFLOW_DATA_DIR": str(data_dir),
        "GOVFLOW_PERSISTENCE": "sqlite",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "govflow", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with the specimen history in its SQLite event store."""
    path = tmp_path / "var"
    path.mkdir()
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path / "events.db")},
        clock=SteppingClock(),
    )
    play(app)
    app.close()
    return path


def test_procedure_validate_accepts_the_presets(tmp_path: Path) -> None:
    """Every preset file validates."""
    result = govflow("procedure", "validate", "workflows", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    presets = len(list((ROOT / "workflows").glob("*.v*.yaml")))
    assert presets >= 8 and f"{presets} procedure file(s) valid" in result.stdout


def test_procedure_validate_names_file_and_line(tmp_path: Path) -> None:
    """A malformed file is refused with its path, line and reason."""
    bad = tmp_path / "bad.v1.yaml"
    bad.write_text("name: bad\nversion: 1\ntitle: t\nsources: []\nstages: []\n", encoding="utf-8")
    result = govflow("procedure", "validate", str(bad), "--json", data_dir=tmp_path)
    assert result.returncode == 1
    failure = json.loads(result.stdout)["failures"][0]
    assert failure["line"] == 4 and failure["code"] == "procedure.invalid"


def test_procedure_lint_flags_statutory_minimums(tmp_path: Path) -> None:
    """Lint exits non-zero and names the missing safeguard."""
    text = (ROOT / "workflows/major-spending.v1.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: review")
    end = text.index("  - id: publish_resolution")
    broken = tmp_path / "major-spending.v1.yaml"
    broken.write_text(
        text[:start] + text[end:].replace("reopen_at: review", "reopen_at: deliberate"),
        encoding="utf-8",
    )
    result = govflow("procedure", "lint", str(broken), data_dir=tmp_path)
    assert result.returncode == 1
    assert "lint.spending_review_missing" in result.stderr


def test_checkpoint_then_verify_then_detect_tampering(data_dir: Path) -> None:
    """The printed digest verifies; an edited row is then named with exit code 3."""
    checkpoint = govflow("audit", "checkpoint", "--json", data_dir=data_dir)
    assert checkpoint.returncode == 0, checkpoint.stderr
    digest = json.loads(checkpoint.stdout)
    expect = f"{digest['position']}:{digest['digest']}"
    ok = govflow("audit", "verify", "--expect", expect, data_dir=data_dir)
    assert ok.returncode == 0 and "ok:" in ok.stdout
    with sqlite3.connect(data_dir / "events.db") as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (b'{"x":1}',))
    failed = govflow("audit", "verify", "--json", data_dir=data_dir)
    assert failed.returncode == 3
    assert json.loads(failed.stdout)["problem"]["notification_id"] == 3


def test_export_writes_json_lines(data_dir: Path, tmp_path: Path) -> None:
    """`audit export` writes one line per record to the named file."""
    out = tmp_path / "log.jsonl"
    result = govflow("audit", "export", "--out", str(out), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 50 and json.loads(lines[0])["topic"] == "govflow.council.registered"


def test_history_lists_events_with_their_actors(data_dir: Path) -> None:
    """`audit history` prints each event of an aggregate with who recorded it."""
    from govflow.domain.ids import spending_id

    history = govflow(
        "audit", "history", str(spending_id("specimen", 1)), "--json", data_dir=data_dir
    )
    entries = json.loads(history.stdout)
    assert entries[0]["topic"] == "govflow.spending.requested" and entries[0]["actor"] == "m1"


def test_bootstrap_registers_a_council_and_its_clerk_with_a_token(tmp_path: Path) -> None:
    """`council bootstrap` registers the council, enrols the first clerk and prints their
    token once; the token authenticates as that clerk; a second bootstrap is refused."""
    args = ["council", "bootstrap", "qinghe", "清河社区", "--clerk", "k1", "--clerk-name", "李文书"]
    first = govflow(*args, "--timezone", "Asia/Urumqi", "--threshold", "20000", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert token.startswith("gf_") and "shown this once" in first.stderr
    assert "/app/sign-in/gi_" in first.stderr  # the clerk's way into the members' app
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    )
    try:
        clerk = app.authenticate(token)
        view = app.get_council("qinghe")
    finally:
        app.close()
    assert (clerk.holder, clerk.is_clerk) == ("k1", True)
    assert (view.timezone, str(view.spending_threshold)) == ("Asia/Urumqi", "20000.00")
    again = govflow(*args, data_dir=tmp_path)
    assert again.returncode == 1 and again.stderr.startswith("error: ")
    assert "(already_exists)" in again.stderr and "Traceback" not in again.stderr


def test_the_operator_issues_a_token_offline(data_dir: Path) -> None:
    """`token issue --offline` works on this machine's store without a server."""
    issued = govflow("token", "issue", "specimen", "m1", "--offline", "--json", data_dir=data_dir)
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)
    assert token["token"].startswith("gf_") and token["holder"] == "m1"
    unknown = govflow("token", "issue", "specimen", "zz", "--offline", data_dir=data_dir)
    assert unknown.returncode == 1 and "(council.unknown_member)" in unknown.stderr


def test_person_commands_need_no_store(tmp_path: Path) -> None:
    """A person's command is a client: without a server it says so, and creates nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "govflow", "issue", "status", "x", "1"],
        env={**os.environ, "GOVFLOW_SERVER": "http://127.0.0.1:9", "GOVFLOW_TOKEN": "gf_a_b"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 7
    assert result.stderr.strip() == (
        "error: cannot reach the govflow server at http://127.0.0.1:9: is `govflow up` "
        "running? (server.unreachable)"
    )
    assert list(tmp_path.iterdir()) == []


def test_register_council_refuses_a_float_like_threshold(tmp_path: Path) -> None:
    """Money from the command line is validated like everywhere else."""
    result = govflow("council", "register", "c1", "社区", "--threshold", "1.001", data_dir=tmp_path)
    assert result.returncode == 6 and "(money.invalid_amount)" in result.stderr


@pytest.mark.postgres
def test_migrate_sqlite_to_postgresql(data_dir: Path, postgres_db: str) -> None:
    """`govflow migrate` copies the log; a second run without --continue is refused."""
    source = f"sqlite:{data_dir / 'events.db'}"
    target = f"postgresql://postgres@127.0.0.1:5432/{postgres_db}"
    first = govflow("migrate", source, target, data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert "copied" in first.stdout
    again = govflow("migrate", source, target, data_dir=data_dir)
    assert again.returncode == 1 and "migration.target_not_empty" in again.stderr
    resumed = govflow("migrate", source, target, "--continue", data_dir=data_dir)
    assert resumed.returncode == 0 and "copied 0 record(s)" in resumed.stdout


def test_times_print_in_the_councils_time_zone() -> None:
    """Deadlines print as the board shows them, in the council's zone; one at midnight ends
    the day before at 24:00."""
    from datetime import UTC, datetime

    from govflow.entrypoints.console import local_time

    midnight = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)  # 00:00 on the 10th in Shanghai
    assert (
        local_time(midnight, "Asia/Shanghai", deadline=True) == "2026-12-09 24:00 (Asia/Shanghai)"
    )
    assert local_time(midnight, "Asia/Shanghai") == "2026-12-10 00:00 (Asia/Shanghai)"
    assert (
        local_time("2026-12-09T10:30:00+00:00", "Asia/Urumqi") == "2026-12-09 16:30 (Asia/Urumqi)"
    )
    assert local_time(None, "Asia/Shanghai") == "—"


def test_the_cli_loads_neither_temporal_nor_the_store() -> None:
    """A person's command cannot open a Temporal client (the exit 134 at shutdown,
    temporalio/sdk-python#300) or the event store: the CLI does not even import them."""
    probe = (
        "import sys, govflow.entrypoints.cli; "
        "print(sorted(m for m in ('temporalio', 'govflow.application', 'govflow.orchestration') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert loaded.stdout.strip() == "[]"
