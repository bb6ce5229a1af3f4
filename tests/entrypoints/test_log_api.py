"""``/v1/log``: signed checkpoints and proofs, public, on every store."""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.sealer import Sealer, log_store_of
from govflow.application.specimens import play
from govflow.domain.ids import council_id
from govflow.entrypoints.api import create_api
from govflow.transparency import (
    Signer,
    Verifier,
    generate_key,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from govflow.transparency.export_verify import verify_export
from govflow.transparency.records import read_line
from tests.application.test_sealer import exported_tree

ORIGIN = "govflow/api-test"
SKEY, VKEY = generate_key(ORIGIN)


@pytest.fixture
def sealed(app: Governance) -> Iterator[tuple[TestClient, Governance]]:
    play(app)
    Sealer.of(app, Signer.from_skey(SKEY), batch=20).seal()
    with TestClient(create_api(app)) as client:  # no token: these reads are public
        yield client, app


def hashes(values: list[str]) -> list[bytes]:
    return [b64decode(v) for v in values]


def test_checkpoints_are_listed_signed_and_paged(sealed: tuple[TestClient, Governance]) -> None:
    """Every checkpoint is served with its note, which opens with the log's public key."""
    client, app = sealed
    listed = client.get("/v1/log/checkpoints").json()
    total = app.recorder.max_notification_id()
    assert listed[-1]["size"] == total and [c["size"] for c in listed][:2] == [20, 40]
    for item in listed:
        checkpoint, _ = open_checkpoint(item["note"], [Verifier.from_vkey(VKEY)], origin=ORIGIN)
        assert checkpoint.size == item["size"] and checkpoint.root == b64decode(item["root"])
    page = client.get("/v1/log/checkpoints", params={"after": 20, "limit": 1}).json()
    assert [c["size"] for c in page] == [40]
    assert client.get("/v1/log/checkpoints/40").json() == listed[1]
    assert client.get("/v1/log/checkpoints/latest").json() == listed[-1]
    note = client.get("/v1/log/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    assert note.text == listed[-1]["note"]


def test_an_inclusion_proof_leads_to_the_signed_root(sealed: tuple[TestClient, Governance]) -> None:
    """A record's proof, from the leaf recomputed from the export, reaches the checkpoint;
    a reader of the council also gets the record's line, which gives the same leaf (its data
    and salt, or only its commitment for a record the council's feed withholds)."""
    client, app = sealed
    tree, ids = exported_tree(app)
    member = {"Authorization": f"Bearer {app.issue_token('specimen', 'm2', actor='clerk')}"}
    for index in (0, 5, 33, len(ids) - 1):
        body = client.get("/v1/log/proofs/inclusion", params={"id": ids[index]}).json()
        assert body["leaf_index"] == index and body["tree_size"] == tree.size
        assert "record" not in body  # anonymous: hashes only
        root = b64decode(body["checkpoint"]["root"])
        verify_inclusion(tree.leaf(index), index, tree.size, hashes(body["proof"]), root)
        path = "/v1/log/councils/specimen/proofs/inclusion"
        mine = client.get(path, params={"id": ids[index]}, headers=member).json()
        assert mine["proof"] == body["proof"]
        assert read_line(mine["record"].encode()).leaf == tree.leaf(index)
    body = client.get("/v1/log/proofs/inclusion", params={"id": ids[3], "size": 20}).json()
    verify_inclusion(tree.leaf(3), 3, 20, hashes(body["proof"]), tree.root(20))


def test_the_councils_export_verifies_whole(sealed: tuple[TestClient, Governance]) -> None:
    """GET /v1/log/councils/{code}/export (a reader of the council) streams every record,
    private ones by their commitment only, and makes the newest checkpoint's root; without
    a token of the council it is refused."""
    client, app = sealed
    path = "/v1/log/councils/specimen/export"
    assert client.get(path).status_code == 401
    app.register_council("elsewhere", "别处", actor="clerk")
    app.enroll_member("elsewhere", "e1", "外人", actor="clerk")
    stranger = app.issue_token("elsewhere", "e1", actor="clerk")
    assert client.get(path, headers={"Authorization": f"Bearer {stranger}"}).status_code == 403
    member = app.issue_token("specimen", "m2", actor="clerk")
    Sealer.of(app, Signer.from_skey(SKEY), batch=20).seal()  # the other council's records too
    export = client.get(path, headers={"Authorization": f"Bearer {member}"})
    assert export.headers["content-type"].startswith("application/x-ndjson")
    note = client.get("/v1/log/checkpoint").text
    verdict = verify_export(export.content.splitlines(), note, [Verifier.from_vkey(VKEY)])
    assert verdict.checked == app.recorder.max_notification_id() and verdict.withheld > 0
    private = [read_line(x) for x in export.content.splitlines() if b'"govflow.access.' in x]
    assert private and all(r.withheld for r in private)
    councils = {
        read_line(x).originator_id: b'"data"' in x
        for x in export.content.splitlines()
        if b'"govflow.council.registered"' in x
    }
    assert councils[str(council_id("specimen"))] is True
    assert councils[str(council_id("elsewhere"))] is False  # another council's: commitment only


def test_a_consistency_proof_links_two_checkpoints(sealed: tuple[TestClient, Governance]) -> None:
    """The older checkpoint is a prefix of the newer one, by the served proof."""
    client, app = sealed
    total = app.recorder.max_notification_id()
    body = client.get("/v1/log/proofs/consistency", params={"from": 20, "to": total}).json()
    old, new = b64decode(body["old"]["root"]), b64decode(body["new"]["root"])
    verify_consistency(20, total, old, new, hashes(body["proof"]))


def test_refusals_are_problem_json(sealed: tuple[TestClient, Governance]) -> None:
    """An unknown checkpoint or record is 404, sizes the wrong way round 422."""
    client, _ = sealed
    missing = client.get("/v1/log/checkpoints/21")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert client.get("/v1/log/proofs/inclusion", params={"id": 10**9}).status_code == 404
    wrong = client.get("/v1/log/proofs/consistency", params={"from": 40, "to": 20})
    assert wrong.status_code == 422 and wrong.json()["code"] == "input.invalid"


def test_the_running_stack_seals_as_records_land(app: Governance) -> None:
    """The worker's poller seals what is new each round and keeps going after a failure."""
    import asyncio

    from govflow.entrypoints.runtime import seal_log

    play(app)
    sealer = Sealer.of(app, Signer.from_skey(SKEY))

    async def two_rounds() -> None:
        task = asyncio.create_task(seal_log(sealer, every=0.01))
        while log_store_of(app).checkpoint() is None:
            await asyncio.sleep(0.01)
        app.enroll_member("specimen", "m21", "新成员", actor="clerk")
        total = app.recorder.max_notification_id()
        while log_store_of(app).size()[0] < total:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(two_rounds(), 30))
    assert [c.size for c in log_store_of(app).checkpoints()][
        -1
    ] == app.recorder.max_notification_id()


def test_workers_racing_to_seal_log_no_error(
    app: Governance, caplog: pytest.LogCaptureFixture
) -> None:
    """Two workers' pollers on one store: the one refused (another sealed first) logs no error,
    and the tree is whole."""
    import asyncio

    from govflow.entrypoints.runtime import seal_log

    play(app)
    total = app.recorder.max_notification_id()

    async def race() -> None:
        pollers = [
            asyncio.create_task(seal_log(Sealer.of(app, Signer.from_skey(SKEY)), every=0.01))
            for _ in range(2)
        ]
        while log_store_of(app).size()[0] < total:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        for poller in pollers:
            poller.cancel()

    asyncio.run(asyncio.wait_for(race(), 30))
    assert log_store_of(app).size() == (total, total)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
