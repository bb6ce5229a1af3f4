"""``govflow login|logout|whoami``: a person's token for a server, kept like ``gh`` keeps it."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import httpx
import typer

from govflow.entrypoints.cli_http import (
    Api,
    checked_url,
    credentials_path,
    current_server,
    current_token,
    read_credentials,
    refuse,
    write_credentials,
)
from govflow.entrypoints.console import EXIT_USAGE, JsonFlag, emit_json, err, fail, out, report

NIL = "00000000-0000-0000-0000-000000000000"


def whoami(client: Api) -> dict[str, Any]:
    """Who the server says the token is (``GET /v1/me``); a server without that route is
    asked a cheap authenticated read instead, which only tells whether the token is valid."""
    response = client.send("GET", "/v1/me")
    if response.status_code == 404 and _no_such_route(response):
        response = client.send("GET", f"/v1/notices/{NIL}")  # any valid token gets 404 here
        if response.status_code in (401, 403):
            refuse(response)
        return {}
    if response.is_error:
        refuse(response)
    answer: dict[str, Any] = response.json()
    return answer


def _no_such_route(response: httpx.Response) -> bool:
    try:
        return bool(response.json().get("detail") == "Not Found")
    except (ValueError, AttributeError):
        return False


def describe(who: dict[str, Any]) -> str:
    if not who:
        return "the token's holder"
    return f"{who.get('holder', '?')} of council {who.get('council', '?')}"


def login(
    server: Annotated[
        str | None, typer.Option(help="The govflow server (default: the current one).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="The token (gf_...); without it, read from stdin or a prompt."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign in to a govflow server with your token; it is checked, then kept (mode 0600)."""
    url = checked_url(server) if server else current_server()
    if token is None:
        if sys.stdin.isatty():
            token = typer.prompt("token", hide_input=True, err=True)
        else:
            token = sys.stdin.readline()
    token = token.strip()
    if not token:
        fail("give the token with --token, on stdin or at the prompt", "auth.no_token", EXIT_USAGE)
    with Api(url, token) as client:
        who = whoami(client)
    stored = read_credentials()
    stored["server"] = url
    stored.setdefault("tokens", {})[url] = token
    path = write_credentials(stored)
    report(
        as_json,
        {"server": url, "credentials": str(path), **who},
        f"signed in to {url} as {describe(who)}; the token is kept in {path}",
    )
    if os.environ.get("GOVFLOW_TOKEN"):
        err.print("note: GOVFLOW_TOKEN is set and is used instead of this token while it is set")


def logout(
    server: Annotated[
        str | None, typer.Option(help="The server to sign out of (default: the current one).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Forget the token kept for a server (the token stays valid until the clerk revokes it)."""
    url = checked_url(server) if server else current_server()
    stored = read_credentials()
    forgotten = stored.get("tokens", {}).pop(url, None) is not None
    if forgotten:
        if stored.get("server") == url:
            stored.pop("server")
        if stored.get("tokens") or stored.get("server"):
            write_credentials(stored)
        else:
            credentials_path().unlink(missing_ok=True)
    report(
        as_json,
        {"server": url, "signed_out": forgotten},
        f"signed out of {url}" if forgotten else f"no token was kept for {url}",
    )


def whoami_command(as_json: JsonFlag = False) -> None:
    """The server, where the token comes from, and whose it is."""
    url = current_server()
    source = "GOVFLOW_TOKEN" if os.environ.get("GOVFLOW_TOKEN") else str(credentials_path())
    with Api(url, current_token(url)) as client:
        who = whoami(client)
    if as_json:
        emit_json({"server": url, "token_from": source, **who})
        return
    out.print(f"{describe(who)} at {url} (token from {source})", highlight=False)
