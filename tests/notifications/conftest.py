"""Telling people under test: a real local SMTP server (aiosmtpd), a real local HTTP receiver
for the gateway channel, and a council with a vote, a notice and an evaluation to tell of."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from govflow.application import Governance
from govflow.application.notification_channels import (
    Channel,
    EmailChannel,
    GatewayChannel,
    SmtpConfig,
)
from govflow.application.notification_sending import NotifierConfig
from govflow.application.specimens import PARTY_RULE, SteppingClock, specimen_procedure
from govflow.domain.council import Body
from tests.conftest import Store

COUNCIL = "hehua"
GATEWAY_SECRET = "gateway-secret-for-tests"
CONFIG = NotifierConfig(public_url="https://govflow.example.org", attempts=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What the local SMTP server (on ``port``) received."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def text(self, message: EmailMessage) -> str:
        body = message.get_body()
        assert body is not None
        return str(body.get_content())


@dataclass
class Gateway:
    """A local SMS/WeChat gateway: keeps every request it is sent."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    g.start()
    yield g
    assert g.server is not None
    g.server.shutdown()
    g.server.server_close()


def email_to(port: int) -> EmailChannel:
    return EmailChannel(SmtpConfig("127.0.0.1", port, "govflow@hehua.example", timeout=5))


@pytest.fixture
def channels(mailbox: Mailbox, gateway: Gateway) -> list[Channel]:
    """E-mail to the local SMTP server, then the local gateway."""
    return [email_to(mailbox.port), GatewayChannel(gateway.url, GATEWAY_SECRET)]


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


def set_up(app: Governance) -> None:
    """A council of a chair (c1), five members on the party members' assembly (m1..m5) and a
    clerk (k1); item 1 at its vote (``resolve``), then its notice (``publish``)."""
    app.register_council(COUNCIL, "荷花社区", actor="clerk")
    app.enroll_member(COUNCIL, "c1", "主任", actor="clerk", chairs=(Body.PARTY_MEMBERS_ASSEMBLY,))
    for i in range(1, 6):
        app.enroll_member(
            COUNCIL, f"m{i}", f"成员{i}", actor="clerk", bodies=(Body.PARTY_MEMBERS_ASSEMBLY,)
        )
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.propose_issue(COUNCIL, 1, "加装电梯", specimen_procedure(), actor="c1")
    for stage in ("propose", "deliberate", "review"):
        app.skip_stage(COUNCIL, 1, stage, "not needed here", actor="system")


@dataclass
class Council:
    app: Governance
    clock: SteppingClock
    store: Store

    def restart(self) -> Governance:
        """The same store opened again, as a new process would."""
        self.app.close()
        self.app = Governance(self.store.env, clock=self.clock)
        return self.app

    def open_vote(self, hours: float) -> str:
        """Open item 1's vote, closing ``hours`` from now."""
        closes = self.clock.current + timedelta(hours=hours)
        self.app.open_stage(COUNCIL, 1, "resolve", deadline=closes, actor="system")
        return self.app.open_voting(
            COUNCIL, 1, "resolve", body=Body.PARTY_MEMBERS_ASSEMBLY, rule=PARTY_RULE,
            closes_at=closes, actor="system",
        )  # fmt: skip


@pytest.fixture
def council(sql_store: Store, clock: SteppingClock) -> Iterator[Council]:
    """The council of :func:`set_up` on SQLite and PostgreSQL."""
    app = Governance(sql_store.env, clock=clock)
    set_up(app)
    found = Council(app, clock, sql_store)
    found.app.tell_people([], CONFIG)  # the notifier starts here: nothing before is news
    yield found
    found.app.close()
