"""`papertrail search` as a user runs it: a whole process per query, and where its time goes.

For each of bench_snapshot's 20 typical searches (the whole-arXiv list), in
--rounds interleaved rounds:

- the whole command as a new process (`python -m papertrail --db DB search …`,
  output to a pipe), wall time from outside;
- the interpreter alone (`python -c pass`), and the interpreter with the CLI's
  imports (`python -c "import papertrail.cli"`), each once per round: the part
  of every command that is not the search;
- the same query in one warm process (CliRunner, whole command, no start-up),
  median of 5, wall and CPU time: the in-process figure earlier sessions recorded.

Percentiles are over every (query, round) sample. The load average is written
before and after: the build machine is shared.

    python benchmarks/bench_search_process.py DB [--rounds 3] [--json OUT] [--anchor TREE]

--anchor TREE (repeatable): run the same searches from another checkout's papertrail/
(e.g. `git archive 1dc77e4 papertrail | tar -x -C /tmp/anchor`), interleaved with this
tree's, query by query (PYTHONPATH picks the tree); each anchor's output is compared
with this tree's, byte for byte, and every difference is reported.

Never point it at a database you cannot lose: opening it migrates it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_reading import pct  # noqa: E402
from bench_snapshot import SEARCH_QUERIES, _loadavg  # noqa: E402

CPU: dict[str, list[float]] = {}  # label -> CPU seconds (user + system) of each process


def wall(cmd: list[str], tree: Path = ROOT, label: str = "") -> tuple[float, str]:
    """Seconds the command took as a new process (PYTHONPATH: `tree`), and its output.
    Its CPU time (user + system, from the kernel's accounting: steadier than the wall
    time on a busy machine) goes into CPU[label]."""
    # Run in `tree` (`-m` puts the cwd first on sys.path), with bytecode caches written and
    # read as an installed copy has them (pip compiles at install): PYTHONDONTWRITEBYTECODE
    # in the caller's environment would make every run compile every module again.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(label or " ".join(cmd[1:3]), []).append(cpu)
    if result.returncode != 0:
        raise SystemExit(f"{cmd} failed: {result.stderr[-1000:]}")
    return elapsed, result.stdout + "\n--stderr--\n" + result.stderr


def in_process(db: Path, repeats: int) -> tuple[list[float], list[float]]:
    """Per query, the median wall and CPU seconds (this process's user + system) of the
    whole command in one warm process (CliRunner): the CPU figure holds on a busy machine."""
    from click.testing import CliRunner

    from papertrail.cli import cli

    runner = CliRunner()
    base = ["--db", str(db), "--feeds", str(ROOT / "feeds.yml"), "search"]
    runner.invoke(cli, base + SEARCH_QUERIES[0])  # warm: imports, page cache
    walls, cpus = [], []
    for q in SEARCH_QUERIES:
        w, c = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            result = runner.invoke(cli, base + q)
            w.append(time.perf_counter() - t0)
            c.append(time.process_time() - c0)
            if result.exit_code != 0:
                raise SystemExit(f"search {q} failed: {result.output}")
        walls.append(sorted(w)[len(w) // 2])
        cpus.append(sorted(c)[len(c) // 2])
        print(
            f"  in-process {' '.join(q):44} {walls[-1] * 1000:7.1f} ms  CPU {cpus[-1] * 1000:6.1f} ms"
        )
    return walls, cpus


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
    ap.add_argument("--anchor", type=Path, action="append", default=[])
    args = ap.parse_args(argv)
    py = sys.executable
    trees = {"this": ROOT} | {f"anchor {p.resolve().name}": p.resolve() for p in args.anchor}
    base = [py, "-m", "papertrail", "--db", str(args.db), "--feeds", str(ROOT / "feeds.yml")]
    for tree in trees.values():
        wall(base + ["search", "quantum"], tree)  # migrate once, warm the page cache, .pyc
    load_before = _loadavg()
    samples: dict[str, list[float]] = {"python -c pass": [], "import cli": []}
    per_query: dict[str, dict[str, list[float]]] = {}
    differ: set[str] = set()
    for r in range(args.rounds):
        samples["python -c pass"].append(wall([py, "-c", "pass"], label="python -c pass")[0])
        samples["import cli"].append(
            wall([py, "-c", "import papertrail.cli"], label="import cli")[0]
        )
        order = list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]
        for q in SEARCH_QUERIES if r % 2 == 0 else SEARCH_QUERIES[::-1]:
            outputs = {}
            for label, tree in order:
                seconds, outputs[label] = wall(base + ["search", *q], tree, f"search ({label})")
                samples.setdefault(f"search ({label})", []).append(seconds)
                per_query.setdefault(" ".join(q), {}).setdefault(label, []).append(seconds)
            differ |= {f"{' '.join(q)} ({k})" for k, v in outputs.items() if v != outputs["this"]}
        print(f"round {r + 1}: load {_loadavg()}", flush=True)
    for q, by_tree in per_query.items():
        print(f"  {q:44}", "  ".join(f"{k} {min(v) * 1000:6.1f}" for k, v in by_tree.items()))
    print("(min wall ms per query and tree)")
    walls, cpus = in_process(args.db, 5)
    out: dict = {name: summary(v) for name, v in samples.items()}
    out["in-process search"] = summary(walls)
    out["in-process search, CPU"] = summary(cpus)
    out["CPU time (user + system)"] = {k: summary(v) for k, v in CPU.items() if k in samples}
    out["output differs"] = sorted(differ)
    out["load"] = f"{load_before} -> {_loadavg()}"
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
