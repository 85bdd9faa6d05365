"""`papertrail search` as a user runs it: a whole process per query, and where its time goes.

For each of bench_snapshot's 20 typical searches (the whole-arXiv list), in
--rounds interleaved rounds:

- the whole command as a new process (`python -m papertrail --db DB search …`,
  output to a pipe), wall time from outside;
- the interpreter alone (`python -c pass`), and the interpreter with the CLI's
  imports (`python -c "import papertrail.cli"`), each once per round: the part
  of every command that is not the search;
- the same query in one warm process (CliRunner, whole command, no start-up),
  median of 3: the in-process figure earlier sessions recorded.

Percentiles are over every (query, round) sample. The load average is written
before and after: the build machine is shared.

    python benchmarks/bench_search_process.py DB [--rounds 3] [--json OUT]

Never point it at a database you cannot lose: opening it migrates it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_reading import pct, time_queries  # noqa: E402
from bench_snapshot import SEARCH_QUERIES, _loadavg  # noqa: E402


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(f"{cmd} failed: {result.stderr[-1000:]}")
    return elapsed


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": pct(values, 50) * 1000,
        "p95_ms": pct(values, 95) * 1000,
        "min_ms": min(values) * 1000,
        "max_ms": max(values) * 1000,
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    py = sys.executable
    base = [py, "-m", "papertrail", "--db", str(args.db), "--feeds", str(ROOT / "feeds.yml")]
    wall(base + ["search", "quantum"])  # migrate once, warm the page cache
    load_before = _loadavg()
    samples: dict[str, list[float]] = {"search": [], "python -c pass": [], "import cli": []}
    for r in range(args.rounds):
        samples["python -c pass"].append(wall([py, "-c", "pass"]))
        samples["import cli"].append(wall([py, "-c", "import papertrail.cli"]))
        for q in SEARCH_QUERIES if r % 2 == 0 else SEARCH_QUERIES[::-1]:
            samples["search"].append(wall(base + ["search", *q]))
        print(f"round {r + 1}: load {_loadavg()}", flush=True)
    in_process = time_queries(args.db, "search", SEARCH_QUERIES, 3)
    out = {name: summary(v) for name, v in samples.items()}
    out["in-process search"] = summary(in_process)
    out["load"] = f"{load_before} -> {_loadavg()}"
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
