"""``govflow evidence import``: the operator moves the files kept in a directory into the event
store's database, before switching to ``GOVFLOW_EVIDENCE_STORE=database``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govflow.entrypoints.console import EXIT_INVALID, JsonFlag, fail, offline, report

if TYPE_CHECKING:
    from govflow.application import Governance

evidence_app = typer.Typer(
    help="(Operator) Uploaded files (meeting evidence, 委托书 scans), kept by sha256.",
    no_args_is_help=True,
)


@evidence_app.command("import")
def import_directory(
    directory: Annotated[
        Path | None,
        typer.Argument(help="The directory of files named by sha256 (default: DATA_DIR/evidence)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Copy the files kept in a directory into the event store's database (where
    GOVFLOW_EVIDENCE_STORE=database keeps them), each checked against its sha256; files
    already there are skipped, so it is safe to run again."""
    from govflow.application.evidence_store import (
        DirectoryEvidence,
        copy_evidence,
        database_evidence,
    )
    from govflow.bootstrap import Settings

    source = directory or Settings().data_dir / "evidence"
    if not source.is_dir():
        fail(f"{source} is not a directory", "input.invalid", EXIT_INVALID)
    files = DirectoryEvidence(source)

    def run(app: Governance) -> int:
        return copy_evidence(files, database_evidence(app))

    copied = offline(run)
    report(
        as_json,
        {"directory": str(source), "copied": copied},
        f"copied {copied} file(s) from {source} into the database",
    )
