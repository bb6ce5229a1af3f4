"""``govflow list|events|webhook|demo``: the lists a clerk looks at, the events feed and
integrations' subscriptions (through the API), and the sample council."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from govflow.domain.money import format_yuan
from govflow.entrypoints import cli_http as http
from govflow.entrypoints.cli_http import council_path
from govflow.entrypoints.console import JsonFlag, emit_json, err, local_time, offline, out, report

webhook_app = typer.Typer(help="Webhook subscriptions and their deliveries.", no_args_is_help=True)
list_app = typer.Typer(help="Lists: issues, notices, meetings, spending.", no_args_is_help=True)

DEMO_STEPS = 4


def demo(
    council: Annotated[str, typer.Option(help="Code of the sample council.")] = "sunshine",
    as_json: JsonFlag = False,
) -> None:
    """Create a sample council (as the operator) and play the field stories through the
    running API with each person's token, in fast time (`govflow up --demo` first)."""
    from govflow.entrypoints.demo import play

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

        played = play(http.operator_server(), council, step)
    if as_json:
        emit_json(played)
        return
    out.print(f"done: see the board at {played['board'][0]}", highlight=False)
    links = played["sign_in"]
    out.print(
        "open the members' app as one of them (one-time links, valid 7 days; on a phone on the "
        "same network, use GOVFLOW_PUBLIC_URL):\n"
        f"  the chair c1 (item 2 waits for them): {links['c1']}\n"
        f"  a member m1:                        {links['m1']}\n"
        f"  an owner o1:                        {links['o1']}\n"
        f"  the clerk k1 (invites the others):  {links['k1']}",
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"or from the command line as c1: govflow login --token {played['tokens']['c1']}\n"
        f"then: govflow issue status {council} 2; govflow issue close-stage {council} 2",
        highlight=False,
        soft_wrap=True,
    )


# -- webhooks --------------------------------------------------------------------------------


def _webhooks(code: str, *parts: object) -> str:
    return council_path(code, "webhooks", *parts)


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
    as_json: JsonFlag = False,
) -> None:
    """Subscribe URL to the council's events; prints the signing secret (shown once only)."""
    new = http.post(
        _webhooks(council), {"url": url, "topics": topic or [], "from_start": from_start}
    )
    if as_json:
        emit_json(new)
        return
    out.print(f"subscription {new['subscription']['id']}", highlight=False)
    out.print(new["secret"], highlight=False)
    err.print("keep the secret: it signs every delivery and cannot be shown again")


@webhook_app.command("list")
def webhook_list(council: str, as_json: JsonFlag = False) -> None:
    """Subscriptions with their delivery status."""
    views = http.get(_webhooks(council))
    if as_json:
        emit_json(views)
        return
    table = Table("id", "url", "active", "delivered", "cursor", "failing", "last error")
    for v in views:
        table.add_row(
            v["id"],
            v["url"],
            "yes" if v["active"] else "no",
            str(v["delivered"]),
            str(v["position"]),
            str(v["attempts"]),
            v.get("last_error") or "",
        )
    out.print(table)


@webhook_app.command("show")
def webhook_show(council: str, subscription: UUID, as_json: JsonFlag = False) -> None:
    """One subscription with its recent failures."""
    view = http.get(_webhooks(council, subscription))
    if as_json:
        emit_json(view)
        return
    out.print(
        f"{view['url']}: {'active' if view['active'] else 'unsubscribed'}, "
        f"{view['delivered']} delivered, cursor {view['position']}, "
        f"{view['attempts']} failed attempt(s)",
        highlight=False,
    )
    if view.get("next_attempt_at"):
        out.print(f"next attempt at {view['next_attempt_at']}", highlight=False)
    for failure in view["failures"]:
        out.print(
            f"  {failure['at']}: event {failure['notification_id']}: {failure['error']}",
            highlight=False,
        )


@webhook_app.command("remove")
def webhook_remove(council: str, subscription: UUID, as_json: JsonFlag = False) -> None:
    """Unsubscribe (deliveries stop; the subscription stays in the record)."""
    report(as_json, http.call("DELETE", _webhooks(council, subscription)), "unsubscribed")


@webhook_app.command("deliver")
def webhook_deliver(as_json: JsonFlag = False) -> None:
    """(Operator) Run one delivery pass now on this machine's store (the API process delivers
    every second on its own)."""
    from govflow.application.webhooks import http_sender

    send = http_sender()
    count = offline(lambda app: app.deliver_webhooks(send))
    report(as_json, {"delivered": count}, f"{count} event(s) delivered")


# -- lists -----------------------------------------------------------------------------------


def _timezone(client: http.Api, code: str) -> str:
    return str(client.get(council_path(code))["timezone"])


@list_app.command("issues")
def list_issues(
    council: str,
    stage: str | None = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only items still running.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The council's items, newest first."""
    with http.api() as client:
        rows = client.get(council_path(council, "issues"), stage=stage, open=open_only or None)
        if as_json:
            emit_json(rows)
            return
        tz = _timezone(client, council)
    table = Table("no.", "title", "procedure", "stage", f"deadline ({tz})", "outcome")
    for r in rows:
        table.add_row(
            str(r["number"]),
            r["title"],
            r["procedure"],
            r["stage"] or "—",
            local_time(r["deadline"], tz, deadline=True).removesuffix(f" ({tz})"),
            r["outcome"] or "—",
        )
    out.print(table)


@list_app.command("notices")
def list_notices(
    council: str,
    all_: Annotated[bool, typer.Option("--all", help="Include expired notices.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Notices newest first (by default those on display now)."""
    with http.api() as client:
        rows = client.get(council_path(council, "notices"), current=str(not all_).lower())
        if as_json:
            emit_json(rows)
            return
        tz = _timezone(client, council)
    table = Table(f"posted ({tz})", "kind", "title", "until", "objections")
    for r in rows:
        table.add_row(
            local_time(r["posted_at"], tz).removesuffix(f" ({tz})"),
            r["kind"],
            r["title"],
            local_time(r["display_until"], tz, deadline=True).removesuffix(f" ({tz})"),
            str(r["objections"]),
        )
    out.print(table)


@list_app.command("spending")
def list_spending(council: str, as_json: JsonFlag = False) -> None:
    """The spending ledger."""
    rows = http.get(council_path(council, "spending"))
    if as_json:
        emit_json(rows)
        return

    def yuan(value: str | None) -> str:
        return format_yuan(Decimal(value)) if value is not None else "—"

    table = Table("no.", "purpose", "amount", "approved", "disbursed", "actual", "status")
    for r in rows:
        table.add_row(
            str(r["number"]),
            r["purpose"],
            yuan(r["amount"]),
            yuan(r["approved_amount"]),
            yuan(r["disbursed"]),
            yuan(r["actual_cost"]),
            r["status"],
        )
    out.print(table)


@list_app.command("meetings")
def list_meetings(council: str, as_json: JsonFlag = False) -> None:
    """The council's meetings."""
    with http.api() as client:
        rows = client.get(council_path(council, "meetings"))
        if as_json:
            emit_json(rows)
            return
        tz = _timezone(client, council)
    table = Table("no.", "body", "title", f"scheduled for ({tz})")
    for r in rows:
        when = local_time(r["scheduled_for"], tz).removesuffix(f" ({tz})")
        table.add_row(str(r["number"]), r["body"], r["title"], when)
    out.print(table)


def events(
    council: str,
    after: Annotated[int, typer.Option(help="Cursor: the last notification id seen.")] = 0,
    limit: int = 100,
    topic: Annotated[list[str] | None, typer.Option(help="Only this topic (repeatable).")] = None,
) -> None:
    """The council's events after a cursor, as JSON lines (one event per line)."""
    page = http.call(
        "GET",
        council_path(council, "events"),
        params={"after": after, "limit": limit, "topic": topic or None},
    )
    for event in page["events"]:
        out.file.write(json.dumps(event, ensure_ascii=False) + "\n")
    err.print(f"next cursor: --after {page['next_after']}")
