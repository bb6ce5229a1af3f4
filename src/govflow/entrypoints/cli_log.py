"""``govflow audit seal``: the operator seals the log now (what the worker does every few
seconds) and gets the newest signed checkpoint, to publish or to hand to ``govflow verify``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govflow.entrypoints.console import EXIT_INVALID, JsonFlag, fail, offline, report

if TYPE_CHECKING:
    from govflow.application import Governance
    from govflow.application.log_store import StoredCheckpoint


def seal(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the checkpoint note here.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """(Operator) Seal every new record into the verifiable log with GOVFLOW_LOG_SIGNING_KEY
    and print the newest signed checkpoint (safe to run beside a running worker). A tree sealed
    with v1 leaves (before salted commitments) is superseded: its checkpoints are kept aside,
    listed as superseded, and the whole log is sealed again with v2 leaves."""
    from govflow.application.sealer import LogProofs, Sealer
    from govflow.bootstrap import Settings, build_log_signer

    signer = build_log_signer(Settings())
    if signer is None:
        fail("set GOVFLOW_LOG_SIGNING_KEY (govflow keys new)", "settings.missing", EXIT_INVALID)

    def run(app: Governance) -> tuple[int, int, StoredCheckpoint]:
        sealed = 0

        def count(n: int) -> None:
            nonlocal sealed
            sealed += n

        sealer = Sealer.of(app, signer)
        sealer.seal(progress=count)
        return sealed, sealer.superseded, LogProofs.of(app).get_checkpoint()

    sealed, superseded, checkpoint = offline(run)
    if out is not None:
        out.write_text(checkpoint.note)
    report(
        as_json,
        {
            "sealed": sealed,
            "size": checkpoint.size,
            "notification_id": checkpoint.notification_id,
            "note": checkpoint.note,
            "superseded": superseded,
        },
        (
            f"the v1 tree was superseded ({superseded} checkpoint(s) kept aside); "
            if superseded
            else ""
        )
        + f"sealed {sealed} new record(s); checkpoint {checkpoint.size}:\n{checkpoint.note}",
    )
