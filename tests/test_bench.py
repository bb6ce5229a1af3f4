"""The benchmark suite's moving parts still run (tiny sizes; figures are `make bench`'s job)."""

from __future__ import annotations

from govflow.bench import cycle, live, pages
from govflow.bench.table import rows


def test_full_cycles_and_the_bare_workflow_run_on_the_dev_server() -> None:
    figures = cycle.measure(items=2)["full_cycle"]
    assert figures["items"] == 2 and figures["activities_per_item"] > 10
    assert figures["govflow_items_per_s"] > 0 and figures["bare_items_per_s"] > 0


def test_ballots_through_a_live_govflow_up_and_raw_saves_are_measured() -> None:
    figures = live.live_ballots("sqlite", ballots=16, clients=4)
    assert figures["ballots"] == 16 and figures["clients"] == 4
    assert len(figures["raw_before_after_per_s"]) == 2
    assert figures["live_per_s"] > 0 and figures["raw_saves_per_s"] > 0 and figures["ratio"] > 0


def test_app_and_board_pages_are_read_by_signed_in_readers_on_a_live_server() -> None:
    """Every app and board page answers each reader (with their session) on a live server."""
    figures = pages.page_latency(readers=3, notices=20, rounds=1, think=(0, 0))
    assert figures["requests_per_page"] == 3
    assert figures["app_item_p95_ms"] > 0 and figures["board_notices_p95_ms"] > 0
    assert figures["worst_p95_ms"] >= figures["app_tasks_p95_ms"]


def test_the_table_names_every_target() -> None:
    results = {
        "ballots_sqlite": {"application_per_s": 10, "raw_saves_per_s": 15, "ratio": 0.67},
        "live_ballots_sqlite": {
            "clients": 8,
            "live_per_s": 9,
            "raw_saves_per_s": 15,
            "ratio": 0.6,
            "server_cpu_ms_per_ballot": 1.1,
        },
        "tally_40000": {"seconds": 0.4, "peak_mib": 14.0},
        "audit_verify": {"events_per_s": 150_000, "raw_read_per_s": 400_000, "ratio": 0.37},
        "history_10000": {
            "history_page_1000_ms": 5.0,
            "whole_history_ms": 70.0,
            "raw_read_ms": 25.0,
            "as_of_middle_ms": 12.0,
            "as_of_first_ms": 105.0,
        },
        "board_10000": {"council_page_ms": 7.0, "healthz_baseline_ms": 2.0, "first_load_ms": 250},
        "full_cycle": {"govflow_items_per_s": 2.0, "bare_items_per_s": 2.1, "ratio": 0.95},
        "pages_live": {
            "readers": 50,
            "worst_p95_ms": 40.0,
            "healthz_p95_ms": 4.0,
            "worst_vs_healthz": 10.0,
        },
    }
    table = rows(results)
    assert [row[3].split(":")[-1].strip() for row in table if ":" in row[3]] == ["met"] * 8
    results["tally_40000"]["seconds"] = 1.5
    assert any("MISSED" in row[3] for row in rows(results))
    results["live_ballots_sqlite"]["ratio"] = 0.13
    assert any("live" in row[0] and "MISSED" in row[3] for row in rows(results))


def test_api_start_up_on_a_long_log_is_measured_against_a_short_one() -> None:
    from govflow.bench import startup

    figures = startup.measure(events=3_000, say=lambda _: None, spending=25, tries=1)[
        "startup_3000"
    ]
    assert figures["events"] == 3_000
    assert figures["api_start_s"] > 0 and figures["baseline_start_s"] > 0
    assert figures["catch_up_per_s"] > 0
