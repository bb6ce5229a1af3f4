"""What the log asks of witnesses (issue 13): a minimum number of them before a checkpoint is
marked witnessed (GOVFLOW_LOG_MIN_WITNESSES on the board and at /v1/log; ``govflow verify
--min-witnesses``), and cosignatures refused, with nothing recorded, when dated in the future
or made of a checkpoint the log never issued."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.sealer import LogProofs, Sealer
from govflow.application.specimens import play
from govflow.entrypoints.api import create_api
from govflow.entrypoints.console import EXIT_AUDIT
from govflow.transparency import (
    Checkpoint,
    Cosigner,
    FutureCosignatureError,
    MerkleTree,
    Signer,
    UnknownCheckpointError,
    accept_cosignatures,
    cosign,
    generate_key,
    generate_witness_key,
    parse_note,
)
from govflow.transparency.export_verify import open_signed
from govflow.transparency.witness import MAX_CLOCK_SKEW
from tests.entrypoints.test_cli_verify import export, run

ORIGIN = "govflow/witness-rules-test"
SKEY, VKEY = generate_key(ORIGIN)
LOG = Signer.from_skey(SKEY)
OFFICE = Cosigner.from_skey(generate_witness_key("street-office.example/witness")[0])
COMMITTEE = Cosigner.from_skey(generate_witness_key("committee.example/witness")[0])
NEIGHBOUR = Cosigner.from_skey(generate_witness_key("neighbour.example/witness")[0])
NAMED = [OFFICE.verifier, COMMITTEE.verifier, NEIGHBOUR.verifier]


def dated(cosigner: Cosigner, at: float) -> Cosigner:
    """The same witness key with a clock stuck at ``at`` (POSIX seconds)."""
    return Cosigner.from_skey(cosigner.skey, clock=lambda: at)


# -- the library ---------------------------------------------------------------------------


def a_note(size: int = 5) -> str:
    tree = MerkleTree()
    for i in range(size):
        tree.append(bytes([i]) * 32)
    return Checkpoint(ORIGIN, size, tree.root(), ("govflow/log-record/v2",)).sign(LOG)


def test_a_cosignature_dated_in_the_future_is_refused() -> None:
    """Beyond the clock skew allowed, a cosignature is refused (witness.future_timestamp);
    within it, or without a clock to compare with, it is accepted."""
    note, now = a_note(), 1_800_000_000
    ahead = cosign(note, dated(OFFICE, now + MAX_CLOCK_SKEW + 1))
    with pytest.raises(FutureCosignatureError) as refused:
        accept_cosignatures(note, ahead, NAMED, now=now)
    assert refused.value.code == "witness.future_timestamp"
    assert refused.value.details["timestamp"] == now + MAX_CLOCK_SKEW + 1
    assert accept_cosignatures(note, ahead, NAMED)  # no clock given: not checked
    skewed = cosign(note, dated(OFFICE, now + MAX_CLOCK_SKEW))
    assert [s.name for s in accept_cosignatures(note, skewed, NAMED, now=now)] == [OFFICE.name]
    both = cosign(note, dated(COMMITTEE, now)).rstrip("\n") + "\n" + ahead.split("\n\n")[1]
    with pytest.raises(FutureCosignatureError):  # one in the future: none is accepted
        accept_cosignatures(note, both, NAMED, now=now)


def test_a_cosignature_of_a_checkpoint_never_issued_is_refused() -> None:
    """A note of another size, root or origin than the log's is refused
    (witness.unknown_checkpoint)."""
    note = a_note(5)
    for other in (a_note(6), Checkpoint("elsewhere/log", 5, bytes(32)).sign(LOG)):
        with pytest.raises(UnknownCheckpointError) as refused:
            accept_cosignatures(note, cosign(other, OFFICE), NAMED)
        assert refused.value.code == "witness.unknown_checkpoint"


def test_open_signed_counts_the_witnesses_against_a_minimum() -> None:
    """With a minimum, that many of the given witnesses must have co-signed; without one,
    every given witness."""
    note = a_note()
    cosigned = (
        note.rstrip("\n")
        + "\n"
        + "".join(
            s.line() for w in (OFFICE, COMMITTEE) for s in parse_note(cosign(note, w)).signatures
        )
    )
    _, who = open_signed(cosigned, [LOG.verifier], NAMED, min_witnesses=2)
    assert who == tuple(sorted([OFFICE.name, COMMITTEE.name]))
    with pytest.raises(Exception) as too_few:
        open_signed(cosigned, [LOG.verifier], NAMED, min_witnesses=3)
    assert getattr(too_few.value, "code", None) == "verify.too_few_witnesses"
    with pytest.raises(Exception) as missing:
        open_signed(cosigned, [LOG.verifier], NAMED)
    assert getattr(missing.value, "code", None) == "verify.missing_witness"
    assert open_signed(note, [LOG.verifier], NAMED, min_witnesses=0)[1] == ()


# -- the server, the board and the verifier ----------------------------------------------


@pytest.fixture
def client(sql_app: Governance) -> Iterator[TestClient]:
    play(sql_app)
    Sealer.of(sql_app, LOG, batch=20).seal()
    api = create_api(sql_app, log_witnesses=NAMED, log_public_key=VKEY, log_min_witnesses=2)
    with TestClient(api) as test_client:
        yield test_client


def kept(sql_app: Governance, size: int) -> list[str]:
    return [c.name for c in sql_app_cosignatures(sql_app, size)]


def sql_app_cosignatures(sql_app: Governance, size: int) -> list[object]:
    from govflow.application.sealer import log_store_of

    return list(log_store_of(sql_app).cosignatures([size]).get(size, []))


def row(page: str, size: int) -> str:
    found = re.search(rf'<tr id="checkpoint-{size}">(.*?)</tr>', page, flags=re.S)
    assert found is not None
    return found.group(1)


def test_a_checkpoint_is_witnessed_once_the_minimum_cosigned(
    client: TestClient, sql_app: Governance, tmp_path: Path
) -> None:
    """With GOVFLOW_LOG_MIN_WITNESSES=2, /v1/log and the board mark a checkpoint witnessed
    only once two named witnesses co-signed it; ``govflow verify --min-witnesses`` agrees."""
    newest = LogProofs.of(sql_app).get_checkpoint()
    url = f"/v1/log/checkpoints/{newest.size}"
    served = client.get(url).json()
    assert (served["witnessed"], served["min_witnesses"]) == (False, 2)
    note = client.get("/v1/log/checkpoint").text
    assert (
        client.post(f"{url}/cosignatures", content=cosign(note, OFFICE)).json()["witnessed"]
        is False
    )
    page = client.get("/board/log").text
    assert "至少 2 个指定见证方联署" in page and "--min-witnesses 2" in page
    assert "未达见证人数" in row(page, newest.size) and "1/2" in row(page, newest.size)

    one = tmp_path / "one.txt"
    one.write_text(client.get("/v1/log/checkpoint").text)
    log = export(sql_app, tmp_path)
    witnesses = [a for w in NAMED for a in ("--witness", w.vkey)]
    code, _, err = run("verify", log, one, "--key", VKEY, *witnesses, "--min-witnesses", "2")
    assert code == EXIT_AUDIT and "(verify.too_few_witnesses)" in err
    code, out, err = run("verify", log, one, "--key", VKEY, *witnesses, "--min-witnesses", "1")
    assert code == 0 and OFFICE.name in out, err

    assert client.post(f"{url}/cosignatures", content=cosign(note, COMMITTEE)).json()["witnessed"]
    listed = {c["size"]: c for c in client.get("/v1/log/checkpoints").json()}
    assert listed[newest.size]["witnessed"]
    assert not any(c["witnessed"] for s, c in listed.items() if s != newest.size)
    page = client.get("/board/log?lang=en").text
    assert "✓ witnessed" in row(page, newest.size) and "2/2" in row(page, newest.size)
    two = tmp_path / "two.txt"
    two.write_text(client.get("/v1/log/checkpoint").text)
    code, out, err = run(
        "verify", log, two, "--key", VKEY, *witnesses, "--min-witnesses", "2", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["witnesses"] == sorted([OFFICE.name, COMMITTEE.name])
    code, _, err = run("verify", log, two, "--key", VKEY, *witnesses)  # all three: no
    assert code == EXIT_AUDIT and "(verify.missing_witness)" in err


def test_without_a_minimum_every_checkpoint_is_witnessed(sql_app: Governance) -> None:
    play(sql_app)
    Sealer.of(sql_app, LOG, batch=20).seal()
    with TestClient(create_api(sql_app, log_witnesses=NAMED, log_public_key=VKEY)) as client:
        assert all(c["witnessed"] for c in client.get("/v1/log/checkpoints").json())
        assert "min-witnesses" not in client.get("/board/log").text


def test_the_server_refuses_future_and_unissued_cosignatures(
    client: TestClient, sql_app: Governance
) -> None:
    """Dated in the future (by the server's wall clock, beyond the skew), of a checkpoint the log
    never issued (no such size, or another note at that size): refused with stable codes, and
    nothing kept, not even the valid cosignature posted with them."""
    newest = LogProofs.of(sql_app).get_checkpoint()
    url = f"/v1/log/checkpoints/{newest.size}/cosignatures"
    note = client.get("/v1/log/checkpoint").text
    ahead = cosign(note, dated(OFFICE, time.time() + MAX_CLOCK_SKEW + 3600))
    refused = client.post(url, content=ahead)
    assert (refused.status_code, refused.json()["code"]) == (422, "witness.future_timestamp")
    together = cosign(note, COMMITTEE).rstrip("\n") + "\n" + ahead.split("\n\n")[1]
    refused = client.post(url, content=together)
    assert refused.json()["code"] == "witness.future_timestamp"
    assert kept(sql_app, newest.size) == []

    forged = Checkpoint(ORIGIN, newest.size, bytes(32), ("govflow/log-record/v2",)).sign(LOG)
    refused = client.post(url, content=cosign(forged, OFFICE))
    assert (refused.status_code, refused.json()["code"]) == (404, "witness.unknown_checkpoint")
    unissued = newest.size + 1
    refused = client.post(
        f"/v1/log/checkpoints/{unissued}/cosignatures",
        content=cosign(Checkpoint(ORIGIN, unissued, bytes(32)).sign(LOG), OFFICE),
    )
    assert (refused.status_code, refused.json()["code"]) == (404, "witness.unknown_checkpoint")
    assert kept(sql_app, newest.size) == [] and kept(sql_app, unissued) == []
    accepted = client.post(url, content=cosign(note, OFFICE))
    assert accepted.status_code == 200 and kept(sql_app, newest.size) == [OFFICE.name]
