"""HTTP figures, each against a baseline measured in the same run:

- ballots cast per second through the API (bearer token, JSON, the ASGI app in process) vs
  through the application vs raw eventsourcing aggregate saves on the same store;
- board pages of a council with 10,000 notices: render time vs a bare ``/healthz`` round trip.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.bench.store import (
    MAJORITY,
    _at_vote,
    _council,
    _stores,
    _timed,
    raw_saves_per_s,
)
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.notice import Notice, NoticeKind, NoticePeriod
from govflow.entrypoints.api import create_api

NOTICES = 10_000
API_BALLOTS = 1_000


def api_ballots(kind: str) -> dict[str, Any]:
    with _stores(kind) as store:
        app = Governance(store("api"))
        _council(app, API_BALLOTS + 1)  # one voter stays away: no all-voted signal needed
        _at_vote(app, Body.RESIDENTS_REPRESENTATIVES, MAJORITY)
        tokens = [app.issue_token("bench", f"v{i}", actor="clerk") for i in range(API_BALLOTS)]
        client = TestClient(create_api(app))
        url = "/v1/councils/bench/issues/1/ballots"

        def cast_all() -> None:
            for token in tokens:
                response = client.post(
                    url, json={"choice": "yes"}, headers={"Authorization": f"Bearer {token}"}
                )
                assert response.status_code == 201, response.text

        api_seconds = _timed(cast_all)
        client.close()
        app.close()
        direct = Governance(store("direct"))
        _council(direct, API_BALLOTS + 1)
        _at_vote(direct, Body.RESIDENTS_REPRESENTATIVES, MAJORITY)
        app_seconds = _timed(
            lambda: [
                direct.cast_ballot("bench", 1, f"v{i}", Choice.YES) for i in range(API_BALLOTS)
            ]
        )
        direct.close()
        raw_rate = raw_saves_per_s(store("raw"), API_BALLOTS)
    api_rate = API_BALLOTS / api_seconds
    return {
        "ballots": API_BALLOTS,
        "api_per_s": round(api_rate),
        "application_per_s": round(API_BALLOTS / app_seconds),
        "raw_saves_per_s": round(raw_rate),
        "api_vs_raw": round(api_rate / raw_rate, 3),
        "api_vs_application": round(app_seconds / api_seconds, 3),
    }


def board() -> dict[str, Any]:
    with _stores("sqlite") as store:
        app = Governance(store("board"))
        _council(app, 1)
        _at_vote(app, Body.RESIDENTS_REPRESENTATIVES, MAJORITY)
        subject = app.issue("bench", 1).id
        period = NoticePeriod(display_days=30, objection_days=7)
        at = app.now()
        notices = [
            Notice.post(
                subject, NoticeKind.PROGRESS, i, f"第{i}次进展公示", "本周施工进展。" * 5,
                period=period, display_until=at + timedelta(days=30),
                objection_until=at + timedelta(days=7), at=at, actor="system",
            )
            for i in range(1, NOTICES + 1)
        ]  # fmt: skip
        for start in range(0, NOTICES, 2_000):
            app.save(*notices[start : start + 2_000])
        client = TestClient(create_api(app))
        started = time.perf_counter()
        assert client.get("/board/bench/").status_code == 200
        cold = time.perf_counter() - started  # includes the directory's first catch-up
        pages = {
            "council_page_ms": "/board/bench/",
            "notices_page_ms": "/board/bench/notices?all=1&page=100",
            "issue_page_ms": "/board/bench/issues/1",
            "notice_page_ms": f"/board/notices/{notices[-1].id}",
            "notices_atom_ms": "/board/bench/notices.atom",
        }
        figures: dict[str, Any] = {"notices": NOTICES, "first_load_ms": round(cold * 1000, 1)}
        for name, path in pages.items():
            seconds = min(_timed(partial(client.get, path)) for _ in range(5))
            figures[name] = round(seconds * 1000, 1)
        baseline = min(_timed(lambda: client.get("/healthz")) for _ in range(20))
        figures["healthz_baseline_ms"] = round(baseline * 1000, 2)
        figures["target_ms"] = 100
        client.close()
        app.close()
    return figures


def run(progress: Any) -> dict[str, Any]:
    results: dict[str, Any] = {}
    progress("ballots through the API vs the application vs raw saves (SQLite) ...")
    results["api_ballots_sqlite"] = api_ballots("sqlite")
    try:
        progress("ballots through the API vs the application vs raw saves (PostgreSQL) ...")
        results["api_ballots_postgres"] = api_ballots("postgres")
    except Exception as error:  # a laptop without PostgreSQL still gets the other figures
        results["api_ballots_postgres"] = {"skipped": str(error).splitlines()[0]}
    progress(f"board pages with {NOTICES} notices ...")
    results["board_10000"] = board()
    return results
