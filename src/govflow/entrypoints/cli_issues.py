"""``govflow issue|meeting|spending``: a clerk drives items from the office machine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer
from rich.table import Table

from govflow.application import Governance
from govflow.bootstrap import Settings, build_governance, build_procedures
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError
from govflow.domain.ids import issue_id
from govflow.domain.rating import Satisfaction
from govflow.domain.voting import VotingRule
from govflow.entrypoints.console import JsonFlag, domain_errors, emit_json, out, report
from govflow.entrypoints.evidence import store_evidence
from govflow.orchestration.client import IssueClient, connect

T = TypeVar("T")


class TemporalUnreachableError(GovflowError):
    code = "temporal.unreachable"
    status = 503


issue_app = typer.Typer(help="Propose items and act on them.", no_args_is_help=True)
meeting_app = typer.Typer(help="Meetings: notice, attendance, motions.", no_args_is_help=True)
spending_app = typer.Typer(help="Spending requests and disbursements.", no_args_is_help=True)
Actor = Annotated[str, typer.Option("--actor", help="Member id of who acts.")]


def _with_client(action: Callable[[IssueClient], Awaitable[T]]) -> T:
    settings = Settings()
    app = build_governance(settings)
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"

    async def main() -> T:
        try:
            client = await connect(address, settings.temporal_namespace)
        except RuntimeError:
            raise TemporalUnreachableError(
                f"cannot reach Temporal at {address}: is `govflow up` (or a cluster) running?"
            ) from None
        return await action(IssueClient(client, app, task_queue=settings.task_queue))

    try:
        with domain_errors():
            return asyncio.run(main())
    finally:
        app.close()


def _with_app(action: Callable[[Governance], T]) -> T:
    app = build_governance()
    try:
        with domain_errors():
            return action(app)
    finally:
        app.close()


@issue_app.command("propose")
def propose(
    council: str,
    number: int,
    title: str,
    procedure: str,
    actor: Actor,
    version: int | None = None,
    description: str = "",
    grid: str | None = None,
    category: str | None = None,
    spending: int | None = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose an item under a procedure and start its workflow."""
    chosen = build_procedures().get(procedure, version)

    async def go(issues: IssueClient) -> str:
        spending_id = None
        if spending is not None:
            view = await asyncio.to_thread(issues.app.get_spending, council, spending)
            spending_id = view.id
        await asyncio.to_thread(
            issues.app.propose_issue,
            council,
            number,
            title,
            chosen,
            actor=actor,
            description=description,
            grid=grid,
            category=category,
            spending_id=spending_id,
        )
        handle = await issues.start(
            council, number, chosen, category=category, spending_number=spending
        )
        return handle.id

    workflow_id = _with_client(go)
    report(
        as_json,
        {"council": council, "number": number, "workflow_id": workflow_id},
        f"proposed; workflow {workflow_id}",
    )


@issue_app.command("status")
def status(council: str, number: int, as_json: JsonFlag = False) -> None:
    """The open stage, its deadline and who may do what now."""
    view = _with_client(lambda issues: issues.status(council, number))
    if as_json:
        emit_json(view.model_dump(mode="json"))
        return
    out.print(
        f"stage: {view.stage or '-'} ({view.kind or view.outcome or 'finished'})"
        f"  deadline: {view.deadline.isoformat() if view.deadline else '-'}"
    )
    table = Table("action", "who")
    for action in view.actions:
        table.add_row(action.action, ", ".join(action.who))
    out.print(table)


@issue_app.command("show")
def show(council: str, number: int, as_json: JsonFlag = False) -> None:
    """The item as recorded, with its timeline."""

    def read(app: Governance) -> tuple[Any, Any]:
        view = app.get_issue(council, number)
        return view, app.get_history(view.id)

    view, history = _with_app(read)
    if as_json:
        emit_json(
            {
                "issue": view.model_dump(mode="json"),
                "timeline": [h.model_dump(mode="json") for h in history],
            }
        )
        return
    out.print(f"{view.title} [{view.procedure}] outcome: {view.outcome or 'in progress'}")
    table = Table("v", "time (UTC)", "actor", "event")
    for h in history:
        table.add_row(
            str(h.version),
            h.timestamp.isoformat(timespec="seconds"),
            h.actor,
            h.topic.removeprefix("govflow.issue."),
        )
    out.print(table)


@issue_app.command("close-stage")
def close_stage(council: str, number: int, actor: Actor, as_json: JsonFlag = False) -> None:
    """As chair, close the open discussion stage (or a vote that may close early)."""
    stage = _with_client(lambda issues: issues.close_stage(council, number, actor))
    report(as_json, {"closed": stage}, f"closed {stage}")


@issue_app.command("vote")
def vote(council: str, number: int, voter: str, choice: Choice, as_json: JsonFlag = False) -> None:
    """Cast a ballot (recorded in the event store; keep the receipt)."""
    receipt = _with_client(lambda issues: issues.cast_ballot(council, number, voter, choice))
    report(
        as_json,
        receipt.model_dump(mode="json"),
        f"ballot {receipt.ballot_id} in {receipt.ballot_key} "
        f"(log position {receipt.notification_id})",
    )


@issue_app.command("receipt")
def receipt(
    council: str, number: int, ballot_id: UUID, notification_id: int, as_json: JsonFlag = False
) -> None:
    """Check a ballot receipt: in the log where it says, and counted by the tally."""
    check = _with_app(lambda app: app.check_receipt(council, number, ballot_id, notification_id))
    text = (
        "not found in the log at that position"
        if not check.in_log
        else f"in the log ({check.ballot_key}); "
        + ("counted by the tally" if check.counted else "not tallied yet" if not check.tallied
           else "NOT counted by the tally")
    )  # fmt: skip
    report(as_json, check.model_dump(mode="json"), text)


@issue_app.command("resolve")
def resolve(
    council: str, number: int, meeting: int, motion: int, actor: Actor, as_json: JsonFlag = False
) -> None:
    """As chair, take a meeting's motion as the stage's resolution."""
    passed = _with_client(
        lambda issues: issues.record_resolution(
            council, number, actor, meeting_number=meeting, motion_no=motion
        )
    )
    report(as_json, {"passed": passed}, "passed" if passed else "not passed")


@issue_app.command("object")
def object_(council: str, number: int, person: str, text: str, as_json: JsonFlag = False) -> None:
    """File an objection to the posted notice, within its window."""
    no = _with_client(lambda issues: issues.file_objection(council, number, person, text))
    report(as_json, {"objection_no": no}, f"objection {no} filed")


@issue_app.command("answer")
def answer(
    council: str,
    number: int,
    objection: int,
    reply: str,
    actor: Actor,
    upheld: Annotated[bool, typer.Option(help="Uphold it (reopens the item).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """As chair, answer an objection."""
    _with_client(
        lambda issues: issues.answer_objection(
            council, number, actor, objection, reply, upheld=upheld
        )
    )
    report(as_json, {"objection_no": objection, "upheld": upheld}, "answered")


@issue_app.command("correct")
def correct(council: str, number: int, text: str, actor: Actor, as_json: JsonFlag = False) -> None:
    """As chair, correct the posted notice (its display period starts again)."""
    _with_client(lambda issues: issues.correct_notice(council, number, actor, text))
    report(as_json, {"corrected": True}, "corrected")


@issue_app.command("progress")
def progress(council: str, number: int, text: str, actor: Actor, as_json: JsonFlag = False) -> None:
    """Report implementation progress (shown on the next progress notice)."""
    _with_client(lambda issues: issues.report_progress(council, number, actor, text))
    report(as_json, {"reported": True}, "reported")


@issue_app.command("complete")
def complete(
    council: str,
    number: int,
    actor: Actor,
    actual_cost: str | None = None,
    as_json: JsonFlag = False,
) -> None:
    """Complete implementation (a spending item with its actual cost)."""
    cost = Decimal(actual_cost) if actual_cost else None
    over = _with_client(lambda issues: issues.complete(council, number, actor, cost))
    report(
        as_json,
        {"needs_reapproval": over},
        "the cost exceeds the approval: re-approval needed" if over else "completed",
    )


@issue_app.command("reapprove")
def reapprove(
    council: str, number: int, meeting: int, motion: int, actor: Actor, as_json: JsonFlag = False
) -> None:
    """As chair, take a meeting's motion as the re-approval of an overrun."""
    _with_client(
        lambda issues: issues.reapprove(
            council, number, actor, meeting_number=meeting, motion_no=motion
        )
    )
    report(as_json, {"reapproved": True}, "re-approved")


@issue_app.command("withdraw")
def withdraw(
    council: str, number: int, reason: str, actor: Actor, as_json: JsonFlag = False
) -> None:
    """Withdraw the item (only before a resolution)."""
    _with_client(lambda issues: issues.withdraw(council, number, actor, reason))
    report(as_json, {"outcome": "withdrawn"}, "withdrawn")


@issue_app.command("rate")
def rate(
    council: str, number: int, rater: str, rating: Satisfaction, as_json: JsonFlag = False
) -> None:
    """Rate an implemented item during its evaluation (满意/基本满意/不满意)."""
    rating_id = _with_app(lambda app: app.rate_issue(council, number, rater, rating))
    report(as_json, {"rating_id": str(rating_id)}, "rated")


@issue_app.command("advance")
def advance(council: str, number: int, days: float, as_json: JsonFlag = False) -> None:
    """Fast-forward one item's clock by DAYS (embedded dev server; for demos and drills)."""
    running = _with_client(lambda issues: issues.advance(council, number, days))
    report(as_json, {"advanced_days": days, "running": running}, f"advanced {days} day(s)")


# -- meetings -------------------------------------------------------------------------------


@meeting_app.command("schedule")
def schedule(
    council: str,
    number: int,
    body: Body,
    rule_of: str,
    rule: str,
    title: str,
    at: Annotated[datetime, typer.Option(help="When it is held (ISO 8601 with offset).")],
    actor: Actor,
    kind: str = "议事会议",
    notice_days: int = 0,
    issue: Annotated[int | None, typer.Option(help="The item it deliberates.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Schedule a meeting of BODY deciding by rule RULE of procedure RULE_OF."""
    voting_rule = _rule(rule_of, rule)
    _with_app(
        lambda app: app.schedule_meeting(
            council, number, body, kind, title, scheduled_for=_aware(at),
            notice_days_required=notice_days, rule=voting_rule, actor=actor,
            issue_id=issue_id(council, issue) if issue else None,
        )
    )  # fmt: skip
    report(as_json, {"number": number}, f"meeting {number} scheduled")


@meeting_app.command("notice")
def meeting_notice(council: str, number: int, actor: Actor, as_json: JsonFlag = False) -> None:
    """Issue the meeting's notice now; says whether the notice period is met."""
    met = _with_app(lambda app: app.issue_meeting_notice(council, number, actor=actor))
    report(as_json, {"notice_period_met": met}, "notice period met" if met else "notice too late")


@meeting_app.command("attendance")
def attendance(
    council: str,
    number: int,
    actor: Actor,
    present: Annotated[list[str], typer.Option(help="An attendee (repeatable).")],
    as_json: JsonFlag = False,
) -> None:
    """Record who attended; says whether the quorum is met."""
    quorum = _with_app(lambda app: app.record_attendance(council, number, present, actor=actor))
    report(as_json, {"quorum_met": quorum}, "quorum met" if quorum else "no quorum")


@meeting_app.command("motion")
def motion(
    council: str,
    number: int,
    text: str,
    actor: Actor,
    yes: Annotated[int, typer.Option(help="Votes for.")],
    no: Annotated[int, typer.Option(help="Votes against.")] = 0,
    abstain: int = 0,
    as_json: JsonFlag = False,
) -> None:
    """Record a motion with its counts."""

    def record(app: Governance) -> tuple[int, bool]:
        no_ = app.record_motion(council, number, text, yes=yes, no=no, abstain=abstain, actor=actor)
        return no_, app.meeting(council, number).motion_results[no_]

    motion_no, passed = _with_app(record)
    report(
        as_json,
        {"motion_no": motion_no, "passed": passed},
        f"motion {motion_no} {'passed' if passed else 'not passed'}",
    )


@meeting_app.command("minutes")
def minutes(council: str, number: int, text: str, actor: Actor, as_json: JsonFlag = False) -> None:
    """Record the minutes."""
    _with_app(lambda app: app.record_minutes(council, number, text, actor=actor))
    report(as_json, {"recorded": True}, "minutes recorded")


@meeting_app.command("evidence")
def evidence(
    council: str, number: int, file: Path, actor: Actor, as_json: JsonFlag = False
) -> None:
    """Attach a file as evidence: stored by its sha256 under the data directory."""
    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file")
    content = file.read_bytes()
    digest = _with_app(
        lambda app: app.attach_evidence(council, number, file.name, content, actor=actor)
    )
    store_evidence(Settings().data_dir / "evidence", digest, content)
    report(
        as_json,
        {"name": file.name, "sha256": digest, "size": len(content)},
        f"{file.name}: sha256 {digest}",
    )


@meeting_app.command("hold")
def hold(
    council: str,
    number: int,
    body: Body,
    rule_of: str,
    rule: str,
    actor: Actor,
    present: Annotated[list[str], typer.Option(help="An attendee (repeatable).")],
    yes: Annotated[int, typer.Option(help="Votes for the motion.")],
    no: int = 0,
    abstain: int = 0,
    title: str = "议事会议",
    notice_days: int = 0,
    as_json: JsonFlag = False,
) -> None:
    """Record a meeting held now: notice, attendance and one motion (rule RULE of RULE_OF)."""
    voting_rule = _rule(rule_of, rule)

    def record(app: Governance) -> int:
        app.schedule_meeting(
            council,
            number,
            body,
            "议事会",
            title,
            scheduled_for=app.now() + timedelta(days=notice_days),
            notice_days_required=notice_days,
            rule=voting_rule,
            actor=actor,
        )
        app.issue_meeting_notice(council, number, actor=actor)
        app.record_attendance(council, number, present, actor=actor)
        return app.record_motion(
            council, number, title, yes=yes, no=no, abstain=abstain, actor=actor
        )

    motion_no = _with_app(record)
    report(as_json, {"number": number, "motion_no": motion_no},
           f"meeting {number}: motion {motion_no} recorded")  # fmt: skip


def _rule(rule_of: str, rule: str) -> VotingRule:
    with domain_errors():
        rules = build_procedures().get(rule_of).rules
    if rule not in rules:
        raise typer.BadParameter(f"{rule_of} has no rule {rule!r}: {', '.join(sorted(rules))}")
    return rules[rule]


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise typer.BadParameter("give the time with its offset, e.g. 2026-12-01T19:00+08:00")
    return at


# -- spending -------------------------------------------------------------------------------


@spending_app.command("request")
def request(
    council: str,
    number: int,
    amount: str,
    purpose: str,
    payee: str,
    budget_line: str,
    actor: Actor,
    as_json: JsonFlag = False,
) -> None:
    """Request a spending (yuan as a string, e.g. 12000.00)."""
    _with_app(
        lambda app: app.request_spending(
            council,
            number,
            amount,
            purpose=purpose,
            payee=payee,
            budget_line=budget_line,
            actor=actor,
        )
    )
    report(as_json, {"number": number}, f"spending {number} requested")


@spending_app.command("disburse")
def disburse(
    council: str,
    number: int,
    amount: str,
    first_officer: str,
    second_officer: str,
    reference: str,
    actor: Actor,
    as_json: JsonFlag = False,
) -> None:
    """Pay out part of an approved spending, approved by two distinct officers."""

    def pay(app: Governance) -> Any:
        app.disburse(
            council,
            number,
            amount,
            approved_by=(first_officer, second_officer),
            reference=reference,
            actor=actor,
        )
        return app.get_spending(council, number)

    view = _with_app(pay)
    report(as_json, view.model_dump(mode="json"), f"disbursed; ¥{view.disbursed:,.2f} in all")


@spending_app.command("show")
def spending_show(council: str, number: int, as_json: JsonFlag = False) -> None:
    """A spending: amounts, status and its three disclosures."""
    view = _with_app(lambda app: app.get_spending(council, number))
    if as_json:
        emit_json(view.model_dump(mode="json"))
    else:
        out.print(
            f"¥{view.amount:,.2f} {view.status}; approved ¥{view.approved_amount:,.2f}, "
            f"disbursed ¥{view.disbursed:,.2f}, disclosures: "
            f"{', '.join(view.disclosures) or 'none'}"
        )
