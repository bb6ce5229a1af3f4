"""The ``govflow`` command line: procedures, audit, the event catalogue and council set-up."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse
from uuid import UUID

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from govflow.application import catalogue
from govflow.application.procedures import load_procedure, procedure_files
from govflow.bootstrap import Settings, build_governance
from govflow.domain.access import HolderKind, Scope
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError
from govflow.domain.procedure_lint import lint
from govflow.entrypoints.cli_admin import demo, events, list_app, webhook_app
from govflow.entrypoints.cli_issues import issue_app, meeting_app, spending_app
from govflow.entrypoints.console import (
    EXIT_AUDIT,
    EXIT_RULE,
    JsonFlag,
    domain_errors,
    emit_json,
    err,
    out,
    report,
)
from govflow.observability import configure_logging

ROLES = ("clerk", "auditor", "officer")

app = typer.Typer(
    help="govflow: event-sourced governance workflows for residents' councils.",
    no_args_is_help=True,
)
procedure_app = typer.Typer(help="Validate and lint procedure files.", no_args_is_help=True)
audit_app = typer.Typer(
    help="History, past state, the hash chain and exports.", no_args_is_help=True
)
schema_app = typer.Typer(help="The published event catalogue.", no_args_is_help=True)
council_app = typer.Typer(help="Councils, members and households.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: issue and revoke.", no_args_is_help=True)
app.add_typer(procedure_app, name="procedure")
app.add_typer(audit_app, name="audit")
app.add_typer(schema_app, name="schema")
app.add_typer(council_app, name="council")
app.add_typer(token_app, name="token")

app.add_typer(issue_app, name="issue")
app.add_typer(meeting_app, name="meeting")
app.add_typer(spending_app, name="spending")
app.add_typer(webhook_app, name="webhook")
app.add_typer(list_app, name="list")
app.command("demo")(demo)
app.command("events")(events)


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
    failures = []
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
    findings: list[dict[str, Any]] = []
    for path in (f for p in paths for f in procedure_files(p)):
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
    with domain_errors():
        entries = build_governance().get_history(aggregate_id)
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
        err.print("[red]error[/red] give the time with its offset, e.g. 2026-03-01T12:00+08:00")
        raise typer.Exit(2)
    with domain_errors():
        emit_json(build_governance().get_state_as_of(aggregate_id, at))


@audit_app.command("checkpoint")
def audit_checkpoint(as_json: JsonFlag = False) -> None:
    """Seal the log and print the checkpoint digest to publish."""
    with domain_errors():
        checkpoint = build_governance().record_checkpoint()
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
            err.print(f"[red]error[/red] --expect takes POSITION:DIGEST, got {item!r}")
            raise typer.Exit(2)
        expected[int(position)] = digest
    governance = build_governance()
    total = governance.recorder.max_notification_id()
    with domain_errors(), _progress("verifying", total) as advance:
        verdict = governance.verify_audit_chain(expected, progress=advance)
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
) -> None:
    """Write the whole log as JSON Lines."""
    governance = build_governance()
    total = governance.recorder.max_notification_id()
    with _progress("exporting", total) as advance:
        if str(output) == "-":
            count = governance.export_log(sys.stdout.buffer, progress=advance)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as stream:
                count = governance.export_log(stream, progress=advance)
            partial.replace(output)
    err.print(f"exported {count} records")


# -- schema -------------------------------------------------------------------------------


@schema_app.command("export")
def schema_export(
    root: Annotated[Path, typer.Option(help="Repository root.")] = Path("."),
    check: Annotated[bool, typer.Option(help="Only report stale files; exit 1 if any.")] = False,
) -> None:
    """Write JSON Schemas, the catalogue and missing golden payloads."""
    result = catalogue.export(root, check=check)
    for path in result.stale:
        (err if check else out).print(f"{'stale' if check else 'wrote'} {path}")
    if check and result.stale:
        raise typer.Exit(EXIT_RULE)
    if not result.stale:
        out.print("catalogue up to date")


# -- councils -----------------------------------------------------------------------------


@council_app.command("register")
def council_register(
    code: str,
    name: str,
    threshold: str = "10000.00",
    actor: str = "clerk",
    as_json: JsonFlag = False,
) -> None:
    """Register a council with its spending threshold (yuan)."""
    with domain_errors():
        council_id = build_governance().register_council(
            code, name, actor=actor, spending_threshold=threshold
        )
    report(as_json, {"id": str(council_id), "code": code}, str(council_id))


@council_app.command("add-member")
def council_add_member(
    code: str,
    member_id: str,
    name: str,
    body: Annotated[list[Body] | None, typer.Option(help="A body they sit on.")] = None,
    chair: Annotated[list[Body] | None, typer.Option(help="A body they chair.")] = None,
    role: Annotated[
        list[str] | None, typer.Option(help="clerk, auditor or officer (repeatable).")
    ] = None,
    actor: str = "clerk",
    as_json: JsonFlag = False,
) -> None:
    """Enroll a member on the bodies they sit on, with their roles."""
    for r in role or ():
        if r not in ROLES:
            raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}, not {r!r}")
    with domain_errors():
        build_governance().enroll_member(
            code,
            member_id,
            name,
            actor=actor,
            roles=tuple(role or ()),
            bodies=tuple(body or ()),
            chairs=tuple(chair or ()),
        )
    report(as_json, {"member_id": member_id}, f"{member_id} enrolled")


@council_app.command("remove-member")
def council_remove_member(
    code: str, member_id: str, actor: str = "clerk", as_json: JsonFlag = False
) -> None:
    """Record that a member left (their tokens stop working)."""
    with domain_errors():
        build_governance().remove_member(code, member_id, actor=actor)
    report(as_json, {"removed": member_id}, f"{member_id} left")


@council_app.command("add-household")
def council_add_household(
    code: str,
    unit: str,
    exclusive_area: Annotated[str, typer.Argument(help="Exclusive area in m², e.g. 89.50")],
    owner: str,
    body: Annotated[
        list[Body] | None, typer.Option(help="A body the household votes in (repeatable).")
    ] = None,
    actor: str = "clerk",
    as_json: JsonFlag = False,
) -> None:
    """Register a household: its unit, exclusive area and owner."""
    try:
        area = Decimal(exclusive_area)
    except ArithmeticError:
        raise typer.BadParameter(f"{exclusive_area!r} is not an area in m²") from None
    with domain_errors():
        build_governance().register_household(
            code, unit, area, owner, actor=actor, bodies=tuple(body or (Body.OWNERS_ASSEMBLY,))
        )
    report(as_json, {"unit": unit}, f"household {unit} registered")


@council_app.command("threshold")
def council_threshold(
    code: str, threshold: str, actor: str = "clerk", as_json: JsonFlag = False
) -> None:
    """Change the amount above which spending needs the party members' review."""
    with domain_errors():
        app = build_governance()
        app.change_spending_threshold(code, threshold, actor=actor)
        now = app.council(code).spending_threshold
    report(as_json, {"threshold": str(now)}, f"threshold ¥{now:,.2f}")


@council_app.command("show")
def council_show(code: str, as_json: JsonFlag = False) -> None:
    """A council's members, bodies and threshold."""
    with domain_errors():
        view = build_governance().get_council(code)
    if as_json:
        emit_json(view.model_dump(mode="json"))
        return
    out.print(
        f"{view.name} ({view.code}), threshold ¥{view.spending_threshold:,.2f}, "
        f"{view.households} households"
    )
    table = Table("member", "name", "bodies", "chairs")
    for m in view.members:
        table.add_row(m.member_id, m.name, ", ".join(m.bodies), ", ".join(m.chairs))
    out.print(table)


@token_app.command("issue")
def token_issue(
    council: str,
    holder: str,
    scope: Annotated[
        list[Scope] | None,
        typer.Option(
            help="An integration's scope (repeatable); without one the holder is a member."
        ),
    ] = None,
    actor: str = "clerk",
    as_json: JsonFlag = False,
) -> None:
    """Issue a token for a member (or, with --scope, an integration); shown once only."""
    kind = HolderKind.INTEGRATION if scope else HolderKind.PERSON
    with domain_errors():
        token = build_governance().issue_token(
            council, holder, kind=kind, scopes=tuple(scope or ()), actor=actor
        )
    if as_json:
        emit_json({"token": token, "id": token.split("_")[1], "holder": holder})
        return
    out.print(token, highlight=False)
    err.print("keep it safe: only its hash is stored, it cannot be shown again")


@token_app.command("revoke")
def token_revoke(
    token_id: str, reason: str, actor: str = "clerk", as_json: JsonFlag = False
) -> None:
    """Revoke a token by its id (the part after gf_)."""
    with domain_errors():
        build_governance().revoke_token(token_id, reason, actor=actor)
    report(as_json, {"revoked": token_id}, "revoked")


keys_app = typer.Typer(help="Make the installation's secret keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def keys_new(as_json: JsonFlag = False) -> None:
    """Print fresh random values for GOVFLOW_TOKEN_KEY and GOVFLOW_CIPHER_KEY (keep them safe:
    a lost cipher key makes the encrypted log unreadable, a changed one too)."""
    import secrets
    from base64 import b64encode

    keys = {
        "GOVFLOW_TOKEN_KEY": secrets.token_hex(32),
        "GOVFLOW_CIPHER_KEY": b64encode(secrets.token_bytes(32)).decode(),
    }
    if as_json:
        emit_json(keys)
        return
    for name, value in keys.items():
        out.print(f"{name}={value}", highlight=False, soft_wrap=True)


@app.command("up")
def up() -> None:
    """Run the embedded stack: Temporal dev server, worker, audit poller and HTTP API."""
    from govflow.entrypoints.runtime import run_up

    run_up(Settings(), out.print)


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

    source_app, target_app = Governance(_store_env(source)), Governance(_store_env(target))
    try:
        total = source_app.recorder.max_notification_id()
        with domain_errors(), _progress("copying", total) as advance:
            result = migrate(source_app, target_app, resume=resume, progress=advance)
    finally:
        source_app.close()
        target_app.close()
    report(
        as_json,
        result.__dict__,
        f"copied {result.copied} record(s) after {result.already_there} already there; "
        f"{result.chain_links} chain link(s), {result.checkpoints} checkpoint(s)",
    )


@app.command("api")
def api() -> None:
    """Run the HTTP API against the shared store and GOVFLOW_TEMPORAL_ADDRESS (scale-out)."""
    from govflow.entrypoints.runtime import run_api

    run_api(Settings(), out.print)


@app.command("worker")
def worker() -> None:
    """Run a worker against GOVFLOW_TEMPORAL_ADDRESS (scale-out)."""
    from govflow.entrypoints.runtime import run_worker

    run_worker(Settings(), out.print)


def main() -> None:
    try:
        settings = Settings()  # fail early, with a clear message, on an invalid setting
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"])
            name = f"GOVFLOW_{where.upper()}" if where else "settings"
            err.print(f"error [settings.invalid] {name}: {problem['msg']}", markup=False)
        raise SystemExit(EXIT_RULE) from None
    configure_logging(
        settings.log_format or ("json" if settings.environment == "production" else "console"),
        settings.log_level,
    )
    app()
