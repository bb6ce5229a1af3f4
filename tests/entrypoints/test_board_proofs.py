"""The board's notices and spending disclosures with their place in the verifiable log: the
log position of the notice's text, "included in checkpoint N" checked on the server, and the
checkpoint's note and the proof to download, which verify with the library and with
``govflow verify-proof``; the board's proof shows the record by its commitment only (the board
never shows actors). On every SQL store."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from govflow.application import Governance
from govflow.application.log_receipts import notice_position
from govflow.application.sealer import Sealer
from govflow.application.specimens import SteppingClock, play
from govflow.domain.ballot import Choice
from govflow.entrypoints.api import create_api
from govflow.entrypoints.cli import app as cli
from govflow.transparency import (
    Cosigner,
    Signer,
    Verifier,
    cosign,
    generate_key,
    generate_witness_key,
)
from govflow.transparency.export_verify import check_inclusion_proof
from tests.a11y import PHONE, check_sync
from tests.application.scenario import COUNCIL
from tests.application.test_voting import at_vote
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium, serving

ORIGIN = "govflow/board-proof-test"
SKEY, VKEY = generate_key(ORIGIN)
SPECIMEN = "specimen"


def seal(app: Governance) -> int:
    checkpoint = Sealer.of(app, Signer.from_skey(SKEY)).seal()
    assert checkpoint is not None
    return checkpoint.size


@pytest.fixture
def client(sql_app: Governance) -> Iterator[TestClient]:
    play(sql_app)
    with TestClient(create_api(sql_app, log_public_key=VKEY)) as test_client:
        yield test_client


def link(page: str, anchor: str) -> str:
    found = re.search(rf'id="{anchor}" href="([^"]+)"', page)
    assert found, anchor
    return html.unescape(found.group(1))


def verified(client: TestClient, page: str, tmp_path: Path) -> dict[str, object]:
    """The page's proof and note, checked with the library and the CLI; the proof served."""
    note = client.get(link(page, "checkpoint-note"))
    proof = client.get(link(page, "inclusion-proof"))
    assert note.status_code == proof.status_code == 200
    served: dict[str, object] = orjson.loads(proof.content)
    check_inclusion_proof(None, note.text, served, [Verifier.from_vkey(VKEY)])
    (tmp_path / "checkpoint.txt").write_text(note.text)
    (tmp_path / "proof.json").write_bytes(proof.content)
    args = ["verify-proof", str(tmp_path / "checkpoint.txt"), str(tmp_path / "proof.json")]
    result = CliRunner().invoke(cli, [*args, "--key", VKEY])
    assert result.exit_code == 0, result.stderr
    return served


def test_a_notice_shows_its_log_position_and_checkpoint(
    sql_app: Governance, client: TestClient, tmp_path: Path
) -> None:
    """Before sealing: the position and "not sealed yet"; after: the newest checkpoint, its
    note and the proof, which verify; the proof holds the record's commitment, not its data."""
    notice = sql_app.list_notices(SPECIMEN)[0]
    position = notice_position(sql_app, notice.id)
    before = client.get(f"/board/notices/{notice.id}").text
    assert f'id="log-position">{position}<' in before
    assert "尚未封存，稍后再核对" in before and 'id="included"' not in before

    size = seal(sql_app)
    page = client.get(f"/board/notices/{notice.id}").text
    assert f"已收录于第 {size} 号检查点" in page
    english = client.get(f"/board/notices/{notice.id}?lang=en").text
    assert f"Included in checkpoint {size}" in english
    served = verified(client, page, tmp_path)
    assert (served["notification_id"], served["tree_size"]) == (position, size)
    record = orjson.loads(str(served["record"]))
    assert record["originator_id"] == str(notice.id)
    assert "commitment" in record and "data" not in record and "salt" not in record


def test_a_spending_disclosure_and_a_corrected_notice_prove_the_text_shown(
    sql_app: Governance, client: TestClient, tmp_path: Path
) -> None:
    """A spending disclosure (a notice of the spending ledger) shows its proof; a corrected
    notice's position is that of its correction, the text the board shows."""
    size = seal(sql_app)
    row = next(r for r in sql_app.list_spending(SPECIMEN) if r.disclosures)
    ledger = client.get(f"/board/{SPECIMEN}/spending").text
    for notice_id in row.disclosures.values():
        assert f"/board/notices/{notice_id}" in ledger
        page = client.get(f"/board/notices/{notice_id}").text
        assert f"已收录于第 {size} 号检查点" in page
        served = verified(client, page, tmp_path)
        assert served["notification_id"] == notice_position(sql_app, notice_id)
    corrected = next(n for n in sql_app.list_notices(SPECIMEN) if n.corrected)
    record = sql_app.log_reader.records(notice_position(sql_app, corrected.id) - 1, 1)[0]
    assert record.topic == "govflow.notice.corrected"
    assert record.originator == corrected.id.hex


def test_a_proof_is_refused_for_a_checkpoint_before_the_notice(
    sql_app: Governance, client: TestClient
) -> None:
    """A checkpoint that was never signed is 404; one that came before the notice is 422."""
    first = Sealer.of(sql_app, Signer.from_skey(SKEY), batch=5).seal()
    assert first is not None
    notice = sql_app.list_notices(SPECIMEN)[-1]
    assert client.get(f"/board/notices/{notice.id}/proof.json?size=5").status_code == 422
    assert client.get(f"/board/notices/{notice.id}/proof.json?size=7").status_code == 404


def test_no_choice_is_in_a_notice_proof_or_a_secret_choice_on_the_board(
    sql_app: Governance, client: TestClient
) -> None:
    """A secret vote's choice shows neither on the board's pages nor in any proof it serves."""
    at_vote(sql_app, secret=True)
    sql_app.cast_ballot(COUNCIL, 1, "r1", Choice.ABSTAIN)
    seal(sql_app)
    for notice in sql_app.list_notices(SPECIMEN):
        page = client.get(f"/board/notices/{notice.id}").text
        proof = client.get(link(page, "inclusion-proof")).text
        assert "abstain" not in proof and '"choice"' not in proof and '"data"' not in proof
    assert "abstain" not in client.get(f"/board/{COUNCIL}/issues/1").text


def test_a_sealed_notice_page_passes_axe_on_a_phone(tmp_path: Path) -> None:
    """The notice page with its log section (the command and the key in a <pre>) fits a
    390 px phone and has no serious axe violation, in both languages (SQLite: the page is the
    same on every store)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    play(app)
    seal(app)
    notice = app.list_notices(SPECIMEN)[0]
    found: dict[str, list[str]] = {}
    with serving(create_api(app, log_public_key=VKEY)) as url, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = chromium.new_context(**PHONE)
        page = phone.new_page()
        for lang in ("zh", "en"):
            page.goto(f"{url}/board/notices/{notice.id}" + ("?lang=en" if lang == "en" else ""))
            assert page.locator("#included").count() == 1
            if violations := check_sync(page, f"board-{lang}-notice-proof"):
                found[lang] = violations
        chromium.close()
    app.close()
    assert found == {}


def test_a_cosigned_checkpoint_still_verifies(sql_app: Governance, tmp_path: Path) -> None:
    """The note handed over carries a witness's cosignature; the proof verifies against it."""
    witness = Cosigner.from_skey(generate_witness_key("street-office.example/witness")[0])
    play(sql_app)
    size = seal(sql_app)
    api = create_api(sql_app, log_public_key=VKEY, log_witnesses=[witness.verifier])
    with TestClient(api) as client:
        note = client.get("/v1/log/checkpoint").text
        cosigned = client.post(
            f"/v1/log/checkpoints/{size}/cosignatures", content=cosign(note, witness)
        )
        assert cosigned.status_code == 200
        notice = sql_app.list_notices(SPECIMEN)[0]
        page = client.get(f"/board/notices/{notice.id}").text
        assert f"已收录于第 {size} 号检查点" in page
        served = verified(client, page, tmp_path)
        assert "street-office.example/witness" in client.get(link(page, "checkpoint-note")).text
    checkpoint = served["checkpoint"]
    assert isinstance(checkpoint, dict) and checkpoint["witnesses"] == [witness.verifier.name]
