"""``govflow witness``: run by a third party (the street office, the supervisory committee, a
neighbouring council) against a govflow server. Each round it fetches the log's newest
checkpoint, checks the log's signature and that the checkpoint extends the last one this
witness co-signed (with the log's consistency proof), co-signs it (c2sp.org/tlog-cosignature)
and posts the cosignature back. A log that does not extend what the witness saw is refused and
never co-signed; the witness's state (a small JSON file, replaced atomically) stays as it was.

Exit codes: 0 co-signed (or nothing new), 3 the log was refused (``witness.inconsistent``,
``witness.rollback``, a checkpoint not signed by the log's key), 4 the server refused the
cosignature (``witness.unknown``: the council does not list this witness's key), 6 unusable
input (a key, a state file), 7 the server cannot be reached or failed.
"""

from __future__ import annotations

import json
import os
import time
from base64 import b64decode
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from govflow.entrypoints.console import (
    EXIT_AUDIT,
    EXIT_INVALID,
    EXIT_SERVER,
    JsonFlag,
    err,
    exit_code,
    fail,
    out,
    report,
)

if TYPE_CHECKING:
    from govflow.transparency import Cosigner, Verifier, WitnessState

witness_app = typer.Typer(
    help="Witness a govflow log: co-sign its checkpoints while it only grows.",
    no_args_is_help=True,
)
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# What the log did wrong (a verdict), apart from what was given that cannot be used.
_REFUSALS = ("witness.", "note.invalid_signature", "note.unverified", "checkpoint.malformed")


class ServerError(Exception):
    """The server answered with an error, or could not be reached."""

    def __init__(self, message: str, code: str, exit_with: int) -> None:
        super().__init__(message)
        self.message, self.code, self.exit_with = message, code, exit_with


@witness_app.command("keys")
def keys(
    name: Annotated[
        str,
        typer.Option(help="The witness's name, e.g. street-office.example/witness (no spaces)."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Print a new witness key (GOVFLOW_WITNESS_KEY, secret: keep it on the witness's machine)
    and its public key, for the council's GOVFLOW_LOG_WITNESSES."""
    from govflow.transparency import TransparencyError, generate_witness_key

    try:
        skey, vkey = generate_witness_key(name)
    except TransparencyError as error:
        raise typer.BadParameter(error.message, param_hint="--name") from None
    if as_json:
        report(True, {"GOVFLOW_WITNESS_KEY": skey, "witness_public_key": vkey}, "")
        return
    out.print(f"GOVFLOW_WITNESS_KEY={skey}", highlight=False, soft_wrap=True)
    out.print(
        f"# the witness's public key, for the council's GOVFLOW_LOG_WITNESSES: {vkey}",
        highlight=False,
        soft_wrap=True,
    )


@witness_app.command("run")
def run(
    server: Annotated[str, typer.Argument(help="The govflow server, e.g. https://gov.example.")],
    key: Annotated[
        str,
        typer.Option(
            envvar="GOVFLOW_WITNESS_KEY",
            help="The witness's secret key (`govflow witness keys`); better from the environment.",
            show_default=False,
        ),
    ],
    state: Annotated[
        Path, typer.Option(help="Where the witness keeps what it last co-signed (JSON).")
    ] = Path("witness-state.json"),
    log_key: Annotated[
        str | None,
        typer.Option(
            help="The log's public key, as published (needed on the first run; then kept in "
            "the state file, and must match it)."
        ),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=1, help="Seconds between rounds (without --once).")
    ] = 60,
    as_json: JsonFlag = False,
) -> None:
    """Co-sign the log's newest checkpoint if it extends the last one co-signed; without
    --once, go on every --interval seconds (an unreachable server is retried) until the log is
    refused (exit 3), the server refuses the cosignature (exit 4) or it is stopped."""
    from govflow.transparency import Cosigner, TransparencyError

    try:
        cosigner = Cosigner.from_skey(key)
    except TransparencyError as error:
        fail(f"GOVFLOW_WITNESS_KEY: {error.message}", error.code, EXIT_INVALID)
    kept = _read_state(state)
    log = _log_verifier(log_key, kept)
    with httpx.Client(base_url=_base(server), timeout=TIMEOUT) as http:
        while True:
            try:
                result = witness_round(http, cosigner, log, state)
            except TransparencyError as error:
                exit_with = EXIT_AUDIT if error.code.startswith(_REFUSALS) else EXIT_INVALID
                if as_json:
                    report(True, {"ok": False, **error.to_dict()}, "")
                    raise typer.Exit(exit_with) from None
                fail(f"REFUSED, not co-signed: {error.message}", error.code, exit_with)
            except ServerError as error:
                if once or error.exit_with != EXIT_SERVER:  # refused: trying again won't help
                    fail(error.message, error.code, error.exit_with)
                err.print(f"error: {error.message} ({error.code}); trying again", markup=False)
            else:
                report(as_json, {"ok": True, **result}, _describe(result))
            if once:
                return
            time.sleep(interval)


def witness_round(
    http: httpx.Client, cosigner: Cosigner, log: Verifier, state_path: Path
) -> dict[str, Any]:
    """One round: fetch, check, keep the new state, co-sign and post. Returns what was done.

    Raises:
        TransparencyError: the checkpoint is refused (nothing is co-signed or kept).
        ServerError: the server failed or refused the cosignature.
    """
    from govflow.transparency import check_extends, cosign, open_note

    state = _read_state(state_path)
    note = _get(http, "/v1/log/checkpoint", allow_missing=True)
    if note is None:
        return {"status": "empty", "size": 0}

    def proof(old: int, new: int) -> Sequence[bytes]:
        return _consistency_proof(http, old, new)

    checkpoint = check_extends(state, note, log, proof)
    if state is None or state.size != checkpoint.size:
        _write_state(state_path, checkpoint.origin, log, checkpoint.size, checkpoint.root, note)
    try:
        already = cosigner.name in open_note(note, [log, cosigner.verifier]).verified_by()
    except Exception:  # our own line does not verify over this note: co-sign it again
        already = False
    result = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": checkpoint.root.hex(),
        "previous_size": state.size if state is not None else None,
    }
    if already:
        return {"status": "unchanged", **result}
    _post(http, f"/v1/log/checkpoints/{checkpoint.size}/cosignatures", cosign(note, cosigner))
    return {"status": "cosigned", **result}


def _describe(result: dict[str, Any]) -> str:
    if result["status"] == "empty":
        return "nothing is sealed yet: nothing to co-sign"
    where = f"checkpoint {result['size']} of {result['origin']}"
    if result["status"] == "unchanged":
        return f"{where}: already co-signed, nothing new"
    since = result["previous_size"]
    grown = f" (consistent with {since})" if since else " (first checkpoint seen)"
    return f"co-signed {where}{grown}"


def _log_verifier(log_key: str | None, kept: WitnessState | None) -> Verifier:
    from govflow.transparency import TransparencyError, Verifier

    if log_key is None and kept is None:
        fail("give --log-key on the first run", "input.missing", EXIT_INVALID)
    try:
        verifier = Verifier.from_vkey((log_key or kept.log_key).strip())  # type: ignore[union-attr]
    except TransparencyError as error:
        fail(f"--log-key: {error.message}", error.code, EXIT_INVALID)
    if kept is not None and verifier.vkey != kept.log_key:
        fail(
            "--log-key is not the key in the state file (a new log identity: use a new state file)",
            "witness.key_mismatch",
            EXIT_INVALID,
        )
    return verifier


def _read_state(path: Path) -> WitnessState | None:
    from govflow.transparency import TransparencyError, WitnessState

    try:
        return WitnessState.from_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as error:
        fail(f"{error.strerror}: {path}", "io.error", EXIT_INVALID)
    except TransparencyError as error:
        fail(f"{path}: {error.message}", "witness.state_unreadable", EXIT_INVALID)


def _write_state(path: Path, origin: str, log: Verifier, size: int, root: bytes, note: str) -> None:
    """Replace the state file atomically: a crash leaves the old one or the new one whole."""
    from govflow.transparency import WitnessState

    text = WitnessState(origin, log.vkey, size, root, note).to_json()
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)


def _base(server: str) -> str:
    from govflow.entrypoints.cli_http import checked_url

    return checked_url(server)


def _consistency_proof(http: httpx.Client, old: int, new: int) -> list[bytes]:
    from govflow.transparency import InconsistentLogError

    body = _get(http, "/v1/log/proofs/consistency", {"from": old, "to": new}, allow_missing=True)
    if body is None:
        raise InconsistentLogError(
            "the log has no checkpoint of the size co-signed, so cannot prove it only grew",
            cosigned_size=old,
            size=new,
        )
    try:
        return [b64decode(h, validate=True) for h in json.loads(body)["proof"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ServerError(
            f"not a consistency proof: {error}", "server.malformed", EXIT_SERVER
        ) from None


def _get(
    http: httpx.Client, path: str, params: dict[str, Any] | None = None, allow_missing: bool = False
) -> str | None:
    answer = _call(lambda: http.get(path, params=params))
    if answer.status_code == 404 and allow_missing:
        return None
    _check(answer)
    return answer.text


def _post(http: httpx.Client, path: str, body: str) -> None:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    _check(_call(lambda: http.post(path, content=body.encode(), headers=headers)))


def _call(send: Any) -> httpx.Response:
    try:
        response: httpx.Response = send()
    except httpx.HTTPError as error:
        raise ServerError(
            f"the server cannot be reached: {error}", "server.unreachable", EXIT_SERVER
        ) from None
    return response


def _check(answer: httpx.Response) -> None:
    if answer.is_success:
        return
    try:
        problem = answer.json()
        code, message = str(problem["code"]), str(problem.get("detail") or problem["code"])
    except (ValueError, KeyError, TypeError):
        code, message = "http.error", f"HTTP {answer.status_code}"
    raise ServerError(message, code, exit_code(answer.status_code))
