"""Loading annual rating procedures (``workflows/ratings/*.yaml``), by name and version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from govflow.application.procedures import PROCEDURE_SUFFIXES, preset_dir
from govflow.domain.annual_rating_procedure import RatingProcedure
from govflow.domain.errors import InvalidProcedureError

RATINGS_DIR = "ratings"


def parse_rating_procedure(text: str, source: str = "<rating procedure>") -> RatingProcedure:
    """Validate rating procedure ``text``; errors name the file and the field at fault."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidProcedureError(f"{source}: {error}", source=source) from None
    if not isinstance(data, dict):
        raise InvalidProcedureError(f"{source}: a rating procedure is a YAML mapping")
    try:
        return RatingProcedure.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "procedure"
        raise InvalidProcedureError(
            f"{source}: {where}: {first['msg']}", source=source, reason=first["msg"]
        ) from None


def load_rating_procedure(path: Path) -> RatingProcedure:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidProcedureError(f"{path}: cannot read: {error.strerror}") from None
    procedure = parse_rating_procedure(text, str(path))
    expected = f"{procedure.name}.v{procedure.version}"
    if path.stem != expected:
        raise InvalidProcedureError(
            f"{path}: the file of {procedure.name} version {procedure.version} is named "
            f"{expected}.yaml (released procedures are never edited in place)",
            source=str(path),
        )
    return procedure


class RatingProcedureLibrary:
    """The rating procedures in the ``ratings/`` folder of each procedure directory; a later
    directory's file of the same name and version replaces an earlier one's."""

    def __init__(self, *roots: Path) -> None:
        self._procedures: dict[tuple[str, int], RatingProcedure] = {}
        for root in roots or (preset_dir(),):
            folder = root / RATINGS_DIR
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                if path.suffix in PROCEDURE_SUFFIXES:
                    procedure = load_rating_procedure(path)
                    self._procedures[(procedure.name, procedure.version)] = procedure

    def get(self, name: str, version: int | None = None) -> RatingProcedure:
        if version is None:
            versions = [v for (n, v) in self._procedures if n == name]
            if not versions:
                raise InvalidProcedureError(f"no rating procedure named {name!r}", name=name)
            version = max(versions)
        try:
            return self._procedures[(name, version)]
        except KeyError:
            raise InvalidProcedureError(
                f"no rating procedure {name!r} version {version}", name=name
            ) from None

    def all(self) -> list[RatingProcedure]:
        return [self._procedures[k] for k in sorted(self._procedures)]
