"""A ballot receipt checked against the verifiable log: once sealed past its record, the
receipt page says which checkpoint includes it (checked on the server with the log's key) and
hands over the checkpoint's note and the proof, which verify with the library and with
``govflow verify-proof``; before, it says the log is not sealed yet. A secret (or still open)
choice shows nowhere: the proof carries its record's commitment only. On every SQL store."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from govflow.application import Governance
from govflow.application.log_receipts import (
    LogKeyMissingError,
    inclusion_of,
)
from govflow.application.sealer import Sealer
from govflow.application.specimens import SteppingClock
from govflow.application.views import BallotReceipt
from govflow.domain.ballot import Choice
from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.session import SESSION_COOKIE
from govflow.entrypoints.cli import app as cli
from govflow.transparency import Signer, Verifier, generate_key
from govflow.transparency.export_verify import check_inclusion_proof
from tests.a11y import PHONE, check_sync
from tests.application.scenario import COUNCIL
from tests.application.test_voting import at_vote
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium, serving

ORIGIN = "govflow/receipt-proof-test"
SKEY, VKEY = generate_key(ORIGIN)


def seal(app: Governance) -> int:
    checkpoint = Sealer.of(app, Signer.from_skey(SKEY)).seal()
    assert checkpoint is not None
    return checkpoint.size


@pytest.fixture
def client(sql_app: Governance) -> Iterator[TestClient]:
    """The app with the log's key, signed in as r1 once the council is set up."""
    with TestClient(create_api(sql_app, log_public_key=VKEY)) as test_client:
        yield test_client


def voting(app: Governance, client: TestClient, secret: bool) -> None:
    at_vote(app, secret=secret)
    client.cookies.set(SESSION_COOKIE, app.issue_token(COUNCIL, "r1", actor="clerk"))


def receipt_url(receipt: BallotReceipt, number: int = 1, lang: str = "zh") -> str:
    query = {
        "number": number,
        "ballot_id": str(receipt.ballot_id),
        "notification_id": receipt.notification_id,
    }
    return f"/app/receipts?{urlencode(query)}" + ("&lang=en" if lang == "en" else "")


def link(page: str, anchor: str) -> str:
    found = re.search(rf'id="{anchor}" href="([^"]+)"', page)
    assert found, anchor
    return html.unescape(found.group(1))


@pytest.mark.parametrize("secret", [True, False], ids=["secret", "named"])
def test_a_receipt_shows_its_checkpoint_and_the_proof_verifies(
    sql_app: Governance, client: TestClient, tmp_path: Path, secret: bool
) -> None:
    """Before sealing the page says so; after, "included in checkpoint N" (the newest), and the
    downloaded note and proof verify with the library and the CLI, showing no choice."""
    voting(sql_app, client, secret)
    receipt = sql_app.cast_ballot(COUNCIL, 1, "r1", Choice.ABSTAIN)
    before = client.get(receipt_url(receipt))
    assert before.status_code == 200
    assert 'id="not-sealed"' in before.text and "尚未封存，稍后再核对" in before.text
    assert 'id="included"' not in before.text

    size = seal(sql_app)
    page = client.get(receipt_url(receipt)).text
    assert f"已收录于第 {size} 号检查点" in page and 'id="not-sealed"' not in page
    english = client.get(receipt_url(receipt, lang="en")).text
    assert f"Included in checkpoint {size}" in english
    note = client.get(link(page, "checkpoint-note"))
    proof = client.get(link(page, "inclusion-proof"))
    assert note.status_code == proof.status_code == 200
    assert "attachment" in proof.headers["content-disposition"]
    served = orjson.loads(proof.content)
    assert (served["notification_id"], served["tree_size"]) == (receipt.notification_id, size)
    record = orjson.loads(served["record"])
    assert "commitment" in record and "data" not in record  # the choice is withheld
    for shown in (page, english, proof.text, note.text):
        assert "abstain" not in shown and "弃权" not in shown
    found = check_inclusion_proof(None, note.text, served, [Verifier.from_vkey(VKEY)])
    assert found.notification_id == receipt.notification_id

    (tmp_path / "checkpoint.txt").write_text(note.text)
    (tmp_path / "proof.json").write_bytes(proof.content)
    result = CliRunner().invoke(
        cli,
        [
            "verify-proof",
            str(tmp_path / "checkpoint.txt"),
            str(tmp_path / "proof.json"),
            "--key",
            VKEY,
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert f"leaf {served['leaf_index']} of checkpoint {size}" in result.stdout


def test_the_newest_checkpoint_is_named_and_a_forged_receipt_gets_no_proof(
    sql_app: Governance, client: TestClient
) -> None:
    """A later seal moves the page to the newer checkpoint; the proof route answers only a
    receipt that checks, and for a checkpoint that was signed."""
    voting(sql_app, client, True)
    receipt = sql_app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    first = seal(sql_app)
    sql_app.cast_ballot(COUNCIL, 1, "r2", Choice.NO)
    newest = seal(sql_app)
    assert newest > first
    page = client.get(receipt_url(receipt)).text
    assert f"已收录于第 {newest} 号检查点" in page
    proof_url = link(page, "inclusion-proof")
    assert client.get(proof_url.replace(f"size={newest}", f"size={first}")).status_code == 200
    other = str(sql_app.cast_ballot(COUNCIL, 1, "r3", Choice.YES).ballot_id)
    forged = proof_url.replace(str(receipt.ballot_id), other)
    assert client.get(forged).status_code == 404
    assert client.get(proof_url.replace(f"size={newest}", "size=1")).status_code == 404


def test_without_the_logs_key_nothing_is_claimed(sql_app: Governance) -> None:
    """A server given no public key of its log does not say a record is included."""
    at_vote(sql_app, secret=True)
    receipt = sql_app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    seal(sql_app)
    with pytest.raises(LogKeyMissingError):
        inclusion_of(sql_app, receipt.notification_id, [])
    with TestClient(create_api(sql_app)) as keyless:
        keyless.cookies.set(SESSION_COOKIE, sql_app.issue_token(COUNCIL, "r1", actor="clerk"))
        page = keyless.get(receipt_url(receipt)).text
    assert 'id="log-problem"' in page and 'id="included"' not in page


def test_the_sealed_and_unsealed_receipt_pages_pass_axe_on_a_phone(tmp_path: Path) -> None:
    """The receipt page with its log section, before and after sealing, fits a 390 px phone
    with no serious axe violation, in both languages (SQLite: the same page on every store)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    at_vote(app, secret=True)
    receipt = app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    token = app.issue_token(COUNCIL, "r1", actor="clerk")
    found: dict[str, list[str]] = {}
    with serving(create_api(app, log_public_key=VKEY)) as url, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = chromium.new_context(**PHONE)
        phone.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": url}])
        page = phone.new_page()
        for state, shows in (("unsealed", "#not-sealed"), ("sealed", "#included")):
            if state == "sealed":
                seal(app)
            for lang in ("zh", "en"):
                page.goto(url + receipt_url(receipt, lang=lang))
                assert page.locator(shows).count() == 1, (state, lang)
                if violations := check_sync(page, f"app-{lang}-receipt-{state}"):
                    found[f"{lang}-{state}"] = violations
        chromium.close()
    app.close()
    assert found == {}
