"""Edges of the API (issue 10): numbers past 64 bits, ambiguous money, names with control or
bidirectional-override characters, malformed JSON, 405 without ``Allow``, Atom links built from
a forged ``Host``. Each is refused with a stable code and leaves no event behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from govflow.application import Governance
from govflow.application.specimens import SteppingClock, play
from govflow.bootstrap import Settings
from govflow.entrypoints.api import create_api
from govflow.entrypoints.cli import app as cli

COUNCIL = "/v1/councils/specimen"
BEYOND = 2**64
LARGEST = 2**53 - 1  # the largest integer every JSON reader keeps exactly
HUGE = "9" * 5_000


def specimen_council(directory: Path) -> Governance:
    """The specimen council played into SQLite, with a clerk (and officer) k1."""
    governance = Governance(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / "events.db"),
        },
        clock=SteppingClock(),
    )
    play(governance)
    governance.enroll_member("specimen", "k1", "书记员", actor="clerk", roles=("clerk", "officer"))
    return governance


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Governance]:
    governance = specimen_council(tmp_path)
    yield governance
    governance.close()


@pytest.fixture
def client(app: Governance, tmp_path: Path) -> Iterator[TestClient]:
    """The clerk of the specimen council, over the real API."""
    token = app.issue_token("specimen", "k1", actor="clerk")
    api = create_api(app, evidence_dir=tmp_path / "evidence")
    with TestClient(api, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The same clerk's client, shared by a module's tests whose every request must be refused:
    ``refused`` checks, request by request, that nothing was recorded, so each of them still
    meets the specimen council as played (one council played for ~300 cases, not one each)."""
    directory = tmp_path_factory.mktemp("refusing")
    governance = specimen_council(directory)
    token = governance.issue_token("specimen", "k1", actor="clerk")
    api = create_api(governance, evidence_dir=directory / "evidence")
    with TestClient(api, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client
    governance.close()


def events(client: TestClient) -> int:
    app: Governance = client.app.state.governance  # type: ignore[attr-defined]
    return app.recorder.max_notification_id() or 0


def refused(
    client: TestClient, method: str, path: str, *, status: int, code: str, **kwargs: Any
) -> dict[str, Any]:
    """Send a request that must be refused with ``status`` and ``code``, recording nothing."""
    before = events(client)
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, (method, path, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, (method, path, body)
    assert events(client) == before, (method, path, "a refused request recorded an event")
    return body


# -- numbers --------------------------------------------------------------------------------

SPENDING = {"amount": "100.00", "purpose": "p", "payee": "x", "budget_line": "b"}
MEETING = {
    "body": "two_committees",
    "title": "t",
    "scheduled_for": "2030-01-01T10:00:00+08:00",
    "rule_of": "specimen",
    "rule": "more_than_half",
}
ISSUE = {"title": "t", "procedure": "specimen"}

RECEIPT = "5f0e1c2a-8d3b-4e6f-9a7c-1b2d3e4f5a6b"  # any: a fixed one keeps the test ids stable
PATH_NUMBERS = [
    ("GET", "/issues/{n}", None),
    ("POST", "/issues/{n}/ballots", {"choice": "yes"}),
    ("POST", "/issues/{n}/close-stage", None),
    ("POST", "/issues/{n}/withdraw", {"text": "x"}),
    ("POST", "/issues/1/objections/{n}/answer", {"reply": "x"}),
    ("GET", "/issues/{n}/receipts/" + RECEIPT + "?notification_id=1", None),
    ("GET", "/meetings/{n}", None),
    ("POST", "/meetings/{n}/notice", None),
    ("POST", "/meetings/{n}/minutes", {"text": "x"}),
    ("PUT", "/meetings/{n}/evidence/a.jpg", b"scan"),
    ("GET", "/meetings/{n}/evidence/" + "0" * 64, None),
    ("GET", "/spending/{n}", None),
    ("POST", "/spending/{n}/disbursements", {"amount": "1.00", "reference": "r"}),
    ("POST", "/spending/1/disbursements/{n}/approve", None),
]
BODY_NUMBERS = [
    ("/issues", {**ISSUE, "number": "{n}"}),
    ("/issues", {**ISSUE, "number": 9, "version": "{n}"}),
    ("/issues", {**ISSUE, "number": 9, "spending_number": "{n}"}),
    ("/issues/1/resolution", {"meeting_number": "{n}", "motion_no": 1}),
    ("/issues/1/resolution", {"meeting_number": 1, "motion_no": "{n}"}),
    ("/issues/1/reapprove", {"meeting_number": "{n}", "motion_no": 1}),
    ("/meetings", {**MEETING, "number": "{n}"}),
    ("/meetings", {**MEETING, "number": 9, "issue_number": "{n}"}),
    ("/meetings/1/motions", {"text": "x", "yes": "{n}", "no": 0}),
    ("/meetings/1/motions", {"text": "x", "yes": 1, "no": "{n}"}),
    ("/meetings/1/motions", {"text": "x", "yes": 1, "no": 0, "abstain": "{n}"}),
    ("/spending", {**SPENDING, "number": "{n}"}),
    ("/spending", {**SPENDING, "number": 9, "issue_number": "{n}"}),
]


def _fill(body: dict[str, Any], value: int) -> dict[str, Any]:
    return {k: value if v == "{n}" else v for k, v in body.items()}


@pytest.mark.parametrize(("method", "path", "body"), PATH_NUMBERS)
@pytest.mark.parametrize(
    "number", [str(BEYOND), str(2**63), str(LARGEST + 1), HUGE, "0", "-1", "²", "１"]
)
def test_a_path_number_out_of_range_is_invalid(
    refusing: TestClient, method: str, path: str, body: Any, number: str
) -> None:
    """An item, meeting, spending, objection or disbursement number in a path outside
    1..2**53-1 (or not ASCII digits) is 422 ``input.invalid``, never a 500 or a lookup."""
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    refused(
        refusing,
        method,
        COUNCIL + path.format(n=number),
        status=422,
        code="input.invalid",
        **kwargs,
    )


@pytest.mark.parametrize(("path", "body"), BODY_NUMBERS)
@pytest.mark.parametrize("number", [BEYOND, 2**63, LARGEST + 1, -(2**64)])
def test_a_body_number_out_of_range_is_invalid(
    refusing: TestClient, path: str, body: dict[str, Any], number: int
) -> None:
    """A number or count in a body past its bound is 422 ``input.invalid`` and records
    nothing (a spending numbered 2**64 was a 500)."""
    body_ = _fill(body, number)
    problem = refused(
        refusing, "POST", COUNCIL + path, json=body_, status=422, code="input.invalid"
    )
    assert problem["errors"], problem


def test_the_largest_number_is_looked_up(refusing: TestClient) -> None:
    """2**53-1 is a number like any other: looked up, not refused (the bound is inclusive)."""
    for path in ("/issues/{n}", "/meetings/{n}", "/spending/{n}"):
        response = refusing.get(COUNCIL + path.format(n=LARGEST))
        assert response.status_code == 404 and response.json()["code"] == "not_found"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.integers() | st.text(min_size=1, max_size=30))
def test_any_issue_number_answers_without_error(client: TestClient, number: int | str) -> None:
    """Whatever stands in the item number's place, the answer is 200, 404 or 422."""
    segment = quote(str(number), safe="")
    response = client.get(f"{COUNCIL}/issues/{segment}")
    assert response.status_code in (200, 404, 405, 422), (number, response.text)
    if isinstance(number, int) and not 1 <= number <= LARGEST:
        assert response.status_code == 422 and response.json()["code"] == "input.invalid"


# -- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "1,5",  # a decimal comma: was ¥15.00
        "12,0,0,0",  # was ¥12,000.00
        "1,2345.00",
        "12,000,00",
        ",12000",
        "１２０００",  # full-width digits
        "١٢٠٠٠",  # Arabic-Indic digits
        "12000.001",
        "1e4",
        "12 000",
        "+12000",
        "0012000",
        "12000.",
        ".5",
        12000.0,  # a JSON float: ambiguous binary
        12000.5,
        True,
        "NaN",
    ],
)
def test_an_ambiguous_amount_is_refused(refusing: TestClient, amount: object) -> None:
    """A spending, disbursement or threshold amount that is not one unambiguous spelling of
    yuan is 422 ``money.invalid_amount`` with a message saying why, and records nothing."""
    for method, path, body in (
        ("POST", "/spending", {**SPENDING, "number": 9, "amount": amount}),
        ("POST", "/spending/1/disbursements", {"amount": amount, "reference": "r"}),
        ("PUT", "/spending-threshold", {"threshold": amount}),
        ("POST", "/issues/1/complete", {"actual_cost": amount}),
    ):
        problem = refused(
            refusing, method, COUNCIL + path, json=body, status=422, code="money.invalid_amount"
        )
        assert problem["detail"], problem


@pytest.mark.parametrize(
    ("amount", "parsed"),
    [
        ("12000", "12000.00"),
        ("12000.5", "12000.50"),
        ("12,000.00", "12000.00"),
        ("1,234,567.89", "1234567.89"),
        ("¥12,000", "12000.00"),
        ("￥12000.00", "12000.00"),
        ("12000元", "12000.00"),
        (12000, "12000.00"),
    ],
)
def test_an_unambiguous_amount_is_accepted(client: TestClient, amount: object, parsed: str) -> None:
    """Plain, two-place and properly grouped amounts, with ¥ or 元, and JSON integers, are
    the amount they say."""
    response = client.put(f"{COUNCIL}/spending-threshold", json={"threshold": amount})
    assert response.status_code == 200, response.text
    assert response.json() == {"threshold": parsed}
    spending = client.post(f"{COUNCIL}/spending", json={**SPENDING, "number": 9, "amount": amount})
    assert spending.status_code == 201, spending.text
    assert spending.json()["amount"] == parsed


def test_a_disbursement_answer_states_the_amount_exactly(
    app: Governance, client: TestClient
) -> None:
    """The answer to a disbursement request gives the amount as the parser read it, as a string
    with two places."""
    app.request_spending(
        "specimen", 7, "500.00", purpose="p", payee="x", budget_line="b", actor="m1"
    )
    app.approve_spending("specimen", 7, actor="m1")
    officer = {"Authorization": f"Bearer {app.issue_token('specimen', 'm1', actor='clerk')}"}
    response = client.post(
        f"{COUNCIL}/spending/7/disbursements",
        json={"amount": "¥100", "reference": "r"},
        headers=officer,
    )
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == "100.00"


# -- areas ----------------------------------------------------------------------------------

HOUSEHOLD = {"unit": "9-901", "owner_id": "m1"}


@pytest.mark.parametrize(
    "area",
    [
        "١٢٣",  # Arabic-Indic 123: Decimal() read it as 123
        "１２",  # full-width digits
        85.5,  # a JSON float: ambiguous binary
        85.0,
        "12_000",  # Python's digit grouping: was 12000
        "1e2",  # an exponent: was 100
        "0",
        "-80",
        "80.001",
        "100000.01",
        "8,000",
        "NaN",
        True,
        BEYOND,
    ],
)
def test_an_ambiguous_area_is_refused(refusing: TestClient, area: object) -> None:
    """A household's exclusive area (an owner's voting weight) that is not one unambiguous
    spelling of square metres is 422 ``area.invalid`` with a message saying why, and records
    nothing."""
    problem = refused(
        refusing,
        "POST",
        f"{COUNCIL}/households",
        json={**HOUSEHOLD, "exclusive_area": area},
        status=422,
        code="area.invalid",
    )
    assert problem["detail"], problem


@pytest.mark.parametrize(
    ("area", "parsed"),
    [("80", "80.00"), ("80.5", "80.50"), ("88.50㎡", "88.50"), ("90 m2", "90.00"), (120, "120.00")],
)
def test_an_unambiguous_area_is_accepted(
    app: Governance, client: TestClient, area: object, parsed: str
) -> None:
    """ASCII digits with at most two decimals (optionally with its unit) and JSON integers are
    the area they say, and weigh that much on the owners' roll."""
    response = client.post(f"{COUNCIL}/households", json={**HOUSEHOLD, "exclusive_area": area})
    assert response.status_code == 201, response.text
    household = app.council("specimen").households["9-901"]
    assert household.exclusive_area == Decimal(parsed)


@pytest.mark.parametrize("area", ["١٢٣", "１２", "12_000", "1e2", "85.001", "0"])
def test_the_cli_refuses_an_ambiguous_area_before_sending(
    area: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``govflow council add-household`` reads the area with the same parser, and refuses it
    as a bad parameter without reaching the server."""
    monkeypatch.setenv("GOVFLOW_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("GOVFLOW_TOKEN", "gf_a_b")
    result = CliRunner().invoke(cli, ["council", "add-household", "c1", "1-101", area, "m1"])
    assert result.exit_code == 2, result.output
    assert "area" in result.output and "server" not in result.output, result.output


# -- names ----------------------------------------------------------------------------------

UNSAFE = ["\x00", "\u202e", "\u202d", "\u2066", "\u200f", "\x1b", "\n", "\x7f", "\u2028"]


@pytest.mark.parametrize("char", UNSAFE)
def test_an_evidence_name_with_control_or_bidi_characters_is_refused(
    refusing: TestClient, char: str
) -> None:
    """An evidence file name carrying NUL, a bidi override (``invoice\u202egpj.exe``) or another
    control character is 422 ``input.invalid`` before the upload is read, and records nothing."""
    name = quote(f"invoice{char}gpj.exe", safe="")
    problem = refused(
        refusing,
        "PUT",
        f"{COUNCIL}/meetings/1/evidence/{name}",
        content=b"scan",
        status=422,
        code="input.invalid",
    )
    assert "character" in problem["errors"][0]["msg"], problem


def test_a_plain_evidence_name_is_kept(client: TestClient) -> None:
    """A name in any script, with spaces, is kept as given."""
    name = "签到表 (第二页) صورة.jpg"
    response = client.put(f"{COUNCIL}/meetings/1/evidence/{quote(name)}", content=b"scan 2")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


@pytest.mark.parametrize("char", UNSAFE)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/issues", {**ISSUE, "number": 9, "title": "t{c}"}),
        ("/meetings", {**MEETING, "number": 9, "title": "t{c}"}),
        ("/spending", {**SPENDING, "number": 9, "payee": "x{c}"}),
        ("/members", {"member_id": "n1", "name": "王{c}芳"}),
        ("/households", {"unit": "1-{c}102", "exclusive_area": "80", "owner_id": "m1"}),
    ],
)
def test_a_name_or_title_with_control_or_bidi_characters_is_refused(
    refusing: TestClient, char: str, path: str, body: dict[str, Any]
) -> None:
    """A title, name, payee or unit that would show reordered or hidden text on the board is
    422 ``input.invalid`` and records nothing."""
    filled = {k: v.replace("{c}", char) if isinstance(v, str) else v for k, v in body.items()}
    refused(refusing, "POST", COUNCIL + path, json=filled, status=422, code="input.invalid")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\ud800"])
def test_free_text_refuses_hidden_characters_but_keeps_lines(client: TestClient, char: str) -> None:
    """Minutes, opinions and reasons keep their line breaks, but not NUL (which PostgreSQL
    cannot store), other control characters, bidi overrides or lone surrogates."""
    path = f"{COUNCIL}/meetings/1/minutes"
    body = '{"text": "' + json.dumps("第一段" + char + "第二段")[1:-1] + '"}'
    refused(
        client,
        "POST",
        path,
        content=body.encode(),
        headers={"content-type": "application/json"},
        status=422,
        code="input.invalid",
    )
    lines = client.post(path, json={"text": "第一段\n\t第二段\r\n"})
    assert lines.status_code == 200, lines.text


# Invisible format characters (Unicode category Cf) that are not bidi controls: two payees,
# members or units written with them look identical to one without.
INVISIBLE = {
    "\u200b": "ZERO WIDTH SPACE",
    "\u200c": "ZERO WIDTH NON-JOINER",
    "\u200d": "ZERO WIDTH JOINER",
    "\u2060": "WORD JOINER",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE",
    "\u00ad": "SOFT HYPHEN",
    "\u2061": "FUNCTION APPLICATION",
    "\u180e": "MONGOLIAN VOWEL SEPARATOR",
    "\U000e0041": "TAG LATIN CAPITAL LETTER A",
    "\U0001d173": "MUSICAL SYMBOL BEGIN BEAM",
}
NAMED = [
    ("/issues", {**ISSUE, "number": 9, "title": "t{c}"}),
    ("/meetings", {**MEETING, "number": 9, "title": "t{c}"}),
    ("/spending", {**SPENDING, "number": 9, "payee": "x{c}"}),
    ("/spending", {**SPENDING, "number": 9, "budget_line": "b{c}"}),
    ("/members", {"member_id": "n1", "name": "王{c}芳"}),
    ("/households", {"unit": "1-{c}102", "exclusive_area": "80", "owner_id": "m1"}),
]


@pytest.mark.parametrize(("char", "name"), INVISIBLE.items())
@pytest.mark.parametrize(("path", "body"), NAMED)
def test_a_name_with_an_invisible_format_character_is_refused(
    refusing: TestClient, char: str, name: str, path: str, body: dict[str, Any]
) -> None:
    """A payee, member name, unit or title carrying a zero-width space, word joiner, BOM, soft
    hyphen or any other format character (Cf) is 422 ``input.invalid``, naming the character,
    and records nothing: ``x\u200b`` would be another payee that looks like ``x``."""
    filled = {k: v.replace("{c}", char) if isinstance(v, str) else v for k, v in body.items()}
    problem = refused(
        refusing, "POST", COUNCIL + path, json=filled, status=422, code="input.invalid"
    )
    message = problem["errors"][0]["msg"]
    assert f"U+{ord(char):04X}" in message and name in message, problem


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_evidence_name_with_an_invisible_format_character_is_refused(
    refusing: TestClient, char: str
) -> None:
    """An evidence file name is a one-line name like any other."""
    problem = refused(
        refusing,
        "PUT",
        f"{COUNCIL}/meetings/1/evidence/{quote(f'invoice{char}.jpg', safe='')}",
        content=b"scan",
        status=422,
        code="input.invalid",
    )
    assert f"U+{ord(char):04X}" in problem["errors"][0]["msg"], problem


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\u061c"])
def test_a_bidi_control_keeps_its_message(refusing: TestClient, char: str) -> None:
    """Bidi controls (format characters too) are still refused as reordering what readers see."""
    problem = refused(
        refusing,
        "POST",
        f"{COUNCIL}/spending",
        json={**SPENDING, "number": 9, "payee": f"x{char}"},
        status=422,
        code="input.invalid",
    )
    assert "bidirectional" in problem["errors"][0]["msg"], problem


@given(char=st.characters(categories=["Cf"]))
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_format_character_passes_in_a_name(client: TestClient, char: str) -> None:
    """Whatever format character it is, a payee carrying it is refused, naming it."""
    response = client.post(
        f"{COUNCIL}/spending", json={**SPENDING, "number": 9, "payee": f"x{char}y"}
    )
    assert response.status_code == 422, (hex(ord(char)), response.text)
    assert f"U+{ord(char):04X}" in response.json()["errors"][0]["msg"]


@pytest.mark.parametrize(
    "char", [c for c in INVISIBLE if c not in ("\u200c", "\u200d")] + ["\u200e", "\u061c"]
)
def test_free_text_refuses_invisible_format_characters(refusing: TestClient, char: str) -> None:
    """Minutes refuse format characters too (a zero-width space, a BOM, a bidi mark …), naming
    the character."""
    problem = refused(
        refusing,
        "POST",
        f"{COUNCIL}/meetings/1/minutes",
        json={"text": f"第一段{char}第二段"},
        status=422,
        code="input.invalid",
    )
    assert f"U+{ord(char):04X}" in problem["errors"][0]["msg"], problem


def test_free_text_keeps_joiners(client: TestClient) -> None:
    """ZWJ and ZWNJ shape words in Persian, Indic scripts and emoji sequences: free text keeps
    them (names do not)."""
    text = "می\u200cخواهم \u0915\u094d\u200d\u0937 \U0001f468\u200d\U0001f469\u200d\U0001f467"
    response = client.post(f"{COUNCIL}/meetings/1/minutes", json={"text": text})
    assert response.status_code == 200, response.text


# -- malformed JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b'{"number": 1,', b"{'number': 1}", b"[1, 2", b"\xff\xfe{}"])
def test_a_malformed_json_body_is_400(refusing: TestClient, raw: bytes) -> None:
    """A body that is not JSON at all is 400 ``input.malformed``, as the README says."""
    refused(
        refusing,
        "POST",
        f"{COUNCIL}/spending",
        content=raw,
        headers={"content-type": "application/json"},
        status=400,
        code="input.malformed",
    )


def test_a_well_formed_but_invalid_body_stays_422(refusing: TestClient) -> None:
    """JSON that parses but does not fit the schema is still 422 ``input.invalid``."""
    refused(
        refusing,
        "POST",
        f"{COUNCIL}/spending",
        json={"number": "x"},
        status=422,
        code="input.invalid",
    )


# -- 405 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{COUNCIL}/issues/1", {"GET"}),
        ("PUT", f"{COUNCIL}/spending", {"GET", "POST"}),
        ("GET", f"{COUNCIL}/spending/1/disbursements", {"POST"}),
        ("POST", f"{COUNCIL}/members/m1", {"PUT", "DELETE"}),
        ("PATCH", f"{COUNCIL}/meetings/1/evidence/x", {"PUT", "GET"}),
        ("POST", "/healthz", {"GET"}),
    ],
)
def test_a_405_says_which_methods_are_allowed(
    refusing: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    """Every 405 carries ``Allow`` with every method the path answers (RFC 9110 15.5.6)."""
    problem = refused(refusing, method, path, status=405, code="method_not_allowed")
    response = refusing.request(method, path)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed, problem


# -- Atom -----------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["notices.atom", "issues.atom", "spending.atom"])
def test_atom_links_use_the_public_url_not_the_host_header(app: Governance, feed: str) -> None:
    """A forged ``Host`` never reaches a feed: every link is under the configured public URL."""
    with TestClient(create_api(app, public_url="https://board.example.org/")) as public:
        response = public.get(f"/board/specimen/{feed}", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "evil.example" not in response.text
    assert 'href="https://board.example.org/board/' in response.text


def test_the_public_url_is_a_setting() -> None:
    """``GOVFLOW_PUBLIC_URL`` names where readers reach the server; unset, the server's own
    address (a server listening everywhere is reached at 127.0.0.1)."""
    assert Settings(public_url="https://board.example.org/").public_base_url == (
        "https://board.example.org"
    )
    assert Settings(http_host="0.0.0.0", http_port=9000).public_base_url == "http://127.0.0.1:9000"
    assert Settings(http_port=8000, public_url=None).public_base_url == "http://127.0.0.1:8000"
    with pytest.raises(ValueError):
        Settings(public_url="javascript:alert(1)")
