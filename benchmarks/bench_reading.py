"""`papertrail list` and `papertrail search` on a 200,000-entry reading list:
wall time per query from a warm process (target <= 100 ms each), p50 / p95 over
20 typical queries of each kind.

The reading list is built through the real ingest path (bench_ingest's documents
made from recorded fixture items: ~60 % papers, 40 % posts); each entry then gets
its own title and abstract mixed from the real recorded sentences (so postings
lists look like a real corpus rather than 300 texts repeated), and a user's
history: 30 % read, 1 % starred, 2 % tagged, 0.5 % with notes, rank scores.
Each query runs the whole command in-process (CliRunner: open the database,
query, render the table or JSON), 5 times; its figure is the median of the 5.

    python benchmarks/bench_reading.py [--entries 200000] [--db PATH (reuse)]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

LIST_QUERIES = [
    [],
    ["--unread"],
    ["--starred"],
    ["--domain", "vision"],
    ["--domain", "language", "--unread"],
    ["--kind", "post"],
    ["--kind", "paper", "--unread"],
    ["--source", "source-3"],
    ["--tag", "to-read"],
    ["--since", "7d"],
    ["--sort", "rank"],
    ["--sort", "rank", "--domain", "generative"],
    ["--sort", "rank", "--unread", "--kind", "paper"],
    ["--domain", "audio", "--sort", "rank"],
    ["--limit", "200"],
    ["--starred", "--sort", "rank"],
    ["--domain", "graphs", "--domain", "reinforcement-learning"],
    ["--json"],
    ["--csv", "--limit", "100"],
    ["--unread", "--since", "30d", "--sort", "rank"],
]

SEARCH_QUERIES = [
    ["diffusion"],
    ["style transfer"],
    ["graph neural network"],
    ["reinforcement learning"],
    ["transformer"],
    ["diffus*"],
    ['"large language model"'],
    ["attention NOT vision"],
    ["benchmark"],
    ["adversarial"],
    ["distillation", "--unread"],
    ["robot", "--kind", "paper"],
    ["title:learning"],
    ["notes:reproduce"],
    ["language model", "--domain", "language"],
    ["optimization", "--sort", "date"],
    ["image segmentation"],
    ["speech OR audio"],
    ["agent", "--sort", "rank"],
    ["learning", "--json"],
]


def build(db_path: Path, n: int) -> None:
    from bench_ingest import build_documents, full_ingest

    t0 = time.perf_counter()
    docs = build_documents(n, 500)
    seconds, stored, _ = full_ingest(docs, db_path)
    print(f"built {stored:,} entries through the ingest path in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(7)
    conn = sqlite3.connect(db_path)
    ids = [r[0] for r in conn.execute("SELECT id FROM entries")]
    vary_text(conn, ids, rng)
    now = "2026-11-23T08:00:00+00:00"
    with conn:
        conn.executemany(
            "UPDATE entries SET read_at = ? WHERE id = ?",
            [(now, i) for i in rng.sample(ids, len(ids) * 3 // 10)],
        )
        conn.executemany(
            "UPDATE entries SET starred_at = ? WHERE id = ?",
            [(now, i) for i in rng.sample(ids, len(ids) // 100)],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO entry_tags (entry_id, tag, origin, created_at) VALUES (?, ?, 'user', ?)",
            [
                (i, rng.choice(["to-read", "reproduce", "survey"]), now)
                for i in rng.sample(ids, len(ids) // 50)
            ],
        )
        noted = rng.sample(ids, len(ids) // 200)
        conn.executemany(
            "INSERT INTO notes (entry_id, text, created_at) VALUES (?, ?, ?)",
            [
                (i, rng.choice(["reproduce this", "compare with baseline", "read section 3"]), now)
                for i in noted
            ],
        )
        conn.executemany(
            "UPDATE entries SET notes_text = (SELECT group_concat(text, char(10)) FROM notes WHERE entry_id = entries.id) WHERE id = ?",
            [(i,) for i in noted],
        )
        conn.executemany(
            "UPDATE entries SET score = ? WHERE id = ?", [(rng.random() * 5, i) for i in ids]
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def recorded_texts() -> tuple[list[str], list[str]]:
    """Every distinct title and abstract / post text in the recorded fixtures."""
    import json

    from papertrail.sources.parse import parse_feed

    titles: set[str] = set()
    summaries: set[str] = set()
    fixtures = ROOT / "tests" / "fixtures" / "feeds"
    for path in fixtures.rglob("*"):
        if path.suffix in (".xml", ".rss", ".atom"):
            kind = "arxiv-rss" if "arxiv-rss" in path.parts else "feed"
            try:
                records = parse_feed(
                    path.read_bytes(), {}, base_url="http://x/", source_kind=kind
                ).records
            except Exception:  # noqa: BLE001 - a fixture that is deliberately broken
                continue
            titles.update(r.title for r in records if r.title)
            summaries.update(r.summary for r in records if r.summary)
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                titles.add(" ".join(str(row.get("title", "")).split()))
                summaries.add(" ".join(str(row.get("abstract", "")).split()))
    return sorted(t for t in titles if t), sorted(s for s in summaries if s)


def vary_text(conn: sqlite3.Connection, ids: list[int], rng: random.Random) -> None:
    """The documents repeat ~300 recorded items; give each entry its own text so term
    frequencies look like a real reading list: a title and an abstract of real
    sentences drawn at random from every distinct recorded title and abstract."""
    import re

    titles, summaries = recorded_texts()
    sentences = [
        s.strip()
        for summary in summaries
        for s in re.split(r"(?<=[.!?])\s+", summary)
        if len(s.split()) >= 5
    ]
    words = [w for t in titles for w in t.split()]
    rows = []
    for i in ids:
        title = rng.choice(titles).split()
        for _ in range(2):  # swap two words so titles differ too
            title[rng.randrange(len(title))] = rng.choice(words)
        rows.append((" ".join(title), " ".join(rng.sample(sentences, 4)), i))
    with conn:
        conn.execute("DROP TRIGGER IF EXISTS entries_au")
        conn.executemany("UPDATE entries SET title = ?, summary = ? WHERE id = ?", rows)
        conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")
        conn.execute(
            """CREATE TRIGGER entries_au AFTER UPDATE OF title, summary, notes_text ON entries BEGIN
                 INSERT INTO entries_fts (entries_fts, rowid, title, summary, notes_text)
                   VALUES ('delete', old.rowid, old.title, old.summary, old.notes_text);
                 INSERT INTO entries_fts (rowid, title, summary, notes_text)
                   VALUES (new.rowid, new.title, new.summary, new.notes_text);
               END"""
        )
    print(
        f"varied text: {len(titles)} titles, {len(sentences)} sentences, {len(set(words))} title words"
    )


def time_queries(
    db_path: Path, command: str, queries: list[list[str]], repeats: int
) -> list[float]:
    from click.testing import CliRunner

    from papertrail.cli import cli

    runner = CliRunner()
    base = ["--db", str(db_path), "--feeds", str(ROOT / "feeds.yml"), command]
    runner.invoke(cli, base + queries[0])  # warm: imports, page cache
    per_query = []
    for q in queries:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = runner.invoke(cli, base + q)
            times.append(time.perf_counter() - t0)
            if result.exit_code != 0:
                raise SystemExit(f"{command} {q} failed: {result.output}")
        per_query.append(statistics.median(times))
        print(f"  {command:6} {' '.join(q) or '(defaults)':48} {per_query[-1] * 1000:7.1f} ms")
    return per_query


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--db", type=Path, help="reuse (or keep) the database at this path")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    db_path = args.db or Path(tmp.name) / "bench.db"
    if not db_path.exists():
        build(db_path, args.entries)
    (count,) = sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM entries").fetchone()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {count:,} entries, "
        f"{db_path.stat().st_size / 1e6:.0f} MB"
    )
    figures = {}
    for command, queries in (("list", LIST_QUERIES), ("search", SEARCH_QUERIES)):
        times = time_queries(db_path, command, queries, args.repeats)
        figures[f"{command}_p50_ms"] = pct(times, 50) * 1000
        figures[f"{command}_p95_ms"] = pct(times, 95) * 1000
        figures[f"{command}_max_ms"] = max(times) * 1000
        print(
            f"{command}: p50 {figures[f'{command}_p50_ms']:.1f} ms, p95 {figures[f'{command}_p95_ms']:.1f} ms, "
            f"max {figures[f'{command}_max_ms']:.1f} ms over {len(queries)} queries (target <= 100 ms)"
        )
    tmp.cleanup()
    return figures


if __name__ == "__main__":
    main()
