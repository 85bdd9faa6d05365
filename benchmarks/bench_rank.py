"""Ranking speed: `papertrail.reading.rank.rescore` over a 200,000-entry reading list (target <= ~2 s).

The reading list is built through the real save path (`papertrail.store.EntryWriter`)
from real recorded text: titles, abstracts and author names of the arXiv and
blog items in tests/fixtures/feeds, recombined (each summary is 4-6 random
sentences of the pool) so term frequencies look like a real list rather than
the same few hundred abstracts repeated. 60 % papers, 40 % posts, dated over a
year (about 550 a day), 5 % of papers also listed by a second source and 10 %
of posts linking a paper. The reader has starred 200 entries and read 2,000;
feeds.yml follows 5 authors, boosts 6 keywords and blocks 3 keywords and 2
authors.

Timed: a full rescore of a fresh list (every row written), a full rescore
right after it (nothing changed: nothing written), one after a new star (what
`papertrail star` costs), `rescore(ids=...)` for a day's 550 entries, the
digest's live scoring of those, and `explain` for one entry.

    python benchmarks/bench_rank.py [--entries 200000] [--keep PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "fixtures" / "feeds"

PER_DAY = 550
RANKING_YAML = """
ranking:
  follow_authors: [{authors}]
  boost:
    diffusion model: 1.5
    style transfer: 2
    reinforcement learning: 0.5
    benchmark: -0.5
    graph neural*: 1
    speech: 0.5
  block:
    keywords: [cryptocurrency, blockchain, sponsored]
    authors: [{blocked}]
"""


class _NoTags:
    """Domain tagging is not what is measured here (and costs 25 us an entry)."""

    domain_names = ()

    def tag(self, record: object) -> list[str]:
        return []


def _pool() -> tuple[list[str], list[str], list[str]]:
    """(titles, sentences, author names) from the recorded feeds."""
    from papertrail.sources.parse import parse_feed

    files = [("arxiv-rss", p) for p in sorted((FIX / "arxiv-rss").glob("*.xml"))] + [
        ("feed", p) for p in sorted((FIX / "ml-blogs").glob("*.xml"))
    ]
    files.append(
        ("feed", FIX / "community" / "hackernews__news.ycombinator.com_rss_2025-12-13.xml")
    )
    titles: list[str] = []
    sentences: list[str] = []
    authors: list[str] = []
    for kind, path in files:
        parsed = parse_feed(
            path.read_bytes(), {}, base_url="http://bench.invalid/", source_kind=kind
        )
        for r in parsed.records:
            titles.append(r.title)
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", r.summary) if len(s) > 30]
            authors += r.authors
    return titles, sentences, sorted(set(authors))


def build(db_path: Path, n_entries: int, seed: int = 7) -> dict[str, object]:
    """Fill a reading list with `n_entries` entries; returns what the config should name."""
    from papertrail import store
    from papertrail.models import Record

    rng = random.Random(seed)
    titles, sentences, authors = _pool()
    db = store.open_db(db_path)
    run_id = store.start_run(db)
    start = datetime(2025, 11, 1, tzinfo=timezone.utc)
    made = 0
    day = 0
    papers_seen: list[str] = []
    while made < n_entries:
        when = (start + timedelta(days=day)).isoformat(timespec="seconds")
        count = min(PER_DAY, n_entries - made)
        papers, posts = [], []
        for i in range(count):
            serial = made + i
            summary = " ".join(rng.sample(sentences, rng.randint(4, 6)))
            names = rng.sample(authors, rng.randint(1, 6))
            if i % 5 < 3:
                arxiv_id = f"{25 + serial // 1_000_000}{(serial // 99_999) % 12 + 1:02d}.{serial % 99_999 + 1:05d}"
                papers.append(
                    Record(kind="paper", title=rng.choice(titles), arxiv_id=arxiv_id, version=1,
                           authors=names, summary=summary, published=when,
                           categories=["cs.LG"], primary_category="cs.LG")
                )  # fmt: skip
                papers_seen.append(arxiv_id)
            else:
                mentions = [rng.choice(papers_seen)] if papers_seen and rng.random() < 0.1 else []
                posts.append(
                    Record(kind="post", title=rng.choice(titles), url=f"https://blog.invalid/{serial}",
                           guid=f"g{serial}", authors=names[:1], summary=summary, published=when,
                           mentions=mentions)
                )  # fmt: skip
        with db.atomic():
            writer = store.EntryWriter(db, _NoTags(), run_id, now=when)
            writer.save(f"arxiv-{day % 3}", papers)
            writer.save(f"blog-{day % 40}", posts)
            writer.save("second-source", papers[: len(papers) // 20])
        made += count
        day += 1
    conn = db.conn
    ids = [r[0] for r in conn.execute("SELECT id FROM entries ORDER BY id")]
    starred = rng.sample(ids, 200)
    read = rng.sample(ids, 2000)
    with db.atomic():
        conn.executemany("UPDATE entries SET starred_at = ? WHERE id = ?",
                         [("2026-01-01T00:00:00+00:00", i) for i in starred])  # fmt: skip
        conn.executemany("UPDATE entries SET read_at = ? WHERE id = ?",
                         [("2026-01-01T00:00:00+00:00", i) for i in read])  # fmt: skip
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"authors": rng.sample(authors, 7), "days": day, "starred": starred}


def _config(tmp: Path, authors: list[str]):
    from papertrail.config import load_config

    def quoted(names: list[str]) -> str:
        return ", ".join("'" + n.replace("'", "''") + "'" for n in names)

    text = (ROOT / "feeds.yml").read_text(encoding="utf-8")
    text = text.split("\nranking:")[0] + RANKING_YAML.format(
        authors=quoted(authors[:5]), blocked=quoted(authors[5:7])
    )
    path = tmp / "feeds.yml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the reading list at this path")
    args = ap.parse_args(argv)

    from papertrail import store
    from papertrail.reading import explain, rank

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db_path = args.keep or tmp / "bench.db"
        info_path = db_path.with_suffix(".authors")
        if not db_path.exists():
            t_build, info = _timed(build, db_path, args.entries)
            info_path.write_text("\n".join(info["authors"]) + "\n", encoding="utf-8")
            print(f"built {args.entries:,} entries in {t_build:.1f} s")
        authors = info_path.read_text(encoding="utf-8").splitlines()
        config = _config(tmp, authors)
        db = store.open_db(db_path)
        # Start from scores that are all out of date, like a first `papertrail rank`.
        with db.atomic():
            db.execute("UPDATE entries SET score = -1, hidden_by = NULL")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        results: dict[str, float] = {}
        results["full_first"], n = _timed(rank.rescore, db, config)
        results["full_again"], _ = _timed(rank.rescore, db, config)
        sample_ids = [
            r[0] for r in db.execute("SELECT id FROM entries ORDER BY id DESC LIMIT ?", [PER_DAY])
        ]
        other = sample_ids[-1]
        with db.atomic():
            db.execute(
                "UPDATE entries SET starred_at = '2026-02-01T00:00:00+00:00' WHERE id = ?", [other]
            )
        results["after_star"], _ = _timed(rank.rescore, db, config)
        results["ids_day"], _ = _timed(rank.rescore, db, config, sample_ids)
        results["live_day"], _ = _timed(rank.live_scores, db, config, sample_ids)
        results["explain"], expl = _timed(explain.explain, db, config, sample_ids[0])
        # Parts on their own (the full rescore's budget).
        parts = {}
        parts["profile"], profile = _timed(rank.build_profile, db, config.ranking)
        parts["similarity"], _ = _timed(rank.q.weighted_matches, db, profile.queries())
        parts["mentions"], _ = _timed(store.source_counts, db)
        parts["keywords"], _ = _timed(
            lambda: [rank.q.fts_matches(db, rank.phrase_query(p)) for p, _ in config.ranking.boost]
        )
        needles = rank._author_needles(config)
        parts["table scan"], _ = _timed(
            lambda: sum(1 for _ in rank.q.entry_rows(db, None, needles))
        )
        # Where the ranking stands.
        hidden = db.execute("SELECT COUNT(*) FROM entries WHERE hidden_by IS NOT NULL").fetchone()[
            0
        ]
        changed_full = n
        db.close()

    print(
        f"\n{changed_full:,} entries, {hidden:,} hidden by block rules; profile of {len(profile.weights)} terms"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    for name, seconds in results.items():
        print(f"  {name:<12} {seconds:7.3f} s")
    print("  parts:")
    for name, seconds in parts.items():
        print(f"    {name:<12} {seconds:7.3f} s")
    print()
    print(explain.render_explanation(expl))
    return {
        **results,
        **{f"part_{k}": v for k, v in parts.items()},
        "explanation_parts": len(dataclasses.astuple(expl)),
    }


if __name__ == "__main__":
    main()
