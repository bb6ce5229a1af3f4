"""The reliability suite of issue 13, with real processes on PostgreSQL.

Two API processes (``govflow api``) and two workers (``govflow worker``, each with the log's
signing key, so each runs the sealer) share one database and one Temporal server; items go
through a whole cycle with the API processes used in turn; one API process and one worker are
killed with SIGKILL mid-cycle. The cycle still completes, the surviving and a restarted API
process serve the same lists, a real local webhook receiver gets every event of the council
(a delivery in flight at the kill may come twice with the same ``Govflow-Delivery``: none is
lost, none is applied twice by a receiver that keys on it), every stored checkpoint is
consistent with every earlier one and the final export verifies. And the sealer, as a real
``govflow audit seal`` process, killed while it seals a large backlog and run again: no gap,
no duplicate leaf, every checkpoint consistent with every earlier one.

Item numbers 2600-2649 only (workflow ids on the shared test server).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from base64 import b64decode
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from temporalio.testing import WorkflowEnvironment

from govflow.application import Governance
from govflow.application.sealer import LogProofs
from govflow.transparency import Checkpoint, Verifier, open_checkpoint, verify_consistency
from tests.conftest import PG, postgres_env
from tests.orchestration.cluster import Api, Cluster, Receiver, receiving, sigkill
from tests.processes import ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.timeout(900),
]

COUNCIL = "kuozhan"
ITEMS = (2600, 2601, 2602)
LATE_ITEM = 2603  # proposed while one API process and one worker are down
PROCEDURE = "party-members-assembly"
BODY = "party_members_assembly"
EVENTS = "governance_events"  # the event store's table on PostgreSQL
T = TypeVar("T")


def until(what: str, probe: Callable[[], T | None], timeout: float = 180) -> T:
    """Poll ``probe`` until it returns something other than None (a bound on waiting only,
    never an assertion on time)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            found = probe()
        except (httpx.HTTPError, KeyError) as error:
            found, last = None, error
        if found is not None:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what}: not reached ({last!r})")


class People:
    """Requests to the API processes as the council's people, each request to the next API
    process in turn (``apis`` may change as processes are killed and restarted)."""

    def __init__(self, apis: list[Api]) -> None:
        self.apis = apis
        self.tokens: dict[str, str] = {}
        self.turn = 0
        self.http = httpx.Client(timeout=120)

    def next_api(self) -> str:
        self.turn += 1
        return self.apis[self.turn % len(self.apis)].url

    def call(
        self, method: str, path: str, who: str | None, body: Any = None, *, at: str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = self.http.request(
            method, (at or self.next_api()) + path, json=body, headers=headers
        )
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    def post(self, path: str, who: str, body: Any = None) -> Any:
        return self.call("POST", f"/v1/councils/{COUNCIL}{path}", who, body or {})

    def get(self, path: str, who: str | None = None, at: str | None = None) -> Any:
        return self.call("GET", path, who, at=at)


def seed(cluster: Cluster, people: People) -> None:
    """The council (bootstrapped by the operator), a chair c1 and a member m1 of the party
    members' assembly with their tokens, and two webhook subscriptions from the start."""
    bootstrap = cluster.govflow(
        "council",
        "bootstrap",
        COUNCIL,
        "扩展社区",
        "--clerk",
        "k1",
        "--clerk-name",
        "文书",
        "--json",
    )
    people.tokens["k1"] = httpx.Response(200, content=bootstrap).json()["token"]
    for member_id, name, sets in (
        ("c1", "主任", {"bodies": [BODY], "chairs": [BODY]}),
        ("m1", "党员一", {"bodies": [BODY]}),
        ("a1", "监委", {"roles": ["auditor"]}),
    ):
        people.post("/members", "k1", {"member_id": member_id, "name": name, **sets})
        people.tokens[member_id] = people.post("/tokens", "k1", {"holder": member_id})["token"]


def subscribe(people: People, receiver: Receiver) -> list[str]:
    """Two subscriptions of the council's every event, from the start of the log."""
    made = [
        people.post("/webhooks", "k1", {"url": f"{receiver.url}/{n}", "from_start": True})
        for n in ("a", "b")
    ]
    return [m["subscription"]["id"] for m in made]


def status(people: People, number: int) -> dict[str, Any]:
    found: dict[str, Any] = people.get(f"/v1/councils/{COUNCIL}/issues/{number}/status", "m1")
    return found


def at_stage(people: People, number: int, stage: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = status(people, number)
        ready = found["stage"] == stage and (not stage.startswith("publish") or found["notice_id"])
        return found if ready else None

    return until(f"item {number} at {stage}", probe)


def propose(people: People, number: int) -> None:
    people.post(
        "/issues", "c1", {"number": number, "title": f"活动室改造 {number}", "procedure": PROCEDURE}
    )


def hold_meeting(people: People, number: int) -> int:
    """The party members' assembly meets on item ``number`` (meeting ``number``) and passes
    its motion; returns the motion's number."""
    people.post(
        "/meetings",
        "c1",
        {
            "number": number,
            "body": BODY,
            "kind": "议事会",
            "title": "党员大会",
            "scheduled_for": datetime.now(UTC).isoformat(),
            "notice_days_required": 0,
            "rule_of": PROCEDURE,
            "rule": BODY,
            "issue_number": number,
        },
    )
    people.post(f"/meetings/{number}/notice", "c1")
    people.post(f"/meetings/{number}/attendance", "c1", {"present": ["c1", "m1"]})
    motion = people.post(
        f"/meetings/{number}/motions", "c1", {"text": "同意", "yes": 2, "no": 0, "abstain": 0}
    )
    assert motion["passed"], motion
    return int(motion["motion_no"])


def resolve(people: People, number: int, motion: int) -> None:
    people.post(
        f"/issues/{number}/resolution", "c1", {"meeting_number": number, "motion_no": motion}
    )


def finish(people: People, number: int) -> None:
    """From the posted resolution to the closed item: the clerk moves the item's clock past
    the notice's display period (a demo API process, on the time-skipping test server)."""
    at_stage(people, number, "publish_resolution")
    people.post(f"/issues/{number}/advance", "k1", {"days": 8})

    def adopted() -> str | None:
        shown = people.get(f"/v1/councils/{COUNCIL}/issues/{number}", "a1")
        outcome: str | None = shown["issue"]["outcome"]
        return outcome

    assert until(f"item {number} closed", adopted) == "adopted"


def feed(people: People, at: str) -> list[dict[str, Any]]:
    """The council's whole events feed, as one API process serves it."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = people.get(f"/v1/councils/{COUNCIL}/events?after={after}&limit=500", "a1", at=at)
        events.extend(page["events"])
        if not page["events"]:
            return events
        after = page["next_after"]


def checkpoints(people: People, at: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        after = found[-1]["size"] if found else 0
        page: list[dict[str, Any]] = people.get(f"/v1/log/checkpoints?after={after}", at=at)
        found.extend(page)
        if len(page) < 1000:
            return found


def opened(cluster: Cluster, note: str) -> Checkpoint:
    checkpoint, _ = open_checkpoint(
        note, [Verifier.from_vkey(cluster.public_key)], origin=cluster.origin
    )
    return checkpoint


def check_all_consistent(cluster: Cluster, people: People, stored: list[dict[str, Any]]) -> None:
    """Every checkpoint is signed by the log's key and consistent with every earlier one: each
    pair's consistency proof, served by the API processes in turn, verified with the library
    from the roots in the signed notes (never the roots the proofs come with)."""
    signed = [opened(cluster, c["note"]) for c in stored]
    sizes = [c.size for c in signed]
    assert sizes == sorted(set(sizes)), "checkpoints out of order or twice"
    for i, old in enumerate(signed):
        for new in signed[i + 1 :]:
            served = people.get(f"/v1/log/proofs/consistency?from={old.size}&to={new.size}")
            proof = [b64decode(h) for h in served["proof"]]
            verify_consistency(old.size, new.size, old.root, new.root, proof)


def dsn(dbname: str) -> str:
    return f"host={PG['host']} port={PG['port']} user={PG['user']} dbname={dbname}"


def leaves_of(dbname: str) -> list[tuple[int, int]]:
    with psycopg.connect(dsn(dbname)) as conn:
        rows = conn.execute(
            "SELECT leaf_index, notification_id FROM log_leaves ORDER BY leaf_index"
        ).fetchall()
    return [(int(i), int(n)) for i, n in rows]


def notification_ids(dbname: str) -> list[int]:
    with psycopg.connect(dsn(dbname)) as conn:
        rows = conn.execute(f"SELECT notification_id FROM {EVENTS} ORDER BY 1").fetchall()
    return [int(r[0]) for r in rows]


def lease_of(dbname: str, pid: int) -> list[str]:
    """The subscriptions whose webhook lease the process ``pid`` holds now."""
    with psycopg.connect(dsn(dbname)) as conn:
        rows = conn.execute(
            "SELECT subscription_id, holder FROM webhook_leases "
            "WHERE expires_at > extract(epoch from now())"
        ).fetchall()
    return [str(sid) for sid, holder in rows if f":{pid}:" in holder]


def check_tree(dbname: str) -> None:
    """No gap and no duplicate leaf: leaf i is the i-th record of the log, every record once."""
    leaves = leaves_of(dbname)
    assert [i for i, _ in leaves] == list(range(len(leaves)))
    assert [n for _, n in leaves] == notification_ids(dbname)[: len(leaves)]


def scenario(cluster: Cluster, receiver: Receiver, tmp_path: Path) -> None:
    apis = [cluster.start_api(), cluster.start_api()]
    workers = [cluster.start_worker(), cluster.start_worker()]
    people = People(apis)
    seed(cluster, people)
    subscriptions = subscribe(people, receiver)

    motions = {}
    for number in ITEMS:
        propose(people, number)
    for number in ITEMS:
        at_stage(people, number, "review")
        motions[number] = hold_meeting(people, number)
    receiver.gate.clear()  # the receiver holds its answers: deliveries stay in flight
    resolve(people, ITEMS[0], motions[ITEMS[0]])
    before_kill = checkpoints(people, apis[0].url)

    # mid-cycle: one API process and one worker die at once, with no chance to clean up; the
    # API process while it holds a subscription's lease, a delivery of it in flight (its
    # request held by the receiver), which the survivor may take only once the lease expires
    def delivering() -> tuple[int, list[str]] | None:
        for i, api in enumerate(apis):
            held = lease_of(cluster.dbname, api.process.pid)
            if held:
                return i, held
        return None

    victim, held = until("an API process delivering a subscription", delivering, 60)
    killed = apis.pop(victim)
    killed.kill()
    sigkill(workers.pop(1))
    receiver.gate.set()

    for number in ITEMS[1:]:
        resolve(people, number, motions[number])
    propose(people, LATE_ITEM)
    apis.append(cluster.start_api())  # a restarted API process (on another port)
    at_stage(people, LATE_ITEM, "review")
    motions[LATE_ITEM] = hold_meeting(people, LATE_ITEM)
    resolve(people, LATE_ITEM, motions[LATE_ITEM])
    for number in (*ITEMS, LATE_ITEM):
        finish(people, number)

    # both API processes serve the same lists
    survivor, restarted = apis[0].url, apis[1].url
    for path in ("issues", "meetings", "notices"):
        url = f"/v1/councils/{COUNCIL}/{path}?limit=100"
        assert people.get(url, "a1", at=survivor) == people.get(url, "a1", at=restarted), path
    rows = people.get(f"/v1/councils/{COUNCIL}/issues?limit=100", "a1", at=restarted)
    assert sorted(r["number"] for r in rows) == [*ITEMS, LATE_ITEM]
    events = feed(people, survivor)
    assert events == feed(people, restarted)

    # every event of the council reaches the receiver on each subscription, in order, each
    # Govflow-Delivery once (a lease of the killed process expires and the survivor goes on
    # from its saved cursor: the one event it was posting, if any, may come twice, on a
    # subscription it held only)
    expected = [e["id"] for e in events]

    def caught_up() -> bool | None:
        got = defaultdict(set)
        for d in receiver.deliveries():
            got[d.subscription].add(d.delivery)
        return all(got[s] >= set(expected) for s in subscriptions) or None

    until("every event delivered", caught_up)
    time.sleep(2)  # a late duplicate would show now
    by_subscription: dict[str, list[int]] = defaultdict(list)
    bodies: dict[tuple[str, int], dict[str, Any]] = {}
    for d in receiver.deliveries():
        by_subscription[d.subscription].append(d.delivery)
        assert bodies.setdefault((d.subscription, d.delivery), d.body) == d.body
    assert sorted(by_subscription) == sorted(subscriptions)
    for sid, got in by_subscription.items():
        first = list(dict.fromkeys(got))
        assert first == expected, sid  # every event, in log order, no other
        twice = [n for n, count in Counter(got).items() if count > 1]
        assert len(twice) <= 1 and all(Counter(got)[n] == 2 for n in twice), (sid, twice)
        assert sid in held or not twice, sid  # only where the killed process was posting
    by_id = {e["id"]: e for e in events}
    for (_, n), body in bodies.items():
        assert body["topic"] == by_id[n]["topic"] and body["council"] == COUNCIL

    # the sealers (one killed) sealed everything: wait for the checkpoint of the whole log
    everything = len(notification_ids(cluster.dbname))
    until(
        "the whole log sealed",
        lambda: people.get("/v1/log/checkpoints/latest")["size"] >= everything or None,
    )
    check_tree(cluster.dbname)
    for page in (f"/board/{COUNCIL}/", "/board/log"):  # links are built on each one's address
        shown = [people.get(page, at=url).replace(url, "BASE") for url in (survivor, restarted)]
        assert shown[0] == shown[1], page
    stored = checkpoints(people, survivor)
    assert stored == checkpoints(people, restarted)
    kept = {c["size"]: c for c in stored}
    for c in before_kill:  # none lost or changed (cosignatures aside: there are none)
        assert kept[c["size"]] == c
    assert len(stored) >= 2
    check_all_consistent(cluster, people, stored)

    # the operator's export of the whole log verifies against the newest checkpoint
    note = tmp_path / "checkpoint.txt"
    note.write_text(people.get("/v1/log/checkpoint"))
    export = tmp_path / "log.jsonl"
    cluster.govflow("audit", "export", "--out", str(export))
    verdict = cluster.govflow("verify", str(export), str(note), "--key", cluster.public_key)
    assert verdict.startswith("ok"), verdict


@pytest.mark.asyncio(loop_scope="session")
async def test_two_apis_and_two_workers_one_of_each_killed_mid_cycle(
    env: WorkflowEnvironment, postgres_db: str, tmp_path: Path
) -> None:
    cluster = Cluster(
        postgres_db,
        env.client.service_client.config.target_host,
        f"scale-out-{uuid.uuid4().hex[:8]}",
        tmp_path / "data",
    )
    try:
        with receiving() as receiver:
            await asyncio.to_thread(scenario, cluster, receiver, tmp_path)
    finally:
        print(cluster.stop_all())  # shown when the test fails


# -- the sealer killed mid-batch ---------------------------------------------------------

BACKLOG = 45_000  # records: five batches of the sealer's 10,000


def fill_backlog(dbname: str, count: int) -> None:
    """Append ``count`` records to the log in one transaction (filler events of an aggregate
    of their own), as if a busy day's events waited for the sealer."""
    filler = uuid.uuid4()
    with psycopg.connect(dsn(dbname)) as conn, conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            [(filler, v, "govflow.test:Filler", b'{"n":%d}' % v) for v in range(1, count + 1)],
        )


def test_the_sealer_killed_mid_batch_resumes_without_gap_or_duplicate(
    postgres_db: str, tmp_path: Path
) -> None:
    """``govflow audit seal`` (a real process) is killed with SIGKILL while it seals a backlog
    of five batches, after its first checkpoint and before its last; run again, it seals the
    rest: every record is one leaf in order, the killed batch sealed once, and every
    checkpoint is consistent with every earlier one (proofs from the stored tree, checked with
    the library)."""
    cluster = Cluster(postgres_db, "127.0.0.1:1", "unused", tmp_path / "data")
    cluster.govflow(
        "council", "bootstrap", COUNCIL, "扩展社区", "--clerk", "k1", "--clerk-name", "文书"
    )
    cluster.govflow("audit", "seal", signing=True)  # the first checkpoint, before the burst
    fill_backlog(postgres_db, BACKLOG)
    everything = len(notification_ids(postgres_db))

    environ = {**cluster.environ, "GOVFLOW_LOG_SIGNING_KEY": cluster.signing_key}

    def stored_checkpoints() -> int:
        with psycopg.connect(dsn(postgres_db)) as conn:
            row = conn.execute("SELECT count(*) FROM log_checkpoints").fetchone()
        assert row is not None
        return int(row[0])

    first = stored_checkpoints()
    sealer = subprocess.Popen(
        [sys.executable, "-m", "govflow", "audit", "seal"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    until("a batch of the backlog sealed", lambda: stored_checkpoints() > first or None, 120)
    sigkill(sealer)
    partial = stored_checkpoints()
    sealed = len(leaves_of(postgres_db))
    assert first < partial and sealed < everything, "the sealer finished before it was killed"
    check_tree(postgres_db)

    cluster.govflow("audit", "seal", signing=True)
    check_tree(postgres_db)
    assert len(leaves_of(postgres_db)) == everything
    with psycopg.connect(dsn(postgres_db)) as conn:
        notes = [r[0] for r in conn.execute("SELECT note FROM log_checkpoints ORDER BY size")]
    signed = [opened(cluster, note) for note in notes]
    assert signed[-1].size == everything
    app = Governance(postgres_env(postgres_db))
    try:
        proofs = LogProofs.of(app)
        for i, old in enumerate(signed):
            for new in signed[i + 1 :]:
                proof, _, _ = proofs.get_consistency_proof(old.size, new.size)
                verify_consistency(old.size, new.size, old.root, new.root, proof)
    finally:
        app.close()
    ends = [c.size for c in signed]
    assert ends == sorted(set(ends))
