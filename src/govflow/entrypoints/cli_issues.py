"""``govflow issue``: propose items and act on them, as the signed-in member, through the API.

Who acts is the token's member: the API decides whether they may (a chair closes a stage, a
voter casts their own ballot, ...). Times print in the council's time zone, as on the board.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.table import Table

from govflow.domain.ballot import Choice
from govflow.domain.rating import Satisfaction
from govflow.entrypoints import cli_http as http
from govflow.entrypoints.cli_http import Api, council_path
from govflow.entrypoints.console import JsonFlag, emit_json, local_time, out, report

issue_app = typer.Typer(help="Propose items and act on them.", no_args_is_help=True)


def timezone_of(client: Api, code: str) -> str:
    return str(client.get(council_path(code))["timezone"])


def _act(code: str, number: int, action: str, body: Any = None) -> Any:
    return http.post(council_path(code, "issues", number, action), body)


@issue_app.command("propose")
def propose(
    council: str,
    number: int,
    title: str,
    procedure: str,
    version: int | None = None,
    description: str = "",
    grid: str | None = None,
    category: str | None = None,
    spending: Annotated[int | None, typer.Option(help="The spending request it decides.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose an item under a procedure; the server starts its workflow."""
    body = {
        "number": number,
        "title": title,
        "procedure": procedure,
        "version": version,
        "description": description,
        "grid": grid,
        "category": category,
        "spending_number": spending,
    }
    given = {k: v for k, v in body.items() if v is not None and v != ""}
    view = http.post(council_path(council, "issues"), given)
    report(
        as_json,
        view,
        f"proposed item {number} under {view.get('procedure', procedure)}; "
        f"workflow issue-{council}-{number}",
    )


@issue_app.command("status")
def status(council: str, number: int, as_json: JsonFlag = False) -> None:
    """The open stage, its deadline (council time) and who may do what now."""
    with http.api() as client:
        view = client.get(council_path(council, "issues", number, "status"))
        if as_json:
            emit_json(view)
            return
        timezone = timezone_of(client, council)
    out.print(
        f"stage: {view['stage'] or '-'} ({view['kind'] or view.get('outcome') or 'finished'})"
        f"  deadline: {local_time(view['deadline'], timezone, deadline=True)}",
        highlight=False,
    )
    table = Table("action", "who")
    for action in view["actions"]:
        table.add_row(action["action"], ", ".join(action["who"]))
    out.print(table)


@issue_app.command("show")
def show(council: str, number: int, as_json: JsonFlag = False) -> None:
    """The item as recorded, with its timeline."""
    with http.api() as client:
        view = client.get(council_path(council, "issues", number))
        if as_json:
            emit_json(view)
            return
        timezone = timezone_of(client, council)
    issue = view["issue"]
    out.print(
        f"{issue['title']} [{issue['procedure']}] outcome: {issue['outcome'] or 'in progress'}"
        f"  deadline: {local_time(issue['deadline'], timezone, deadline=True)}",
        highlight=False,
    )
    table = Table("v", f"time ({timezone})", "actor", "event")
    for entry in view["timeline"]:
        table.add_row(
            str(entry["version"]),
            local_time(entry["timestamp"], timezone).removesuffix(f" ({timezone})"),
            entry["actor"],
            entry["topic"].removeprefix("govflow.issue."),
        )
    out.print(table)


@issue_app.command("close-stage")
def close_stage(council: str, number: int, as_json: JsonFlag = False) -> None:
    """As chair, close the open discussion stage (or a vote that may close early)."""
    answer = _act(council, number, "close-stage")
    report(as_json, answer, f"closed {answer['closed']}")


@issue_app.command("vote")
def vote(council: str, number: int, choice: Choice, as_json: JsonFlag = False) -> None:
    """Cast your ballot (keep the receipt it prints to check it later)."""
    receipt = _act(council, number, "ballots", {"choice": choice.value})
    report(
        as_json,
        receipt,
        f"ballot {receipt['ballot_id']} in {receipt['ballot_key']} "
        f"(log position {receipt['notification_id']}); check it with: govflow issue receipt "
        f"{council} {number} {receipt['ballot_id']} {receipt['notification_id']}",
    )


@issue_app.command("receipt")
def receipt(
    council: str, number: int, ballot_id: UUID, notification_id: int, as_json: JsonFlag = False
) -> None:
    """Check a ballot receipt: in the log where it says, and counted by the tally."""
    check = http.get(
        council_path(council, "issues", number, "receipts", ballot_id),
        notification_id=notification_id,
    )
    text = (
        "not found in the log at that position"
        if not check["in_log"]
        else f"in the log ({check['ballot_key']}); "
        + (
            "counted by the tally"
            if check["counted"]
            else "not tallied yet"
            if not check["tallied"]
            else "NOT counted by the tally"
        )
    )
    report(as_json, check, text)


@issue_app.command("resolve")
def resolve(
    council: str, number: int, meeting: int, motion: int, as_json: JsonFlag = False
) -> None:
    """As chair, take a meeting's motion as the stage's resolution."""
    answer = _act(council, number, "resolution", {"meeting_number": meeting, "motion_no": motion})
    report(as_json, answer, "passed" if answer["passed"] else "not passed")


@issue_app.command("object")
def object_(council: str, number: int, text: str, as_json: JsonFlag = False) -> None:
    """File your objection to the posted notice, within its window."""
    answer = _act(council, number, "objections", {"text": text})
    report(as_json, answer, f"objection {answer['objection_no']} filed")


@issue_app.command("answer")
def answer_objection(
    council: str,
    number: int,
    objection: int,
    reply: str,
    upheld: Annotated[bool, typer.Option(help="Uphold it (reopens the item).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """As chair, answer an objection."""
    answer = _act(
        council, number, f"objections/{objection}/answer", {"reply": reply, "upheld": upheld}
    )
    report(as_json, answer, "upheld: the item reopens" if upheld else "answered")


@issue_app.command("correct")
def correct(council: str, number: int, text: str, as_json: JsonFlag = False) -> None:
    """As chair, correct the posted notice (its display period starts again)."""
    report(as_json, _act(council, number, "notice-correction", {"text": text}), "corrected")


@issue_app.command("progress")
def progress(council: str, number: int, text: str, as_json: JsonFlag = False) -> None:
    """As chair, report implementation progress (shown on the next progress notice)."""
    report(as_json, _act(council, number, "progress", {"text": text}), "reported")


@issue_app.command("complete")
def complete(
    council: str,
    number: int,
    actual_cost: Annotated[str | None, typer.Option(help="Yuan, e.g. 11800.00")] = None,
    as_json: JsonFlag = False,
) -> None:
    """As chair, complete implementation (a spending item with its actual cost)."""
    if actual_cost is not None:
        try:
            Decimal(actual_cost)
        except InvalidOperation:
            raise typer.BadParameter(f"{actual_cost!r} is not an amount of yuan") from None
    answer = _act(council, number, "complete", {"actual_cost": actual_cost})
    over = answer["needs_reapproval"]
    report(
        as_json,
        answer,
        "the cost exceeds the approval: re-approval needed" if over else "completed",
    )


@issue_app.command("reapprove")
def reapprove(
    council: str, number: int, meeting: int, motion: int, as_json: JsonFlag = False
) -> None:
    """As chair, take a meeting's motion as the re-approval of an overrun."""
    answer = _act(council, number, "reapprove", {"meeting_number": meeting, "motion_no": motion})
    report(as_json, answer, "re-approved")


@issue_app.command("withdraw")
def withdraw(council: str, number: int, reason: str, as_json: JsonFlag = False) -> None:
    """As chair, withdraw the item (only before a resolution)."""
    report(as_json, _act(council, number, "withdraw", {"text": reason}), "withdrawn")


@issue_app.command("rate")
def rate(council: str, number: int, rating: Satisfaction, as_json: JsonFlag = False) -> None:
    """Rate an implemented item during its evaluation (满意/基本满意/不满意)."""
    report(as_json, _act(council, number, "ratings", {"rating": rating.value}), "rated")


@issue_app.command("advance")
def advance(council: str, number: int, days: float, as_json: JsonFlag = False) -> None:
    """Fast-forward one item's clock by DAYS (a server started with `govflow up --demo` only)."""
    answer = _act(council, number, "advance", {"days": int(days) if days.is_integer() else days})
    report(as_json, answer, f"advanced {days:g} day(s)")
