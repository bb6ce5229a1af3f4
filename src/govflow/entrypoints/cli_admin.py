"""``govflow demo|webhook|list|events``: the sample council, integrations' subscriptions, and
the lists a clerk looks at."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from govflow.application.webhooks import http_sender
from govflow.bootstrap import Settings, build_procedures
from govflow.entrypoints.cli_issues import _with_app, _with_client
from govflow.entrypoints.console import JsonFlag, emit_json, err, out, report

webhook_app = typer.Typer(help="Webhook subscriptions and their deliveries.", no_args_is_help=True)
list_app = typer.Typer(help="Lists: issues, notices, meetings, spending.", no_args_is_help=True)

DEMO_STEPS = 4


def demo(
    council: Annotated[str, typer.Option(help="Code of the sample council.")] = "sunshine",
    as_json: JsonFlag = False,
) -> None:
    """Create a sample council and play the field stories through the running stack
    (`govflow up` first), in fast time; they stay on the board."""
    from govflow.entrypoints.demo import play

    settings = Settings()
    procedures = build_procedures(settings)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("demo", total=DEMO_STEPS)

        def step(text: str) -> None:
            bar.update(task, description=text, advance=1)
            if not err.is_terminal and not as_json:
                out.print(text, highlight=False)

        paths = _with_client(lambda issues: play(issues.app, issues, procedures, step, council))
    base = f"http://{settings.http_host}:{settings.http_port}"
    if as_json:
        emit_json({"council": council, "board": [base + p for p in paths]})
        return
    out.print(f"done: see the board at {base}{paths[0]}", highlight=False)
    out.print(
        f"act on item 2 from the command line: govflow issue close-stage {council} 2 --actor c1",
        highlight=False,
        soft_wrap=True,
    )


# -- webhooks --------------------------------------------------------------------------------


@webhook_app.command("add")
def webhook_add(
    council: str,
    url: str,
    topic: Annotated[
        list[str] | None, typer.Option(help="Only this event topic (repeatable).")
    ] = None,
    from_start: Annotated[
        bool, typer.Option(help="Deliver the council's whole history first.")
    ] = False,
    actor: str = "clerk",
    as_json: JsonFlag = False,
) -> None:
    """Subscribe URL to the council's events; prints the signing secret (shown once only)."""
    new = _with_app(
        lambda app: app.subscribe_webhook(
            council, url, tuple(topic or ()), actor=actor, from_start=from_start
        )
    )
    if as_json:
        emit_json(new.model_dump(mode="json"))
        return
    out.print(f"subscription {new.subscription.id}", highlight=False)
    out.print(new.secret, highlight=False)
    err.print("keep the secret: it signs every delivery and cannot be shown again")


@webhook_app.command("list")
def webhook_list(council: str, as_json: JsonFlag = False) -> None:
    """Subscriptions with their delivery status."""
    views = _with_app(lambda app: app.list_webhooks(council))
    if as_json:
        emit_json([v.model_dump(mode="json") for v in views])
        return
    table = Table("id", "url", "active", "delivered", "cursor", "failing", "last error")
    for v in views:
        table.add_row(
            str(v.id), v.url, "yes" if v.active else "no", str(v.delivered), str(v.position),
            str(v.attempts), v.last_error or "",
        )  # fmt: skip
    out.print(table)


@webhook_app.command("show")
def webhook_show(council: str, subscription: UUID, as_json: JsonFlag = False) -> None:
    """One subscription with its recent failures."""
    view = _with_app(lambda app: app.get_webhook(council, subscription))
    if as_json:
        emit_json(view.model_dump(mode="json"))
        return
    out.print(
        f"{view.url}: {'active' if view.active else 'unsubscribed'}, {view.delivered} delivered, "
        f"cursor {view.position}, {view.attempts} failed attempt(s)",
        highlight=False,
    )
    if view.next_attempt_at:
        out.print(f"next attempt at {view.next_attempt_at.isoformat()}", highlight=False)
    for failure in view.failures:
        out.print(
            f"  {failure['at']}: event {failure['notification_id']}: {failure['error']}",
            highlight=False,
        )


@webhook_app.command("remove")
def webhook_remove(
    council: str, subscription: UUID, actor: str = "clerk", as_json: JsonFlag = False
) -> None:
    """Unsubscribe (deliveries stop; the subscription stays in the record)."""
    _with_app(lambda app: app.unsubscribe_webhook(council, subscription, "removed", actor=actor))
    report(as_json, {"active": False}, "unsubscribed")


@webhook_app.command("deliver")
def webhook_deliver(as_json: JsonFlag = False) -> None:
    """Run one delivery pass now (the API process delivers every second on its own)."""
    send = http_sender()
    count = _with_app(lambda app: app.deliver_webhooks(send))
    if as_json:
        emit_json({"delivered": count})
    else:
        out.print(f"{count} event(s) delivered")


# -- lists -----------------------------------------------------------------------------------


@list_app.command("issues")
def list_issues(
    council: str,
    stage: str | None = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only items still running.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The council's items, newest first."""
    rows = _with_app(lambda app: app.list_issues(council, stage=stage, open_only=open_only))
    if as_json:
        emit_json([r.__dict__ for r in rows])
        return
    table = Table("no.", "title", "procedure", "stage", "deadline", "outcome")
    for r in rows:
        table.add_row(
            str(r.number), r.title, r.procedure, r.stage or "—",
            r.deadline.isoformat(timespec="minutes") if r.deadline else "—", r.outcome or "—",
        )  # fmt: skip
    out.print(table)


@list_app.command("notices")
def list_notices(
    council: str,
    all_: Annotated[bool, typer.Option("--all", help="Include expired notices.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Notices newest first (by default those on display now)."""
    rows = _with_app(lambda app: app.list_notices(council, current_at=None if all_ else app.now()))
    if as_json:
        emit_json([r.__dict__ for r in rows])
        return
    table = Table("posted", "kind", "title", "until", "objections")
    for r in rows:
        table.add_row(
            r.posted_at.isoformat(timespec="minutes"), r.kind, r.title,
            r.display_until.isoformat(timespec="minutes"), str(r.objections),
        )  # fmt: skip
    out.print(table)


@list_app.command("spending")
def list_spending(council: str, as_json: JsonFlag = False) -> None:
    """The spending ledger."""
    rows = _with_app(lambda app: app.list_spending(council))
    if as_json:
        emit_json([r.__dict__ for r in rows])
        return
    table = Table("no.", "purpose", "amount", "approved", "disbursed", "actual", "status")
    for r in rows:
        table.add_row(
            str(r.number), r.purpose, f"{r.amount:,.2f}", f"{r.approved_amount:,.2f}",
            f"{r.disbursed:,.2f}", f"{r.actual_cost:,.2f}" if r.actual_cost is not None else "—",
            r.status,
        )  # fmt: skip
    out.print(table)


@list_app.command("meetings")
def list_meetings(council: str, as_json: JsonFlag = False) -> None:
    rows = _with_app(lambda app: app.list_meetings(council))
    if as_json:
        emit_json([r.__dict__ for r in rows])
        return
    table = Table("no.", "body", "title", "scheduled for")
    for r in rows:
        table.add_row(str(r.number), r.body, r.title, r.scheduled_for.isoformat(timespec="minutes"))
    out.print(table)


def events(
    council: str,
    after: Annotated[int, typer.Option(help="Cursor: the last notification id seen.")] = 0,
    limit: int = 100,
    topic: Annotated[list[str] | None, typer.Option(help="Only this topic (repeatable).")] = None,
) -> None:
    """The council's events after a cursor, as JSON lines (one event per line)."""
    import json

    from pydantic_core import to_jsonable_python

    found, position = _with_app(
        lambda app: app.read_council_feed(council, after, limit, tuple(topic or ()))
    )
    for event in found:
        out.file.write(json.dumps(to_jsonable_python(event), ensure_ascii=False) + "\n")
    err.print(f"next cursor: --after {position}")
