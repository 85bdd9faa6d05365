"""CPU per paper of the snapshot import's reader half (parse, map, tag, encode), one process.

    PYTHONPATH=TREE python benchmarks/bench_snapshot_readers.py SNAPSHOT.json [--lines N]

Run it alternately with the trees to compare (e.g. this checkout and the revision
before): the reader work is what `import arxiv-snapshot`'s reader processes do.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from papertrail.config import load_config
from papertrail.ingest.snapshot import read_batches
from papertrail.sources.domains import DomainTagger

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("--lines", type=int, default=50_000)
    args = ap.parse_args()
    tagger = DomainTagger(load_config(ROOT / "feeds.yml").domains)
    t0 = time.process_time()
    batches = read_batches(args.snapshot, tagger, batch=5000)
    n = sum(len(b[2]) for b in itertools.islice(batches, -(-args.lines // 5000)))
    cpu = time.process_time() - t0
    print(f"{n:,} papers: {cpu / n * 1e6:.1f} µs of reader CPU a paper")


if __name__ == "__main__":
    main()
