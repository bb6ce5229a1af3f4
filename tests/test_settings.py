"""Settings are validated at start-up with clear messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from govflow.bootstrap import Settings


def test_production_refuses_an_empty_or_example_password() -> None:
    """A production deployment on PostgreSQL needs a real database password."""
    with pytest.raises(ValidationError, match="GOVFLOW_POSTGRES_PASSWORD"):
        Settings(environment="production", persistence="postgres")
    with pytest.raises(ValidationError, match="example"):
        Settings(environment="production", persistence="postgres", postgres_password="change-me")  # type: ignore[arg-type]
    Settings(environment="production", persistence="postgres", postgres_password="s3cret-and-long")  # type: ignore[arg-type]


def test_production_refuses_the_memory_store() -> None:
    """An in-memory store loses everything on restart: never in production."""
    with pytest.raises(ValidationError, match="memory"):
        Settings(environment="production", persistence="memory")


def test_the_cli_names_the_invalid_setting(tmp_path: Path) -> None:
    """A bad value stops every command with the setting's name and the reason."""
    result = subprocess.run(
        [sys.executable, "-m", "govflow", "procedure", "validate", "workflows"],
        env={**os.environ, "GOVFLOW_POSTGRES_PORT": "99999"},
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "GOVFLOW_POSTGRES_PORT" in result.stderr and "settings.invalid" in result.stderr
