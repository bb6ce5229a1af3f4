"""Replay recorded histories of every preset: a determinism guard for future changes.

Regenerate with GOVFLOW_RECORD_HISTORIES=1 only when a change is meant to be incompatible
(and then guard running items with ``workflow.patched``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from govflow.orchestration.workflows import IssueWorkflow
from tests.orchestration.conftest import HISTORIES, WORKFLOWS

# one history per preset, whatever its versions (the workflow code is what replays)
PRESETS = sorted({p.name.split(".v")[0] for p in WORKFLOWS.glob("*.v*.yaml")})


def test_every_preset_has_a_recorded_history() -> None:
    """Each preset's full cycle is kept for replay."""
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == PRESETS


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("name", PRESETS)
async def test_history_replays_without_nondeterminism(name: str) -> None:
    """Today's workflow code makes the same decisions as the code that recorded the run."""
    path: Path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(f"issue-{name}", path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[IssueWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
