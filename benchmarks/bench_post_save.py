"""Saving posts (issue 18 items 5 and 10): the writer now matches new posts against
other feeds' (URL keys, title and date) and re-reads known posts for corrections.

N posts made from the recorded blog items (each with a unique link and date) are
saved as one source (all new), saved again (all known: the re-fetch of a feed
without ETag), then saved as a second source that lists the same articles under
tracking-tagged links (all merged). Each step is timed; run it once per tree
(interleave the trees by hand or with a loop) to compare.

    PYTHONPATH=. python benchmarks/bench_post_save.py [--posts 10000]
    PYTHONPATH=/tmp/anchor python benchmarks/bench_post_save.py   # the revision before
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from papertrail import store
from papertrail.config import load_config
from papertrail.models import Record
from papertrail.sources.domains import DomainTagger
from papertrail.sources.parse import parse_feed

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "feeds"


def posts(n: int, tagged: bool = False) -> list[Record]:
    base = [
        r
        for p in sorted((FIX / "ml-blogs").glob("*.xml"))
        for r in parse_feed(
            p.read_bytes(), {}, base_url="https://x.org/", source_kind="feed"
        ).records
    ]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        r = base[i % len(base)]
        query = "?utm_source=planet" if tagged else ""
        out.append(
            Record(
                kind="post",
                title=f"{r.title} ({i})",
                summary=r.summary,
                authors=r.authors,
                url=f"https://blog{i % 50}.example.org/p/{i}{query}",
                guid=f"planet-{i}" if tagged else None,
                published=(start + timedelta(minutes=37 * i)).isoformat(),
            )  # fmt: skip
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000)
    args = ap.parse_args()
    tagger = DomainTagger(load_config(ROOT / "feeds.yml").domains)
    own, tagged = posts(args.posts), posts(args.posts, tagged=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_db(Path(tmp) / "r.db")
        run = store.start_run(db)
        for label, source, records in (
            ("new", "blogs", own), ("known", "blogs", own), ("other feed", "planet", tagged),
        ):  # fmt: skip
            started = time.perf_counter()
            stats = store.save_source_result(
                db, run_id=run, outcome=store.SourceOutcome(source=source, status="ok"),
                records=records, tagger=tagger,
            )  # fmt: skip
            took = time.perf_counter() - started
            print(f"{label:10} {len(records)} posts: {took:6.2f} s  (new {stats.new_posts})")
        (entries,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
        print(f"entries: {entries}")


if __name__ == "__main__":
    main()
