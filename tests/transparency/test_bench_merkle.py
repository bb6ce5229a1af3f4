"""The Merkle bench runs and its figures reach ``make bench``'s table (tiny sizes here)."""

from __future__ import annotations

from govflow.bench import merkle
from govflow.bench.table import merkle_rows


def test_the_merkle_figures_are_measured_and_tabled() -> None:
    """A small tree gives every figure, and the table shows three met Merkle targets."""
    figures = merkle.measure(leaves=1_000, proofs=20)
    assert figures["append_per_s"] > 0 and figures["append_vs_bare"] > 0
    for kind in ("inclusion", "consistency"):
        assert 0 < figures[kind]["max_hashes"] <= 2 * figures[kind]["log2_leaves"]
        assert figures[kind]["ms_per_proof"] > 0
    table = [row for row in merkle_rows(figures) if "proof" in row[0]]
    assert len(table) == 2 and all(row[3].endswith("met") for row in table)


def test_the_sealing_figures_are_measured_and_tabled() -> None:
    """A small SQLite log is sealed and verified, and the table shows both rows."""
    from govflow.bench.table import sealing_rows

    figures = merkle.sealing(events=500)
    assert figures["events"] == 500 and figures["sealed_per_s"] > 0
    assert figures["seal_vs_read"] > 0 and figures["verify_vs_parse"] > 0
    assert [row[0].split(" ")[0] for row in sealing_rows(figures)] == ["records", "whole"]
