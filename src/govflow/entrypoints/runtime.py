"""Running the parts: the embedded stack (``govflow up``), the API and a scale-out worker.

Everything is checked before anything starts or is created: the settings (by the CLI), the
procedure presets and calendars, and the ports. SIGINT or SIGTERM stops a running part within
:data:`STOP_WITHIN` seconds whatever is in flight: the HTTP server gets a short grace period,
the worker a bounded shutdown, the dev server is terminated (killed if it lingers); if
something still holds on (an activity thread that never returns), or on a second signal, the
process ends at once after stopping the dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from govflow.application import Governance
from govflow.application.log_store import SealConflictError
from govflow.application.sealer import Sealer
from govflow.application.webhooks import http_sender
from govflow.bootstrap import (
    Settings,
    build_calendar,
    build_channels,
    build_evidence,
    build_governance,
    build_log_public_key,
    build_log_signer,
    build_log_witnesses,
    build_notifier_config,
    build_oidc,
    build_procedures,
)
from govflow.domain.errors import GovflowError
from govflow.entrypoints.api import create_api
from govflow.entrypoints.console import EXIT_RULE, EXIT_SERVER, domain_errors, fail
from govflow.orchestration.client import IssueClient, connect
from govflow.orchestration.devserver import DevServer, start_dev_server
from govflow.orchestration.worker import build_worker

Say = Callable[[str], None]
logger = logging.getLogger("govflow.runtime")

STOP_WITHIN = 10.0  # seconds from SIGINT/SIGTERM to the end of the process, at most
FORCE_AFTER = 7.5  # then the watchdog ends it (leaving time to stop the dev server)
HTTP_GRACE = 2  # seconds for in-flight requests
WORKER_GRACE = 2.0  # seconds for the worker's shutdown (running activities are abandoned)
DEVSERVER_GRACE = 2.0  # seconds for the dev server to stop before it is killed


class Stopper:
    """The first SIGINT/SIGTERM asks every part to stop and arms a watchdog; the watchdog
    (after :data:`FORCE_AFTER` seconds) or a second signal ends the process at once."""

    def __init__(self, say: Say, server: DevServer | None = None) -> None:
        self.say = say
        self.server = server
        self.requested = threading.Event()
        self._stop: asyncio.Event | None = None

    def install(self) -> None:
        """Signal handlers for the start-up, before the event loop runs."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._before_loop)

    def _before_loop(self, signum: int, frame: FrameType | None) -> None:
        self._arm()
        raise KeyboardInterrupt  # unwinds the start-up; the callers' finally blocks clean up

    def install_in(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        self._stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._in_loop)
        return self._stop

    def _in_loop(self) -> None:
        self._arm()
        if self._stop is not None:
            self._stop.set()

    def _arm(self) -> None:
        if self.requested.is_set():
            self.force("a second signal")
        self.requested.set()
        self.say("stopping ...")
        timer = threading.Timer(FORCE_AFTER, self.force, args=("parts still running",))
        timer.daemon = True
        timer.start()

    def force(self, why: str) -> None:
        """End the process now (the dev server first, so that it is not left behind)."""
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.stop(timeout=1)
        self.say(f"stopped ({why}: ended without waiting)")
        _exit_now(1)


async def seal_audit_chain(app: Governance, every: float = 2.0) -> None:
    """The read side's poller: seal new records into the audit hash chain as they land."""
    while True:
        try:
            await asyncio.to_thread(app.extend_audit_chain)
        except Exception:  # keep polling: a busy database is retried on the next round
            logger.exception("sealing the audit chain failed")
        await asyncio.sleep(every)


async def seal_log(sealer: Sealer, every: float = 5.0) -> None:
    """The verifiable log's sealer: new records into the Merkle tree, a signed checkpoint per
    round with anything new (a crashed round is sealed again on the next)."""
    while True:
        try:
            checkpoint = await asyncio.to_thread(sealer.seal)
            if checkpoint is not None:
                logger.info("sealed the log up to %d record(s)", checkpoint.size)
        except SealConflictError:  # another worker sealed that batch first: nothing lost
            logger.debug("another sealer got there first")
        except Exception:  # keep polling: a busy database is retried on the next round
            logger.exception("sealing the verifiable log failed")
        await asyncio.sleep(every)


async def deliver_webhooks(app: Governance, every: float = 1.0) -> None:
    """Deliver webhooks from the notification log, one pass a second (back-off per subscriber);
    a pass waits for no slow receiver: each subscription is delivered on its own thread."""
    send = http_sender()
    while True:
        try:
            delivered = await asyncio.to_thread(app.deliver_webhooks, send, wait_at_most=every)
            if delivered:
                logger.info("delivered %d webhook event(s)", delivered)
        except Exception:  # keep going: a busy database is retried on the next round
            logger.exception("delivering webhooks failed")
        await asyncio.sleep(every)


async def tell_people(
    app: Governance, settings: Settings, every: float = 1.0, scan_every: float = 60.0
) -> None:
    """Tell people (送达): new notices and answers from the log each second; the deadlines
    (reminders) scanned once a minute, since that reads every open item."""
    channels, config = build_channels(settings), build_notifier_config(settings)
    last_scan = -scan_every
    while True:
        try:
            now = asyncio.get_running_loop().time()
            scan = now - last_scan >= scan_every
            ended = await asyncio.to_thread(app.tell_people, channels, config, reminders=scan)
            last_scan = now if scan else last_scan
            if ended:
                logger.info("ended %d delivery(ies) to people", ended)
        except Exception:  # keep going: a busy database is retried on the next round
            logger.exception("telling people failed")
        await asyncio.sleep(every)


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
            timeout_graceful_shutdown=HTTP_GRACE,
        )
    )


async def _bounded(step: Awaitable[object], seconds: float, what: str) -> None:
    """Wait for ``step`` at most ``seconds``; past that, go on without it."""
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        logger.warning("%s did not stop within %.0f s; going on without it", what, seconds)


async def serve(
    client: Client,
    app: Governance,
    settings: Settings,
    stop: asyncio.Event,
    *,
    worker: bool,
    api: bool,
    ready: Callable[[], None] = lambda: None,
) -> None:
    """Run the worker and the audit poller (``worker``) and the HTTP API with webhook delivery
    (``api``) until ``stop`` is set, then stop them within bounded times. ``ready`` is called
    once the HTTP server listens (what the banner promises), or at once without one.

    Running items resume where they were on the next start.
    """
    background = []
    if worker:
        background.append(asyncio.create_task(seal_audit_chain(app)))
        signer = build_log_signer(settings)
        if signer is not None:
            background.append(asyncio.create_task(seal_log(Sealer.of(app, signer))))
    if api and settings.webhooks_enabled:
        background.append(asyncio.create_task(deliver_webhooks(app)))
    if api and settings.notify_enabled:
        background.append(asyncio.create_task(tell_people(app, settings)))
    running_worker = build_worker(client, app, task_queue=settings.task_queue) if worker else None
    worker_task = asyncio.create_task(running_worker.run()) if running_worker else None
    http = None
    if api:
        issues = IssueClient(client, app, task_queue=settings.task_queue)
        http = _http_server(_create_api(app, issues, settings), settings)
    http_task = asyncio.create_task(http.serve()) if http else None
    if http is not None and http_task is not None:
        while not http.started and not http_task.done() and not stop.is_set():
            await asyncio.sleep(0.02)
    if http_task is None or not http_task.done():
        ready()
    stopped: asyncio.Task[object] = asyncio.create_task(stop.wait())
    parts: set[asyncio.Task[object]] = {stopped}
    parts.update(t for t in (worker_task, http_task) if t is not None)
    done, _ = await asyncio.wait(parts, return_when=asyncio.FIRST_COMPLETED)
    for poller in background:
        poller.cancel()
    if http is not None and http_task is not None:
        http.should_exit = True
        await _bounded(asyncio.shield(http_task), HTTP_GRACE + 1, "the HTTP server")
    if running_worker is not None:
        await _bounded(running_worker.shutdown(), WORKER_GRACE, "the worker")
    for task in done - {stopped}:
        error = task.exception()
        if error is not None:  # a part that ended on its own, with an error
            raise error


def _create_api(app: Governance, issues: IssueClient, settings: Settings) -> FastAPI:
    return create_api(
        app,
        issues,
        build_procedures(settings),
        evidence=build_evidence(settings, app),
        demo=settings.demo,
        public_url=settings.public_base_url,
        oidc=build_oidc(settings),
        log_witnesses=build_log_witnesses(settings),
        log_public_key=build_log_public_key(settings),
        log_min_witnesses=settings.log_min_witnesses,
    )


def check_before_start(settings: Settings, *, ports: list[tuple[str, int, str]]) -> None:
    """Refuse to start (one line, no traceback, nothing created) on presets or calendars that
    do not load, or a port another process holds."""
    with domain_errors():
        build_procedures(settings)
        build_calendar(settings)
    for host, port, setting in ports:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                fail(
                    f"port {port} on {host} is in use (is another govflow running?); "
                    f"choose another with {setting}",
                    "settings.port_in_use",
                    EXIT_RULE,
                )


async def _connect(address: str, settings: Settings, patience: float = 15) -> Client:
    """A client of Temporal at ``address``, retried for ``patience`` seconds (a dev server
    listens a moment before it answers)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            return await connect(address, settings.temporal_namespace)
        except RuntimeError as error:
            if asyncio.get_running_loop().time() > deadline:
                fail(
                    f"cannot reach Temporal at {address}: is the server (or the cluster) "
                    f"running? ({error})",
                    "temporal.unreachable",
                    EXIT_SERVER,
                )
            await asyncio.sleep(0.5)


def _run(
    settings: Settings,
    say: Say,
    address: str,
    *,
    worker: bool,
    api: bool,
    server: DevServer | None = None,
    banner: Callable[[], None] = lambda: None,
) -> None:
    """Open the store, connect, serve until a signal, and close, all within bounded times."""
    stopper = Stopper(say, server)
    stopper.install()
    app = None
    loop = asyncio.new_event_loop()
    try:
        app = build_governance(settings)

        async def main(app: Governance) -> None:
            stop = stopper.install_in(asyncio.get_running_loop())
            client = await _connect(address, settings)
            await serve(client, app, settings, stop, worker=worker, api=api, ready=banner)

        loop.run_until_complete(main(app))
    except KeyboardInterrupt:
        pass  # a signal during the start-up: stop what started
    except GovflowError as error:
        fail(error.message, error.code, EXIT_RULE)
    finally:
        _close_loop(loop)
        if app is not None:
            with contextlib.suppress(Exception):
                app.close()
        if server is not None:
            server.stop(timeout=DEVSERVER_GRACE)
        say("stopped")
    if stopper.requested.is_set():
        # Threads of abandoned activities (or requests) may never return, and the interpreter
        # would wait for them at exit: everything is closed, so end here.
        _exit_now(0)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left, wait a moment for it, and close the loop without waiting for its
    threads (asyncio.run would wait for every task and thread, however long)."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait(pending, timeout=1))
    loop.close()


def _exit_now(code: int) -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _address(settings: Settings) -> str:
    return settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"


def _http_port(settings: Settings) -> tuple[str, int, str]:
    return settings.http_host, settings.http_port, "GOVFLOW_HTTP_PORT"


def run_api(settings: Settings, say: Say) -> None:
    """``govflow api``: the HTTP API alone (scale-out), against the shared store and Temporal."""
    check_before_start(settings, ports=[_http_port(settings)])

    def banner() -> None:
        say(f"API:         http://{settings.http_host}:{settings.http_port}/docs")
        say(f"Board:       http://{settings.http_host}:{settings.http_port}/board/")
        if settings.demo:
            say("demo mode:   items' clocks may be fast-forwarded (govflow issue advance)")

    _run(settings, say, _address(settings), worker=False, api=True, banner=banner)


def run_worker(settings: Settings, say: Say) -> None:
    """``govflow worker``: the worker alone, against an external (or the embedded) Temporal."""
    check_before_start(settings, ports=[])
    address = _address(settings)

    def banner() -> None:
        say(f"worker on task queue {settings.task_queue!r} at {address}")

    _run(settings, say, address, worker=True, api=False, banner=banner)


def run_up(settings: Settings, say: Say) -> None:
    """``govflow up``: the embedded stack on this machine (dev server, worker, read side, API)."""
    ports = [_http_port(settings)]
    if settings.temporal_address is None:
        ports.append(("127.0.0.1", settings.temporal_port, "GOVFLOW_TEMPORAL_PORT"))
        if settings.temporal_ui_port:
            ports.append(("127.0.0.1", settings.temporal_ui_port, "GOVFLOW_TEMPORAL_UI_PORT"))
    check_before_start(settings, ports=ports)
    server: DevServer | None = None
    if settings.temporal_address is None:
        say("starting the Temporal dev server ...")
        Stopper(say).install()  # a signal now ends the start-up, and nothing is left behind
        try:
            server = start_dev_server(
                settings.data_dir / "temporal.db",
                port=settings.temporal_port,
                ui_port=settings.temporal_ui_port or None,
                log_file=settings.data_dir / "temporal.log",
            )
        except KeyboardInterrupt:
            say("stopped")
            return
        except (RuntimeError, TimeoutError, OSError) as error:
            fail(
                f"the Temporal dev server did not start: {error} (see "
                f"{settings.data_dir / 'temporal.log'})",
                "temporal.unavailable",
                EXIT_SERVER,
            )
    address = server.address if server else _address(settings)

    def banner() -> None:
        say(
            f"event store: {settings.persistence} "
            f"({settings.events_db if settings.persistence == 'sqlite' else 'PostgreSQL'})"
        )
        say(f"Temporal:    {address}")
        if server and server.ui_url:
            say(f"Temporal UI: {server.ui_url}")
        say(f"API docs:    http://{settings.http_host}:{settings.http_port}/docs")
        say(f"Board:       http://{settings.http_host}:{settings.http_port}/board/")
        if settings.demo:
            say("demo mode:   items' clocks may be fast-forwarded (govflow issue advance)")
        say("worker and API running; press Ctrl-C to stop")

    _run(settings, say, address, worker=True, api=True, server=server, banner=banner)
