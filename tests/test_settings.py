"""Settings are validated at start-up with clear messages."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import ValidationError
from pytest import MonkeyPatch

from govflow.application.procedures import preset_dir
from govflow.bootstrap import Settings, build_calendar, build_procedures


def test_production_refuses_an_empty_or_example_password() -> None:
    """A production deployment on PostgreSQL needs a real database password."""
    with pytest.raises(ValidationError, match="GOVFLOW_POSTGRES_PASSWORD"):
        Settings(environment="production", persistence="postgres")
    with pytest.raises(ValidationError, match="example"):
        Settings(environment="production", persistence="postgres", postgres_password="change-me")  # type: ignore[arg-type]
    Settings(
        environment="production",
        persistence="postgres",
        postgres_password="s3cret-and-long",  # type: ignore[arg-type]
        token_key="k" * 40,  # type: ignore[arg-type]
    )


def test_production_refuses_a_missing_short_or_example_token_key() -> None:
    """API tokens are hashed under GOVFLOW_TOKEN_KEY in production: it must be a real one."""
    base = {"environment": "production", "persistence": "sqlite"}
    with pytest.raises(ValidationError, match="set GOVFLOW_TOKEN_KEY"):
        Settings(**base)  # type: ignore[arg-type]
    for weak in ("short-key", "change-me-to-32-or-more-random-characters"):
        with pytest.raises(ValidationError, match="GOVFLOW_TOKEN_KEY"):
            Settings(**base, token_key=weak)  # type: ignore[arg-type]
    Settings(**base, token_key="0123456789abcdef" * 4)  # type: ignore[arg-type]


def test_tokens_are_hashed_under_the_key_and_old_ones_still_work(tmp_path: Path) -> None:
    """With a key the log holds an HMAC of the secret, useless without the key; tokens issued
    before the key was set keep working; a keyed token never passes without the key."""
    from govflow.application import Governance
    from govflow.domain.access import digest
    from govflow.domain.errors import AuthenticationError

    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    plain = Governance(env)
    plain.register_council("k", "k", actor="clerk")
    plain.enroll_member("k", "m1", "m1", actor="clerk")
    old = plain.issue_token("k", "m1", actor="clerk")
    plain.close()
    key = "0123456789abcdef" * 4
    keyed = Governance(env, token_key=key)
    new = keyed.issue_token("k", "m1", actor="clerk")
    assert keyed.authenticate(old).holder == keyed.authenticate(new).holder == "m1"
    issued = keyed.get_history(_token_id(new))
    assert issued[0].data["keyed"] is True
    secret = new.split("_", 2)[2]
    assert issued[0].data["secret_sha256"] == digest(secret, key.encode()) != digest(secret)
    keyed.close()
    for other in (Governance(env), Governance(env, token_key="f" * 64)):
        with pytest.raises(AuthenticationError):
            other.authenticate(new)
        assert other.authenticate(old).holder == "m1"
        other.close()


def _token_id(token: str) -> UUID:
    from govflow.domain.access import token_uuid

    return token_uuid(token.split("_")[1])


def test_production_refuses_the_memory_store() -> None:
    """An in-memory store loses everything on restart: never in production."""
    with pytest.raises(ValidationError, match="memory"):
        Settings(environment="production", persistence="memory")


def govflow(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govflow", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_the_cli_names_the_invalid_setting(tmp_path: Path) -> None:
    """A bad value stops every command with the setting's name and the reason, before anything
    is created (no var/ where it was run)."""
    result = govflow("council", "register", "x", "x", cwd=tmp_path, GOVFLOW_POSTGRES_PORT="99999")
    assert result.returncode == 6
    assert "GOVFLOW_POSTGRES_PORT" in result.stderr and "(settings.invalid)" in result.stderr
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []


def test_a_missing_workflows_dir_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """GOVFLOW_WORKFLOWS_DIR must name a directory: `govflow up` says so and creates nothing."""
    result = govflow("up", cwd=tmp_path, GOVFLOW_WORKFLOWS_DIR=str(tmp_path / "nowhere"))
    assert result.returncode == 6
    assert "GOVFLOW_WORKFLOWS_DIR" in result.stderr and "is not a directory" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_presets_are_found_from_any_directory(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """The shipped presets and calendars load whatever the working directory."""
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    names = {p.name for p in build_procedures(settings).all()}
    assert {"major-spending", "five-step-consultation", "owners-assembly-art278"} <= names
    assert (preset_dir() / "procedure.schema.json").is_file()
    assert date(2026, 10, 1) in build_calendar(settings).holidays
    assert list(tmp_path.iterdir()) == []


def test_the_workflows_dir_adds_to_and_overrides_the_presets(tmp_path: Path) -> None:
    """A file with a preset's name and version replaces it; other files add procedures and
    holidays."""
    own = tmp_path / "workflows"
    (own / "calendars").mkdir(parents=True)
    text = (preset_dir() / "residents-assembly.v1.yaml").read_text(encoding="utf-8")
    changed = text.replace("title: ", "title: 本社区版 ", 1)
    (own / "residents-assembly.v1.yaml").write_text(changed, encoding="utf-8")
    renamed = text.replace("name: residents-assembly", "name: street-assembly", 1)
    (own / "street-assembly.v1.yaml").write_text(renamed, encoding="utf-8")
    (own / "calendars" / "local.yaml").write_text("holidays: [2026-07-15]\n", encoding="utf-8")
    settings = Settings(workflows_dir=own)
    library = build_procedures(settings)
    assert library.get("residents-assembly", 1).title.startswith("本社区版")
    assert library.get("street-assembly").version == 1
    assert library.get("major-spending").name == "major-spending"  # the presets are still there
    calendar = build_calendar(settings)
    assert {date(2026, 7, 15), date(2026, 10, 1)} <= calendar.holidays
