"""The CLI as a client of the govflow HTTP API: which server, whose token, and one way to call.

The server and token come from ``GOVFLOW_SERVER`` / ``GOVFLOW_TOKEN`` if set, else from what
``govflow login`` stored in ``$XDG_CONFIG_HOME/govflow/credentials.json`` (or
``~/.config/govflow/credentials.json``, mode 0600), else the server is the one ``govflow up``
serves with this machine's settings (``http://127.0.0.1:8000`` by default). An answer of the API
that is an error (RFC 9457 problem+json with a stable ``code``) becomes one line on stderr and
the exit code of its class (see :mod:`govflow.entrypoints.console`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from govflow.bootstrap import Settings
from govflow.entrypoints.console import (
    EXIT_DENIED,
    EXIT_INVALID,
    EXIT_SERVER,
    exit_code,
    fail,
)

TIMEOUT = httpx.Timeout(60.0, connect=5.0)  # a write may wait on the item's workflow


def credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "govflow" / "credentials.json"


def read_credentials() -> dict[str, Any]:
    """``{"server": URL, "tokens": {URL: token}}`` as ``govflow login`` stored it (or empty)."""
    path = credentials_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        fail(
            f"cannot read {path}: {error}; run `govflow logout` or remove it",
            "auth.credentials_unreadable",
            EXIT_INVALID,
        )
    return data if isinstance(data, dict) else {}


def write_credentials(data: dict[str, Any]) -> Path:
    """Replace the credentials file, readable by its owner only (0600, directory 0700)."""
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2)
    os.chmod(partial, 0o600)  # in case it existed with wider permissions
    os.replace(partial, path)
    return path


def checked_url(url: str) -> str:
    """``url`` without a trailing slash, refused unless it is an http(s) URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        fail(
            f"{url!r} is not a server URL like http://127.0.0.1:8000", "input.invalid", EXIT_INVALID
        )
    return url.rstrip("/")


def local_server() -> str:
    """The server ``govflow up`` serves with this machine's settings."""
    settings = Settings()
    # a server listening on every address is reached on the loopback one
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(settings.http_host, settings.http_host)
    return f"http://{host}:{settings.http_port}"


def operator_server() -> str:
    """The server of this machine's ``govflow up`` (or ``GOVFLOW_SERVER``), for commands that
    also write to this machine's store (the demo)."""
    chosen = os.environ.get("GOVFLOW_SERVER")
    return checked_url(chosen) if chosen else local_server()


def current_server() -> str:
    chosen = os.environ.get("GOVFLOW_SERVER") or read_credentials().get("server")
    return checked_url(str(chosen)) if chosen else local_server()


def current_token(server: str) -> str | None:
    return os.environ.get("GOVFLOW_TOKEN") or read_credentials().get("tokens", {}).get(server)


def council_path(code: str, *parts: object) -> str:
    """``/v1/councils/{code}/...`` with every part quoted."""
    return "/".join(["/v1/councils", *(quote(str(p), safe="") for p in (code, *parts))])


class Api:
    """Calls to one govflow server with one bearer token; errors end the command."""

    def __init__(self, server: str, token: str | None) -> None:
        self.server = server
        self.token = token
        self._http = httpx.Client(base_url=server, timeout=TIMEOUT)

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """The server's raw answer (only an unreachable server ends the command here)."""
        if self.token is None:
            fail(
                f"not signed in to {self.server}: run `govflow login` (or set GOVFLOW_TOKEN)",
                "auth.not_signed_in",
                EXIT_DENIED,
            )
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self._http.request(
                method,
                path,
                json=body,
                params=query,
                content=content,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.TimeoutException:
            fail(
                f"the govflow server at {self.server} did not answer in time",
                "server.timeout",
                EXIT_SERVER,
            )
        except httpx.HTTPError:
            fail(
                f"cannot reach the govflow server at {self.server}: is `govflow up` running?",
                "server.unreachable",
                EXIT_SERVER,
            )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The answer's JSON; an error answer ends the command with its code."""
        response = self.send(method, path, **kwargs)
        if response.is_error:
            refuse(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            fail(
                f"{self.server} did not answer like a govflow server (is it the right URL?)",
                "server.unexpected",
                EXIT_SERVER,
            )

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body={} if body is None else body)


def refuse(response: httpx.Response) -> None:
    """End the command with the API's problem: ``error: <detail> (<code>)``."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or "code" not in problem:
        fail(
            f"the server answered {response.status_code} {response.reason_phrase}",
            f"http.{response.status_code}",
            exit_code(response.status_code),
        )
    detail = str(problem.get("detail") or problem.get("title") or problem["code"])
    problems = problem.get("errors") or []
    if problems:
        detail += ": " + "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', []) if p != 'body')}: {e.get('msg')}"
            for e in problems[:3]
        )
    fail(detail, str(problem["code"]), exit_code(response.status_code))


def api() -> Api:
    """A client of the current server with the current token (see the module's docstring)."""
    server = current_server()
    return Api(server, current_token(server))


def get(path: str, **params: Any) -> Any:
    with api() as client:
        return client.get(path, **params)


def post(path: str, body: Any = None) -> Any:
    with api() as client:
        return client.post(path, body)


def call(method: str, path: str, **kwargs: Any) -> Any:
    with api() as client:
        return client.call(method, path, **kwargs)
