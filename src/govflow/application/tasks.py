"""My tasks: what a signed-in person may do now, each with its deadline.

A read, not a rule: it lists what is open to the person as the record stands (a vote on whose
frozen roll they are and have not voted in, a discussion, a notice's objection window, an
evaluation they are asked to rate, for chairs the stages and objections of the bodies they
chair, for a grid station's staff the open items at their grid, and the rectification orders
they must report done or verify). Whether an act is allowed is still decided by the command
door when it is tried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from govflow.application.governance import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import View
from govflow.domain.errors import GovflowError
from govflow.domain.ids import ballot_id, rating_id
from govflow.domain.issue import Issue
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.procedure import Procedure, Stage, StageKind

# What a task asks of the person (the app names each in words).
VOTE, DISCUSS, OBJECT, RATE = "vote", "discuss", "object", "rate"
CHAIR_STAGE, ANSWER_OBJECTIONS = "chair_stage", "answer_objections"
GRID_ITEM = "grid_item"  # an open item at a grid whose service station the person staffs
# A rectification order (限期整改) to report done (the member ordered, a chair of the body
# ordered), or reported done and to verify (a chair of the ordering body, not who reported it).
ORDER_ACT, ORDER_VERIFY = "order_act", "order_verify"


class Task(View):
    """One thing the person may do now on an item."""

    kind: str
    number: int
    title: str
    stage: str | None
    procedure: str  # name@version: the app names the stage by the procedure's title
    deadline: datetime | None
    notice_id: UUID | None = None
    grid: str | None = None  # the grid's name, for a grid station's item
    order: bool = False  # ``number`` is a rectification order's, ``title`` what to put right


class Tasks(View):
    """The person's tasks, soonest deadline first (those without one last)."""

    council: str
    timezone: str
    now: datetime
    tasks: list[Task]


def get_tasks(app: Governance, who: Principal, procedures: ProcedureLibrary | None = None) -> Tasks:
    """What ``who`` may do now in their council (chair tasks need ``procedures`` to know each
    stage's acting body)."""
    code = who.council
    council = app.council_to_read(code)
    now = app.now()
    tasks: list[Task] = []
    chaired: dict[UUID, bool] = {}  # item -> whether ``who`` chairs its open stage's body
    for row in app.list_issues(code, open_only=True):
        issue = app.issue(code, row.number)
        if issue.open_stage is None or issue.outcome is not None:
            continue
        procedure = _procedure(procedures, issue)
        stage = _stage(procedure, issue.open_stage)
        base = {
            "number": issue.number,
            "title": issue.title,
            "stage": issue.open_stage,
            "procedure": row.procedure,
        }
        for kind, deadline in _member_tasks(app, issue, who, now, procedure, stage):
            tasks.append(Task(kind=kind, deadline=deadline, **base))
        body = procedure.acting_body(stage) if procedure and stage else None
        chaired[issue.id] = body is not None and body.value in who.chairs
        if chaired[issue.id] and stage is not None and _chair_acts(stage, issue):
            tasks.append(Task(kind=CHAIR_STAGE, deadline=issue.deadline, **base))
    # An objection is filed against an item's current notice: one task per item, for its
    # newest notice (notices come newest first), however many notices the item has had.
    objecting: set[UUID] = set()
    answering: set[UUID] = set()
    for notice in app.list_notices(code):
        if notice.subject != "issue" or notice.withdrawn or notice.subject_number is None:
            continue
        newest = notice.subject_id not in objecting
        objecting.add(notice.subject_id)
        if not newest and (notice.subject_id in answering or not notice.open_objections):
            continue
        issue_row = app.directory.issue(notice.subject_id)
        if issue_row is None or issue_row.outcome is not None:
            continue
        base = {
            "number": notice.subject_number,
            "title": issue_row.title,
            "stage": issue_row.stage,
            "procedure": issue_row.procedure,
            "notice_id": notice.id,
        }
        until = notice.objection_until
        if newest and until is not None and now < until and who.is_person and not who.is_auditor:
            tasks.append(Task(kind=OBJECT, deadline=until, **base))
        answer = notice.open_objections and chaired.get(notice.subject_id)
        if answer and notice.subject_id not in answering:
            answering.add(notice.subject_id)
            tasks.append(Task(kind=ANSWER_OBJECTIONS, deadline=None, **base))
    if who.is_person:
        for grid, rows in app.grid_tasks(code, who.holder):
            tasks.extend(
                Task(
                    kind=GRID_ITEM, number=row.number, title=row.title, stage=row.stage,
                    procedure=row.procedure, deadline=row.deadline, grid=grid.name,
                )
                for row in rows
            )  # fmt: skip
    tasks.extend(order_tasks(app, who))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    tasks.sort(key=lambda t: (t.deadline or far, -t.number))
    return Tasks(council=code, timezone=council.timezone, now=now, tasks=tasks)


def order_tasks(app: Governance, who: Principal) -> list[Task]:
    """The open orders ``who`` may report done and the completed ones they may verify, as the
    policy would decide from the record (the door decides again when they act)."""
    tasks: list[Task] = []
    code = who.council
    for row in app.list_orders(code, open_only=True):
        if row.status == "open":
            if row.assignee_kind == "member":
                if row.assignee != who.holder:
                    continue
                owner = app.order_owner(code, row.number)
                allowed = _allows(who, Action.COMPLETE_RECTIFICATION, code, owner=owner)
            else:
                allowed = _allows(who, Action.COMPLETE_RECTIFICATION, code, body=row.assignee)
            kind, deadline = ORDER_ACT, row.deadline
        else:  # completed: the ordering body verifies, not whoever reported it done
            allowed = _allows(who, Action.VERIFY_RECTIFICATION, code, body=row.ordered_by)
            allowed = allowed and app.order(code, row.number).completed_by != who.actor
            kind, deadline = ORDER_VERIFY, None
        if allowed:
            tasks.append(
                Task(kind=kind, number=row.number, title=row.what, stage=None, procedure="",
                     deadline=deadline, order=True)
            )  # fmt: skip
    return tasks


def _allows(who: Principal, action: Action, code: str, **record: Any) -> bool:
    try:
        authorize(who, action, code, **record)
    except GovflowError:
        return False
    return True


def _procedure(procedures: ProcedureLibrary | None, issue: Issue) -> Procedure | None:
    if procedures is None:
        return None
    name, version = issue.procedure
    try:
        return procedures.get(name, version)
    except GovflowError:
        return None


def _stage(procedure: Procedure | None, stage_id: str) -> Stage | None:
    if procedure is None:
        return None
    try:
        return procedure.stage(stage_id)
    except KeyError:
        return None


def _member_tasks(
    app: Governance,
    issue: Issue,
    who: Principal,
    now: datetime,
    procedure: Procedure | None,
    stage: Stage | None,
) -> list[tuple[str, datetime | None]]:
    """The votes, discussions and ratings open to ``who`` on ``issue``."""
    found: list[tuple[str, datetime | None]] = []
    if not who.is_person or who.is_auditor:
        return found
    voting = issue.voting
    if (
        voting is not None
        and voting.is_open
        and now < voting.closes_at
        and who.holder in voting.roll
        and not (
            who.enrolment is not None
            and voting.council_version is not None
            and who.enrolment > voting.council_version
        )
        and not _recorded(app, ballot_id(issue.id, voting.ballot_key, who.holder))
    ):
        found.append((VOTE, voting.closes_at))
    kind = issue.stage_kinds.get(issue.open_stage or "")
    if kind == StageKind.PUBLIC_DELIBERATION.value:
        found.append((DISCUSS, issue.deadline))
    elif kind == StageKind.DELIBERATE.value and procedure and stage:
        body = procedure.acting_body(stage)
        if body is not None and body.value in who.bodies:
            found.append((DISCUSS, issue.deadline))
    evaluation = issue.evaluation
    if (
        evaluation is not None
        and evaluation.is_open
        and now < evaluation.closes_at
        and who.holder in evaluation.raters
        and not _recorded(app, rating_id(issue.id, evaluation.stage, who.holder))
    ):
        found.append((RATE, evaluation.closes_at))
    return found


def _chair_acts(stage: Stage, issue: Issue) -> bool:
    """Whether the stage waits on its chair (closing it, its resolution, implementation)."""
    if stage.kind is StageKind.PROPOSE:
        return stage.duration.days > 0
    if stage.kind is StageKind.VOTE and stage.vote_by == "ballots":
        return stage.may_close_early and bool(issue.voting and issue.voting.is_open)
    # objections are listed by notice; evaluations close by themselves
    return stage.kind not in (StageKind.PUBLISH, StageKind.EVALUATE)


def _recorded(app: Governance, aggregate_id: UUID) -> bool:
    """Whether a ballot or rating exists (their ids are derived from the voter)."""
    return bool(app.recorder.select_events(aggregate_id, limit=1))
