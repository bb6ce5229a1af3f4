"""The ballot box: simple ballot requests recorded in batches through the same door as the
route, with the same answers; anything else goes on to the route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.specimens import SteppingClock, play
from govflow.application.views import BallotReceipt
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.errors import DoubleVoteError, GovflowError
from govflow.entrypoints.api import create_api
from govflow.orchestration.door import CommandDoor
from tests.security.test_reads import C, open_vote

URL = f"/v1/councils/{C}/issues/11/ballots"
BOX = {"Content-Type": "application/json"}  # what the ballot box takes
ROUTE = {"Content-Type": "application/json; charset=utf-8"}  # left to the route


@dataclass
class Box:
    app: Governance
    client: TestClient
    tokens: dict[str, str]

    def cast(self, who: str, choice: str, via: dict[str, str]) -> tuple[int, dict[str, object]]:
        answer = self.client.post(
            URL,
            content=f'{{"choice": "{choice}"}}',
            headers={**via, "Authorization": f"Bearer {self.tokens[who]}"},
        )
        return answer.status_code, answer.json()


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    play(app)
    for i in range(20):
        app.enroll_member(C, f"v{i}", f"v{i}", actor="clerk", bodies=(Body.PARTY_MEMBERS_ASSEMBLY,))
    app.enroll_member(C, "a1", "审计员", actor="clerk", roles=("auditor",))
    open_vote(app, 11)  # m1 and m2 have voted
    app.enroll_member(C, "z1", "晚到", actor="clerk", bodies=(Body.PARTY_MEMBERS_ASSEMBLY,))
    tokens = {
        who: app.issue_token(C, who, actor="clerk")
        for who in ("m1", "m3", "m4", "a1", "z1", *(f"v{i}" for i in range(20)))
    }
    tokens["bogus"] = "gf_0000000000000000_nothing"
    with TestClient(create_api(app)) as client:
        yield Box(app, client, tokens)
    app.close()


def test_a_ballot_gets_the_same_receipt_either_way(box: Box) -> None:
    fast, routed = box.cast("m3", "yes", BOX), box.cast("m4", "no", ROUTE)
    assert fast[0] == routed[0] == 201
    assert "ballot-box" in {thread.name for thread in threading.enumerate()}  # it took one
    assert fast[1].keys() == routed[1].keys() == set(BallotReceipt.model_fields)
    for receipt in (fast[1], routed[1]):
        check = box.client.get(
            f"/v1/councils/{C}/issues/11/receipts/{receipt['ballot_id']}",
            params={"notification_id": receipt["notification_id"]},
            headers={"Authorization": f"Bearer {box.tokens['m3']}"},
        )
        assert check.status_code == 200 and check.json()["in_log"], check.text


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("m1", 409, "ballot.double_vote"),  # voted already
        ("z1", 403, "ballot.not_on_roll"),  # enrolled after the roll was frozen
        ("a1", 403, "auth.forbidden"),  # an auditor does not vote
        ("bogus", 401, "auth.unauthenticated"),
    ],
)
def test_a_refusal_is_the_same_either_way(box: Box, who: str, status: int, code: str) -> None:
    fast, routed = box.cast(who, "yes", BOX), box.cast(who, "yes", ROUTE)
    assert (fast[0], fast[1]["code"]) == (routed[0], routed[1]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ('{"choice": "maybe"}', 422, "input.invalid"),
        ('{"choice": "yes", "extra": 1}', 422, "input.invalid"),
        ('{"choice": ', 400, "input.malformed"),
        ("[]", 422, "input.invalid"),
    ],
)
def test_anything_but_a_simple_ballot_is_the_routes(
    box: Box, body: str, status: int, code: str
) -> None:
    answer = box.client.post(
        URL, content=body, headers={**BOX, "Authorization": f"Bearer {box.tokens['m3']}"}
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_concurrent_ballots_each_count_once(box: Box) -> None:
    """Ballots arriving together are recorded together; a voter's second ballot in the same
    batch, or after it, is refused, and every other ballot of the batch stands."""
    voters = [f"v{i}" for i in range(20)]
    box.app.close_voting(C, 11, "deadline", actor="system")
    open_vote(box.app, 12)  # the roll frozen with the v's on it
    url = f"/v1/councils/{C}/issues/12/ballots"

    def cast(who: str) -> int:
        answer = box.client.post(
            url,
            content=b'{"choice": "yes"}',
            headers={**BOX, "Authorization": f"Bearer {box.tokens[who]}"},
        )
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(cast, voters * 3))
    assert sorted(statuses).count(201) == len(voters)
    assert statuses.count(409) == 2 * len(voters)
    tally = box.app.close_voting(C, 12, "deadline", actor="system")
    assert tally.yes == len(voters) + 1  # and m1 from open_vote


def test_a_batch_records_each_ballot_or_says_why_not(box: Box) -> None:
    """The door's batch: a double vote inside the batch, one already in the store (the
    batch's save fails and each ballot is saved on its own), a refused caller."""
    door = CommandDoor(box.app, None, None)
    cast = c.CastBallot(council=C, number=11, choice=Choice.YES)
    principal = box.app.authenticate(box.tokens["m3"])
    outcomes = door.cast_ballots(
        [
            (principal, cast),
            (box.tokens["m3"], cast),  # the same voter again, in the same batch
            (box.tokens["m1"], cast),  # voted before: the batch's save fails
            (box.tokens["a1"], cast),  # not allowed to vote
            (box.tokens["m4"], cast),
        ]
    )
    assert isinstance(outcomes[0], BallotReceipt) and isinstance(outcomes[4], BallotReceipt)
    assert isinstance(outcomes[1], DoubleVoteError) and isinstance(outcomes[2], DoubleVoteError)
    assert isinstance(outcomes[3], GovflowError) and outcomes[3].code == "auth.forbidden"
    assert outcomes[0].notification_id != outcomes[4].notification_id
