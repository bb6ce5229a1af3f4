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
    """``root`` itself if it is a file, else the procedure files directly in it, sorted."""
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        raise InvalidProcedureError(f"{root}: no such file or directory", source=str(root))
    for path in sorted(root.iterdir()):
        if path.suffix in PROCEDURE_SUFFIXES:
            yield path


def preset_dir() -> Path:
    """The presets shipped with govflow: ``govflow/presets`` inside an installed wheel (copied
    there from ``workflows/`` when the wheel is built), else the checkout's ``workflows/`` (an
    editable install)."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "presets", package.parents[1] / "workflows"):
        if (candidate / "procedure.schema.json").is_file():
            return candidate
    raise InvalidProcedureError(
        f"the procedure presets are missing from {package / 'presets'}: reinstall govflow"
    )


def calendar_files(*roots: Path) -> list[Path]:
    """The holiday files in each root's ``calendars/``; a file of a later root replaces the
    file of the same name in an earlier one."""
    found: dict[str, Path] = {}
    for root in roots:
        directory = root / "calendars"
        for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
            found[path.name] = path
    return [found[name] for name in sorted(found)]


class ProcedureLibrary:
    """The procedures of a ``workflows/`` directory, by name and version.

    Directories given after the first add procedures to it, and a file there with the same name
    and version as an earlier one replaces it (how ``GOVFLOW_WORKFLOWS_DIR`` extends the presets).
    """

    def __init__(self, root: Path, *more: Path) -> None:
        self.root = root
        self.roots = (root, *more)  # where rating procedures (``ratings/``) are looked up too
        self._procedures: dict[tuple[str, int], Procedure] = {}
        for directory in (root, *more):
            for path in procedure_files(directory):
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
