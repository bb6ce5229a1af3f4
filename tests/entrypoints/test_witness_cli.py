"""``govflow witness``: a third party co-signs a live log's checkpoints while it only grows, and
refuses a rewritten one; the API keeps cosignatures by the witnesses it expects only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from govflow.application import Governance
from govflow.application.sealer import Sealer
from govflow.application.specimens import play
from govflow.entrypoints.api import create_api
from govflow.entrypoints.cli import app as cli
from govflow.entrypoints.console import EXIT_AUDIT, EXIT_DENIED, EXIT_INVALID
from govflow.transparency import (
    Cosigner,
    Signer,
    Verifier,
    cosign,
    generate_key,
    generate_witness_key,
    open_checkpoint,
)
from tests.application.test_audit import tamper
from tests.conftest import Store
from tests.serving import serving

ORIGIN = "govflow/witness-test"
SKEY, VKEY = generate_key(ORIGIN)
WITNESS = "street-office.example/witness"
W_SKEY, W_VKEY = generate_witness_key(WITNESS)


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def seal(app: Governance) -> int:
    checkpoint = Sealer.of(app, Signer.from_skey(SKEY), batch=20).seal()
    assert checkpoint is not None
    return checkpoint.size


@pytest.fixture
def server(sql_app: Governance) -> Iterator[str]:
    """The specimen log sealed, served on a real port by an API expecting one witness."""
    play(sql_app)
    seal(sql_app)
    api = create_api(
        sql_app, log_witnesses=[Cosigner.from_skey(W_SKEY).verifier], log_public_key=VKEY
    )
    with serving(api) as url:
        yield url


def witness(url: str, state: Path, *more: str) -> tuple[int, str, str]:
    return run("witness", "run", url, "--key", W_SKEY, "--state", state, "--once", *more)


def newest(url: str) -> str:
    return httpx.get(f"{url}/v1/log/checkpoint").text


def test_a_witness_cosigns_two_successive_checkpoints(
    server: str, sql_app: Governance, tmp_path: Path
) -> None:
    """First run: co-signed and remembered; the log grows: co-signed again, consistent; the
    served note then carries the witness's line, which opens with its public key."""
    state = tmp_path / "witness.json"
    code, stdout, stderr = witness(server, state, "--log-key", VKEY)
    assert code == 0, stderr
    first = json.loads(state.read_text())["size"]
    assert f"co-signed checkpoint {first} of {ORIGIN}" in stdout
    sql_app.enroll_member("specimen", "m21", "新成员", actor="clerk")
    second = seal(sql_app)
    code, stdout, stderr = witness(server, state)  # the log key now from the state file
    assert code == 0, stderr
    assert f"co-signed checkpoint {second}" in stdout and f"consistent with {first}" in stdout
    assert json.loads(state.read_text())["size"] == second
    keys = [Verifier.from_vkey(VKEY), Cosigner.from_skey(W_SKEY).verifier]
    for size in (first, second):
        served = httpx.get(f"{server}/v1/log/checkpoints/{size}").json()
        assert served["witnesses"] == [WITNESS]
        _, opened = open_checkpoint(served["note"], keys, origin=ORIGIN)
        assert opened.verified_by() == {ORIGIN, WITNESS}
    assert WITNESS in open_checkpoint(newest(server), keys)[1].verified_by()
    code, stdout, _ = witness(server, state, "--json")
    assert code == 0 and json.loads(stdout)["status"] == "unchanged"


def test_a_rewritten_log_is_refused_and_never_cosigned(
    server: str, sql_app: Governance, sql_store: Store, tmp_path: Path
) -> None:
    """An operator edits a stored event and re-seals everything into a fresh tree, signed by
    the log's key: the witness refuses it (exit 3, witness.inconsistent), posts nothing, and
    keeps its state. (A larger rewritten tree fails the consistency proof: test_witness.py.)"""
    state = tmp_path / "witness.json"
    assert witness(server, state, "--log-key", VKEY)[0] == 0
    before = state.read_text()
    tamper(
        sql_store,
        "UPDATE stored_events SET state = ? WHERE rowid = 7",
        "UPDATE governance_events SET state = %s WHERE notification_id = 7",
        orjson.dumps({"forged": True}),
    )
    for table in ("log_leaves", "log_nodes", "log_checkpoints", "log_cosignatures"):
        tamper(sql_store, f"DELETE FROM {table}", f"DELETE FROM {table}")
    forged = seal(sql_app)  # as many records: the same sizes, other roots
    assert forged == json.loads(before)["size"]
    code, _, stderr = witness(server, state)
    assert code == EXIT_AUDIT and "(witness.inconsistent)" in stderr, stderr
    assert "not co-signed" in stderr
    assert state.read_text() == before
    assert httpx.get(f"{server}/v1/log/checkpoints/{forged}").json()["witnesses"] == []


def test_a_forged_checkpoint_or_a_wrong_log_key_is_refused(server: str, tmp_path: Path) -> None:
    """A checkpoint not signed by the log's key is refused; a key that differs from the one in
    the state file is unusable input."""
    state = tmp_path / "witness.json"
    _, other = generate_key(ORIGIN)
    code, _, stderr = witness(server, state, "--log-key", other)
    assert code == EXIT_AUDIT and "(note.unverified)" in stderr
    assert not state.exists()
    assert witness(server, state, "--log-key", VKEY)[0] == 0
    code, _, stderr = witness(server, state, "--log-key", other)
    assert code == EXIT_INVALID and "(witness.key_mismatch)" in stderr


def test_the_server_refuses_an_unknown_witness(server: str, tmp_path: Path) -> None:
    """A cosignature by a key the settings do not name is refused (403 witness.unknown), one
    of a checkpoint the log never issued is 404 (witness.unknown_checkpoint), and nothing is
    kept."""
    stranger_skey, _ = generate_witness_key("stranger.example/witness")
    code, _, stderr = run(
        "witness", "run", server, "--key", stranger_skey, "--log-key", VKEY,
        "--state", tmp_path / "s.json", "--once",
    )  # fmt: skip
    assert code == EXIT_DENIED and "(witness.unknown)" in stderr
    note = newest(server)
    size = int(note.split("\n")[1])
    url = f"{server}/v1/log/checkpoints/{size}/cosignatures"
    posted = cosign(note, Cosigner.from_skey(W_SKEY))
    forged = posted.replace(f"\n{size}\n", f"\n{size + 1}\n")
    refused = httpx.post(url, content=forged.split("\n\n")[0] + "\n\n" + posted.split("\n\n")[1])
    assert refused.status_code == 404 and refused.json()["code"] == "witness.unknown_checkpoint"
    assert httpx.get(f"{server}/v1/log/checkpoints/{size}").json()["witnesses"] == []
    accepted = httpx.post(url, content=posted)
    assert accepted.status_code == 200 and accepted.json()["witnesses"] == [WITNESS]


def test_witness_keys_prints_a_key_pair() -> None:
    """`govflow witness keys` prints the secret key and the public key for the settings."""
    code, stdout, _ = run("witness", "keys", "--name", WITNESS, "--json")
    keys = json.loads(stdout)
    assert code == 0
    cosigner = Cosigner.from_skey(keys["GOVFLOW_WITNESS_KEY"])
    assert cosigner.verifier.vkey == keys["witness_public_key"]


def test_an_api_without_witnesses_keeps_no_cosignature(app: Governance) -> None:
    """With no witnesses in the settings, every cosignature is refused."""
    play(app)
    seal(app)
    with TestClient(create_api(app)) as client:
        note = client.get("/v1/log/checkpoint").text
        size = int(note.split("\n")[1])
        answer = client.post(
            f"/v1/log/checkpoints/{size}/cosignatures",
            content=cosign(note, Cosigner.from_skey(W_SKEY)),
            headers={"Content-Type": "text/plain"},
        )
        assert answer.status_code == 403 and answer.json()["code"] == "witness.unknown"


def test_the_loop_ends_when_the_log_is_refused(
    server: str, sql_app: Governance, sql_store: Store, tmp_path: Path
) -> None:
    """Without --once the witness goes on each interval, and stops (exit 3) at a rewritten log."""
    state = tmp_path / "witness.json"
    assert witness(server, state, "--log-key", VKEY)[0] == 0
    sql_app.enroll_member("specimen", "m21", "新成员", actor="clerk")
    tamper(
        sql_store,
        "UPDATE stored_events SET state = ? WHERE rowid = 7",
        "UPDATE governance_events SET state = %s WHERE notification_id = 7",
        orjson.dumps({"forged": True}),
    )
    for table in ("log_leaves", "log_nodes", "log_checkpoints", "log_cosignatures"):
        tamper(sql_store, f"DELETE FROM {table}", f"DELETE FROM {table}")
    Sealer.of(sql_app, Signer.from_skey(SKEY), batch=7).seal()  # a larger, rewritten tree
    code, _, stderr = run("witness", "run", server, "--key", W_SKEY, "--state", state,
                          "--interval", "1")  # fmt: skip
    assert code == EXIT_AUDIT and "(witness.inconsistent)" in stderr, stderr
