"""Fan-out benchmark: 200 feeds over 50 loopback hosts, each answering after 200 ms.

Runs papertrail.sources.http.fetch_all with the contract's default settings
(concurrency 32, 2 per host), first cold (every feed sends its body), then
warm (conditional GET with the ETags just received: every feed answers 304).
Fetching one after another would take 200 x 0.2 s = 40 s; the target for the
cold run is <= 2.0 s. Prints figures, never asserts them.

    python benchmarks/bench_fanout.py
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from papertrail.sources.http import FetchRequest, FetchResult, fetch_all  # noqa: E402

try:
    from benchmarks.loopback_hosts import LoopbackHosts  # noqa: E402
except ImportError:  # benchmarks/ is not a package in every checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from loopback_hosts import LoopbackHosts  # noqa: E402

N_FEEDS = 200
N_HOSTS = 50
LATENCY = 0.2
FEED_NAME = "jmamath-distill__openai_blog.xml"


def feed_body() -> bytes:
    """A real recorded feed: from tests/fixtures if it is there, else ../shared."""
    candidates = [
        *sorted((REPO / "tests" / "fixtures").rglob(FEED_NAME)),
        REPO.parent / "shared" / "fixtures" / "feeds" / "ml-blogs" / FEED_NAME,
    ]
    for path in candidates:
        if path.is_file():
            return path.read_bytes()
    raise SystemExit(f"feed fixture {FEED_NAME} not found in {[str(p) for p in candidates]}")


def _timed_run(requests: list[FetchRequest]) -> tuple[float, list[FetchResult]]:
    started = time.perf_counter()
    results = asyncio.run(fetch_all(requests))  # contract defaults
    return time.perf_counter() - started, results


def main(n_feeds: int = N_FEEDS, n_hosts: int = N_HOSTS, latency: float = LATENCY) -> dict:
    body = feed_body()
    with LoopbackHosts(n_hosts=n_hosts, body=body, latency=latency) as hosts:
        urls = hosts.urls(n_feeds=n_feeds)
        cold_requests = [FetchRequest(f"feed-{i}", url) for i, url in enumerate(urls)]
        cold_s, cold = _timed_run(cold_requests)
        cold_stats = hosts.stats
        hosts.reset_stats()

        warm_requests = [
            FetchRequest(r.key, r.url, etag=r.etag, last_modified=r.last_modified) for r in cold
        ]
        warm_s, warm = _timed_run(warm_requests)
        warm_stats = hosts.stats

    return {
        "feeds": n_feeds,
        "hosts": n_hosts,
        "latency_s": latency,
        "body_bytes": len(body),
        "sequential_estimate_s": n_feeds * latency,
        "cold_wall_s": round(cold_s, 3),
        "cold_ok": sum(r.error is None and r.body == body for r in cold),
        "cold_errors": sorted({r.error for r in cold if r.error}),
        "cold_requests_served": cold_stats.requests,
        "cold_bodies_sent": cold_stats.bodies_sent,
        "cold_body_bytes_sent": cold_stats.body_bytes_sent,
        "warm_wall_s": round(warm_s, 3),
        "warm_not_modified": sum(r.not_modified for r in warm),
        "warm_requests_served": warm_stats.requests,
        "warm_not_modified_sent": warm_stats.not_modified_sent,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "httpx": httpx.__version__,
    }


if __name__ == "__main__":
    figures = main()
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
