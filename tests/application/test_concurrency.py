"""Eight clients cast 10,000 ballots at once, duplicates mixed in: the tally is exact, no
accepted ballot is lost, no ballot is counted twice, and the audit chain verifies."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.errors import DoubleVoteError
from govflow.domain.issue import StageOutcome
from tests.application.scenario import MAJORITY_OF_PRESENT
from tests.conftest import Store

VOTERS = 10_000
CLIENTS = 8
WORKFLOWS = Path(__file__).parents[2] / "workflows"


def open_vote(app: Governance) -> None:
    app.register_council("big", "大社区", actor="clerk")
    council = app.council("big")
    for i in range(VOTERS):
        council.enroll_member(
            f"v{i}", f"v{i}", at=app.now(), actor="clerk", bodies=(Body.RESIDENTS_REPRESENTATIVES,)
        )
    app.save(council)
    procedure = ProcedureLibrary(WORKFLOWS).get("residents-assembly")
    app.propose_issue("big", 1, "全体表决", procedure, actor="v0")
    for stage in ("propose", "public_deliberation"):
        app.open_stage("big", 1, stage, deadline=None, actor="system")
        app.close_stage("big", 1, stage, StageOutcome.COMPLETED, actor="system")
    app.open_stage("big", 1, "resolve", deadline=None, actor="system")
    app.open_voting(
        "big",
        1,
        "resolve",
        body=Body.RESIDENTS_REPRESENTATIVES,
        rule=MAJORITY_OF_PRESENT,
        closes_at=app.now() + timedelta(days=7),
        actor="system",
    )


def test_concurrent_clients_with_duplicates(sql_store: Store) -> None:
    """Every accepted ballot is counted once; every duplicate is refused by the store."""
    app = Governance(sql_store.env)
    open_vote(app)
    rng = random.Random(7)
    plans = [
        [
            (f"v{rng.randrange(VOTERS)}", rng.choice([Choice.YES, Choice.NO]))
            for _ in range(VOTERS // CLIENTS)
        ]
        for _ in range(CLIENTS)
    ]
    plans[0] += [(f"v{i}", Choice.YES) for i in range(VOTERS)]  # everyone votes at least once
    accepted: list[tuple[str, Choice]] = []
    refused = Counter[str]()
    lock = threading.Lock()

    def client(plan: list[tuple[str, Choice]]) -> None:
        for voter, choice in plan:
            try:
                app.cast_ballot("big", 1, voter, choice)
            except DoubleVoteError:
                with lock:
                    refused[voter] += 1
                continue
            with lock:
                accepted.append((voter, choice))

    threads = [threading.Thread(target=client, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    voters = [voter for voter, _ in accepted]
    assert len(voters) == len(set(voters)) == VOTERS, "a voter was accepted twice or lost"
    assert sum(refused.values()) == sum(len(p) for p in plans) - VOTERS
    tally = app.close_voting("big", 1, "deadline", actor="system")
    choices = Counter(choice for _, choice in accepted)
    assert (tally.yes, tally.no, tally.participating) == (
        choices[Choice.YES],
        choices[Choice.NO],
        VOTERS,
    )
    app.record_checkpoint()
    assert app.verify_audit_chain().ok
    app.close()
