"""Payloads encrypted at rest (GOVFLOW_CIPHER_KEY, AES-GCM): nothing personal is readable in the
database, while history, lists, the feed, export, the audit chain and migration all still work."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from govflow.application import Governance
from govflow.application.migration import migrate
from govflow.application.specimens import SteppingClock, play
from govflow.bootstrap import Settings, cipher_env
from govflow.domain.ids import issue_id

KEY = "q3ZbG2f6cJx0hT4V1m8yWkR5nE7pA9sD3uLzQ2wXy0c="  # 32 bytes, base64


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def test_nothing_readable_at_rest_everything_works(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    app = Governance({**sqlite_env(path), **cipher_env(SecretStr(KEY))}, clock=SteppingClock())
    play(app)
    with sqlite3.connect(path) as conn:
        stored = b"".join(row[0] for row in conn.execute("SELECT state FROM stored_events"))
    for clear in ("王芳", "样例社区", "化粪管", "whsec_"):
        assert clear.encode() not in stored, clear
    history = app.get_history(issue_id("specimen", 1))
    assert history[0].data["title"] == "更换化粪管"
    assert [i.number for i in app.list_issues("specimen")] == [40, 3, 2, 1]
    assert any(e.topic == "govflow.issue.closed" for e in app.read_feed(0, 1000))
    out = io.BytesIO()
    app.export_log(out)
    assert "样例社区" in out.getvalue().decode()
    app.record_checkpoint()
    assert app.verify_audit_chain().ok

    target = Governance(sqlite_env(tmp_path / "copy.db"))  # copies bytes: no key needed
    report = migrate(app, target)
    assert report.copied == app.recorder.max_notification_id()
    assert target.verify_audit_chain().ok
    target.close()
    with_key = Governance({**sqlite_env(tmp_path / "copy.db"), **cipher_env(SecretStr(KEY))})
    assert with_key.get_history(issue_id("specimen", 1))[0].data["title"] == "更换化粪管"
    with_key.close()
    app.close()
    without_key = Governance(sqlite_env(path))
    with pytest.raises(Exception, match="encrypted"):
        without_key.get_history(issue_id("specimen", 1))
    without_key.close()


def test_the_key_is_checked_at_start_up() -> None:
    for bad in ("not base64!", "c2hvcnQ="):
        with pytest.raises(ValidationError, match=r"cipher_key"):
            Settings(cipher_key=bad)  # type: ignore[arg-type]
    env = Settings(cipher_key=KEY).eventsourcing_env()  # type: ignore[arg-type]
    assert env["CIPHER_KEY"] == KEY and env["CIPHER_TOPIC"].endswith("AESCipher")
    assert "CIPHER_KEY" not in Settings().eventsourcing_env()


def test_keys_new_prints_usable_keys() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "govflow", "keys", "new", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    keys = json.loads(result.stdout)
    Settings(cipher_key=keys["GOVFLOW_CIPHER_KEY"], token_key=keys["GOVFLOW_TOKEN_KEY"])  # type: ignore[arg-type]
