"""Learned-ranking speed (issue 17) on a 200,000-entry reading list (and the 2.7 M one).

The 200k list is bench_rank.py's (real recorded text recombined; 200 starred, 2,000 read),
with 50 of its entries dismissed on top. Measured, each several rounds, the load
average written next to the figures:

- `star` -> new order: the whole `papertrail star ID` command as a process (import,
  refit of the model, rescore: it exits once every changed score is written), and in a
  process that already has scikit-learn loaded (the reading page's case) `api.mark`
  followed by `api.list_entries(sort="rank")` (see also bench_star_order.py);
- full rescore of the 200k list with the stored model (`rank.rescore`), and `papertrail
  rank` as a process (refit + rescore);
- a day's ~800 new entries: refit + `rescore(ids=those)` (what a fetch pays);
- `similar` p95 over 40 random entries (in process) and 5 as whole commands;
- with `--big PATH` (a COPY of the 2.7 M-paper list): `papertrail rank` as a process,
  wall time and peak RSS (/usr/bin/time).

    python benchmarks/bench_learn_speed.py --keep /tmp/b200k.db [--big /work/bench/me-27.db]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_rank  # noqa: E402

from papertrail import api, store  # noqa: E402
from papertrail.reading import learn, rank  # noqa: E402
from papertrail.reading import similar as sim  # noqa: E402

ROUNDS = 3


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def timed(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def cli(db: Path, feeds: Path, *args: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole `papertrail` command."""
    cmd = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "papertrail",
           "--db", str(db), "--feeds", str(feeds), *args]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss)


def report(name: str, values: list[float], goal: str) -> None:
    shown = " / ".join(f"{v:.2f}" for v in values)
    print(
        f"| {name} | {goal} | {statistics.median(values):.2f} s (rounds: {shown}) | load {load()} |"
    )


def star_then_list(paths: api.Paths, token: str, on: bool) -> float:
    """From a star (or unstar) until the ranked list the user next sees has been read
    (it waits for the part of the rescore it needs: papertrail.reading.refresh); then
    waits, untimed, for the rest of the rescore to be written."""
    from papertrail.reading import rankcache

    t0 = time.perf_counter()
    api.mark(paths, [token], "starred", on)
    api.list_entries(paths, sort="rank", limit=50)
    seconds = time.perf_counter() - t0
    rankcache.wait(str(paths.db), "done")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, required=True, help="the 200k list (built if missing)")
    ap.add_argument("--big", type=Path, help="a COPY of the 2.7 M-paper list")
    args = ap.parse_args()
    print(f"load average at start: {load()} (2 cores shared with other agents)")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.keep.exists():
            info = bench_rank.build(args.keep, 200_000)
            args.keep.with_suffix(".authors").write_text("\n".join(info["authors"]) + "\n")
        authors = args.keep.with_suffix(".authors").read_text().splitlines()
        config = bench_rank._config(Path(tmp), authors)
        feeds = Path(tmp) / "feeds.yml"
        db = store.open_db(args.keep)
        ids = [r[0] for r in db.execute("SELECT id FROM entries ORDER BY id")]
        rng = random.Random(3)
        with db.atomic():
            db.execute("UPDATE entries SET dismissed_at = NULL")
            db.conn.executemany(
                "UPDATE entries SET dismissed_at = '2026-01-02T00:00:00+00:00' WHERE id = ?",
                [(i,) for i in rng.sample(ids, 50)],
            )
        print("| what | goal | median | load |\n|---|---|---|---|")
        fit = [timed(learn.current, db, config.ranking, refit=True) for _ in range(ROUNDS)]
        model = learn.current(db, config.ranking).model
        assert model is not None
        print(f"model: {len(model.terms)} words, {len(model.authors)} authors, {model.describe()}")
        report("refit the model (in process, sklearn loaded)", fit, "—")
        report(
            "full rescore of 200k, stored model",
            [timed(rank.rescore, db, config) for _ in range(ROUNDS)],
            "≤ 5 s",
        )
        day = ids[-800:]
        report(
            "a day's 800 new entries: refit + rescore them",
            [
                timed(learn.current, db, config.ranking, refit=True)
                + timed(rank.rescore, db, config, day)
                for _ in range(ROUNDS)
            ],
            "≤ 1 s",
        )
        paths = api.Paths.resolve(db=str(args.keep), feeds=str(feeds))
        targets = rng.sample(ids, ROUNDS * 2)
        report(
            "star -> new order: api.mark, then api.list_entries(sort=rank) returned (warm)",
            [star_then_list(paths, str(t), on) for t in targets[:ROUNDS] for on in (True, False)],
            "≤ 1 s",
        )
        # a process: it returns once every changed score is written (its writer thread)
        star = [cli(args.keep, feeds, "star", str(t))[0] for t in targets[ROUNDS:]]
        for t in targets[ROUNDS:]:
            api.mark(paths, [str(t)], "starred", False)
        report("star -> new order, `papertrail star` as a process", star, "≤ 1 s")
        report(
            "`papertrail rank` as a process (refit + full rescore)",
            [cli(args.keep, feeds, "rank")[0] for _ in range(2)],
            "≤ 5 s",
        )
        probes = rng.sample(ids, 40)
        sims = [timed(sim.similar, db, p, 10) for p in probes]
        sims.sort()
        print(
            f"| `similar` in process, 40 entries | p95 ≤ 200 ms | p50 {sims[19] * 1000:.0f} ms, "
            f"p95 {sims[37] * 1000:.0f} ms, max {sims[-1] * 1000:.0f} ms | load {load()} |"
        )
        report(
            "`papertrail similar` as a process",
            [cli(args.keep, feeds, "similar", str(p))[0] for p in probes[:5]],
            "—",
        )
        db.close()
        if args.big:
            wall, rss = cli(args.big, feeds, "rank")
            print(
                f"| `papertrail rank` on the 2.7 M list (copy) | ≤ 90 s, ≤ 600 MB | {wall:.1f} s, "
                f"peak RSS {rss / 1024:.0f} MB | load {load()} |"
            )
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
