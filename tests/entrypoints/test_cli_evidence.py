"""``govflow evidence import``: the files of DATA_DIR/evidence go into the database before an
installation switches to ``GOVFLOW_EVIDENCE_STORE=database``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from govflow.application import Governance
from govflow.application.evidence_store import DirectoryEvidence, database_evidence
from govflow.entrypoints.cli import app as cli
from govflow.entrypoints.console import EXIT_INVALID


def test_the_operator_imports_the_evidence_directory_into_the_database(tmp_path: Path) -> None:
    data = tmp_path / "var"
    files = DirectoryEvidence(data / "evidence")
    sheets = [b"sign-in sheet", b"\x89PNG progress photo"]
    for sheet in sheets:
        files.put(hashlib.sha256(sheet).hexdigest(), sheet)
    (data / "evidence" / "notes.txt").write_text("not a kept file")  # not named by a digest
    env = {"GOVFLOW_DATA_DIR": str(data), "GOVFLOW_PERSISTENCE": "sqlite"}
    first = CliRunner().invoke(cli, ["evidence", "import", "--json"], env=env)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["copied"] == 2
    again = CliRunner().invoke(cli, ["evidence", "import", "--json"], env=env)
    assert json.loads(again.stdout)["copied"] == 0  # safe to run again
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(data / "events.db")}
    )
    try:
        kept = database_evidence(app)
        assert [kept.get(hashlib.sha256(s).hexdigest()) for s in sheets] == sheets
    finally:
        app.close()
    missing = CliRunner().invoke(cli, ["evidence", "import", str(tmp_path / "nowhere")], env=env)
    assert missing.exit_code == EXIT_INVALID and "not a directory" in missing.stderr
