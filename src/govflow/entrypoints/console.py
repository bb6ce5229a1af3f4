"""What every CLI command shares: consoles, JSON output, error messages and exit codes.

An error prints one line, ``error: <detail> (<code>)``, on stderr, never a traceback, and exits
with the code of its class (the same for an error from the API and one raised in this process):

====  =========================================================================
0     success
1     refused by a governance rule or the item's state (HTTP 409)
2     bad usage (a missing or malformed argument)
3     audit verification failed
4     not signed in, or not allowed (HTTP 401, 403)
5     not found (HTTP 404)
6     invalid input (HTTP 400, 413, 422)
7     the govflow server cannot be reached, or failed (HTTP 5xx)
====  =========================================================================
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic_core import to_jsonable_python
from rich.console import Console

from govflow.domain.errors import GovflowError

if TYPE_CHECKING:
    from govflow.application import Governance

T = TypeVar("T")

out = Console()
err = Console(stderr=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
EXIT_RULE, EXIT_USAGE, EXIT_AUDIT = 1, 2, 3
EXIT_DENIED, EXIT_NOT_FOUND, EXIT_INVALID, EXIT_SERVER = 4, 5, 6, 7


def exit_code(status: int) -> int:
    """The exit code of an error with this HTTP status."""
    if status in (401, 403):
        return EXIT_DENIED
    if status == 404:
        return EXIT_NOT_FOUND
    if status in (400, 413, 422):
        return EXIT_INVALID
    if status >= 500:
        return EXIT_SERVER
    return EXIT_RULE


def fail(detail: str, code: str, exit_with: int) -> NoReturn:
    """Print ``error: <detail> (<code>)`` on stderr and exit with ``exit_with``."""
    err.print(f"error: {detail} ({code})", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(exit_with)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable_python(data), ensure_ascii=False, indent=2) + "\n")


@contextmanager
def domain_errors() -> Iterator[None]:
    """An error raised in this process (operator commands) as one line and its exit code."""
    from eventsourcing.persistence import PersistenceError

    try:
        yield
    except GovflowError as error:
        fail(error.message, error.code, exit_code(error.status))
    except PersistenceError as error:
        fail(f"the event store cannot be used: {error}", "store.unavailable", EXIT_SERVER)
    except OSError as error:  # a path the user gave (or the data directory) is not usable
        where = f": {error.filename}" if error.filename else ""
        fail(f"{error.strerror or error}{where}", "io.error", EXIT_INVALID)


def offline(action: Callable[[Governance], T]) -> T:
    """Run ``action`` on this machine's event store (operator commands only), errors as lines."""
    from govflow.bootstrap import build_governance

    with domain_errors():
        app = build_governance()
        try:
            return action(app)
        finally:
            app.close()


def report(as_json: bool, data: Any, text: str) -> None:
    """The command's result: ``data`` as JSON with ``--json``, else ``text`` for a person."""
    if as_json:
        emit_json(data)
    else:
        out.print(text, highlight=False, soft_wrap=True)


def local_time(value: datetime | str | None, timezone: str, *, deadline: bool = False) -> str:
    """A time in the council's time zone, as the board shows it: ``2026-12-09 18:30
    (Asia/Shanghai)``; a deadline at midnight ends the day before, ``2026-12-09 24:00``."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(ZoneInfo(timezone))
    if deadline and (local.hour, local.minute, local.second) == (0, 0, 0):
        shown = f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    else:
        shown = f"{local:%Y-%m-%d %H:%M}"
    return f"{shown} ({timezone})"
