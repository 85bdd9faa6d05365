"""Ingest throughput: 50,000 entries through parse -> ids -> tags -> SQLite + FTS,
as a ratio to feedparser's bare parse of the same bytes (target <= 1.5x).

The documents are built from real recorded items (tests/fixtures/feeds): arXiv
daily RSS items (papers, each given a unique id) and blog / community items
(posts, each given a unique link), 500 items per document, like a busy day of
feeds. Both sides parse exactly the same bytes in the same process.

    python benchmarks/bench_ingest.py [--entries 50000] [--per-doc 500]
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "fixtures" / "feeds"

RSS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'version="2.0"><channel><title>{title}</title><link>https://example.org/</link>'
    "<description>benchmark</description>\n"
)
RSS_TAIL = "</channel></rss>\n"


def _items(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"<item\b.*?</item>", text, flags=re.S)


def build_documents(n_entries: int, per_doc: int) -> list[tuple[str, bytes]]:
    """(source_kind, bytes) documents totalling n_entries items, ~60 % papers, 40 % posts."""
    paper_items = []
    for name in ("cs_lg", "cs_ai", "cs_cl"):
        paper_items += _items(
            FIX / "arxiv-rss" / f"jmamath-distill__arxiv_{name}_rss_2026-04-27.xml"
        )
    post_items = _items(FIX / "community" / "hackernews__news.ycombinator.com_rss_2025-12-13.xml")
    post_items += _items(FIX / "ml-blogs" / "jmamath-distill__openai_blog.xml")
    post_items += _items(FIX / "ml-blogs" / "jmamath-distill__huggingface_blog.xml")
    arxiv_id = re.compile(r"\d{4}\.\d{5}")

    docs: list[tuple[str, bytes]] = []
    made = 0
    serial = 0
    while made < n_entries:
        count = min(per_doc, n_entries - made)
        is_papers = len(docs) % 5 < 3
        pool = paper_items if is_papers else post_items
        out = [RSS_HEAD.format(title=f"doc {len(docs)}")]
        for i in range(count):
            serial += 1
            item = pool[i % len(pool)]
            if is_papers:
                # every paper gets its own valid new-style id: 26MM.NNNNN
                new_id = f"26{(serial // 99999) % 12 + 1:02d}.{serial % 99999 + 1:05d}"
                item = arxiv_id.sub(new_id, item)
            else:
                item = item.replace("</link>", f"?n={serial}</link>", 1)  # a unique link each
                item = re.sub(r"<guid[^>]*>.*?</guid>", "", item, flags=re.S)
            out.append(item)
        out.append(RSS_TAIL)
        docs.append(("arxiv-rss" if is_papers else "feed", "".join(out).encode("utf-8")))
        made += count
    return docs


HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}


def bare_feedparser(docs: list[tuple[str, bytes]], **flags: bool) -> tuple[float, int]:
    """feedparser alone on the same bytes. With no flags: its defaults (HTML
    sanitising on). papertrail turns sanitising off (it keeps plain text only),
    so the strict comparison passes the same flags."""
    import io

    import feedparser

    t0 = time.perf_counter()
    n = 0
    for _, body in docs:
        n += len(feedparser.parse(io.BytesIO(body), response_headers=HEADERS, **flags).entries)
    return time.perf_counter() - t0, n


def full_ingest(
    docs: list[tuple[str, bytes]], db_path: Path
) -> tuple[float, int, dict[str, float]]:
    from papertrail import store
    from papertrail.config import load_config
    from papertrail.sources.domains import DomainTagger
    from papertrail.sources.parse import parse_feed

    config = load_config(ROOT / "feeds.yml")
    tagger = DomainTagger(config.domains)
    db = store.open_db(db_path)
    run_id = store.start_run(db)
    parse_s = save_s = 0.0
    stored = 0
    t0 = time.perf_counter()
    for i, (kind, body) in enumerate(docs):
        a = time.perf_counter()
        parsed = parse_feed(body, HEADERS, base_url=f"http://bench.invalid/{i}", source_kind=kind)
        b = time.perf_counter()
        name = f"source-{i % 20}"
        db.execute("INSERT OR IGNORE INTO sources (name, kind) VALUES (?, ?)", [name, kind])
        stats = store.save_source_result(
            db,
            run_id=run_id,
            outcome=store.SourceOutcome(source=name, status="ok"),
            records=parsed.records,
            tagger=tagger,
        )
        save_s += time.perf_counter() - b
        parse_s += b - a
        stored += stats.new
    total = time.perf_counter() - t0
    db.close()
    return total, stored, {"parse_s": parse_s, "save_s": save_s}


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=50_000)
    ap.add_argument("--per-doc", type=int, default=500)
    args = ap.parse_args(argv)

    docs = build_documents(args.entries, args.per_doc)
    size_mb = sum(len(b) for _, b in docs) / 1e6
    fp_s, fp_n = bare_feedparser(docs, sanitize_html=False, resolve_relative_uris=False)
    fp_default_s, _ = bare_feedparser(docs)
    with tempfile.TemporaryDirectory() as tmp:
        ours_s, stored, parts = full_ingest(docs, Path(tmp) / "bench.db")
        db_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
    import sqlite3

    import feedparser

    figures = {
        "entries": fp_n,
        "stored": stored,
        "feedparser_s": fp_s,
        "papertrail_s": ours_s,
        "ratio": ours_s / fp_s,
        "feedparser_default_s": fp_default_s,
        "ratio_vs_default": ours_s / fp_default_s,
        "entries_per_s": stored / ours_s,
        **parts,
    }
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs, Python {platform.python_version()}, "
        f"feedparser {feedparser.__version__}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"documents: {len(docs)} ({size_mb:.1f} MB), entries parsed: {fp_n}, stored: {stored}, db {db_mb:.1f} MB"
    )
    print(
        f"feedparser bare parse:      {fp_s:7.2f} s  (same flags as papertrail: sanitize_html=False)"
    )
    print(f"feedparser, default flags:  {fp_default_s:7.2f} s")
    print(
        f"papertrail full ingest:     {ours_s:7.2f} s  (parse+ids+tags {parts['parse_s']:.2f} s, "
        f"SQLite+FTS {parts['save_s']:.2f} s)  {stored / ours_s:,.0f} entries/s"
    )
    print(
        f"ratio: {ours_s / fp_s:.2f}x vs the same feedparser call (target <= 1.5x); "
        f"{ours_s / fp_default_s:.2f}x vs feedparser's defaults"
    )
    return figures


if __name__ == "__main__":
    main()
