"""The board's record of the verifiable log: every signed checkpoint, the log's public key, and
which of the witnesses the council names co-signed each one, on every SQL store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.sealer import LogProofs, Sealer
from govflow.application.specimens import play
from govflow.entrypoints.api import create_api
from govflow.transparency import (
    Cosigner,
    Signer,
    Verifier,
    cosign,
    generate_key,
    generate_witness_key,
    open_checkpoint,
)

ORIGIN = "govflow/board-log-test"
SKEY, VKEY = generate_key(ORIGIN)
OFFICE = Cosigner.from_skey(generate_witness_key("street-office.example/witness")[0])
COMMITTEE = Cosigner.from_skey(generate_witness_key("committee.example/witness")[0])


@pytest.fixture
def client(sql_app: Governance) -> Iterator[TestClient]:
    play(sql_app)
    Sealer.of(sql_app, Signer.from_skey(SKEY), batch=20).seal()
    api = create_api(
        sql_app, log_witnesses=[OFFICE.verifier, COMMITTEE.verifier], log_public_key=VKEY
    )
    with TestClient(api) as test_client:
        yield test_client


def rows(page: str) -> dict[int, str]:
    found = re.findall(r'<tr id="checkpoint-(\d+)">(.*?)</tr>', page, flags=re.S)
    return {int(size): row for size, row in found}


def test_the_board_lists_every_checkpoint_with_its_witnesses(
    client: TestClient, sql_app: Governance
) -> None:
    """Every signed checkpoint is listed with its root; each named witness is shown as having
    co-signed it or not; the log's key and the witnesses' keys are on the page."""
    checkpoints = LogProofs.of(sql_app).list_checkpoints()
    first, newest = checkpoints[0], checkpoints[-1]
    note = client.get("/v1/log/checkpoint").text
    client.post(f"/v1/log/checkpoints/{newest.size}/cosignatures", content=cosign(note, OFFICE))
    page = client.get("/board/log").text
    listed = rows(page)
    assert list(listed) == [c.size for c in checkpoints]
    assert VKEY in unescape(page) and OFFICE.verifier.vkey in unescape(page)
    assert "✓ street-office.example/witness" in listed[newest.size]
    assert "✗ committee.example/witness" in listed[newest.size]
    assert "✗ street-office.example/witness" in listed[first.size]
    assert "未联署" in listed[first.size]
    english = client.get("/board/log?lang=en").text
    assert "Signed checkpoints of the verifiable log" in english and "not co-signed" in english
    assert "curl -s http://127.0.0.1:8000/board/log/checkpoints/SIZE.txt" in page
    assert 'href="/board/log"' in client.get("/board/").text  # every page links to it


def test_each_checkpoint_links_to_its_cosigned_note(
    client: TestClient, sql_app: Governance
) -> None:
    """The note behind each row opens with the log's key and carries the witnesses' lines."""
    newest = LogProofs.of(sql_app).get_checkpoint()
    note = client.get("/v1/log/checkpoint").text
    client.post(f"/v1/log/checkpoints/{newest.size}/cosignatures", content=cosign(note, COMMITTEE))
    page = client.get("/board/log").text
    link = f"/board/log/checkpoints/{newest.size}.txt"
    assert f'href="{link}"' in page
    served = client.get(link)
    assert served.headers["content-type"].startswith("text/plain")
    keys = [Verifier.from_vkey(VKEY), COMMITTEE.verifier]
    _, opened = open_checkpoint(served.text, keys, origin=ORIGIN)
    assert opened.verified_by() == {ORIGIN, "committee.example/witness"}
    assert client.get("/board/log/checkpoints/7.txt").status_code == 404


def test_the_board_pages_checkpoints_and_says_when_there_are_none(
    client: TestClient, sql_app: Governance
) -> None:
    """Past the last checkpoint the page says none is signed; ``after`` pages on."""
    sizes = [c.size for c in LogProofs.of(sql_app).list_checkpoints()]
    later = client.get(f"/board/log?after={sizes[0]}").text
    assert list(rows(later)) == sizes[1:]
    assert "日志尚未签署检查点" in client.get(f"/board/log?after={sizes[-1]}").text
    assert client.get("/board/log?after=-1").status_code == 422


def test_an_api_without_the_key_or_witnesses_says_so(app: Governance) -> None:
    """Without a public key setting or named witnesses, the page says both are missing."""
    with TestClient(create_api(app)) as client:
        page = client.get("/board/log").text
    assert "GOVFLOW_LOG_PUBLIC_KEY" in page and "本委员会未指定见证方" in page
