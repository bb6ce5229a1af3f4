"""An owners' vote as assemblies really hold it: online, paper and proxy ballots in one named,
area-weighted round; a voter's own paper ballot overriding their proxy's; a double channel
refused and listed for the scrutineers; on every store (SQLite and PostgreSQL included)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.paper_ballots import RefusedBallot
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.ids import issue_id
from govflow.domain.issue import StageOutcome, VotingTallied
from govflow.orchestration.door import CommandDoor
from tests.application.scenario import COUNCIL, set_up_council

OWNERS_VOTE = """
name: owners-vote-all-channels
version: 1
title: "业主共同决定 (test: online, paper and proxy ballots)"
sources: [{title: 民法典, article: Art. 278}, {title: 物业管理条例, article: Art. 12}]
rules:
  ordinary:
    quorum: {fraction: "2/3", comparison: at_least, base: members_of_record}
    passes: {fraction: "1/2", comparison: more_than, base: participating}
    area_weighted: true
stages:
  - {id: propose, kind: propose, title: 提议, body: owners_committee, duration: {days: 0}}
  - id: resolve
    kind: vote
    title: 业主表决
    body: owners_assembly
    rule: ordinary
    vote_by: ballots
    ballot: named
    duration: {days: 30}
    proxies: {allowed: true, cap: 1}
    paper: {allowed: true, wins: paper}
"""


def scan(what: str) -> str:
    return hashlib.sha256(what.encode()).hexdigest()


def test_online_paper_and_proxy_ballots_count_once_per_owner(
    app: Governance, tmp_path: Path
) -> None:
    (tmp_path / "owners-vote-all-channels.v1.yaml").write_text(OWNERS_VOTE, encoding="utf-8")
    library = ProcedureLibrary(tmp_path)
    procedure = library.get("owners-vote-all-channels")
    set_up_council(app)  # o1 owns 1-101 and 1-104, o2 1-102, o3 1-103
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(COUNCIL, "o4", "业主o4", actor="clerk")
    app.register_household(COUNCIL, "1-105", Decimal("90.00"), "o4", actor="clerk")
    app.propose_issue(COUNCIL, 1, "更换电梯", procedure, actor="o1")
    app.open_stage(COUNCIL, 1, "propose", deadline=None, actor="o1")
    app.close_stage(COUNCIL, 1, "propose", StageOutcome.COMPLETED, actor="o1")
    app.open_stage(COUNCIL, 1, "resolve", deadline=None, actor="system")
    app.open_voting(
        COUNCIL, 1, "resolve", body=Body.OWNERS_ASSEMBLY, rule=procedure.rules["ordinary"],
        closes_at=app.now() + timedelta(days=30), actor="system", secret=False,
    )  # fmt: skip
    door = CommandDoor(app, None, library)

    def run(who: str, command: c.Command) -> Any:
        return asyncio.run(door.handle(command, app.principal(COUNCIL, who)))

    def ballot(choice: Choice, for_member: str | None = None) -> c.CastBallot:
        return c.CastBallot(council=COUNCIL, number=1, choice=choice, for_member=for_member)

    # proxies (委托): o3 appoints o1, and o4 (on a paper 委托书 the clerk records) appoints o2
    for principal, proxy, who in (("o3", "o1", "o3"), ("o4", "o2", "k1")):
        appoint = c.AppointProxy(
            council=COUNCIL, number=1, proxy=proxy, proxy_form_sha256=scan(f"form {principal}"),
            principal=principal,
        )  # fmt: skip
        run(who, appoint)
    run("o1", ballot(Choice.NO))  # online, then on paper too: the paper ballot wins
    run("o2", ballot(Choice.YES))  # online only
    run("o1", ballot(Choice.NO, for_member="o3"))  # by proxy, then o3's own paper ballot
    run("o2", ballot(Choice.NO, for_member="o4"))  # by proxy: counted
    lines = [
        c.PaperBallotLine(voter=voter, choice=Choice.YES, scan_sha256=scan(f"ballot {voter}"))
        for voter in ("o1", "o3")
    ]
    run("k1", c.EnterPaperBallots(council=COUNCIL, number=1, ballots=lines))
    run("p2", c.ConfirmPaperBallots(council=COUNCIL, number=1, batch=1))  # the scrutineer

    assert app.refused_ballots(COUNCIL, 1) == [RefusedBallot("o1", "online")]
    app.close_voting(COUNCIL, 1, "deadline", actor="system")
    (tally,) = [e for e in app.domain_events(issue_id(COUNCIL, 1)) if isinstance(e, VotingTallied)]
    # o1 yes on paper (both units), o2 yes online, o3 yes on paper over the proxy's no, o4 no
    # by proxy: four owners, one ballot each
    assert (tally.yes, tally.no, tally.participating) == (3, 1, 4)
    assert (tally.by_paper, tally.by_proxy) == (2, 1)
    areas = {"o1": Decimal("81.00") + Decimal("84.00"), "o2": Decimal("82.00")}
    areas["o3"] = Decimal("83.00")
    assert tally.yes_area == sum(areas.values())
    assert tally.participating_area == sum(areas.values()) + Decimal("90.00")
    assert tally.passed
