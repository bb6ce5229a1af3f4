"""App and board pages for concurrent signed-in readers on a live server (issue 11's target).

A real ``govflow up`` (uvicorn, worker, Temporal dev server, pollers) on a fresh SQLite store
whose council has ``NOTICES`` notices on one item and ``READERS`` members, each with a session.
``READERS`` people then read app and board pages, each on a keep-alive connection with their
own session cookie, reading each page for ``THINK_S`` seconds (random, seeded) before the next,
as people do; the baseline is ``/healthz`` read the same way in the same run. Figures are each
page's p95 latency (target: under 100 ms) and its ratio to the baseline's. With ``think=(0, 0)``
the readers hammer the server back to back instead (a stress figure, not the target).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from govflow.bench.live import CODE, KeepAlive, _server_env, _settings, running_up
from govflow.bench.store import MAJORITY, _at_vote, _council, _stores
from govflow.bootstrap import build_governance
from govflow.domain.council import Body
from govflow.domain.notice import Notice, NoticeKind, NoticePeriod

NOTICES = 10_000
READERS = 50
ROUNDS = 6
THINK_S = (0.5, 1.5)
TARGET_MS = 100
PAGES = {
    "app_tasks": "/app/",
    "app_items": "/app/items",
    "app_item": "/app/items/1",
    "board_council": f"/board/{CODE}/",
    "board_notices": f"/board/{CODE}/notices?page=100",
    "board_item": f"/board/{CODE}/issues/1",
}


def bootstrap(env: dict[str, str], readers: int, notices: int) -> list[str]:
    """A council with ``readers`` members and ``notices`` notices on item 1 (at its vote);
    returns each member's session token."""
    app = build_governance(_settings(env))
    try:
        _council(app, readers)
        _at_vote(app, Body.RESIDENTS_REPRESENTATIVES, MAJORITY)
        subject = app.issue(CODE, 1).id
        period = NoticePeriod(display_days=30, objection_days=7)
        at = app.now()
        for start in range(1, notices + 1, 2_000):
            app.save(
                *(
                    Notice.post(
                        subject, NoticeKind.PROGRESS, i, f"第{i}次进展公示", "本周施工进展。" * 5,
                        period=period, display_until=at + timedelta(days=30),
                        objection_until=at + timedelta(days=7), at=at, actor="system",
                    )
                    for i in range(start, min(start + 2_000, notices + 1))
                )
            )  # fmt: skip
        return [app.issue_token(CODE, f"v{i}", actor="clerk") for i in range(readers)]
    finally:
        app.close()


def p95(samples: list[float]) -> float:
    return (
        statistics.quantiles(samples, n=20, method="inclusive")[18]
        if len(samples) > 1
        else samples[0]
    )


async def _read(
    base: str,
    tokens: list[str],
    rounds: int,
    pages: dict[str, str],
    think: tuple[float, float],
) -> dict[str, list[float]]:
    """Every reader reads every page (and ``/healthz``) ``rounds`` times, all at once; the
    latency of each request, by page."""
    pool = [await KeepAlive.open(base) for _ in tokens]
    took: dict[str, list[float]] = {name: [] for name in (*pages, "healthz")}
    try:
        for connection in pool:  # a first round trip on every connection before the clock
            status, _ = await connection.send(KeepAlive.request("GET", "/healthz", {}))
            assert status == 200
        for path in pages.values():  # the server's first catch-up with the log, off the clock
            cookie = {"Cookie": f"gf_session={tokens[0]}"}
            status, _ = await pool[0].send(KeepAlive.request("GET", path, cookie))
            assert status == 200, path

        async def reader(connection: KeepAlive, token: str, seed: int) -> None:
            cookie = {"Cookie": f"gf_session={token}"}
            pause = random.Random(seed)
            await asyncio.sleep(pause.uniform(0, think[1]))  # people do not arrive together
            for _ in range(rounds):
                for name, path in (*pages.items(), ("healthz", "/healthz")):
                    request = KeepAlive.request("GET", path, cookie)
                    started = time.perf_counter()
                    status, body = await connection.send(request)
                    took[name].append(time.perf_counter() - started)
                    assert status == 200, f"{path}: {status} {body[:200]!r}"
                    if think[1]:
                        await asyncio.sleep(pause.uniform(*think))

        readers = enumerate(zip(pool, tokens, strict=True))
        await asyncio.gather(*(reader(c, t, i) for i, (c, t) in readers))
    finally:
        for connection in pool:
            await connection.close()
    return took


def page_latency(
    readers: int = READERS,
    notices: int = NOTICES,
    rounds: int = ROUNDS,
    pages: dict[str, str] = PAGES,
    think: tuple[float, float] = THINK_S,
) -> dict[str, Any]:
    """p95 (ms) of each page with ``readers`` concurrent signed-in readers, against /healthz's."""
    with _stores("sqlite") as store, tempfile.TemporaryDirectory() as tmp:
        env = _server_env(store("pages"), Path(tmp) / "var")
        tokens = bootstrap(env, readers, notices)
        with running_up(env) as server:
            took = asyncio.run(_read(server.base, tokens, rounds, pages, think))
    baseline = p95(took.pop("healthz")) * 1000
    figures: dict[str, Any] = {
        "readers": readers,
        "notices": notices,
        "requests_per_page": readers * rounds,
        "think_s": list(think),
        "healthz_p95_ms": round(baseline, 1),
        "target_p95_ms": TARGET_MS,
    }
    page_p95 = {name: p95(samples) * 1000 for name, samples in took.items()}
    for name, value in page_p95.items():
        figures[f"{name}_p95_ms"] = round(value, 1)
    worst = max(page_p95.values())
    figures["worst_p95_ms"] = round(worst, 1)
    figures["worst_vs_healthz"] = round(worst / baseline, 2)
    return figures


def run(progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"app and board pages, {READERS} signed-in readers, {NOTICES} notices, live ...")
    return {"pages_live": page_latency()}
