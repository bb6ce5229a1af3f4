"""What an item's page shows, read from the record in one go (blocking: run it in a thread).

Its stage names, what was decided (a meeting's motion or a tally), documents (meeting
evidence), notices with their objections and answers, the discussion's opinions with replies,
progress with photos, and ratings. A read only: who may act is the policy's, at the door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from govflow.application import Governance
from govflow.application.consultation import takes_signed_replies
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import IssueView
from govflow.domain.ballot import proxy_ballot_id
from govflow.domain.errors import GovflowError
from govflow.domain.ids import ballot_id, rating_id
from govflow.domain.procedure import Procedure, StageKind
from govflow.entrypoints.board import plain, plain_reason, tally_lines

OPINION = "govflow.issue.opinion_recorded"
RESOLUTION = "govflow.issue.resolution_recorded"
PROGRESS = "govflow.issue.progress_reported"
TALLIED = "govflow.issue.voting_tallied"
VOTING_OPENED = "govflow.issue.voting_opened"
EVALUATED = "govflow.issue.evaluation_recorded"
MOTION = "govflow.meeting.motion_recorded"
REOPENED = "govflow.issue.reopened"
NOTICES_SHOWN = 10
OBJECTION = "govflow.notice.objection_filed"
ANSWER = "govflow.notice.objection_answered"


def procedure_of(procedures: ProcedureLibrary | None, name_version: str) -> Procedure | None:
    """The procedure an item follows (``name@version``), if the library has it."""
    name, _, version = name_version.partition("@")
    if procedures is None or not version.isdigit():
        return None
    try:
        return procedures.get(name, int(version))
    except GovflowError:
        return None


def title_in(title: str, lang: str) -> str:
    """A procedure's title in one language: ``五步议事法 (five-step consultation)`` is
    ``五步议事法`` in Chinese and ``five-step consultation`` in English."""
    name, sep, rest = title.partition(" (")
    if not sep or not rest.endswith(")"):
        return title
    return name if lang == "zh" else rest[:-1]


def stage_titles(procedure: Procedure | None, stages: list[str], lang: str) -> dict[str, str]:
    """Each stage's name: its title in the procedure (Chinese), else its kind in words."""
    if procedure is None:
        return {s: plain(s, lang) for s in stages}
    return {
        s.id: plain_reason(s.title, lang) if lang == "zh" else plain(s.kind.value, lang)
        for s in procedure.stages
    }


@dataclass
class ItemRead:
    """Everything the item page shows, as plain data."""

    view: IssueView
    procedure: Procedure | None
    titles: dict[str, str]
    names: dict[str, str]
    opinions: list[dict[str, Any]] = field(default_factory=list)
    decided: list[dict[str, Any]] = field(default_factory=list)
    tallies: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    motions: list[dict[str, Any]] = field(default_factory=list)  # for naming a resolution
    notices: list[dict[str, Any]] = field(default_factory=list)  # the newest few
    notices_total: int = 0
    on_roll: bool = False  # on the open vote's frozen roll
    voted: bool = False
    asked_to_rate: bool = False
    rated: bool = False
    rule: dict[str, Any] | None = None  # the open vote's rule
    proxy_stage: str | None = None  # the vote stage whose procedure allows proxies (委托)
    my_proxy: dict[str, Any] | None = None  # the reader's live appointment of a proxy
    # the voters who appointed the reader, each with whether the reader may still vote for them
    held_for: list[dict[str, Any]] = field(default_factory=list)
    # paper ballots (纸质选票): the open vote's stage that takes them, its body, its batches
    # (pending until a scrutineer confirms them) and the ballots refused as a double channel
    paper_stage: str | None = None
    paper_body: str | None = None
    paper_batches: list[dict[str, Any]] = field(default_factory=list)
    refused_ballots: list[dict[str, Any]] = field(default_factory=list)
    # the open vote when it is a written consultation (书面征求意见): its closing time, the
    # days extended so far and the cap, and the roll (name, member id) for a paper reply
    consultation: dict[str, Any] | None = None

    @property
    def files(self) -> set[str]:
        """The sha256 of every file this item shows (evidence and progress photos)."""
        found = {d["sha256"] for d in self.documents}
        for report in self.progress:
            found.update(report["photos"])
        return found


def read_item(
    app: Governance,
    code: str,
    number: int,
    holder: str,
    lang: str,
    procedures: ProcedureLibrary | None,
) -> ItemRead:
    view = app.get_issue(code, number)
    issue = app.issue(code, number)
    procedure = procedure_of(procedures, view.procedure)
    members = app.council_to_read(code).members
    read = ItemRead(
        view=view,
        procedure=procedure,
        titles=stage_titles(procedure, view.stages, lang),
        names={mid: m.name for mid, m in members.items()},
    )
    history = app.get_history(view.id)
    opened: dict[str, dict[str, Any]] = {}
    for e in history:
        data = e.data
        if e.topic == OPINION:
            no = data.get("no") or len(read.opinions) + 1
            read.opinions.append({**data, "no": no, "by": e.actor, "at": e.timestamp})
        elif e.topic == VOTING_OPENED:
            opened[str(data.get("ballot_key"))] = data
        elif e.topic == TALLIED:
            key = str(data.get("ballot_key", ""))
            stage = key.partition("#")[0]
            lines = tally_lines(data, opened.get(key), lang)
            by_proxy = int(data.get("by_proxy") or 0)
            by_paper = int(data.get("by_paper") or 0)  # 纸质选票
            read.tallies.append(
                {**data, "stage": stage, "lines": lines, "by_proxy": by_proxy, "by_paper": by_paper}
            )
        elif e.topic == RESOLUTION:
            read.decided.append(_resolution(app, data))
        elif e.topic == PROGRESS:
            photos = list(data.get("photos") or [])
            read.progress.append({**data, "photos": photos, "at": e.timestamp})
        elif e.topic == EVALUATED:
            read.evaluations.append(data)
        elif e.topic == REOPENED:
            # what was decided before stands no more: the item went back (an objection upheld,
            # or a quorum not met)
            went_back = {**data, "objection": data.get("reason") == "objection upheld"}
            for earlier in (*read.decided, *read.tallies):
                earlier.setdefault("superseded", went_back)
    _meetings(app, code, read)
    _notices(app, code, read)
    voting = issue.voting
    if voting is not None and voting.is_open:
        read.on_roll = holder in voting.roll
        read.voted = _recorded(app, ballot_id(issue.id, voting.ballot_key, holder))
        read.rule = voting.rule.model_dump(mode="json")
    _proxies(app, code, number, holder, read)
    _paper(app, code, number, read)
    _consultation(app, code, number, procedures, read)
    evaluation = issue.evaluation
    if evaluation is not None and evaluation.is_open:
        read.asked_to_rate = holder in evaluation.raters
        read.rated = _recorded(app, rating_id(issue.id, evaluation.stage, holder))
    return read


def _proxies(app: Governance, code: str, number: int, holder: str, read: ItemRead) -> None:
    """The reader's proxy (委托) and the voters they stand for, where the item's vote by
    ballots allows proxies."""
    procedure = read.procedure
    if procedure is None or read.view.outcome is not None:
        return
    stage = next(
        (
            s
            for s in procedure.stages
            if s.kind is StageKind.VOTE and s.vote_by == "ballots" and s.proxies.allowed
        ),
        None,
    )
    if stage is None:
        return
    read.proxy_stage = stage.id
    appointments = app.appointments(code, number, stage.id)
    if (mine := appointments.get(holder)) is not None:
        read.my_proxy = {
            "proxy": mine.proxy,
            "name": read.names.get(mine.proxy, mine.proxy),
            "used": mine.used,
        }
    voting = app.issue(code, number).voting
    open_here = (
        voting is not None and voting.is_open and voting.ballot_key.rsplit("#", 1)[0] == stage.id
    )
    for principal, appointment in sorted(appointments.items()):
        if appointment.proxy != holder:
            continue
        voted = (
            open_here
            and voting is not None
            and _recorded(app, proxy_ballot_id(voting.issue_id, voting.ballot_key, principal))
        )
        read.held_for.append(
            {
                "principal": principal,
                "name": read.names.get(principal, principal),
                "may_vote": open_here and not voted,
                "voted": voted,
            }
        )


def _paper(app: Governance, code: str, number: int, read: ItemRead) -> None:
    """The open vote's paper ballots (纸质选票), where its stage takes them: the batches (who
    is in each, never what they chose) and the ballots refused as a double channel."""
    procedure = read.procedure
    if procedure is None or read.view.outcome is not None:
        return
    voting = app.issue(code, number).voting
    if voting is None:
        return
    stage_id = voting.ballot_key.rsplit("#", 1)[0]
    stage = next((s for s in procedure.stages if s.id == stage_id and s.paper.allowed), None)
    if stage is None:
        return
    read.refused_ballots = [
        {"voter": r.voter, "name": read.names.get(r.voter, r.voter), "refused": r.refused}
        for r in app.refused_ballots(code, number, voting.ballot_key)
    ]
    if not voting.is_open:
        return
    read.paper_stage = stage.id
    body = procedure.acting_body(stage)
    read.paper_body = body.value if body else None
    for batch in app.paper_batches(code, number, voting.ballot_key):
        read.paper_batches.append(
            {
                "number": batch.number,
                "entered_by": batch.entered_by,
                "entered_by_name": read.names.get(batch.entered_by, batch.entered_by),
                "confirmed_by": batch.confirmed_by,
                "confirmed_by_name": read.names.get(batch.confirmed_by or "", batch.confirmed_by),
                "voters": [read.names.get(e.voter, e.voter) for e in batch.entries],
            }
        )


def _consultation(
    app: Governance, code: str, number: int, procedures: ProcedureLibrary | None, read: ItemRead
) -> None:
    """The open written consultation (书面征求意见), if the open vote is one."""
    voting = app.issue(code, number).voting
    if voting is None or not voting.is_open or read.view.outcome is not None:
        return
    if not takes_signed_replies(app, procedures, code, number):
        return
    cap = 0
    if read.procedure is not None:
        stage = read.procedure.stage(voting.ballot_key.rsplit("#", 1)[0])
        if stage.written_consultation is not None:
            cap = stage.written_consultation.extension_cap_days
    read.consultation = {
        "ballot_key": voting.ballot_key,
        "closes_at": voting.closes_at,
        "extended_days": voting.extended_days,
        "cap_days": cap,
        "cap_left": max(cap - voting.extended_days, 0),
        "roll": sorted((read.names.get(v, v), v) for v in voting.roll),
    }


def _recorded(app: Governance, aggregate_id: UUID) -> bool:
    return bool(app.recorder.select_events(aggregate_id, limit=1))


def _resolution(app: Governance, data: dict[str, Any]) -> dict[str, Any]:
    """A resolution with its meeting and the motion's text and counts."""
    meeting_id = UUID(str(data["meeting_id"]))
    row = app.directory.meeting(meeting_id)
    motion = next(
        (
            e.data
            for e in app.get_history(meeting_id)
            if e.topic == MOTION and e.data.get("motion_no") == data.get("motion_no")
        ),
        {},
    )
    return {
        **data,
        "meeting": row.number if row else None,
        "meeting_title": row.title if row else "",
        "text": motion.get("text", ""),
        "yes": motion.get("yes"),
        "no": motion.get("no"),
        "abstain": motion.get("abstain"),
    }


def _meetings(app: Governance, code: str, read: ItemRead) -> None:
    """The item's meetings: their evidence as documents, their motions as resolutions."""
    for row in app.list_meetings(code):
        if row.issue_id != read.view.id:
            continue
        meeting = app.meeting(code, row.number)
        for sha256, name in meeting.evidence.items():
            read.documents.append(
                {"meeting": row.number, "title": row.title, "name": name, "sha256": sha256}
            )
        for e in app.get_history(meeting.id):
            if e.topic == MOTION:
                read.motions.append(
                    {"meeting": row.number, "title": row.title, "body": row.body, **e.data}
                )


def _notices(app: Governance, code: str, read: ItemRead) -> None:
    """The item's newest notices (at most :data:`NOTICES_SHOWN`; the board lists them all),
    with their objections and answers (read only where a notice has any)."""
    rows = app.list_notices_of(code, read.view.id)
    read.notices_total = len(rows)
    for row in rows[:NOTICES_SHOWN]:
        objections: dict[int, dict[str, Any]] = {}
        for e in app.get_history(row.id) if row.objections else ():
            if e.topic == OBJECTION:
                no = int(e.data["objection_no"])
                objections[no] = {**e.data, "by": e.actor, "at": e.timestamp, "answer": None}
            elif e.topic == ANSWER and (found := objections.get(int(e.data["objection_no"]))):
                found["answer"] = e.data
        read.notices.append({"row": row, "notice": row, "objections": list(objections.values())})
