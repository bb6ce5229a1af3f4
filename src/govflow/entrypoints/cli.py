"""The ``govflow`` command line.

Operator commands open this machine's event store (or serve it): ``up``, ``api``, ``worker``,
``migrate``, ``keys``, ``schema``, ``procedure``, offline ``audit``, ``council register|bootstrap``.
Everything a person does is a client of the running API with their token (``govflow login``):
see :mod:`~govflow.entrypoints.cli_http`. No command here opens a Temporal client but the
servers.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlparse
from uuid import UUID

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from govflow.bootstrap import Settings
from govflow.domain.errors import GovflowError
from govflow.entrypoints.cli_admin import demo, events, list_app, webhook_app
from govflow.entrypoints.cli_council import council_app, token_app
from govflow.entrypoints.cli_evidence import evidence_app
from govflow.entrypoints.cli_issues import issue_app
from govflow.entrypoints.cli_log import seal
from govflow.entrypoints.cli_login import login, logout, whoami_command
from govflow.entrypoints.cli_meetings import meeting_app, spending_app
from govflow.entrypoints.cli_orders import order_app
from govflow.entrypoints.cli_ratings import rating_app
from govflow.entrypoints.cli_verify import verify, verify_proof
from govflow.entrypoints.cli_witness import witness_app
from govflow.entrypoints.console import (
    EXIT_AUDIT,
    EXIT_INVALID,
    EXIT_RULE,
    JsonFlag,
    domain_errors,
    emit_json,
    err,
    offline,
    out,
    report,
)
from govflow.observability import configure_logging

if TYPE_CHECKING:
    from govflow.application import Governance
    from govflow.application.audit import VerifyReport

app = typer.Typer(
    help="govflow: event-sourced governance workflows for residents' councils.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold tokens and keys
)
procedure_app = typer.Typer(help="Validate and lint procedure files.", no_args_is_help=True)
audit_app = typer.Typer(
    help="(Operator) History, past state, the hash chain and exports, read from this "
    "machine's event store.",
    no_args_is_help=True,
)
schema_app = typer.Typer(help="The published event catalogue.", no_args_is_help=True)
app.command("login")(login)
app.command("logout")(logout)
app.command("whoami")(whoami_command)
app.add_typer(procedure_app, name="procedure")
app.add_typer(audit_app, name="audit")
audit_app.command("seal")(seal)
app.add_typer(schema_app, name="schema")
app.add_typer(council_app, name="council")
app.add_typer(token_app, name="token")

app.add_typer(issue_app, name="issue")
app.add_typer(meeting_app, name="meeting")
app.add_typer(spending_app, name="spending")
app.add_typer(rating_app, name="rating")
app.add_typer(order_app, name="order")
app.add_typer(webhook_app, name="webhook")
app.add_typer(list_app, name="list")
app.add_typer(evidence_app, name="evidence")
app.command("demo")(demo)
app.command("events")(events)
app.command("verify")(verify)
app.command("verify-proof")(verify_proof)
app.add_typer(witness_app, name="witness")
DemoFlag = Annotated[
    bool, typer.Option("--demo", help="Demo mode: items' clocks may be fast-forwarded.")
]


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# -- procedures ---------------------------------------------------------------------------


@procedure_app.command("validate")
def procedure_validate(
    paths: Annotated[list[Path], typer.Argument(help="Files or dirs.")], as_json: JsonFlag = False
) -> None:
    """Refuse malformed procedure files, naming the line and the reason."""
    from govflow.application.procedures import load_procedure, procedure_files

    failures = []
    with domain_errors():
        files = [f for p in paths for f in procedure_files(p)]
    for path in files:
        try:
            load_procedure(path)
        except GovflowError as error:
            failures.append(
                {
                    "file": str(path),
                    "code": error.code,
                    "message": error.message,
                    **{k: v for k, v in error.details.items() if k == "line"},
                }
            )
    if as_json:
        emit_json({"checked": len(files), "failures": failures})
    else:
        for failure in failures:
            err.print(failure["message"], markup=False, highlight=False)
        if not failures:
            out.print(f"{len(files)} procedure file(s) valid")
    if failures:
        raise typer.Exit(EXIT_RULE)


@procedure_app.command("lint")
def procedure_lint(
    paths: Annotated[list[Path], typer.Argument(help="Files or dirs.")], as_json: JsonFlag = False
) -> None:
    """Validate, then flag procedures that break statutory minimums."""
    from govflow.application.procedures import load_procedure, procedure_files
    from govflow.domain.procedure_lint import lint

    findings: list[dict[str, Any]] = []
    with domain_errors():
        files = [f for p in paths for f in procedure_files(p)]
    for path in files:
        try:
            procedure = load_procedure(path)
        except GovflowError as error:
            findings.append({"file": str(path), "code": error.code, "message": error.message})
            continue
        findings.extend(
            {"file": str(path), "code": f.code, "stage": f.stage, "message": f.message}
            for f in lint(procedure)
        )
    if as_json:
        emit_json({"findings": findings})
    else:
        for finding in findings:
            stage = f" stage {finding['stage']}" if finding.get("stage") else ""
            err.print(
                f"{finding['file']}{stage}: [{finding['code']}] {finding['message']}",
                markup=False,
                highlight=False,
            )
        if not findings:
            out.print("no findings")
    if findings:
        raise typer.Exit(EXIT_RULE)


# -- audit --------------------------------------------------------------------------------


@audit_app.command("history")
def audit_history(aggregate_id: UUID, as_json: JsonFlag = False) -> None:
    """Every event of an aggregate: version, time, actor, what."""
    entries = offline(lambda app: app.get_history(aggregate_id))
    if as_json:
        emit_json([e.model_dump(mode="json") for e in entries])
        return
    table = Table("v", "time (UTC)", "actor", "event", "data")
    for e in entries:
        data = json.dumps(e.data, ensure_ascii=False)
        table.add_row(
            str(e.version),
            e.timestamp.isoformat(timespec="seconds"),
            e.actor,
            e.topic,
            data if len(data) < 80 else data[:77] + "...",
        )
    out.print(table)


@audit_app.command("as-of")
def audit_as_of(aggregate_id: UUID, at: datetime) -> None:
    """The state of an aggregate as it stood at a past time (ISO 8601, with offset)."""
    if at.tzinfo is None:
        raise typer.BadParameter("give the time with its offset, e.g. 2026-03-01T12:00+08:00")
    emit_json(offline(lambda app: app.get_state_as_of(aggregate_id, at)))


@audit_app.command("checkpoint")
def audit_checkpoint(as_json: JsonFlag = False) -> None:
    """Seal the log and print the checkpoint digest to publish."""
    checkpoint = offline(lambda app: app.record_checkpoint())
    if as_json:
        emit_json(checkpoint.__dict__)
    else:
        out.print(f"checkpoint {checkpoint.position} (notification {checkpoint.notification_id})")
        out.print(f"{checkpoint.position}:{checkpoint.digest}", highlight=False)


@audit_app.command("verify")
def audit_verify(
    expect: Annotated[
        list[str] | None,
        typer.Option(
            help="A published checkpoint POSITION:DIGEST to hold the chain to (repeatable)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute the hash chain and name the first altered, removed or inserted record."""
    expected: dict[int, str] = {}
    for item in expect or []:
        position, _, digest = item.partition(":")
        if not position.isdigit() or len(digest) != 64:
            raise typer.BadParameter(f"--expect takes POSITION:DIGEST, got {item!r}")
        expected[int(position)] = digest

    def verify(app: Governance) -> VerifyReport:
        with _progress("verifying", app.recorder.max_notification_id()) as advance:
            return app.verify_audit_chain(expected, progress=advance)

    verdict = offline(verify)
    if as_json:
        emit_json(
            {
                "ok": verdict.ok,
                "checked": verdict.checked,
                "unsealed": verdict.unsealed,
                "checkpoints_checked": verdict.checkpoints_checked,
                "problem": verdict.problem.__dict__ if verdict.problem else None,
            }
        )
    elif verdict.problem:
        p = verdict.problem
        err.print(
            f"[red]FAILED[/red]: record {p.notification_id} (chain position {p.position}) "
            f"{p.kind}: {p.detail}",
            highlight=False,
        )
    else:
        out.print(
            f"ok: {verdict.checked} records verified, "
            f"{verdict.checkpoints_checked} checkpoint(s) matched, "
            f"{verdict.unsealed} not yet sealed"
        )
    if not verdict.ok:
        raise typer.Exit(EXIT_AUDIT)


@audit_app.command("export")
def audit_export(
    output: Annotated[
        Path, typer.Option("--out", "-o", help="File to write ('-' for stdout).")
    ] = Path("-"),
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="The verifiable export with the feed's rules, every council's records shown: "
            "private records and choices of open or secret votes by their commitment only "
            "(a council's readers get theirs at GET /v1/log/councils/CODE/export).",
        ),
    ] = False,
) -> None:
    """Write the whole log as JSON Lines, with each sealed record's salt (govflow verify
    recomputes every leaf from it)."""

    def export(app: Governance) -> int:
        with _progress("exporting", app.recorder.max_notification_id()) as advance:
            if str(output) == "-":
                return app.export_log(sys.stdout.buffer, progress=advance, public=public)
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as stream:
                count = app.export_log(stream, progress=advance, public=public)
            partial.replace(output)
            return count

    count = offline(export)
    err.print(f"exported {count} records")


# -- schema -------------------------------------------------------------------------------


@schema_app.command("export")
def schema_export(
    root: Annotated[Path, typer.Option(help="Repository root.")] = Path("."),
    check: Annotated[bool, typer.Option(help="Only report stale files; exit 1 if any.")] = False,
) -> None:
    """Write JSON Schemas, the catalogue and missing golden payloads."""
    from govflow.application import catalogue

    with domain_errors():
        result = catalogue.export(root, check=check)
    for path in result.stale:
        (err if check else out).print(f"{'stale' if check else 'wrote'} {path}")
    if check and result.stale:
        raise typer.Exit(EXIT_RULE)
    if not result.stale:
        out.print("catalogue up to date")


keys_app = typer.Typer(help="Make the installation's secret keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def keys_new(
    origin: Annotated[
        str,
        typer.Option(
            help="The verifiable log's name (its checkpoints' origin), e.g. govflow/<site>."
        ),
    ] = "govflow/council",
    as_json: JsonFlag = False,
) -> None:
    """Print fresh random values for GOVFLOW_TOKEN_KEY, GOVFLOW_CIPHER_KEY and
    GOVFLOW_LOG_SIGNING_KEY, and the log's public key to publish (residents and witnesses
    check checkpoints with it). Keep the secrets safe: a lost cipher key makes the
    encrypted log unreadable, a changed one too."""
    import secrets
    from base64 import b64encode

    from govflow.transparency import TransparencyError, generate_key

    try:
        signing, public = generate_key(origin)
    except TransparencyError as error:
        raise typer.BadParameter(error.message, param_hint="--origin") from None
    keys = {
        "GOVFLOW_TOKEN_KEY": secrets.token_hex(32),
        "GOVFLOW_CIPHER_KEY": b64encode(secrets.token_bytes(32)).decode(),
        "GOVFLOW_LOG_SIGNING_KEY": signing,
    }
    if as_json:
        emit_json({**keys, "log_public_key": public})
        return
    for name, value in keys.items():
        out.print(f"{name}={value}", highlight=False, soft_wrap=True)
    out.print(f"# the log's public key, to publish: {public}", highlight=False, soft_wrap=True)


@app.command("up")
def up(demo: DemoFlag = False) -> None:
    """(Operator) Run the embedded stack: Temporal dev server, worker, read side and HTTP API."""
    from govflow.entrypoints.runtime import run_up

    run_up(_settings(demo), out.print)


def _settings(demo: bool) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"demo": True}) if demo else settings


def _store_env(url: str) -> dict[str, str]:
    """``sqlite:PATH`` or ``postgresql://USER@HOST:PORT/DBNAME`` as eventsourcing settings."""
    if url.startswith("sqlite:"):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": url.removeprefix("sqlite:").removeprefix("//"),
        }
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql") or not parsed.path.strip("/"):
        raise typer.BadParameter(f"expected sqlite:PATH or postgresql://.../DBNAME, got {url}")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.path.strip("/"),
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
    }


@app.command("migrate")
def migrate_log(
    source: Annotated[str, typer.Argument(help="sqlite:PATH or postgresql://USER@HOST/DB")],
    target: Annotated[str, typer.Argument(help="sqlite:PATH or postgresql://USER@HOST/DB")],
    resume: Annotated[
        bool, typer.Option("--continue", help="Resume a copy into a non-empty target.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Copy the whole event log and audit chain between stores, keeping ids and order."""
    from govflow.application import Governance
    from govflow.application.migration import migrate

    source_env, target_env = _store_env(source), _store_env(target)
    opened: list[Governance] = []
    try:
        with domain_errors():
            source_app = Governance(source_env)
            opened.append(source_app)
            target_app = Governance(target_env)
            opened.append(target_app)
            with _progress("copying", source_app.recorder.max_notification_id()) as advance:
                result = migrate(source_app, target_app, resume=resume, progress=advance)
    finally:
        for store in opened:
            store.close()
    report(
        as_json,
        result.__dict__,
        f"copied {result.copied} record(s) after {result.already_there} already there; "
        f"{result.chain_links} chain link(s), {result.checkpoints} checkpoint(s), "
        f"{result.log_checkpoints} signed log checkpoint(s), "
        f"{result.evidence_files} evidence file(s)",
    )


@app.command("api")
def api(demo: DemoFlag = False) -> None:
    """(Operator) Run the HTTP API against the shared store and GOVFLOW_TEMPORAL_ADDRESS."""
    from govflow.entrypoints.runtime import run_api

    run_api(_settings(demo), out.print)


@app.command("worker")
def worker() -> None:
    """(Operator) Run a worker against GOVFLOW_TEMPORAL_ADDRESS (scale-out)."""
    from govflow.entrypoints.runtime import run_worker

    run_worker(Settings(), out.print)


def main() -> None:
    try:
        settings = Settings()  # fail early, with a clear message, on an invalid setting
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"])
            name = f"GOVFLOW_{where.upper()}" if where else "settings"
            err.print(
                f"error: {name}: {problem['msg']} (settings.invalid)", markup=False, soft_wrap=True
            )
        raise SystemExit(EXIT_INVALID) from None
    configure_logging(
        settings.log_format or ("json" if settings.environment == "production" else "console"),
        settings.log_level,
    )
    for chatty in ("httpx", "httpcore"):  # a line per request is noise for a person
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    app()
