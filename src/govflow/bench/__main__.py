"""``make bench``: every figure against a baseline from the same run, into bench/results.json,
then a short table of the targets."""

import json
from pathlib import Path

from govflow.bench import cycle, live, merkle, pages, startup, store, web
from govflow.bench.table import rows

RESULTS = Path("bench/results.json")


def main() -> None:
    results = store.run(lambda text: print(text, flush=True))
    results.update(web.run(lambda text: print(text, flush=True)))
    results.update(live.run(lambda text: print(text, flush=True)))
    results.update(pages.run(lambda text: print(text, flush=True)))
    results.update(merkle.run(lambda text: print(text, flush=True)))
    results.update(startup.run(lambda text: print(text, flush=True)))
    print("full cycles vs a bare workflow ...", flush=True)
    results.update(cycle.measure())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    table = rows(results)
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in [("figure", "govflow", "baseline (same run)", "target"), *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"written to {RESULTS}")


main()
