"""Running the parts: the embedded stack (``govflow up``) and a scale-out worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from govflow.application import Governance
from govflow.application.webhooks import http_sender
from govflow.bootstrap import Settings, build_governance, build_procedures
from govflow.entrypoints.api import create_api
from govflow.orchestration.client import IssueClient, connect
from govflow.orchestration.devserver import DevServer, start_dev_server
from govflow.orchestration.worker import build_worker

Say = Callable[[str], None]
logger = logging.getLogger("govflow.runtime")


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def seal_audit_chain(app: Governance, every: float = 2.0) -> None:
    """The read side's poller: seal new records into the audit hash chain as they land."""
    while True:
        try:
            await asyncio.to_thread(app.extend_audit_chain)
        except Exception:  # keep polling: a busy database is retried on the next round
            logger.exception("sealing the audit chain failed")
        await asyncio.sleep(every)


async def deliver_webhooks(app: Governance, every: float = 1.0) -> None:
    """Deliver webhooks from the notification log, one pass a second (back-off per subscriber)."""
    send = http_sender()
    while True:
        try:
            delivered = await asyncio.to_thread(app.deliver_webhooks, send)
            if delivered:
                logger.info("delivered %d webhook event(s)", delivered)
        except Exception:  # keep going: a busy database is retried on the next round
            logger.exception("delivering webhooks failed")
        await asyncio.sleep(every)


async def serve_api(client: Client, app: Governance, settings: Settings) -> None:
    """The HTTP API and the board (with webhook delivery, if enabled) until SIGINT/SIGTERM."""
    api = create_api(
        app,
        IssueClient(client, app, task_queue=settings.task_queue),
        build_procedures(settings),
        evidence_dir=settings.data_dir / "evidence",
    )
    delivery = asyncio.create_task(deliver_webhooks(app)) if settings.webhooks_enabled else None
    try:
        await _serve_until_stopped(_http_server(api, settings))
    finally:
        if delivery is not None:
            delivery.cancel()


async def serve_worker(
    client: Client, app: Governance, settings: Settings, *, with_api: bool = False
) -> None:
    """Run the worker, the audit poller (and the HTTP API) until SIGINT/SIGTERM.

    Running items resume where they were on the next start.
    """
    poller = asyncio.create_task(seal_audit_chain(app))
    try:
        async with build_worker(client, app, task_queue=settings.task_queue):
            if with_api:
                await serve_api(client, app, settings)
            else:
                await _until_stopped()
    finally:
        poller.cancel()


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: govflow stops all its parts together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _http_server(api: FastAPI, settings: Settings) -> uvicorn.Server:
    return _QuietServer(
        uvicorn.Config(
            api,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
        )
    )


async def _serve_until_stopped(server: uvicorn.Server) -> None:
    serving = asyncio.create_task(server.serve())
    stopped = asyncio.create_task(_until_stopped())
    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopped.cancel()
    await serving


def run_api(settings: Settings, say: Say) -> None:
    """``govflow api``: the HTTP API alone (scale-out), against the shared store and Temporal."""
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    app = build_governance(settings)

    async def main() -> None:
        client = await connect(address, settings.temporal_namespace)
        say(f"API:         http://{settings.http_host}:{settings.http_port}/docs")
        say(f"Board:       http://{settings.http_host}:{settings.http_port}/board/")
        await serve_api(client, app, settings)

    try:
        asyncio.run(main())
    finally:
        app.close()


def run_worker(settings: Settings, say: Say) -> None:
    """``govflow worker``: the worker alone, against an external (or the embedded) Temporal."""
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    app = build_governance(settings)

    async def main() -> None:
        client = await connect(address, settings.temporal_namespace)
        say(f"worker on task queue {settings.task_queue!r} at {address}")
        await serve_worker(client, app, settings)

    try:
        asyncio.run(main())
    finally:
        app.close()


def run_up(settings: Settings, say: Say) -> None:
    """``govflow up``: the embedded stack on this machine (dev server, worker, read side)."""
    server: DevServer | None = None
    if settings.temporal_address is None:
        say("starting the Temporal dev server ...")
        server = start_dev_server(
            settings.data_dir / "temporal.db",
            port=settings.temporal_port,
            ui_port=settings.temporal_ui_port or None,
            log_file=settings.data_dir / "temporal.log",
        )
    address = server.address if server else settings.temporal_address
    assert address is not None
    app = build_governance(settings)

    async def main() -> None:
        client = await connect(address, settings.temporal_namespace)
        say(
            f"event store: {settings.persistence} "
            f"({settings.events_db if settings.persistence == 'sqlite' else 'PostgreSQL'})"
        )
        say(f"Temporal:    {address}")
        if server and server.ui_url:
            say(f"Temporal UI: {server.ui_url}")
        say(f"API docs:    http://{settings.http_host}:{settings.http_port}/docs")
        say(f"Board:       http://{settings.http_host}:{settings.http_port}/board/")
        say("worker and API running; press Ctrl-C to stop")
        await serve_worker(client, app, settings, with_api=True)

    try:
        asyncio.run(main())
    finally:
        with contextlib.suppress(Exception):
            app.close()
        if server:
            server.stop()
        say("stopped")
