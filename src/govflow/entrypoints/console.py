"""What every CLI command shares: consoles, JSON output, error translation."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic_core import to_jsonable_python
from rich.console import Console

from govflow.domain.errors import GovflowError

out = Console()
err = Console(stderr=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
EXIT_RULE, EXIT_USAGE, EXIT_AUDIT = 1, 2, 3


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable_python(data), ensure_ascii=False, indent=2) + "\n")


@contextmanager
def domain_errors() -> Iterator[None]:
    """Print a refused command as ``error [code] message`` and exit 1, without a traceback."""
    try:
        yield
    except GovflowError as error:
        err.print(f"error [{error.code}] {error.message}", markup=False, highlight=False)
        raise typer.Exit(EXIT_RULE) from None


def report(as_json: bool, data: Any, text: str) -> None:
    """The command's result: ``data`` as JSON with ``--json``, else ``text`` for a person."""
    if as_json:
        emit_json(data)
    else:
        out.print(text, highlight=False, soft_wrap=True)
