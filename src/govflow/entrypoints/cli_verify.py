"""``govflow verify``: check an export of the log against signed checkpoints, without the
database (anyone can run it: a resident, a witness, an auditor). Pure Python on
:mod:`govflow.transparency`; it opens no store and reads no settings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from govflow.entrypoints.console import EXIT_AUDIT, EXIT_INVALID, err, fail, report

if TYPE_CHECKING:
    from govflow.transparency.chain import ChainBinding

ExportArg = Annotated[
    Path, typer.Argument(help="The export (`govflow audit export`; '-' for stdin).")
]
NoteArg = Annotated[Path, typer.Argument(help="The checkpoint: a signed note, as published.")]
KeyOption = Annotated[
    list[str],
    typer.Option(
        "--key",
        help="The log's public key (name+id+key, as published; repeatable, e.g. a rotated key).",
    ),
]
WitnessOption = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="A witness's public key (`govflow witness keys`) that must have co-signed "
        "(repeatable; with --min-witnesses, one that may have).",
    ),
]
MinWitnessesOption = Annotated[
    int | None,
    typer.Option(
        "--min-witnesses",
        min=0,
        help="At least this many of the --witness keys must have co-signed validly (fails "
        "with verify.too_few_witnesses); unset: every one of them.",
    ),
]
InclusionOption = Annotated[
    int | None, typer.Option("--inclusion", help="Also prove this record (its notification id).")
]
ConsistencyOption = Annotated[
    Path | None,
    typer.Option("--consistency", help="An older checkpoint note: check the log only grew since."),
]
ChainOption = Annotated[
    list[str] | None,
    typer.Option(
        "--expect-chain",
        help="POSITION:DIGEST of the old audit chain (as /board/audit shows a checkpoint): the "
        "export's first POSITION records must make it (repeatable; the operator's export).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
# Problems with what was given (not a verdict on the log): a key or note that does not parse.
_INPUT_CODES = (
    "note.malformed",
    "note.invalid_key",
    "note.ambiguous_key",
    "checkpoint.malformed",
    "verify.chain_withheld",
)


@contextmanager
def _counter(enabled: bool) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("verifying: {task.completed:,} records"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not (enabled and err.is_terminal),
    ) as bar:
        task = bar.add_task("verifying", total=None)
        yield lambda n: bar.advance(task, n)


@contextmanager
def _verdict_errors(as_json: bool) -> Iterator[None]:
    """A failed check as one line (or JSON) and its exit code: 3 when the log does not hold,
    6 when what was given cannot be read."""
    from govflow.transparency import TransparencyError

    try:
        yield
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename}", "io.error", EXIT_INVALID)
    except (ValueError, UnicodeDecodeError) as error:  # a proof file that is not JSON
        fail(f"unreadable input: {error}", "input.malformed", EXIT_INVALID)
    except TransparencyError as error:
        exit_with = EXIT_INVALID if error.code in _INPUT_CODES else EXIT_AUDIT
        if as_json:
            report(True, {"ok": False, **error.to_dict()}, "")
            raise typer.Exit(exit_with) from None
        fail(f"FAILED: {error.message}", error.code, exit_with)


def _chain_digest(given: str) -> ChainBinding:
    """POSITION:DIGEST (64 hex digits), as ``govflow audit verify --expect`` takes it."""
    from govflow.transparency.chain import ChainBinding

    position, _, digest = given.partition(":")
    try:
        raw = bytes.fromhex(digest)
        if not position.isdigit() or int(position) < 1 or len(raw) != 32:
            raise ValueError
    except ValueError:
        fail(
            f"--expect-chain takes POSITION:DIGEST (64 hex digits), not {given!r}",
            "input.malformed",
            EXIT_INVALID,
        )
    return ChainBinding(int(position), raw)


def _open(path: Path) -> IO[bytes]:
    return sys.stdin.buffer if str(path) == "-" else path.open("rb")


def verify(
    export: ExportArg,
    checkpoint: NoteArg,
    key: KeyOption,
    witness: WitnessOption = None,
    min_witnesses: MinWitnessesOption = None,
    inclusion: InclusionOption = None,
    consistency: ConsistencyOption = None,
    expect_chain: ChainOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify an export against a signed checkpoint: the signature (and witnesses'), every
    record's leaf and the root; optionally one record's inclusion and an older checkpoint's
    consistency. Exit 0 when it holds, 3 when the log does not match, 6 on unusable input."""
    from govflow.transparency import Verifier, verifier_from_vkey
    from govflow.transparency.export_verify import verify_export

    with _verdict_errors(as_json):
        log_keys = [Verifier.from_vkey(k) for k in key]
        witness_keys = [verifier_from_vkey(k) for k in witness or []]
        note = checkpoint.read_bytes()
        older = consistency.read_bytes() if consistency is not None else None
        kept = [_chain_digest(given) for given in expect_chain or []]
        with _open(export) as lines, _counter(not as_json) as advance:
            verdict = verify_export(
                lines,
                note,
                log_keys,
                witness_keys=witness_keys,
                min_witnesses=min_witnesses,
                inclusion=inclusion,
                older_note=older,
                chain_digests=kept,
                progress=advance,
            )
    c = verdict.checkpoint
    lines_out = [
        f"ok: {verdict.checked:,} records make the root of checkpoint {c.size} of {c.origin}, "
        f"signed by its key"
        + (f" and {', '.join(verdict.witnesses)}" if verdict.witnesses else ""),
    ]
    if verdict.withheld:
        lines_out.append(
            f"{verdict.withheld:,} of them withheld (commitment only): in the log at their "
            "place and unchanged since sealed, their content not shown or checked"
        )
    if verdict.chain is not None:
        lines_out.append(
            f"it binds the old audit chain's digest after record {verdict.chain.position}: "
            + (
                "recomputed from the export, the same"
                if verdict.chain_checked
                else "not checked (the export withholds a record before it)"
            )
        )
    for digest in kept:
        lines_out.append(
            f"the old audit chain's digest {digest.digest.hex()[:16]}… at record "
            f"{digest.position}: recomputed from the export, the same"
        )
    if verdict.beyond:
        lines_out.append(f"{verdict.beyond:,} later records are not in this checkpoint (unchecked)")
    if verdict.inclusion is not None:
        i = verdict.inclusion
        lines_out.append(
            f"record {i.notification_id} ({i.topic}) is leaf {i.leaf_index}: its inclusion "
            f"proof ({i.proof_length} hashes) leads to the signed root"
        )
    if verdict.older is not None:
        lines_out.append(
            f"checkpoint {verdict.older.size} is a prefix of checkpoint {c.size}: consistent"
        )
    data = {
        "ok": True,
        "origin": c.origin,
        "size": c.size,
        "root": c.root.hex(),
        "checked": verdict.checked,
        "beyond": verdict.beyond,
        "withheld": verdict.withheld,
        "witnesses": list(verdict.witnesses),
        "inclusion": verdict.inclusion.__dict__ if verdict.inclusion else None,
        "consistent_with": verdict.older.size if verdict.older else None,
        "audit_chain": (
            {
                "position": verdict.chain.position,
                "digest": verdict.chain.digest.hex(),
                "checked": verdict.chain_checked,
            }
            if verdict.chain
            else None
        ),
        "expected_chain": [{"position": d.position, "digest": d.digest.hex()} for d in kept],
    }
    report(as_json, data, "\n".join(lines_out))


ProofArg = Annotated[
    Path, typer.Argument(help="A proof as the log serves it (/v1/log/proofs/..., JSON).")
]
RecordOption = Annotated[
    Path | None,
    typer.Option(
        "--record",
        help="Inclusion: the record's line of an export (its own file); by default the public "
        "line the proof carries.",
    ),
]
OldOption = Annotated[
    Path | None, typer.Option("--old", help="Consistency: the older checkpoint note.")
]


def verify_proof(
    checkpoint: NoteArg,
    proof: ProofArg,
    key: KeyOption,
    record: RecordOption = None,
    old: OldOption = None,
    witness: WitnessOption = None,
    min_witnesses: MinWitnessesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check one record (--record, with an inclusion proof) or an older checkpoint (--old,
    with a consistency proof) against a signed checkpoint, with a proof the log served: no
    export needed. Exit 0 when it holds, 3 when not, 6 on unusable input."""
    import json

    from govflow.transparency import Verifier, verifier_from_vkey
    from govflow.transparency.export_verify import (
        check_consistency_proof,
        check_inclusion_proof,
    )

    with _verdict_errors(as_json):
        log_keys = [Verifier.from_vkey(k) for k in key]
        witness_keys = [verifier_from_vkey(k) for k in witness or []]
        served = json.loads(proof.read_bytes())
        if not isinstance(served, dict) or ("leaf_index" in served) == ("old_size" in served):
            fail("not a proof from /v1/log/proofs/...", "input.malformed", EXIT_INVALID)
        if "leaf_index" in served:
            if record is None and not isinstance(served.get("record"), str):
                fail("an inclusion proof needs --record", "input.malformed", EXIT_INVALID)
            line = None  # the record line the proof carries
            if record is not None:
                line = next((x for x in record.read_bytes().splitlines() if x.strip()), b"")
            found = check_inclusion_proof(
                line, checkpoint.read_bytes(), served, log_keys, witness_keys, min_witnesses
            )
            report(
                as_json,
                {"ok": True, "inclusion": found.__dict__},
                f"ok: record {found.notification_id} ({found.topic}) is leaf "
                f"{found.leaf_index} of checkpoint {served['tree_size']}, signed",
            )
            return
        if old is None:
            fail("a consistency proof needs --old", "input.malformed", EXIT_INVALID)
        older, newer = check_consistency_proof(
            old.read_bytes(), checkpoint.read_bytes(), served, log_keys
        )
        report(
            as_json,
            {"ok": True, "old_size": older.size, "new_size": newer.size},
            f"ok: checkpoint {older.size} is a prefix of checkpoint {newer.size}: consistent",
        )
