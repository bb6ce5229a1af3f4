"""Reaching a webhook's receiver without reaching inside the server's network.

:func:`resolve` turns a subscribed URL into a :class:`Target`: its host name resolved now and
every address checked (unless the operator allowed the name); the request then goes to that
checked address, never to a second resolution that a rebinding name could answer
differently. :func:`http_sender` posts one delivery with one time budget for the whole
exchange (connect, TLS, request, answer), follows no redirect, and describes a failure with a
word of a fixed vocabulary, never the operating system's message (which would tell a closed
port from an open one).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from govflow.domain.webhook import TargetRefusedError, host_of, refused_address, refused_name

# What a failed attempt may say (besides ``http_status:NNN``).
REFUSED, TIMEOUT, UNRESOLVABLE, TLS, CONNECTION_FAILED = (
    "refused",
    "timeout",
    "unresolvable",
    "tls",
    "connection_failed",
)
TARGET_REFUSED, SECRET_MISSING = "target_refused", "secret_missing"
SUBSCRIBER_REVOKED = "subscriber_revoked"  # who subscribed may no longer read the council
VOCABULARY = frozenset(
    {
        REFUSED,
        TIMEOUT,
        UNRESOLVABLE,
        TLS,
        CONNECTION_FAILED,
        TARGET_REFUSED,
        SECRET_MISSING,
        SUBSCRIBER_REVOKED,
    }
)
INSIDE = (
    "the webhook's target is inside govflow's network (loopback, private, link-local, "
    "metadata ...): refused; an operator may allow a host by name"
)


class DeliveryError(Exception):
    """An attempt that failed, as one word of :data:`VOCABULARY`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL's parts and the address checked for it."""

    scheme: str
    host: str  # ASCII (IDNA) host name or address literal, for TLS and the Host header
    port: int
    address: str  # the checked address to connect to
    host_header: str
    path: str


def resolve(url: str, allowed: frozenset[str]) -> Target:
    """The target of ``url`` now. Raises :class:`TargetRefusedError` if any address the name
    resolves to is inside (or the name itself leads inside), unless the host is in
    ``allowed``; :class:`DeliveryError` (``unresolvable``) if it resolves to nothing."""
    parts = urlsplit(url)
    name = host_of(url)
    is_allowed = name in allowed
    if not is_allowed and refused_name(name):
        raise TargetRefusedError(INSIDE)
    try:
        ascii_host = name if name.isascii() else name.encode("idna").decode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(ascii_host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    except (OSError, UnicodeError, ValueError):
        raise DeliveryError(UNRESOLVABLE) from None
    if not addresses:
        raise DeliveryError(UNRESOLVABLE)
    if not is_allowed and any(refused_address(a) for a in addresses):
        raise TargetRefusedError(INSIDE)
    literal = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    return Target(
        scheme=parts.scheme,
        host=ascii_host,
        port=port,
        address=str(addresses[0]),
        host_header=literal if parts.port is None else f"{literal}:{parts.port}",
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    )


# (target, body, headers) -> HTTP status; raises DeliveryError.
Sender = Callable[[Target, bytes, dict[str, str]], int]


def http_sender(timeout: float = 10.0) -> Sender:
    """Post deliveries with ``timeout`` seconds for each whole exchange."""
    context = ssl.create_default_context()

    def send(target: Target, body: bytes, headers: dict[str, str]) -> int:
        return post(target, body, headers, timeout=timeout, context=context)

    return send


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    context: ssl.SSLContext,
) -> int:
    """One POST to ``target.address``; the answer's status (its body is not read)."""
    family = socket.AF_INET6 if ":" in target.address else socket.AF_INET
    raw = socket.socket(family, socket.SOCK_STREAM)
    watch = raw.dup()  # the same connection, to cut it from the timer's thread
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError):
            watch.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, cut)
    timer.daemon = True
    timer.start()
    sock: socket.socket = raw
    try:
        raw.settimeout(timeout)
        raw.connect((target.address, target.port))
        if target.scheme == "https":
            sock = context.wrap_socket(raw, server_hostname=target.host)
        connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = sock
        connection.request("POST", target.path, body, {**headers, "Host": target.host_header})
        response = connection.getresponse()
        status = response.status
        response.close()
        return status
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(_reason(error, expired.is_set())) from None
    finally:
        timer.cancel()
        for each in (sock, raw, watch):
            with contextlib.suppress(OSError):
                each.close()


def _reason(error: Exception, expired: bool) -> str:
    if expired or isinstance(error, TimeoutError):
        return TIMEOUT
    if isinstance(error, ConnectionRefusedError):
        return REFUSED
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return TLS
    return CONNECTION_FAILED
