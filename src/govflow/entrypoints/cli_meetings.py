"""``govflow meeting|spending``: meetings step by step (or held in one go) and spending, as the
signed-in member, through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from govflow.domain.council import Body
from govflow.entrypoints import cli_http as http
from govflow.entrypoints.cli_http import Api, council_path
from govflow.entrypoints.console import (
    EXIT_INVALID,
    JsonFlag,
    emit_json,
    fail,
    local_time,
    out,
    report,
)

meeting_app = typer.Typer(help="Meetings: notice, attendance, motions.", no_args_is_help=True)
spending_app = typer.Typer(help="Spending requests and disbursements.", no_args_is_help=True)
Present = Annotated[list[str], typer.Option(help="An attendee (repeatable).")]
Excused = Annotated[
    list[str] | None,
    typer.Option(help="A member excused before the meeting, as ID:REASON (repeatable)."),
]
IssueNo = Annotated[int | None, typer.Option("--issue", help="The item it deliberates.")]


def _meeting(code: str, number: int, *parts: object) -> str:
    return council_path(code, "meetings", number, *parts)


def _schedule_body(
    number: int,
    body: Body,
    rule_of: str,
    rule: str,
    title: str,
    at: datetime,
    kind: str,
    notice_days: int,
    issue: int | None,
) -> dict[str, Any]:
    return {
        "number": number,
        "body": body.value,
        "kind": kind,
        "title": title,
        "scheduled_for": at.isoformat(),
        "notice_days_required": notice_days,
        "rule_of": rule_of,
        "rule": rule,
        **({"issue_number": issue} if issue else {}),
    }


def _excuse(client: Api, code: str, number: int, excused: list[str]) -> None:
    for item in excused:
        member_id, _, reason = item.partition(":")
        if not member_id or not reason:
            raise typer.BadParameter(f"--excused takes ID:REASON, e.g. m3:在外地, not {item!r}")
        client.post(_meeting(code, number, "excused"), {"member_id": member_id, "reason": reason})


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise typer.BadParameter("give the time with its offset, e.g. 2026-12-01T19:00+08:00")
    return at


@meeting_app.command("schedule")
def schedule(
    council: str,
    number: int,
    body: Body,
    rule_of: Annotated[str, typer.Argument(help="The procedure whose voting rule applies.")],
    rule: Annotated[str, typer.Argument(help="The rule's name in that procedure.")],
    title: str,
    at: Annotated[datetime, typer.Option(help="When it is held (ISO 8601 with offset).")],
    kind: str = "议事会议",
    notice_days: int = 0,
    issue: IssueNo = None,
    as_json: JsonFlag = False,
) -> None:
    """As chair of BODY (or the clerk), schedule a meeting deciding by RULE of RULE_OF."""
    payload = _schedule_body(
        number, body, rule_of, rule, title, _aware(at), kind, notice_days, issue
    )
    report(
        as_json,
        http.post(council_path(council, "meetings"), payload),
        f"meeting {number} scheduled",
    )


@meeting_app.command("notice")
def meeting_notice(council: str, number: int, as_json: JsonFlag = False) -> None:
    """Issue the meeting's notice now; says whether the notice period is met."""
    answer = http.post(_meeting(council, number, "notice"))
    report(
        as_json, answer, "notice period met" if answer["notice_period_met"] else "notice too late"
    )


@meeting_app.command("excuse")
def excuse(council: str, number: int, member: str, reason: str, as_json: JsonFlag = False) -> None:
    """Record before the meeting that a member is excused (they leave the quorum's base)."""
    answer = http.post(
        _meeting(council, number, "excused"), {"member_id": member, "reason": reason}
    )
    report(as_json, answer, f"{member} excused")


@meeting_app.command("attendance")
def attendance(council: str, number: int, present: Present, as_json: JsonFlag = False) -> None:
    """Record who attended; the quorum is counted against the body's roll."""
    answer = http.post(_meeting(council, number, "attendance"), {"present": present})
    report(as_json, answer, "quorum met" if answer["quorum_met"] else "no quorum")


@meeting_app.command("motion")
def motion(
    council: str,
    number: int,
    text: str,
    yes: Annotated[int, typer.Option(help="Votes for.")],
    no: Annotated[int, typer.Option(help="Votes against.")] = 0,
    abstain: int = 0,
    as_json: JsonFlag = False,
) -> None:
    """Record a motion with its counts (decided by the meeting's rule)."""
    answer = http.post(
        _meeting(council, number, "motions"),
        {"text": text, "yes": yes, "no": no, "abstain": abstain},
    )
    report(
        as_json,
        answer,
        f"motion {answer['motion_no']} {'passed' if answer['passed'] else 'not passed'}",
    )


@meeting_app.command("minutes")
def minutes(council: str, number: int, text: str, as_json: JsonFlag = False) -> None:
    """Record the minutes."""
    report(
        as_json, http.post(_meeting(council, number, "minutes"), {"text": text}), "minutes recorded"
    )


@meeting_app.command("evidence")
def evidence(council: str, number: int, file: Path, as_json: JsonFlag = False) -> None:
    """Attach a file (a scanned sign-in sheet, a photo) as evidence; the server keeps it by
    its sha256."""
    try:
        content = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}", "input.unreadable", EXIT_INVALID)
    answer = http.call("PUT", _meeting(council, number, "evidence", file.name), content=content)
    report(as_json, answer, f"{answer['name']}: sha256 {answer['sha256']}")


@meeting_app.command("show")
def meeting_show(council: str, number: int, as_json: JsonFlag = False) -> None:
    """A meeting: body, time, notice, quorum, motions and evidence."""
    with http.api() as client:
        view = client.get(_meeting(council, number))
        if as_json:
            emit_json(view)
            return
        timezone = str(client.get(council_path(council))["timezone"])
    motions = ", ".join(
        f"{no}: {'passed' if ok else 'not passed'}" for no, ok in view["motions"].items()
    )
    out.print(
        f"meeting {number} of {view['body']} at {local_time(view['scheduled_for'], timezone)}; "
        f"notice period met: {view['notice_period_met']}, quorum met: {view['quorum_met']}; "
        f"motions: {motions or 'none'}; evidence: {', '.join(view['evidence'].values()) or 'none'}",
        highlight=False,
        soft_wrap=True,
    )


@meeting_app.command("hold")
def hold(
    council: str,
    number: int,
    body: Body,
    rule_of: Annotated[str, typer.Argument(help="The procedure whose voting rule applies.")],
    rule: Annotated[str, typer.Argument(help="The rule's name in that procedure.")],
    present: Present,
    yes: Annotated[int, typer.Option(help="Votes for the motion.")],
    no: int = 0,
    abstain: int = 0,
    title: str = "议事会议",
    notice_days: int = 0,
    issue: IssueNo = None,
    excused: Excused = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a meeting held now: schedule, notice, excused members, attendance, one motion."""
    at = datetime.now(UTC) + timedelta(days=notice_days)
    with http.api() as client:
        client.post(
            council_path(council, "meetings"),
            _schedule_body(number, body, rule_of, rule, title, at, "议事会", notice_days, issue),
        )
        client.post(_meeting(council, number, "notice"))
        _excuse(client, council, number, excused or [])
        quorum = client.post(_meeting(council, number, "attendance"), {"present": present})
        answer = client.post(
            _meeting(council, number, "motions"),
            {"text": title, "yes": yes, "no": no, "abstain": abstain},
        )
    result = {"number": number, **quorum, **answer}
    report(
        as_json,
        result,
        f"meeting {number}: motion {answer['motion_no']} "
        f"{'passed' if answer['passed'] else 'not passed'}",
    )


# -- spending -------------------------------------------------------------------------------


def _yuan(amount: str) -> str:
    try:
        Decimal(amount)
    except InvalidOperation:
        raise typer.BadParameter(f"{amount!r} is not an amount of yuan, e.g. 12000.00") from None
    return amount


@spending_app.command("request")
def request(
    council: str,
    number: int,
    amount: Annotated[str, typer.Argument(help="Yuan as a string, e.g. 12000.00")],
    purpose: str,
    payee: str,
    budget_line: str,
    issue: IssueNo = None,
    as_json: JsonFlag = False,
) -> None:
    """Request a spending (above the threshold it needs the party members' review)."""
    payload = {
        "number": number,
        "amount": _yuan(amount),
        "purpose": purpose,
        "payee": payee,
        "budget_line": budget_line,
        **({"issue_number": issue} if issue else {}),
    }
    report(
        as_json,
        http.post(council_path(council, "spending"), payload),
        f"spending {number} requested",
    )


@spending_app.command("disburse")
def disburse(
    council: str,
    number: int,
    amount: Annotated[str, typer.Argument(help="Yuan as a string, e.g. 6000.00")],
    reference: Annotated[str, typer.Argument(help="The payment voucher's reference.")],
    as_json: JsonFlag = False,
) -> None:
    """As an officer, request a disbursement; another officer approves it before money moves."""
    answer = http.post(
        council_path(council, "spending", number, "disbursements"),
        {"amount": _yuan(amount), "reference": reference},
    )
    no = answer.get("disbursement_no")
    report(
        as_json,
        answer,
        f"disbursement {no} requested; another officer approves it with: "
        f"govflow spending approve {council} {number} {no}",
    )


@spending_app.command("approve")
def approve(council: str, number: int, disbursement_no: int, as_json: JsonFlag = False) -> None:
    """As an officer other than the one who requested it, approve a disbursement: it is paid."""
    view = http.post(
        council_path(council, "spending", number, "disbursements", disbursement_no, "approve")
    )
    report(
        as_json,
        view,
        f"disbursement {disbursement_no} approved; "
        f"¥{Decimal(view['disbursed']):,.2f} disbursed in all",
    )


@spending_app.command("show")
def spending_show(council: str, number: int, as_json: JsonFlag = False) -> None:
    """A spending: amounts, status and its three disclosures."""
    view = http.get(council_path(council, "spending", number))
    report(
        as_json,
        view,
        f"¥{Decimal(view['amount']):,.2f} {view['status']}; "
        f"approved ¥{Decimal(view['approved_amount']):,.2f}, "
        f"disbursed ¥{Decimal(view['disbursed']):,.2f}, disclosures: "
        f"{', '.join(view['disclosures']) or 'none'}",
    )
