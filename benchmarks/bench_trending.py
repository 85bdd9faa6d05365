"""`papertrail trending` on a big reading list: wall time per query from a warm process
(target p95 <= 100 ms at 200k entries, <= 300 ms at 2.7 M), p50 / p95 over 20 typical
queries, with `papertrail list --limit 20` timed in the same run, interleaved, as the anchor.

The reading list is bench_reading's 200k list (built through the real ingest path) or any
database given with --db (for 2.7 M: a *copy* of the whole-arXiv list). Mentions are added
as a year of feed posts would leave them: 40 feed sources (25 blogs, 5 community sources,
10 newsletters, tagged so in the generated feeds.yml), `--per-week` posts a week spread over
`--weeks` weeks, each citing 1-3 papers: 30 % of a week's citations go to that week's 20
"hot" papers (each then cited by ~10 sources), 60 % to any of the newest 300k papers, 10 %
to papers not in the list. Each query runs the whole command in-process (CliRunner: open the
database, migrate check, query, render), `--repeats` times; its figure is the median.

    python benchmarks/bench_trending.py [--entries 200000] [--db PATH] [--scan]

--scan also times the one-off code-link backfill (every paper's abstract and comment read
once, as the first fetch after the upgrade does).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

KINDS = ["blog"] * 25 + ["community"] * 5 + ["newsletter"] * 10
QUERIES = [
    [],
    ["--since", "24h"],
    ["--since", "3d"],
    ["--since", "14d"],
    ["--since", "30d"],
    ["--limit", "5"],
    ["--limit", "100"],
    ["--json"],
    ["--json", "--limit", "100"],
    ["--domain", "language"],
    ["--domain", "vision"],
    ["--domain", "generative", "--since", "30d"],
    ["--domain", "language", "--domain", "vision"],
    ["--since", "24h", "--domain", "language"],
    ["--since", "2w", "--limit", "50"],
    ["--since", "7d", "--json", "--domain", "vision"],
    ["--since", "90d", "--limit", "10"],
    ["--until", "3d"],
    ["--limit", "1"],
    ["--since", "30d", "--json"],
]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def write_feeds(path: Path) -> Path:
    data = yaml.safe_load((ROOT / "feeds.yml").read_text(encoding="utf-8"))
    data["sources"] = [
        {"name": f"bench-{kind}-{i}", "kind": "feed", "url": f"https://example.org/{i}.xml",
         "tags": [kind]}
        for i, kind in enumerate(KINDS)
    ]  # fmt: skip
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def add_mentions(db_path: Path, per_week: int, weeks: int, seed: int = 20) -> int:
    """Posts and their citations (idempotent: skipped when the bench posts are there)."""
    from papertrail.store import open_db

    open_db(db_path).close()  # migrations (code_links, the mentions index) first
    conn = sqlite3.connect(db_path)
    with conn:  # a fresh set each run (ON DELETE CASCADE drops their mentions)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM entries WHERE key >= 'post:bench-' AND key < 'post:bench.'")
    rng = random.Random(seed)
    (top,) = conn.execute(
        "SELECT MAX(id) FROM entries WHERE key >= 'arxiv:' AND key < 'arxiv;'"
    ).fetchone()
    recent = [r[0] for r in conn.execute(
        "SELECT arxiv_id FROM entries WHERE key >= 'arxiv:' AND key < 'arxiv;' AND id > ?",
        [max(0, top - 300_000)],
    )]  # fmt: skip
    now = datetime.now(timezone.utc)
    hot_sets: dict[int, list[str]] = {}

    def hot(week: int) -> str:
        if week not in hot_sets:
            hot_sets[week] = rng.sample(recent, 20)
        return rng.choice(hot_sets[week])

    posts, cites = [], []
    n_posts = per_week * weeks
    for p in range(n_posts):
        seen = (now - timedelta(seconds=rng.uniform(0, weeks * 7 * 86400))).isoformat(
            timespec="seconds"
        )
        source = f"bench-{KINDS[p % len(KINDS)]}-{p % len(KINDS)}"
        posts.append((f"post:{source}:{p}", "post", f"Post {p} about papers", source, f"g{p}",
                      f"https://example.org/{source}/{p}", seen, seen))  # fmt: skip
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            r = rng.random()
            if r < 0.1:
                cite = f"2999.{rng.randrange(10**5):05d}"  # not in the list
            elif r < 0.4:  # the week's talk of the town: 30 % of citations go to 20 papers
                cite = hot(int((now - datetime.fromisoformat(seen)).days // 7))
            else:
                cite = rng.choice(recent)
            cites.append((p, cite, seen))
    with conn:
        (before,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()
        conn.executemany(
            "INSERT INTO entries (key, kind, title, source, guid, url, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            posts,
        )
        ids = {int(k.rsplit(":", 1)[1]): i for k, i in conn.execute(
            "SELECT key, id FROM entries WHERE id > ?", [before])}  # fmt: skip
        conn.executemany(
            "INSERT OR IGNORE INTO mentions (post_id, arxiv_id, first_seen) VALUES (?, ?, ?)",
            [(ids[p], a, s) for p, a, s in cites],
        )
    n = int(conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return n


def time_round(runner: object, base: list[str], args: list[str]) -> float:
    t0 = time.perf_counter()
    result = runner.invoke(cli_group(), base + args)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t0
    if result.exit_code != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.output}")
    return elapsed


def cli_group() -> object:
    from papertrail.cli import cli

    return cli


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def scan(db_path: Path) -> None:
    from papertrail.ingest.codelinks import scan_papers
    from papertrail.store import connected

    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM code_links WHERE found_in != 'post'")
        conn.execute("UPDATE code_link_scan SET last_entry_id = 0, scanned_at = NULL")
    print(f"code-link backfill: load before {loadavg()}")
    t0 = time.perf_counter()
    with connected(db_path) as db:
        added = scan_papers(db)
    took = time.perf_counter() - t0
    (papers,) = sqlite3.connect(db_path).execute(
        "SELECT COUNT(DISTINCT arxiv_id) FROM code_links WHERE found_in != 'post'").fetchone()  # fmt: skip
    print(f"code-link backfill: {took:.1f} s, {added:,} links on {papers:,} papers; "
          f"load after {loadavg()}")  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, float]:
    from click.testing import CliRunner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--db", type=Path, help="reuse (or keep) the database at this path")
    ap.add_argument("--per-week", type=int, default=500)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scan", action="store_true", help="also time the code-link backfill")
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    db_path = args.db or Path(tmp.name) / "bench.db"
    if not db_path.exists():
        from bench_reading import build

        build(db_path, args.entries)
    mentions = add_mentions(db_path, args.per_week, args.weeks)
    feeds = write_feeds(Path(tmp.name) / "feeds.yml")
    (count,) = sqlite3.connect(db_path).execute("SELECT MAX(id) FROM entries").fetchone()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; {count:,} entries, "
          f"{mentions:,} mentions, {db_path.stat().st_size / 1e9:.2f} GB")  # fmt: skip
    if args.scan:
        scan(db_path)
    runner = CliRunner()
    base = ["--db", str(db_path), "--feeds", str(feeds)]
    anchor_args = ["list", "--limit", "20"]
    time_round(runner, base, ["trending"])  # warm: imports, page cache
    time_round(runner, base, anchor_args)
    print(f"load before: {loadavg()}")
    trend, anchor = [], []
    for q in QUERIES:
        t, a = [], []
        for _ in range(args.repeats):  # interleaved with the anchor
            t.append(time_round(runner, base, ["trending", *q]))
            a.append(time_round(runner, base, anchor_args))
        trend.append(statistics.median(t))
        anchor.append(statistics.median(a))
        print(f"  trending {' '.join(q) or '(defaults)':44} {trend[-1] * 1000:7.1f} ms"
              f"   (list --limit 20: {anchor[-1] * 1000:6.1f} ms)")  # fmt: skip
    print(f"load after: {loadavg()}")
    figures = {
        "trending_p50_ms": pct(trend, 50) * 1000,
        "trending_p95_ms": pct(trend, 95) * 1000,
        "anchor_p50_ms": pct(anchor, 50) * 1000,
        "ratio_p50": pct(trend, 50) / pct(anchor, 50),
    }
    print(f"trending: p50 {figures['trending_p50_ms']:.1f} ms, p95 {figures['trending_p95_ms']:.1f} ms "
          f"over {len(QUERIES)} queries; anchor list --limit 20 p50 {figures['anchor_p50_ms']:.1f} ms "
          f"(ratio {figures['ratio_p50']:.2f})")  # fmt: skip
    tmp.cleanup()
    return figures


if __name__ == "__main__":
    main()
