"""The whole of arXiv in the reading list: import time and memory, then query times.

1. A synthetic snapshot of --papers papers (benchmarks/gen_arxiv_snapshot.py: the
   real schema and field lengths) is written unless --snapshot exists.
2. `papertrail import arxiv-snapshot` imports it into a fresh database, as its
   own process: wall time, and peak RSS summed over the process and its reader
   processes (sampled from /proc every 0.2 s).
3. `sqlite-utils insert bare.db papers FILE --nl`, the same file into a bare
   table (no FTS, no tags, no versions): the reference the importer is held to.
4. On the imported database, from one warm process (CliRunner, whole command):
   20 typical `search` queries and `digest --since 24h` (20 runs), median of
   --repeats each; Datasette's entries and reading_list pages and a search
   from the reading list's search box (in-process client, the real app
   `papertrail browse` serves); the file size.

    python benchmarks/bench_snapshot.py [--papers 2700000] [--workdir DIR] [--skip-baseline]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_reading import SEARCH_QUERIES as READING_QUERIES  # noqa: E402
from bench_reading import pct, time_queries  # noqa: E402

# bench_reading's 20 typical searches; the two that need a reader's history (notes,
# rank) give way to a physics word and a date-bounded one, as across all of arXiv.
_SWAP = {
    ("notes:reproduce",): ["quantum"],
    ("agent", "--sort", "rank"): ["lattice", "--since", "30d"],
}
SEARCH_QUERIES = [_SWAP.get(tuple(q), q) for q in READING_QUERIES]


def _tree_rss(pid: int) -> int:
    """RSS in bytes of `pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo += children.get(p, [])
    return total


def run_measured(cmd: list[str], **kw) -> tuple[float, int, subprocess.CompletedProcess]:
    """(wall seconds, peak tree RSS bytes, result) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    t.join()
    return wall, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def time_datasette(db: Path, repeats: int) -> dict[str, float]:
    import asyncio

    from papertrail.browse import database_name, make_datasette

    ds = make_datasette(db, triage=False)
    name = database_name(db)
    out = {}
    for page in (
        f"/{name}/entries",
        f"/{name}/reading_list",
        f"/{name}/reading_list?_search=quantum",  # the search box, a word in ~1 M papers
    ):

        async def get(path: str = page) -> int:
            return (await ds.client.get(path)).status_code

        asyncio.run(get())  # warm
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            status = asyncio.run(get())
            times.append(time.perf_counter() - t0)
        out[page] = statistics.median(times)
        print(f"  datasette {page:45} {out[page] * 1000:8.1f} ms (HTTP {status})", flush=True)
    return out


def _children_cpu() -> float:
    """User + system CPU seconds of every child process waited for so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def interleaved_rounds(
    snapshot: Path, workdir: Path, rounds: int, python: str, anchor_tree: Path | None
) -> dict:
    """`import arxiv-snapshot` and `sqlite-utils insert --nl --pk id` of the same file
    (and the import with `anchor_tree`'s code, the revision before, if given),
    alternating, each a whole process into a fresh file: wall, peak tree RSS, load
    average before and after each (issue 19: the machine is shared)."""
    db, bare = workdir / "papertrail.db", workdir / "bare.db"
    tool = Path(sys.executable).with_name("sqlite-utils")
    imp = [python, "-m", "papertrail", "--db", str(db), "--feeds", str(ROOT / "feeds.yml"),
           "import", "arxiv-snapshot", str(snapshot)]  # fmt: skip
    bare_insert = [str(tool), "insert", str(bare), "papers", str(snapshot), "--nl", "--pk", "id"]
    cmds = {"import": (imp, ROOT), "sqlite-utils": (bare_insert, ROOT)}
    if anchor_tree:
        cmds["import (before)"] = (imp, anchor_tree)
    runs: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for r in range(rounds):
        for name, (cmd, tree) in cmds.items() if r % 2 == 0 else reversed(cmds.items()):
            for p in (db, bare, Path(f"{db}-wal"), Path(f"{db}-shm")):
                p.unlink(missing_ok=True)
            before = _loadavg()
            env = {**os.environ, "PYTHONPATH": str(tree)}
            cpu0 = _children_cpu()
            wall, rss, result = run_measured(cmd, env=env)
            cpu = _children_cpu() - cpu0  # the whole tree's: readers are joined by the import
            if result.returncode != 0:
                raise SystemExit(f"{name} failed: {result.stderr[-2000:]}")
            runs[name].append(wall)
            cpus[name].append(cpu)
            print(f"round {r + 1} {name:15} {wall:7.1f} s  CPU {cpu:6.1f} s  peak RSS "
                  f"{rss / 1e6:5.0f} MB  load {before} -> {_loadavg()}", flush=True)  # fmt: skip
    out: dict = {
        name: {"min": min(v), "median": statistics.median(v), "all": v} for name, v in runs.items()
    }
    for name in [n for n in runs if n.startswith("import")]:
        ratios = [a / b for a, b in zip(runs[name], runs["sqlite-utils"], strict=True)]
        out[f"{name} / sqlite-utils"] = {
            "per round": ratios,
            "median": statistics.median(ratios),
            "of the mins": out[name]["min"] / out["sqlite-utils"]["min"],
            "CPU, of the medians": statistics.median(cpus[name])
            / statistics.median(cpus["sqlite-utils"]),
        }
    out["cpu_s"] = cpus
    print(json.dumps(out, indent=1), flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=2_700_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/papertrail-bench-snapshot"))
    ap.add_argument("--snapshot", type=Path, help="default: WORKDIR/snapshot-N.json")
    ap.add_argument("--skip-import", action="store_true", help="reuse WORKDIR/papertrail.db")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--rounds", type=int, default=0,
        help="only time N interleaved rounds of the import and sqlite-utils, then stop",
    )  # fmt: skip
    ap.add_argument("--python", default=sys.executable, help="interpreter for the import")
    ap.add_argument(
        "--anchor-tree", type=Path, help="with --rounds: also time the import of this checkout"
    )
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    snapshot = args.snapshot or args.workdir / f"snapshot-{args.papers}.json"
    today = "2026-11-23T12:00:00"
    if not snapshot.exists():
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks/gen_arxiv_snapshot.py"), str(snapshot),
             "--papers", str(args.papers), "--today", today],
            check=True,
        )  # fmt: skip
        print(f"generated {snapshot} in {time.perf_counter() - t0:.0f} s")
    size = snapshot.stat().st_size
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; snapshot {size / 1e9:.2f} GB, {args.papers:,} papers",
        flush=True,
    )
    if args.rounds:
        figures = interleaved_rounds(
            snapshot, args.workdir, args.rounds, args.python, args.anchor_tree
        )
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
        return figures
    figures: dict = {"papers": args.papers, "snapshot_bytes": size}
    db = args.workdir / "papertrail.db"
    if not args.skip_import:
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "papertrail", "--db", str(db), "--feeds",
               str(ROOT / "feeds.yml"), "import", "arxiv-snapshot", str(snapshot)]  # fmt: skip
        wall, rss, result = run_measured(cmd)
        if result.returncode != 0:
            raise SystemExit(f"import failed: {result.stderr}")
        print(
            f"import: {wall:.1f} s, peak RSS {rss / 1e6:.0f} MB — {result.stdout.strip()}",
            flush=True,
        )
        figures.update(import_s=wall, import_peak_rss_mb=rss / 1e6)
    if not args.skip_baseline:
        bare = args.workdir / "bare.db"
        bare.unlink(missing_ok=True)
        tool = Path(sys.executable).with_name("sqlite-utils")
        wall, rss, result = run_measured(
            [str(tool), "insert", str(bare), "papers", str(snapshot), "--nl", "--pk", "id"]
        )
        if result.returncode != 0:
            raise SystemExit(f"sqlite-utils failed: {result.stderr}")
        print(f"sqlite-utils insert --nl: {wall:.1f} s, peak RSS {rss / 1e6:.0f} MB", flush=True)
        figures.update(baseline_s=wall, baseline_peak_rss_mb=rss / 1e6)
        if "import_s" in figures:
            figures["import_vs_baseline"] = figures["import_s"] / wall
            print(f"import / sqlite-utils: {figures['import_vs_baseline']:.2f}×")
        bare.unlink(missing_ok=True)
    figures["db_mb"] = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists()) / 1e6
    print(f"database on disk: {figures['db_mb']:,.0f} MB", flush=True)

    searches = time_queries(db, "search", SEARCH_QUERIES, args.repeats)
    digests = time_queries(db, "digest", [["--since", "24h"]] * 20, 1)
    figures.update(
        search_p50_ms=pct(searches, 50) * 1000,
        search_p95_ms=pct(searches, 95) * 1000,
        digest_p50_ms=pct(digests, 50) * 1000,
        digest_p95_ms=pct(digests, 95) * 1000,
    )
    pages = time_datasette(db, args.repeats)
    figures.update(
        {
            f"datasette_{k.rsplit('/', 1)[1].replace('?_search=', '_search_')}_ms": v * 1000
            for k, v in pages.items()
        }
    )
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return figures


if __name__ == "__main__":
    main()
