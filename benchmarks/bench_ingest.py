"""Ingest throughput: 50,000 entries through parse -> ids -> tags -> SQLite + FTS,
as a ratio to feedparser's bare parse of the same bytes (issue 19 row 3: <= 0.6x).

The documents are built from real recorded items (tests/fixtures/feeds): arXiv
daily RSS items (papers, each given a unique id) and blog / community items
(posts, each given a unique link), 500 items per document, like a busy day of
feeds. They are written once to a folder; every side then runs as a WHOLE
PROCESS (interpreter start, imports, reading the files included), the sides
interleaved, several rounds:

  feedparser      feedparser.parse of every document, the flags papertrail uses
                  (sanitize_html=False, resolve_relative_uris=False): the anchor
  feedparser-def  feedparser.parse with its default flags (--with-default)
  ingest          papertrail's parse_feed (lxml fast path, feedparser fallback),
                  tagging, SQLite + FTS, one process
  ingest-par      the same, parse + tag in worker processes (one per core) while
                  the main process writes (the shape of issue 19 item 1)

    python benchmarks/bench_ingest.py [--entries 50000] [--per-doc 500] [--rounds 3]
    python benchmarks/bench_ingest.py --in-process     # the old in-process figures

`build_documents` and `full_ingest` are also used by bench_reading.py.
"""

from __future__ import annotations

import argparse
import os
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


def in_process_main(args: argparse.Namespace) -> dict[str, float]:
    """The old in-process comparison (both sides in this process, no interpreter start)."""
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


# --- whole processes (issue 19) ---------------------------------------------

SIDES = ("feedparser", "feedparser-def", "ingest", "ingest-par")


def write_documents(docs: list[tuple[str, bytes]], folder: Path) -> list[Path]:
    paths = []
    for i, (kind, body) in enumerate(docs):
        path = folder / f"{i:05d}.{kind}.xml"
        path.write_bytes(body)
        paths.append(path)
    return paths


def _doc_paths(folder: Path) -> list[tuple[str, Path]]:
    return [(p.name.split(".")[1], p) for p in sorted(folder.glob("*.xml"))]


def side_feedparser(folder: Path, default_flags: bool) -> dict[str, int]:
    import io

    import feedparser

    flags = {} if default_flags else {"sanitize_html": False, "resolve_relative_uris": False}
    n = 0
    for _, path in _doc_paths(folder):
        body = path.read_bytes()
        n += len(feedparser.parse(io.BytesIO(body), response_headers=HEADERS, **flags).entries)
    return {"entries": n}


def _parse_and_tag(job: tuple[int, str, str]) -> tuple[object, list[list[str]], str]:
    """Worker: read, parse (fast path or feedparser) and tag one document."""
    from papertrail.sources.parse import parse_feed_via

    i, kind, path = job
    out = parse_feed_via(
        Path(path).read_bytes(), HEADERS, base_url=f"http://bench.invalid/{i}", source_kind=kind
    )
    assert _TAGGER is not None
    return out.feed, [_TAGGER.tag(r) for r in out.feed.records], out.reader


_TAGGER = None


def _init_worker() -> None:
    global _TAGGER
    from papertrail.config import load_config
    from papertrail.sources.domains import DomainTagger

    _TAGGER = DomainTagger(load_config(ROOT / "feeds.yml").domains)


class _Pretagged:
    """A Tagger answering with the tags a worker computed for these very records."""

    def __init__(self, tagger: object, records: list[object], tags: list[list[str]]) -> None:
        self._by_id = {id(r): t for r, t in zip(records, tags, strict=True)}
        self.domain_names = getattr(tagger, "domain_names", ())
        self._tagger = tagger

    def tag(self, record: object) -> list[str]:
        return self._by_id[id(record)]

    def __getattr__(self, name: str) -> object:
        return getattr(self._tagger, name)


def side_ingest(folder: Path, db_path: Path, workers: int) -> dict[str, int]:
    """parse -> tag -> SQLite + FTS for every document; with workers > 0 the parse and
    the tagging run in that many worker processes while this process writes."""
    from concurrent.futures import ProcessPoolExecutor

    from papertrail import store

    _init_worker()
    db = store.open_db(db_path)
    run_id = store.start_run(db)
    jobs = [(i, kind, str(path)) for i, (kind, path) in enumerate(_doc_paths(folder))]
    stored = 0
    readers: dict[str, int] = {}
    if workers:
        with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
            for job, res in zip(jobs, pool.map(_parse_and_tag, jobs), strict=True):
                stored += _save(db, run_id, job, res, readers)
    else:
        for job in jobs:
            stored += _save(db, run_id, job, _parse_and_tag(job), readers)
    db.close()
    return {"entries": stored, **{f"read_by_{k}": v for k, v in readers.items()}}


def _save(db: object, run_id: int, job: tuple[int, str, str], res: tuple, readers: dict) -> int:
    from papertrail import store

    i, kind, _ = job
    parsed, tags, reader = res
    readers[reader] = readers.get(reader, 0) + 1
    name = f"source-{i % 20}"
    db.execute("INSERT OR IGNORE INTO sources (name, kind) VALUES (?, ?)", [name, kind])  # type: ignore[attr-defined]
    stats = store.save_source_result(
        db,  # type: ignore[arg-type]
        run_id=run_id,
        outcome=store.SourceOutcome(source=name, status="ok"),
        records=parsed.records,
        tagger=_Pretagged(_TAGGER, parsed.records, tags),  # type: ignore[arg-type]
    )
    return int(stats.new)


def run_side(side: str, folder: Path, tmp: Path) -> tuple[float, dict[str, int]]:
    """One side as a whole process: wall seconds (interpreter start included), its counts."""
    import json
    import subprocess

    db = tmp / f"{side}.db"
    for p in tmp.glob(f"{side}.db*"):
        p.unlink()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--side", side, "--docs", str(folder)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd + ["--db", str(db)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ")[0]
    except OSError:
        return "?"


def _median(xs: list[float]) -> float:
    ys = sorted(xs)
    mid = len(ys) // 2
    return ys[mid] if len(ys) % 2 else (ys[mid - 1] + ys[mid]) / 2


def rounds(folder: Path, tmp: Path, sides: list[str], n_rounds: int) -> dict[str, list[float]]:
    """Every side once per round, the order rotated each round (interleaved)."""
    times: dict[str, list[float]] = {s: [] for s in sides}
    for r in range(n_rounds):
        order = sides[r % len(sides) :] + sides[: r % len(sides)]
        line = [f"round {r + 1}: load {_loadavg()}"]
        for side in order:
            wall, counts = run_side(side, folder, tmp)
            times[side].append(wall)
            line.append(f"{side} {wall:.2f} s {counts}")
        line.append(f"load {_loadavg()}")
        print(" | ".join(line), flush=True)
    return times


def report(times: dict[str, list[float]], anchor: str = "feedparser") -> None:
    a = times[anchor]
    for side, ts in times.items():
        per_round = [t / x for t, x in zip(ts, a, strict=True)]
        print(
            f"{side:15s} min {min(ts):6.2f} s  median {_median(ts):6.2f} s  "
            f"ratio to {anchor}: min/min {min(ts) / min(a):.2f}x, "
            f"median of per-round ratios {_median(per_round):.2f}x "
            f"(per round: {', '.join(f'{x:.2f}' for x in per_round)})"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=50_000)
    ap.add_argument("--per-doc", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--with-default", action="store_true", help="also feedparser's default flags")
    ap.add_argument("--in-process", action="store_true", help="the old in-process comparison")
    ap.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    ap.add_argument("--docs", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.side:
        print(__import__("json").dumps(_one_side(args)))
        return
    if args.in_process:
        in_process_main(args)
        return
    _orchestrate(args)


def _one_side(args: argparse.Namespace) -> dict[str, int]:
    if args.side.startswith("feedparser"):
        return side_feedparser(args.docs, default_flags=args.side == "feedparser-def")
    workers = (os.cpu_count() or 2) if args.side == "ingest-par" else 0
    return side_ingest(args.docs, args.db, workers)


def _orchestrate(args: argparse.Namespace) -> None:
    import sqlite3

    import feedparser

    docs = build_documents(args.entries, args.per_doc)
    size_mb = sum(len(b) for _, b in docs) / 1e6
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"feedparser {feedparser.__version__}, SQLite {sqlite3.sqlite_version}"
    )
    print(f"documents: {len(docs)} ({size_mb:.1f} MB), {args.entries} entries; whole processes")
    sides = ["feedparser", "ingest", "ingest-par"]
    if args.with_default:
        sides.insert(1, "feedparser-def")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        write_documents(docs, folder)
        times = rounds(folder, Path(tmp), sides, args.rounds)
    report(times)


if __name__ == "__main__":
    main()
