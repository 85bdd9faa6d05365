"""Whole `papertrail` commands as a user runs them (a new process each), this checkout
against another one (the anchor: e.g. the revision before a refactor), interleaved.

Each round runs every command once with this tree and once with the anchor's, in
alternating order, on the same demo reading list (the recorded fixture feeds
fetched from loopback, as the README's offline demo does). Reported: the median
and p90 wall time per command and tree over the rounds, the ratio, and the load
average before and after.

    git worktree add /tmp/anchor f54307e          # the revision to compare with
    python benchmarks/bench_commands.py --anchor /tmp/anchor [--rounds 20]

Both trees are byte-compiled first (`compileall`), so neither pays for compiling
its sources: an installed package has its .pyc files. The database schema must
be one both revisions read (no migration between them).
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, arguments after `papertrail --db DB --feeds FEEDS`); "{fresh}" gets an empty database.
COMMANDS = [
    ("--help", ["--help"]),
    ("list", ["list", "--limit", "20"]),
    ("search", ["search", "language model"]),
    ("show", ["show", "1"]),
    ("star", ["star", "5"]),
    ("unstar", ["unstar", "5"]),
    ("digest", ["digest", "--since", "2000-01-01", "--format", "json"]),
    ("fetch (unchanged, 304s)", ["fetch", "-q"]),
    ("fetch (new database)", ["fetch", "-q", "{fresh}"]),
]


def run(tree: Path, db: Path, feeds: Path, args: list[str], fresh: Path) -> float:
    if "{fresh}" in args:
        fresh.unlink(missing_ok=True)
        db, args = fresh, [a for a in args if a != "{fresh}"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "papertrail", "--db", str(db), "--feeds", str(feeds), *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{tree}: {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--anchor", type=Path, required=True, help="another checkout to compare with")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    trees = {"this": ROOT, "anchor": args.anchor.resolve()}
    for tree in trees.values():
        compileall.compile_dir(tree / "papertrail", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="bench-commands-"))
    feeds, db, fresh = work / "feeds.yml", work / "demo.db", work / "fresh.db"
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "serve_fixtures.py"), "--write", str(feeds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while not feeds.exists():
            time.sleep(0.1)
        time.sleep(0.3)
        run(ROOT, db, feeds, ["fetch", "-q"], fresh)  # the demo reading list
        times = _measure(trees, db, feeds, fresh, args.rounds)
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)
    _report(times, args.rounds, load_before=LOAD_BEFORE)


LOAD_BEFORE = os.getloadavg()


def _measure(
    trees: dict[str, Path], db: Path, feeds: Path, fresh: Path, rounds: int
) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        order = list(trees.items()) if r % 2 == 0 else list(reversed(trees.items()))
        for label, cmd in COMMANDS:
            for name, tree in order:
                times.setdefault((label, name), []).append(run(tree, db, feeds, cmd, fresh))
    return times


def _report(
    times: dict[tuple[str, str], list[float]], rounds: int, load_before: tuple[float, ...]
) -> None:
    print(f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()}")
    print(f"{rounds} rounds, interleaved; load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'command':<26}{'this p50':>10}{'p90':>8}{'anchor p50':>12}{'p90':>8}{'ratio':>8}")
    for label, _ in COMMANDS:
        this, anchor = times[(label, "this")], times[(label, "anchor")]
        p50, a50 = statistics.median(this), statistics.median(anchor)
        p90 = statistics.quantiles(this, n=10)[-1] * 1000
        a90 = statistics.quantiles(anchor, n=10)[-1] * 1000
        print(f"{label:<26}{p50 * 1000:>8.0f}ms{p90:>6.0f}ms{a50 * 1000:>10.0f}ms"
              f"{a90:>6.0f}ms{p50 / a50:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
