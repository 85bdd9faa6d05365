"""The whole `papertrail fetch` (fetch -> parse -> tag -> SQLite, one transaction per
source) against many loopback hosts.

1. fan-out: 200 feeds spread over 50 hosts (127.0.0.2 ... 127.0.0.51), each
   answering after 200 ms. Target: <= 2.0 s wall for the whole fetch
   (sequential would be 40 s).
2. unchanged re-fetch: the same 200 feeds fetched again with the stored
   ETag / Last-Modified. Target: 0 feed bodies transferred and wall time
   <= 10 % of the first run. Measured with no added latency, so the figure is
   papertrail's own work (transfer + parse + save vs. 304 + bookkeeping), on
   the mix of recorded documents (what real feeds weigh) and on one mid-size
   feed alone (the harder case: less work saved per 304), and once more at
   200 ms latency for the record.

    python benchmarks/bench_fetch.py
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import yaml  # noqa: E402
from loopback_hosts import HostsProcess  # noqa: E402

from papertrail.config import load_config  # noqa: E402
from papertrail.ingest.fetch import run_fetch  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "feeds" / "ml-blogs"
N_FEEDS, N_HOSTS = 200, 50
# Every recorded blog / community / newsletter document, full size as recorded
# (2 KB ... 500 KB): what a follow-list of real feeds looks like.
MIX = [
    p.read_bytes()
    for folder in ("ml-blogs", "community", "newsletters", "japanese")
    for p in sorted((ROOT / "tests" / "fixtures" / "feeds" / folder).rglob("*.xml"))
]


def _config(tmp: Path, urls: list[str]) -> Path:
    data = yaml.safe_load((ROOT / "feeds.yml").read_text(encoding="utf-8"))
    data["sources"] = [
        {"name": f"feed-{i:03d}", "kind": "feed", "url": u} for i, u in enumerate(urls)
    ]
    data["settings"] = {"timeout": 10}
    path = tmp / "feeds.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _timed(db: Path, feeds: Path) -> tuple[float, dict[str, int]]:
    config = load_config(feeds)
    t0 = time.perf_counter()
    report = run_fetch(db, config)
    return time.perf_counter() - t0, report.totals


def scenario(bodies: list[bytes], latency: float) -> dict[str, float]:
    # The hosts run in a child process: their work is not papertrail's.
    with (
        tempfile.TemporaryDirectory() as tmp_s,
        HostsProcess(n_hosts=N_HOSTS, bodies=bodies, latency=latency) as hosts,
    ):
        tmp = Path(tmp_s)
        feeds = _config(tmp, hosts.urls(n_feeds=N_FEEDS))
        db = tmp / "bench.db"
        first_s, first = _timed(db, feeds)
        first_bodies = hosts.stats.bodies_sent
        hosts.reset_stats()
        again_s, again = _timed(db, feeds)
        return {
            "first_s": first_s,
            "first_ok": first["sources_ok"],
            "first_new_posts": first["new_posts"],
            "first_bodies": first_bodies,
            "again_s": again_s,
            "again_not_modified": again["sources_not_modified"],
            "again_bodies": hosts.stats.bodies_sent,
            "again_ratio": again_s / first_s,
        }


def main() -> dict[str, dict[str, float]]:
    small = (FIX / "jmamath-distill__openai_blog.xml").read_bytes()  # 2 KB, 3 posts
    large = (FIX / "jmamath-distill__bair_blog.xml").read_bytes()  # 60 KB, full-content posts
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    out = {}
    out["fanout"] = r = scenario([small], 0.2)
    print(
        f"fan-out: {N_FEEDS} feeds / {N_HOSTS} hosts @200 ms: whole fetch {r['first_s']:.2f} s "
        f"(target <= 2.0 s; sequential 40 s), {r['first_ok']:.0f} ok, {r['first_new_posts']:.0f} new posts"
    )
    for label, bodies in (("recorded mix", MIX), ("BAIR only", [large])):
        kb = sum(map(len, bodies)) / len(bodies) / 1000
        out[f"refetch {label}"] = r = scenario(bodies, 0.0)
        print(
            f"re-fetch, no added latency, {label} (mean {kb:.0f} KB/feed): first {r['first_s']:.2f} s, "
            f"unchanged re-fetch {r['again_s']:.3f} s = {100 * r['again_ratio']:.1f} % (target <= 10 %), "
            f"bodies sent again: {r['again_bodies']:.0f}, 304s: {r['again_not_modified']:.0f}"
        )
    out["refetch_latency"] = r = scenario(MIX, 0.2)
    print(
        f"re-fetch @200 ms latency, recorded mix: first {r['first_s']:.2f} s, re-fetch {r['again_s']:.2f} s "
        f"({100 * r['again_ratio']:.0f} %; bounded below by 4 rounds of 200 ms), bodies sent again: {r['again_bodies']:.0f}"
    )
    return out


if __name__ == "__main__":
    main()
