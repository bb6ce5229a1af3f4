"""The short table ``make bench`` prints: each figure, its same-run baseline, its target."""

from typing import Any


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, measured, baseline, target and whether it is met)."""

    def met(ok: bool) -> str:
        return "met" if ok else "MISSED"

    out: list[tuple[str, str, str, str]] = []
    for kind in ("sqlite", "postgres"):
        b = r.get(f"ballots_{kind}", {})
        if "ratio" in b:
            out.append(
                (
                    f"ballots/s, application, {kind}",
                    f"{b['application_per_s']:,}",
                    f"raw saves {b['raw_saves_per_s']:,} (ratio {b['ratio']})",
                    f">= 0.5: {met(b['ratio'] >= 0.5)}",
                )
            )
        live = r.get(f"live_ballots_{kind}", {})
        if "ratio" in live:
            out.append(
                (
                    f"ballots/s, live govflow up ({live['clients']} clients), {kind}",
                    f"{live['live_per_s']:,}"
                    + (
                        f" ({live['server_cpu_ms_per_ballot']} ms server CPU each)"
                        if "server_cpu_ms_per_ballot" in live
                        else ""
                    ),
                    f"raw saves {live['raw_saves_per_s']:,} (ratio {live['ratio']})",
                    f">= 0.5: {met(live['ratio'] >= 0.5)}",
                )
            )
        a = r.get(f"api_ballots_{kind}", {})
        if "api_per_s" in a:
            out.append(
                (
                    f"ballots/s, HTTP API, {kind}",
                    f"{a['api_per_s']:,}",
                    f"raw saves {a['raw_saves_per_s']:,} (ratio {a['api_vs_raw']})",
                    "(no target)",
                )
            )
    t = r["tally_40000"]
    out.append(
        (
            "tally of 40,000 owners (area-weighted)",
            f"{t['seconds']} s, {t['peak_mib']} MiB",
            "",
            f"< 1 s: {met(t['seconds'] < 1)}",
        )
    )
    v = r["audit_verify"]
    out.append(
        (
            "audit verify, events/s",
            f"{v['events_per_s']:,}",
            f"raw read {v['raw_read_per_s']:,} (ratio {v['ratio']})",
            f">= 100,000: {met(v['events_per_s'] >= 100_000)}",
        )
    )
    h = r["history_10000"]
    out.append(
        (
            "history page (1,000 of 10,000 events)",
            f"{h['history_page_1000_ms']} ms",
            f"whole history {h['whole_history_ms']} ms, raw read {h['raw_read_ms']} ms",
            f"< 50 ms: {met(h['history_page_1000_ms'] < 50)}",
        )
    )
    out.append(
        (
            "state as of a past time (10,000 events)",
            f"{h['as_of_middle_ms']} ms",
            f"first query, taking snapshots: {h['as_of_first_ms']} ms",
            f"< 50 ms: {met(h['as_of_middle_ms'] < 50)}",
        )
    )
    board = r["board_10000"]
    pages = {k: v for k, v in board.items() if k.endswith("_page_ms") or k == "notices_atom_ms"}
    slowest = max(pages.values())
    out.append(
        (
            "board pages with 10,000 notices",
            f"slowest {slowest} ms",
            f"/healthz {board['healthz_baseline_ms']} ms; first load {board['first_load_ms']} ms",
            f"< 100 ms: {met(slowest < 100)}",
        )
    )
    live = r.get("pages_live", {})
    if live:
        out.append(
            (
                f"app and board pages, {live['readers']} signed-in readers, live (p95)",
                f"slowest {live['worst_p95_ms']} ms",
                f"/healthz p95 {live['healthz_p95_ms']} ms (ratio {live['worst_vs_healthz']})",
                f"< 100 ms: {met(live['worst_p95_ms'] < 100)}",
            )
        )
    if "startup_1000000" in r:
        s = r["startup_1000000"]
        out.append(
            (
                f"API process start-up + first list, log of {s['events']:,} records",
                f"{s['api_start_s']} s",
                f"same on a log of the app's records only {s['baseline_start_s']} s "
                f"(ratio {s['ratio']}); the directory's one-time catch-up "
                f"{s['catch_up_s']} s ({s['catch_up_per_s']:,} records/s)",
                f"< 2 s: {met(s['api_start_s'] < 2)}",
            )
        )
    if "merkle_1000000" in r:
        out.extend(merkle_rows(r["merkle_1000000"]))
    if "sealing_sqlite" in r:
        out.extend(sealing_rows(r["sealing_sqlite"]))
    c = r.get("full_cycle", {})
    if c:
        out.append(
            (
                "full five-stage cycles/s",
                str(c["govflow_items_per_s"]),
                f"bare workflow {c['bare_items_per_s']} (ratio {c['ratio']})",
                "(no target)",
            )
        )
    return out


def merkle_rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The Merkle tree's rows (govflow.bench.merkle): appends, and each kind of proof."""

    def met(ok: bool) -> str:
        return "met" if ok else "MISSED"

    out: list[tuple[str, str, str, str]] = []
    out.append(
        (
            f"Merkle appends/s ({m['leaves']:,}-leaf tree, leaf hashed)",
            f"{m['append_per_s']:,} (Frontier: {m['frontier_append_per_s']:,})",
            f"bare leaf SHA-256 {m['bare_leaf_hash_per_s']:,} (ratio {m['append_vs_bare']})",
            f">= 5,000 (tree part of sealing): {met(m['append_per_s'] >= 5_000)}",
        )
    )
    for kind in ("inclusion", "consistency"):
        p = m[kind]
        out.append(
            (
                f"{kind} proof, generated + verified ({m['leaves']:,} leaves)",
                f"{p['ms_per_proof']} ms, {p['max_hashes']} hashes ({p['max_bytes']} B) at most",
                f"as many bare node hashes {p['bare_hashes_ms_per_proof']} ms "
                f"(ratio {p['vs_bare_hashes']})",
                f"< 1 ms, <= 2 log2 n hashes: "
                f"{met(p['ms_per_proof'] < 1 and p['max_hashes'] <= 2 * p['log2_leaves'])}",
            )
        )
    return out


def sealing_rows(s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The verifiable log's rows (govflow.bench.merkle.sealing): sealing and verifying."""
    return [
        (
            f"records sealed/s, SQLite ({s['events']:,}; tree, signed checkpoints stored)",
            f"{s['sealed_per_s']:,}",
            f"reading the log {s['read_per_s']:,} (ratio {s['seal_vs_read']}); "
            f"audit chain {s['audit_chain_per_s']:,} (ratio {s['seal_vs_audit_chain']})",
            f">= 5,000: {'met' if s['sealed_per_s'] >= 5_000 else 'MISSED'}",
        ),
        (
            f"whole export verified/s, no database ({s['events']:,} records)",
            f"{s['verified_per_s']:,}",
            f"parsing its lines {s['parsed_per_s']:,} (ratio {s['verify_vs_parse']})",
            f">= 100,000: {'met' if s['verified_per_s'] >= 100_000 else 'MISSED'}",
        ),
    ]
