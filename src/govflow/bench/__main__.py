"""``make bench``: every figure against a baseline from the same run, into bench/results.json."""

import json
from pathlib import Path

from govflow.bench import cycle, store, web

RESULTS = Path("bench/results.json")


def main() -> None:
    results = store.run(lambda text: print(text, flush=True))
    results.update(web.run(lambda text: print(text, flush=True)))
    print("full cycles vs a bare workflow ...", flush=True)
    results.update(cycle.measure())
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for name, figures in results.items():
        print(f"{name:<18} " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    print(f"written to {RESULTS}")


main()
