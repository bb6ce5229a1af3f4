"""The ways a message reaches a person, behind one interface (:class:`Channel`): e-mail over
SMTP, and a generic outgoing HTTP channel for an SMS or WeChat gateway.

A channel sends one message to one address or raises :class:`DeliveryError` with a word of a
fixed vocabulary (never the server's message, which may repeat the address). The gateway
channel posts JSON signed like webhooks (``Govflow-Signature``, see
:func:`~govflow.application.webhook_delivery.verify_signature`), with the delivery id as the
receiver's idempotency key (``Govflow-Delivery``), through the webhooks' checked connection:
the address is resolved once and used as checked, no redirect is followed, one time budget
covers the exchange. The gateway's own host is the operator's choice (a setting), so it is
allowed by name; other hosts inside the network are refused as for webhooks.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Protocol
from uuid import UUID

import orjson

from govflow.application.webhook_delivery import signature
from govflow.application.webhook_http import (
    CONNECTION_FAILED,
    REFUSED,
    TARGET_REFUSED,
    TIMEOUT,
    TLS,
    DeliveryError,
    Sender,
    http_sender,
    resolve,
)
from govflow.domain.webhook import TargetRefusedError, host_of

SMTP_REJECTED, SMTP_AUTH, ADDRESS_INVALID = "smtp_rejected", "smtp_auth", "address_invalid"

__all__ = [
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "GatewayChannel",
    "Message",
    "SmtpConfig",
    "one_address",
]


def one_address(address: str) -> bool:
    """Whether ``address`` is one plain ``name@domain`` that mail takes as one recipient: no
    list (``postmaster,me@evil.example`` is two, the first at the relay's own domain), no
    display name, group, route or comment."""
    return (
        address.count("@") == 1
        and not any(c.isspace() for c in address)
        and not any(c in address for c in ',;:<>"()[]\\')
        and getaddresses([address]) == [("", address)]
    )


@dataclass(frozen=True)
class Message:
    """One message to one person, as every channel gets it."""

    delivery_id: UUID
    council: str
    recipient: str  # the member id
    subject: str
    text: str
    link: str


class Channel(Protocol):
    name: str  # recorded on every attempt: ``email`` or ``gateway``

    def send(self, address: str, message: Message) -> None:
        """Deliver ``message`` to ``address`` or raise :class:`DeliveryError`."""
        ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "govflow@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


class EmailChannel:
    """E-mail through one SMTP server (STARTTLS and login if configured)."""

    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, address: str, message: Message) -> None:
        config = self.config
        if not one_address(address):
            raise DeliveryError(ADDRESS_INVALID)
        mail = EmailMessage()
        mail["From"] = config.sender
        mail["To"] = address
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.delivery_id}@govflow>"  # the receiver's dedup key
        mail.set_content(f"{message.text}\n\n{message.link}\n")
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.username:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError(SMTP_AUTH) from None
        except smtplib.SMTPException:
            raise DeliveryError(SMTP_REJECTED) from None
        except ssl.SSLError:
            raise DeliveryError(TLS) from None
        except ConnectionRefusedError:
            raise DeliveryError(REFUSED) from None
        except TimeoutError:
            raise DeliveryError(TIMEOUT) from None
        except OSError:
            raise DeliveryError(CONNECTION_FAILED) from None


class GatewayChannel:
    """POST ``{"to", "council", "member", "subject", "text", "link", "delivery_id"}`` to the
    gateway's URL, signed with its secret; any 2xx answer is delivered."""

    name = "gateway"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        allowed_hosts: frozenset[str] = frozenset(),
        send: Sender | None = None,
    ) -> None:
        self.url, self.secret = url, secret
        self.allowed = allowed_hosts | {host_of(url)}
        self._send = send or http_sender()

    def send(self, address: str, message: Message) -> None:
        body = orjson.dumps(
            {
                "to": address,
                "council": message.council,
                "member": message.recipient,
                "subject": message.subject,
                "text": message.text,
                "link": message.link,
                "delivery_id": str(message.delivery_id),
            }
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "govflow-notifications",
            "Govflow-Delivery": str(message.delivery_id),
            "Govflow-Signature": signature(self.secret, int(time.time()), body),
        }
        try:
            status = self._send(resolve(self.url, self.allowed), body, headers)
        except TargetRefusedError:
            raise DeliveryError(TARGET_REFUSED) from None
        if not 200 <= status < 300:
            raise DeliveryError(f"http_status:{status}")
