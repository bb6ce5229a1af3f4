"""The govflow command line, run as a clerk would: a real process on a real SQLite file."""

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
        **os.environ,
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
    assert "7 procedure file(s) valid" in result.stdout


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


def test_history_and_council_show(data_dir: Path) -> None:
    """History lists events with actors; council show prints members."""
    from govflow.domain.ids import spending_id

    history = govflow(
        "audit", "history", str(spending_id("specimen", 1)), "--json", data_dir=data_dir
    )
    entries = json.loads(history.stdout)
    assert entries[0]["topic"] == "govflow.spending.requested" and entries[0]["actor"] == "m1"
    shown = govflow("council", "show", "specimen", data_dir=data_dir)
    assert "王芳" in shown.stdout


def test_unknown_council_is_a_clear_error(data_dir: Path) -> None:
    """A domain error prints its stable code and exits 1, no traceback."""
    result = govflow("council", "show", "nowhere", data_dir=data_dir)
    assert result.returncode == 1
    assert "[not_found]" in result.stderr and "Traceback" not in result.stderr


def test_register_council_refuses_a_float_like_threshold(tmp_path: Path) -> None:
    """Money from the command line is validated like everywhere else."""
    result = govflow("council", "register", "c1", "社区", "--threshold", "1.001", data_dir=tmp_path)
    assert result.returncode == 1 and "money.invalid_amount" in result.stderr


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
