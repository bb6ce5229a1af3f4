"""The published event catalogue (``aggregates/``) and procedure schema (``workflows/``).

Schemas and the catalogue are regenerated from the event classes; golden payloads are written
once per event version and never overwritten, so a later change that cannot read them fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow.application.governance import Governance
from govflow.application.mapper import encode_event
from govflow.application.specimens import SteppingClock, play, specimen_events
from govflow.domain.base import DomainEvent, event_classes
from govflow.domain.procedure import Procedure


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _aggregate_of(topic: str) -> str:
    return topic.split(".")[1]


def published_event_classes() -> dict[str, type[DomainEvent]]:
    """The domain's event classes (test or plug-in classes registered elsewhere excluded)."""
    return {t: c for t, c in event_classes().items() if c.__module__.startswith("govflow.domain")}


def schema_name(cls: type[DomainEvent]) -> str:
    return f"{cls.TOPIC}.v{cls.class_version}"


def rendered_files() -> dict[str, str]:
    """Generated files by path relative to the repository root (schemas and catalogue)."""
    files: dict[str, str] = {}
    entries = []
    for topic, cls in published_event_classes().items():
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = f"govflow:{topic}/v{cls.class_version}"
        schema["title"] = topic
        files[f"aggregates/schemas/{schema_name(cls)}.schema.json"] = _dumps(schema)
        entries.append(
            {
                "topic": topic,
                "class_version": cls.class_version,
                "aggregate": _aggregate_of(topic),
                "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
                "schema": f"schemas/{schema_name(cls)}.schema.json",
                "golden": f"golden/{schema_name(cls)}.json",
            }
        )
    files["aggregates/catalogue.json"] = _dumps({"events": entries})
    files["workflows/procedure.schema.json"] = _dumps(Procedure.model_json_schema())
    return files


def golden_payloads() -> dict[str, str]:
    """One example payload per event version, taken from the scripted specimen history."""
    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=SteppingClock())
    play(app)
    golden: dict[str, str] = {}
    for event in specimen_events(app):
        path = f"aggregates/golden/{schema_name(type(event))}.json"
        golden.setdefault(
            path,
            _dumps(
                {
                    "topic": type(event).TOPIC,
                    "class_version": type(event).class_version,
                    "originator_id": str(event.originator_id),
                    "originator_version": event.originator_version,
                    "payload": json.loads(encode_event(event)),
                }
            ),
        )
    return golden


@dataclass
class ExportResult:
    written: list[str]
    stale: list[str]


def export(root: Path, *, check: bool = False) -> ExportResult:
    """Write (or with ``check`` only compare) the catalogue under ``root``."""
    result = ExportResult([], [])
    wanted = rendered_files()
    for path, content in golden_payloads().items():
        if not (root / path).exists():
            wanted[path] = content
    for path, content in wanted.items():
        target = root / path
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == content:
            continue
        result.stale.append(path)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            result.written.append(path)
    return result
