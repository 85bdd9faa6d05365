"""Star -> the new order, end to end (issues 16/17), this tree against another (the anchor,
e.g. the main checkout before this change), interleaved, on copies of one reading list.

A "round" is one process (the reading page's case: it stays up, scikit-learn loaded)
that stars `--stars` distinct entries one at a time. After each star it times

- the action: `api.mark(..., "starred", True)` returning (what the page's POST waits for);
- star -> new order: from the star until `api.list_entries(sort="rank", limit=50)` has
  returned (the order the user next sees, as `papertrail list --sort rank` shows it);
- star -> Today: from the star until `api.digest(since="24h")` has returned;

then waits for any background writing to finish (not counted; the next star starts on a
settled list) and checks the order it showed against the stored order once everything
is written (after: `list --sort rank` again). The first star of each process is
reported apart (it builds the process's caches). The processes of the two trees
alternate; the load average is printed before and after each.

    python benchmarks/bench_star_order.py --db /work/bench/me/rank200k.db --anchor /work/main
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_process(db: Path, feeds: Path, stars: int, seed: int) -> None:
    """Run inside a child process whose PYTHONPATH is the tree under test."""
    from papertrail import api, store

    try:  # this tree: wait for the background writer between stars (not timed)
        from papertrail.reading import rankcache

        def settle() -> None:
            rankcache.wait(str(db), "done")
    except ImportError:  # the anchor writes everything before `mark` returns

        def settle() -> None:
            pass

    paths = api.Paths.resolve(db=str(db), feeds=str(feeds))
    with store.connected(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM entries WHERE starred_at IS NULL")]
    targets = random.Random(seed).sample(ids, stars)
    rows = []
    for n, entry in enumerate(targets):
        # odd stars: Today first (the page's next view); even ones: the ranked list first
        reads = ["today", "order"] if n % 2 else ["order", "today"]
        t0 = time.perf_counter()
        api.mark(paths, [str(entry)], "starred", True)
        row: dict[str, object] = {"action": time.perf_counter() - t0, "n": n, "first": reads[0]}
        for read in reads:
            if read == "order":
                shown = [
                    (e["id"], e["score"]) for e in api.list_entries(paths, sort="rank", limit=50)
                ]
            else:
                api.digest(paths, since="24h")
            row.setdefault(read, time.perf_counter() - t0)
            break  # only the first read after the star is timed (the other would be warm)
        settle()
        if row["first"] == "order":
            after = [(e["id"], e["score"]) for e in api.list_entries(paths, sort="rank", limit=50)]
            row["same"] = shown == after
        rows.append(row)
    for entry in targets:  # leave the list as it was
        api.mark(paths, [str(entry)], "starred", False)
    settle()
    print(json.dumps(rows))


def child(tree: Path, db: Path, feeds: Path, stars: int, seed: int) -> list[dict]:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
        f"import bench_star_order as b; from pathlib import Path; "
        f"b.one_process(Path({str(db)!r}), Path({str(feeds)!r}), {stars}, {seed})"
    )
    # cwd: the tree itself (`python -c` puts the working directory first on sys.path)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tree
    )
    if out.returncode:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(name: str, rows: list[dict]) -> None:  # type: ignore[type-arg]
    groups = (
        ("first star of a process -> ranked list", [r for r in rows if r["n"] == 0], "order"),
        ("later stars -> ranked list", [r for r in rows if r["n"] and r["first"] == "order"], "order"),
        ("later stars -> Today", [r for r in rows if r["first"] == "today"], "today"),
    )  # fmt: skip
    for label, part, key in groups:
        if not part:
            continue
        action = sorted(r["action"] for r in part)
        values = sorted(r[key] for r in part)
        same = [r["same"] for r in part if "same" in r]
        print(
            f"| {name} | {label} (n={len(part)}) | {statistics.median(action) * 1000:.0f} / "
            f"{action[-1] * 1000:.0f} ms | {statistics.median(values) * 1000:.0f} / "
            f"{values[-1] * 1000:.0f} ms | " + (f"{sum(same)}/{len(same)} |" if same else "— |")
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True, help="a reading list (copied, not changed)")
    ap.add_argument("--feeds", type=Path, help="feeds.yml (default: bench_rank's config)")
    ap.add_argument("--anchor", type=Path, help="another tree to compare with, e.g. /work/main")
    ap.add_argument("--rounds", type=int, default=2, help="processes per tree")
    ap.add_argument("--stars", type=int, default=5, help="stars per process")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.db.parent) as tmp:
        feeds = args.feeds
        if feeds is None:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            import bench_rank

            authors = args.db.with_suffix(".authors").read_text().splitlines()
            bench_rank._config(Path(tmp), authors)
            feeds = Path(tmp) / "feeds.yml"
        trees = {"this tree": ROOT, **({"anchor": args.anchor} if args.anchor else {})}
        copies = {}
        for name in trees:
            copies[name] = Path(tmp) / f"{name.replace(' ', '_')}.db"
            shutil.copy(args.db, copies[name])
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                before = load()
                rows = child(tree, copies[name], feeds, args.stars, seed=r)
                results[name] += rows
                shown = ", ".join(f"{x['first']} {x[x['first']]:.2f}" for x in rows)
                print(f"round {r} {name}: star -> {shown} s (load {before} -> {load()})")
        print("\n| tree | star, then | action p50 / max | star -> that read p50 / max "
              "| shown order = settled order |")  # fmt: skip
        print("|---|---|---|---|---|")
        for name, rows in results.items():
            summary(name, rows)


if __name__ == "__main__":
    main()
