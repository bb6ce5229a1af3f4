"""Loading procedure files: YAML in, a validated :class:`Procedure` out, or the line at fault."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from govflow.domain.calendar import HolidayCalendar
from govflow.domain.errors import InvalidProcedureError
from govflow.domain.procedure import Procedure

PROCEDURE_SUFFIXES = (".yaml", ".yml")


def _node_line(root: yaml.Node, loc: Sequence[int | str]) -> int:
    """The 1-based line of the YAML node at ``loc``, or of its deepest existing parent."""
    node = root
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def parse_procedure(text: str, source: str = "<procedure>") -> Procedure:
    """Validate procedure ``text``; errors name the file, line and reason."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else 0
        raise InvalidProcedureError(
            f"{source}:{line}: {error.problem}", source=source, line=line, reason=str(error.problem)
        ) from None
    if root is None or not isinstance(data, dict):
        raise InvalidProcedureError(
            f"{source}:1: a procedure is a YAML mapping",
            source=source,
            line=1,
            reason="not a mapping",
        )
    try:
        return Procedure.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        line = _node_line(root, first["loc"])
        where = ".".join(str(p) for p in first["loc"]) or "procedure"
        reason = f"{where}: {first['msg']}"
        problems = [
            {
                "line": _node_line(root, e["loc"]),
                "field": ".".join(str(p) for p in e["loc"]),
                "reason": e["msg"],
            }
            for e in error.errors()
        ]
        raise InvalidProcedureError(
            f"{source}:{line}: {reason}", source=source, line=line, reason=reason, problems=problems
        ) from None


def load_procedure(path: Path) -> Procedure:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidProcedureError(
            f"{path}: cannot read: {error.strerror}", source=str(path)
        ) from None
    procedure = parse_procedure(text, str(path))
    expected = f"{procedure.name}.v{procedure.version}"
    if path.stem != expected:
        raise InvalidProcedureError(
            f"{path}:1: the file of {procedure.name} version {procedure.version} is named "
            f"{expected}.yaml (released procedures are never edited in place)",
            source=str(path),
            line=1,
        )
    return procedure


def procedure_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.iterdir()):
        if path.suffix in PROCEDURE_SUFFIXES:
            yield path


class ProcedureLibrary:
    """The procedures of a ``workflows/`` directory, by name and version."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._procedures: dict[tuple[str, int], Procedure] = {}
        for path in procedure_files(root):
            procedure = load_procedure(path)
            self._procedures[(procedure.name, procedure.version)] = procedure

    def get(self, name: str, version: int | None = None) -> Procedure:
        if version is None:
            versions = [v for (n, v) in self._procedures if n == name]
            if not versions:
                raise InvalidProcedureError(f"no procedure named {name!r}", name=name)
            version = max(versions)
        try:
            return self._procedures[(name, version)]
        except KeyError:
            raise InvalidProcedureError(
                f"no procedure {name!r} version {version}", name=name
            ) from None

    def all(self) -> list[Procedure]:
        return [self._procedures[k] for k in sorted(self._procedures)]


def load_holidays(path: Path) -> HolidayCalendar:
    """A holiday calendar file: ``holidays`` and ``working_weekends`` lists of ISO dates."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return HolidayCalendar(
            holidays=frozenset(date.fromisoformat(str(d)) for d in data.get("holidays", [])),
            working_weekends=frozenset(
                date.fromisoformat(str(d)) for d in data.get("working_weekends", [])
            ),
        )
    except (OSError, ValueError, yaml.YAMLError, AttributeError) as error:
        raise InvalidProcedureError(f"{path}: not a holiday calendar: {error}") from None
