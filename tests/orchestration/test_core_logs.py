"""Temporal's core (Rust) logs reach govflow's structured logging, JSON in production."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.observability import configure_logging
from govflow.orchestration.client import connect
from govflow.orchestration.devserver import start_dev_server
from govflow.orchestration.worker import build_worker
from tests.orchestration.test_server_restart import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_core_logs_are_forwarded_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("json", "INFO")
    server = start_dev_server(tmp_path / "temporal.db", port=free_port(), ui_port=None)
    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        client = await connect(server.address, core_log_level="INFO")
        async with build_worker(client, app, task_queue="core-logs"):
            await asyncio.sleep(1.5)
        await asyncio.sleep(1.5)  # forwarded in batches
    finally:
        server.stop()
        app.close()
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    core = [line for line in lines if line.get("logger", "").startswith("temporalio.core")]
    assert core, lines[-5:]
    assert any("task_queue" in line["event"] or "worker" in line["event"] for line in core)
    assert all({"level", "timestamp", "event"} <= set(line) for line in core)
