"""``govflow order``: rectification orders (限期整改) and inspections, as the signed-in member
through the API: a chair of the ordering body orders and verifies, the person ordered reports it
done with evidence, the supervisory committee records inspections; anyone of the council reads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from govflow.entrypoints import cli_http as http
from govflow.entrypoints.cli_http import council_path
from govflow.entrypoints.console import JsonFlag, report

order_app = typer.Typer(help="Rectification orders (限期整改) of a council.", no_args_is_help=True)
HEX64 = re.compile(r"^[0-9a-f]{64}$")
Evidence = Annotated[
    list[str] | None,
    typer.Option(
        "--evidence",
        help="A FILE (its sha256 is computed here; the file is not sent) or a SHA256 (repeatable).",
    ),
]


def digest_of(item: str) -> str:
    """A file's sha256 (computed locally), or a sha256 given as it is."""
    if HEX64.match(item):
        return item
    path = Path(item)
    if not path.is_file():
        raise typer.BadParameter(f"{item!r} is neither a file nor a sha256")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _summary(view: dict[str, Any]) -> str:
    state = view["status"] + (" (escalated)" if view.get("escalated") else "")
    return (
        f"order {view['number']}: {view['what']} · {view['assignee']} · "
        f"by {view['deadline']} · {state}, round {view['round']}"
    )


@order_app.command("create")
def create(
    council: str,
    number: int,
    what: Annotated[str, typer.Option(help="What must be put right.")],
    why: Annotated[str, typer.Option(help="Why.")],
    assignee: Annotated[
        str, typer.Option(help="The member ordered (or the body, with --body-acts).")
    ],
    body: Annotated[str, typer.Option(help="The ordering body (its chairs verify).")],
    due: Annotated[str, typer.Option(help="The last day to put it right (YYYY-MM-DD).")],
    from_evaluation: Annotated[
        int | None, typer.Option(help="The item whose evaluation was 不满意.")
    ] = None,
    from_objection: Annotated[
        str | None, typer.Option(help="NOTICE_ID:OBJECTION_NO of an upheld objection.")
    ] = None,
    from_inspection: Annotated[int | None, typer.Option(help="A recorded inspection.")] = None,
    body_acts: Annotated[
        bool, typer.Option("--body-acts", help="The assignee is a body: its chairs act.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """As a chair of the ordering body, order a rectification by the end of DUE."""
    sources = [s for s in (from_evaluation, from_objection, from_inspection) if s is not None]
    if len(sources) != 1:
        raise typer.BadParameter(
            "name exactly one source: --from-evaluation, --from-objection or --from-inspection"
        )
    request: dict[str, Any] = {
        "number": number,
        "what": what,
        "why": why,
        "assignee_kind": "body" if body_acts else "member",
        "assignee": assignee,
        "body": body,
        "due": due,
    }
    if from_evaluation is not None:
        request |= {"source": "evaluation", "issue_number": from_evaluation}
    elif from_objection is not None:
        notice, _, objection = from_objection.partition(":")
        if not objection.isdigit():
            raise typer.BadParameter("--from-objection takes NOTICE_ID:OBJECTION_NO")
        request |= {"source": "objection", "notice_id": notice, "objection_no": int(objection)}
    else:
        request |= {"source": "inspection", "inspection_number": from_inspection}
    view = http.post(council_path(council, "orders"), request)
    report(as_json, view, _summary(view))


@order_app.command("complete")
def complete(
    council: str, number: int, text: str, evidence: Evidence = None, as_json: JsonFlag = False
) -> None:
    """As the person ordered, report the order done with evidence (at least one)."""
    digests = [digest_of(item) for item in evidence or []]
    view = http.post(
        council_path(council, "orders", number, "completion"), {"text": text, "evidence": digests}
    )
    report(as_json, view, _summary(view))


@order_app.command("verify")
def verify(
    council: str,
    number: int,
    send_back: Annotated[
        str | None, typer.Option(help="Not done: the reasons (then --due is the new deadline).")
    ] = None,
    due: Annotated[str | None, typer.Option(help="The new last day (YYYY-MM-DD).")] = None,
    note: Annotated[str, typer.Option(help="A note with the acceptance.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """As a chair of the ordering body, accept the completion, or --send-back it."""
    request: dict[str, Any] = (
        {"accepted": False, "text": send_back, "due": due}
        if send_back is not None
        else {"accepted": True, "text": note}
    )
    view = http.post(council_path(council, "orders", number, "verification"), request)
    report(as_json, view, _summary(view))


@order_app.command("show")
def show(
    council: str,
    number: Annotated[int | None, typer.Argument(help="One order (default: every one).")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only those not verified.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The council's orders, or one order with its steps."""
    if number is None:
        params = {"open": "true"} if open_only else {}
        rows = http.get(council_path(council, "orders"), **params)
        lines = [
            f"{r['number']}: {r['what']} · {r['assignee']} · by {r['deadline']} · {r['status']}"
            + (" (escalated)" if r["escalated"] and r["status"] == "open" else "")
            for r in rows
        ]
        report(as_json, rows, "\n".join(lines) or "no orders")
        return
    view = http.get(council_path(council, "orders", number))
    steps = [f"  {s['at']} {s['kind']} (round {s['round']}) {s['text']}" for s in view["steps"]]
    report(as_json, view, "\n".join([_summary(view), *steps]))


@order_app.command("inspect")
def inspect(
    council: str,
    number: int,
    finding: str,
    evidence: Annotated[str, typer.Option(help="A FILE (hashed here) or its SHA256.")],
    as_json: JsonFlag = False,
) -> None:
    """As a member of the supervisory committee, record an inspection's finding."""
    view = http.post(
        council_path(council, "inspections"),
        {"number": number, "finding": finding, "evidence_sha256": digest_of(evidence)},
    )
    report(as_json, view, f"inspection {number} recorded")
