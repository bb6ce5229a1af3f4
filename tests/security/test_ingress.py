"""Ingress (issue 10): an Idempotency-Key acts once however many copies arrive together, only
for a caller whose token still works, and no body is read before its token is checked or past
its limit."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from govflow.application import Governance
from govflow.application.idempotency import STALE_AFTER, Reservation
from govflow.application.specimens import PARTY_RULE, SteppingClock
from govflow.domain.council import Body
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.entrypoints.api import create_api
from govflow.entrypoints.guard import MAX_BODY, BodyGuard, caller_of, request_digest
from govflow.entrypoints.routes.meetings import MAX_EVIDENCE
from tests.conftest import Store
from tests.serving import serving

COUNCIL = "east"
PAY = f"/v1/councils/{COUNCIL}/spending/1/disbursements"
PAYMENT = {"amount": "100.00", "reference": "付款-001"}
CHUNK = 64 * 1024


def council(app: Governance) -> dict[str, str]:
    """A council with two officers (m1 chairs the two committees) and an approved, disclosed
    spending of ¥900 to pay out of; returns their tokens."""
    clerk = "clerk"
    app.register_council(COUNCIL, "东区", actor=clerk)
    app.enroll_member(
        COUNCIL,
        "m1",
        "王芳",
        actor=clerk,
        roles=("officer",),
        bodies=(Body.TWO_COMMITTEES,),
        chairs=(Body.TWO_COMMITTEES,),
    )
    app.enroll_member(COUNCIL, "m2", "李强", actor=clerk, roles=("officer",))
    app.request_spending(
        COUNCIL, 1, "900.00", purpose="路灯", payee="电工", budget_line="公益金", actor="m1"
    )
    app.approve_spending(COUNCIL, 1, actor="m1")
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "支出决议", "¥900.00", NoticePeriod(7), actor="m1"
    )
    app.schedule_meeting(
        COUNCIL,
        1,
        Body.TWO_COMMITTEES,
        "议事会议",
        "路灯",
        scheduled_for=datetime(2026, 4, 1, 2, 0, tzinfo=UTC),
        notice_days_required=0,
        rule=PARTY_RULE,
        actor="m1",
    )
    return {who: app.issue_token(COUNCIL, who, actor=clerk) for who in ("m1", "m2")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events(app: Governance) -> int:
    return app.recorder.max_notification_id() or 0


def disbursements(app: Governance) -> int:
    return app.spending(COUNCIL, 1).disbursements


@pytest.fixture
def governance(tmp_path: Path) -> Iterator[Governance]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    yield app
    app.close()


@pytest.fixture
def tokens(governance: Governance) -> dict[str, str]:
    return council(governance)


def asgi(app: Governance) -> httpx.AsyncClient:
    """The API through its ASGI interface; the body of a request is pulled only when the
    application asks for it, as a server would."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_api(app)), base_url="http://govflow"
    )


def post(app: Governance, path: str, **kwargs: object) -> httpx.Response:
    async def send() -> httpx.Response:
        async with asgi(app) as client:
            return await client.post(path, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(send())


class Upload:
    """A request body of ``size`` bytes sent in chunks, counting what the server pulled."""

    def __init__(self, size: int, chunk: bytes = b" " * CHUNK) -> None:
        self.size, self.chunk, self.pulled = size, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.size:
            self.pulled += len(self.chunk)
            yield self.chunk


def send(
    app: Governance, method: str, path: str, upload: Upload, headers: dict[str, str]
) -> httpx.Response:
    async def go() -> httpx.Response:
        async with asgi(app) as client:
            return await client.request(method, path, content=upload, headers=headers)

    return asyncio.run(go())


# -- Idempotency-Key ---------------------------------------------------------------------------


@pytest.fixture
def server(sql_store: Store) -> Iterator[tuple[str, Governance, dict[str, str]]]:
    """A real uvicorn serving the API over SQLite or PostgreSQL, on a free port."""
    app = Governance(sql_store.env, clock=SteppingClock())
    tokens = council(app)
    with serving(create_api(app)) as url:
        yield url, app, tokens
    app.close()


def test_concurrent_copies_of_a_payment_with_one_key_pay_once(
    server: tuple[str, Governance, dict[str, str]],
) -> None:
    """Eight identical disbursement requests sharing an Idempotency-Key, sent at once to a
    live server, request one payment: each copy gets the first answer or
    ``idempotency.in_progress``, and a later retry gets the first answer back."""
    url, app, tokens = server
    headers = {**bearer(tokens["m1"]), "Idempotency-Key": "pay-lamps-1"}
    start = threading.Barrier(8)
    answers: list[httpx.Response] = []

    def pay() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            start.wait()
            answers.append(client.post(PAY, json=PAYMENT, headers=headers))

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert disbursements(app) == 1
    paid = [a for a in answers if a.status_code == 201]
    busy = [a for a in answers if a.status_code == 409]
    assert len(paid) + len(busy) == 8, [a.text for a in answers]
    first = {"disbursement_no": 1, "status": "requested", "amount": "100.00"}
    assert paid and all(a.json() == first for a in paid)
    assert all(a.json()["code"] == "idempotency.in_progress" for a in busy)
    retry = httpx.post(url + PAY, json=PAYMENT, headers=headers)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["disbursement_no"] == 1 and disbursements(app) == 1


@pytest.mark.parametrize(
    "key",
    [b"", b"k" * 256, b"caf\xc3\xa9", b"two words", b"tab\there"],
    ids=["empty", "256-chars", "non-ascii", "space", "tab"],
)
def test_an_invalid_key_is_refused_before_anything_acts(
    governance: Governance, tokens: dict[str, str], key: bytes
) -> None:
    """An Idempotency-Key must be 1 to 255 visible ASCII characters: any other is a 400
    ``idempotency.key_invalid`` and nothing is paid or recorded, so a retry cannot pay twice."""
    before = events(governance)
    headers: dict[str, str | bytes] = {**bearer(tokens["m1"]), "Idempotency-Key": key}
    for _ in range(2):
        answer = post(governance, PAY, json=PAYMENT, headers=headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "idempotency.key_invalid"
    assert events(governance) == before and disbursements(governance) == 0


def test_the_longest_key_is_accepted(governance: Governance, tokens: dict[str, str]) -> None:
    """255 visible ASCII characters are a valid key: the retry gets the first answer."""
    headers = {**bearer(tokens["m1"]), "Idempotency-Key": "~" * 254 + "!"}
    first = post(governance, PAY, json=PAYMENT, headers=headers)
    retry = post(governance, PAY, json=PAYMENT, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and disbursements(governance) == 1


def test_a_revoked_token_gets_no_replay(governance: Governance, tokens: dict[str, str]) -> None:
    """A caller is authenticated before an earlier answer is replayed: once its token is
    revoked, a retry with the same key is a 401 like any other request."""
    headers = {**bearer(tokens["m1"]), "Idempotency-Key": "pay-lamps-2"}
    assert post(governance, PAY, json=PAYMENT, headers=headers).status_code == 201
    governance.revoke_token(tokens["m1"].split("_")[1], "lost phone", actor="clerk")
    retry = post(governance, PAY, json=PAYMENT, headers=headers)
    assert retry.status_code == 401 and retry.json()["code"] == "auth.unauthenticated"
    assert "Idempotent-Replayed" not in retry.headers


def test_a_key_reused_for_another_request_is_refused(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """The same key with another body is refused (422) and pays nothing more."""
    headers = {**bearer(tokens["m1"]), "Idempotency-Key": "pay-lamps-3"}
    assert post(governance, PAY, json=PAYMENT, headers=headers).status_code == 201
    other = post(governance, PAY, json={**PAYMENT, "amount": "200.00"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "input.invalid"
    assert disbursements(governance) == 1


def test_a_key_is_the_callers_own(governance: Governance, tokens: dict[str, str]) -> None:
    """Another caller's request with the same key is another request: it acts."""
    key = {"Idempotency-Key": "pay-lamps-4"}
    first = post(governance, PAY, json=PAYMENT, headers={**bearer(tokens["m1"]), **key})
    second = post(governance, PAY, json=PAYMENT, headers={**bearer(tokens["m2"]), **key})
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers and disbursements(governance) == 2


def test_a_refused_request_can_be_retried_with_its_key(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """A refusal is not remembered: once the caller may act, the retry with the same key acts."""
    governance.enroll_member(COUNCIL, "m3", "张伟", actor="clerk")
    token = governance.issue_token(COUNCIL, "m3", actor="clerk")
    headers = {**bearer(token), "Idempotency-Key": "pay-lamps-7"}
    refused = post(governance, PAY, json=PAYMENT, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
    governance.change_member(COUNCIL, "m3", actor="clerk", roles=("officer",))
    retry = post(governance, PAY, json=PAYMENT, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert disbursements(governance) == 1


def test_a_failed_request_keeps_its_key_as_outcome_unknown(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """A request that fails with a 5xx (here: no workflow service) may have acted before it
    failed: its key stays held, and the retry is told ``idempotency.outcome_unknown`` (check
    the item, then retry with a new key) rather than handled again."""
    path = f"/v1/councils/{COUNCIL}/issues"
    headers = {**bearer(tokens["m1"]), "Idempotency-Key": "propose-1"}
    body = {"number": 1, "title": "路灯", "procedure": "residents-assembly"}
    first = post(governance, path, json=body, headers=headers)
    assert first.status_code == 503, first.text
    assert first.json()["code"] == "workflow.unavailable"
    retry = post(governance, path, json=body, headers=headers)
    assert retry.status_code == 409 and retry.json()["code"] == "idempotency.outcome_unknown"
    assert "status" in retry.json()["detail"] and "new key" in retry.json()["detail"]
    fresh = {**headers, "Idempotency-Key": "propose-2"}
    assert post(governance, path, json=body, headers=fresh).status_code == 503


class Acting:
    """A stand-in route behind the guard: counts how often it acts, then answers ``status``
    with ``body`` and ``headers``, or raises when ``status`` is None."""

    def __init__(
        self, status: int | None, body: dict[str, str], headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status, self.body, self.headers, self.acted = status, body, headers, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        self.acted += 1
        if self.status is None:
            raise RuntimeError("the database went away after the command took effect")
        content = json.dumps(self.body).encode()
        headers = [(b"content-type", b"application/json"), *self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def guarded(app: Governance, route: Acting, key: str, token: str) -> list[httpx.Response]:
    """Three copies, one after the other, of a POST with ``key`` to ``route`` behind the
    guard."""
    guard = BodyGuard(route, app, evidence_limit=MAX_EVIDENCE)
    transport = httpx.ASGITransport(app=guard, raise_app_exceptions=False)

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://govflow") as client:
            headers = {**bearer(token), "Idempotency-Key": key}
            return [await client.post("/act", json={"n": 1}, headers=headers) for _ in range(3)]

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("status", "code"),
    [(504, "workflow.timeout"), (500, "internal"), (503, "workflow.unavailable"), (None, "")],
    ids=["timeout", "500", "503", "raised"],
)
def test_a_request_that_may_have_acted_is_not_acted_on_again(
    governance: Governance, tokens: dict[str, str], status: int | None, code: str
) -> None:
    """A 5xx or 504 may come after the command took effect (the workflow update still runs):
    the copies that follow are told ``idempotency.outcome_unknown`` and nothing acts twice."""
    route = Acting(status, {"code": code}, [])
    first, *copies = guarded(governance, route, "close-stage-1", tokens["m1"])
    assert first.status_code == (status or 500)
    for copy in copies:
        assert copy.status_code == 409, copy.text
        assert copy.json()["code"] == "idempotency.outcome_unknown"
    assert route.acted == 1


def test_a_refusal_frees_its_key(governance: Governance, tokens: dict[str, str]) -> None:
    """A 4xx refusal leaves no event: each retry with the same key acts (is refused) again."""
    route = Acting(409, {"code": "stage.closed"}, [])
    answers = guarded(governance, route, "close-stage-2", tokens["m1"])
    assert [a.status_code for a in answers] == [409] * 3 and route.acted == 3
    assert all(a.json() == {"code": "stage.closed"} for a in answers)


def test_an_unknown_outcome_goes_stale(governance: Governance, tokens: dict[str, str]) -> None:
    """An unknown outcome older than ``STALE_AFTER`` (left by a process that died after a
    504) no longer blocks the retry."""
    principal = governance.authenticate(tokens["m1"])
    body = httpx.Request("POST", "http://govflow", json=PAYMENT).read()
    held = governance.reserve_request(
        caller_of(principal), "pay-lamps-8", request_digest("POST", PAY, body),
        now=time.time() - STALE_AFTER - 1,
    )  # fmt: skip
    assert isinstance(held, Reservation)
    governance.outcome_unknown(held)
    headers = {**bearer(tokens["m1"]), "Idempotency-Key": "pay-lamps-8"}
    headers["Content-Type"] = "application/json"
    taken_over = post(governance, PAY, content=body, headers=headers)
    assert taken_over.status_code == 201 and disbursements(governance) == 1


def kept_bodies(app: Governance) -> str:
    return " ".join(kept.body or "" for _, _, kept in app.idempotency_store.answered())


def test_an_answer_marked_no_store_is_not_kept(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """An answer sent with ``Cache-Control: no-store`` (a secret shown once) reaches the first
    caller only: the guard keeps a 409 ``idempotency.not_replayable`` in its place, which the
    copies get, and the secret is stored nowhere."""
    route = Acting(201, {"secret": "whsec_shown-once"}, [(b"cache-control", b"no-store")])
    first, *copies = guarded(governance, route, "subscribe-1", tokens["m1"])
    assert first.status_code == 201 and first.json() == {"secret": "whsec_shown-once"}
    for copy in copies:
        assert copy.status_code == 409 and copy.headers["Idempotent-Replayed"] == "true"
        assert copy.headers["content-type"] == "application/problem+json"
        assert copy.json()["code"] == "idempotency.not_replayable"
        assert copy.json()["detail"] == (
            "the first request succeeded; its answer carried a secret shown once"
        )
        assert "shown-once" not in copy.text
    assert route.acted == 1 and "shown-once" not in kept_bodies(governance)


def test_a_new_token_is_never_replayed(governance: Governance, tokens: dict[str, str]) -> None:
    """The token route answers ``Cache-Control: no-store``: a retry with the same key issues
    no second token and gets no copy of the first, and the token is not kept."""
    governance.enroll_member(COUNCIL, "c0", "书记员", actor="clerk", roles=("clerk",))
    clerk = governance.issue_token(COUNCIL, "c0", actor="clerk")
    headers = {**bearer(clerk), "Idempotency-Key": "token-m2"}
    path = f"/v1/councils/{COUNCIL}/tokens"
    first = post(governance, path, json={"holder": "m2"}, headers=headers)
    assert first.status_code == 201 and first.headers["Cache-Control"] == "no-store"
    issued = events(governance)
    retry = post(governance, path, json={"holder": "m2"}, headers=headers)
    assert retry.status_code == 409 and retry.json()["code"] == "idempotency.not_replayable"
    assert retry.json()["details"] == {"first_status": 201}
    token = first.json()["token"]
    assert token not in retry.text and token not in kept_bodies(governance)
    assert events(governance) == issued
    assert governance.authenticate(token).holder == "m2"


def test_a_key_in_use_is_answered_in_progress_until_it_goes_stale(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """While another copy holds the key, a request is told ``idempotency.in_progress`` and
    nothing is paid; a reservation left by a process that died (older than ``STALE_AFTER``) no
    longer blocks the retry."""
    principal = governance.authenticate(tokens["m1"])
    body = httpx.Request("POST", "http://govflow", json=PAYMENT).read()
    digest = request_digest("POST", PAY, body)
    headers = {
        **bearer(tokens["m1"]),
        "Idempotency-Key": "pay-lamps-5",
        "Content-Type": "application/json",
    }
    governance.reserve_request(caller_of(principal), "pay-lamps-5", digest)
    busy = post(governance, PAY, content=body, headers=headers)
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency.in_progress"
    assert disbursements(governance) == 0

    headers["Idempotency-Key"] = "pay-lamps-6"
    died = time.time() - STALE_AFTER - 1
    governance.reserve_request(caller_of(principal), "pay-lamps-6", digest, now=died)
    taken_over = post(governance, PAY, content=body, headers=headers)
    assert taken_over.status_code == 201 and disbursements(governance) == 1


def test_remembered_answers_stay_out_of_the_event_log(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """A new key adds no record to the log that the feed and webhooks read: only the
    payment's own event is recorded."""
    before = events(governance)
    for n in range(3):
        headers = {**bearer(tokens["m1"]), "Idempotency-Key": f"pay-{n}"}
        payment = {**PAYMENT, "reference": f"付款-{n}"}
        assert post(governance, PAY, json=payment, headers=headers).status_code == 201
    assert events(governance) == before + 3


# -- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "gf_nobody_secret", "revoked"])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_is_not_read_before_its_token_is_checked(
    governance: Governance, tokens: dict[str, str], who: str | None, chunked: bool
) -> None:
    """A 64 MiB body without a valid token is refused with 401 before a byte of it is read."""
    if who == "revoked":
        governance.revoke_token(tokens["m2"].split("_")[1], "left", actor="clerk")
        who = tokens["m2"]
    headers = bearer(who) if who else {}
    upload = Upload(64 * 1024 * 1024)
    if not chunked:
        headers["Content-Length"] = str(MAX_BODY)
        upload = Upload(MAX_BODY)
    answer = send(governance, "POST", f"/v1/councils/{COUNCIL}/issues", upload, headers)
    assert answer.status_code == 401 and answer.json()["code"] == "auth.unauthenticated"
    assert upload.pulled == 0


def test_a_streamed_body_is_read_no_further_than_its_limit(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """A chunked body is cut off at 1 MiB with 413 ``input.too_large``, also with an
    Idempotency-Key and on a path that merely mentions evidence."""
    for path, extra in (
        (f"/v1/councils/{COUNCIL}/issues", {}),
        (f"/v1/councils/{COUNCIL}/issues", {"Idempotency-Key": "big-1"}),
        (f"/v1/councils/{COUNCIL}/meetings/1/evidence/x.jpg", {"Idempotency-Key": "big-2"}),
        (f"/v1/councils/{COUNCIL}/issues/1/evidence/x", {}),
    ):
        upload = Upload(64 * 1024 * 1024)
        answer = send(governance, "POST", path, upload, {**bearer(tokens["m1"]), **extra})
        assert answer.status_code == 413, (path, answer.text)
        assert answer.json()["code"] == "input.too_large"
        assert upload.pulled <= MAX_BODY + CHUNK, path


def test_the_evidence_limit_applies_to_the_evidence_route_only(
    governance: Governance, tokens: dict[str, str]
) -> None:
    """A declared length over 1 MiB is refused up front anywhere but on the evidence upload."""
    for method, path in (
        ("POST", f"/v1/councils/{COUNCIL}/meetings/1/evidence/x.jpg"),
        ("PUT", f"/v1/councils/{COUNCIL}/issues/1/evidence/x"),
        ("POST", f"/v1/councils/{COUNCIL}/issues?next=/evidence/x"),
    ):
        upload = Upload(2 * MAX_BODY)
        headers = {**bearer(tokens["m1"]), "Content-Length": str(2 * MAX_BODY)}
        answer = send(governance, method, path, upload, headers)
        assert answer.status_code == 413, (method, path, answer.text)
        assert upload.pulled == 0


def test_evidence_is_cut_off_at_its_limit(governance: Governance, tokens: dict[str, str]) -> None:
    """Streamed evidence over 20 MiB is refused with 413 ``input.too_large`` as it arrives,
    and nothing is attached; evidence under the limit is stored."""
    path = f"/v1/councils/{COUNCIL}/meetings/1/evidence/scan.jpg"
    before = events(governance)
    upload = Upload(64 * 1024 * 1024, b"x" * (1024 * 1024))
    answer = send(governance, "PUT", path, upload, bearer(tokens["m1"]))
    assert answer.status_code == 413 and answer.json()["code"] == "input.too_large"
    assert upload.pulled <= MAX_EVIDENCE + 1024 * 1024
    assert events(governance) == before
    small = send(governance, "PUT", path, Upload(3 * MAX_BODY, b"x" * CHUNK), bearer(tokens["m1"]))
    assert small.status_code == 201 and small.json()["size"] == 3 * MAX_BODY


def test_public_reads_and_bodiless_requests_need_no_token(governance: Governance) -> None:
    """The board, health and OpenAPI answer without a token; a bodiless write without one is
    the route's own 401."""

    async def go() -> list[httpx.Response]:
        async with asgi(governance) as client:
            return [
                await client.get("/healthz"),
                await client.get("/openapi.json"),
                await client.get("/board/"),
                await client.post(f"/v1/councils/{COUNCIL}/meetings/1/notice"),
            ]

    *reads, write = asyncio.run(go())
    assert [r.status_code for r in reads] == [200, 200, 200]
    assert write.status_code == 401 and write.json()["code"] == "auth.unauthenticated"
