"""The reading page (issue 16): server time of the Today page and of one triage action,
p50 / p95 over 20 requests each, at 200,000 entries and at the whole-arXiv size.

Server time is the whole request through Datasette's ASGI app in-process
(`datasette.client`: routing, the plugin, papertrail.api, Jinja, the CSRF check),
without the socket. Targets: Today <= 150 ms at 200k and <= 300 ms at 2.7 M; an
action <= 100 ms / <= 300 ms. The actions alternate star/unstar (starring rescores,
as `papertrail star` does) and read/unread on cards of the Today page; each answer
includes the re-rendered card, as the page asks for it.

Today right after a star does not wait for the refit the star started: it shows the
order from before it and says so (papertrail.browse.page.no_wait). So the script also
times what that leaves out: from the star to the refit landing (the page then offers
the new order), and Today once every refit has landed.

Today shows what the digest shows: entries first seen in the last 24 h. A list
built in one go (or imported) was all first seen today, which no reading list
looks like the next morning, so before measuring, every entry is dated back 3 days
except the newest --today (default 600, a busy arXiv day of several categories).
That rewrites first_seen in the file given: pass a COPY of a reading list.

Datasette's own pages are timed too (reading list view, entries table, a row page,
the database page), one request each after one warm-up, against the issue's 1 s.

    python benchmarks/bench_reading_page.py                  # builds 200k (bench_reading)
    python benchmarks/bench_reading_page.py --db COPY.db     # e.g. a copy of arxiv27.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ROUNDS = 20
REFIT_ROUNDS = 5  # stars timed to their refit landing (seconds each at 200k)


def date_back(db: Path, today: int) -> int:
    """Every entry first seen 3 days ago but the newest `today`; returns how many are in Today."""
    conn = sqlite3.connect(db)
    (top,) = conn.execute("SELECT MAX(id) FROM entries").fetchone()
    with conn:
        conn.execute(
            "UPDATE entries SET first_seen = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-3 days') "
            "WHERE id <= ? AND first_seen > strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-2 days')",
            [top - today],
        )
        conn.execute(
            "UPDATE entries SET first_seen = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-1 hour') "
            "WHERE id > ?",
            [top - today],
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return today


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(coro: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    response = await coro
    return (time.perf_counter() - t0) * 1000, response


DATASETTE_ROUNDS = 5


async def rounds(ds: Any, pages: dict[str, str], anchor: Any = None) -> dict[str, list[float]]:
    """Each page once to warm up, then DATASETTE_ROUNDS rounds of them all, interleaved.
    A label starting with "anchor:" is asked of `anchor` (another Datasette)."""
    out: dict[str, list[float]] = {label: [] for label in pages}
    client = {label: (anchor if label.startswith("anchor:") else ds).client for label in pages}
    for label, path in pages.items():
        await client[label].get(path)
    for _ in range(DATASETTE_ROUNDS):
        for label, path in pages.items():
            ms, response = await timed(client[label].get(path))
            assert response.status_code == 200, (path, response.status_code)
            out[label].append(ms)
    return out


_FACET_LIMITS = ("FACETS_UP_TO", "COLUMN_FACETS_UP_TO", "ARRAY_FACETS_UP_TO")


async def measure_datasette(db: Path) -> dict[str, list[float]]:
    """Datasette's own pages only (`--datasette-only`), DATASETTE_ROUNDS each after one
    warm-up, interleaved; no write, so the list need not be a copy. The anchor is the
    reading list view with its seven default facets on whatever the size (as it was
    below 300,000 entries before issue 16's paging work)."""
    from papertrail.browse import config, make_datasette

    ds = make_datasette(db, triage=False, feeds=ROOT / "feeds.yml")
    limits = {name: getattr(config, name) for name in _FACET_LIMITS}
    for name in _FACET_LIMITS:
        setattr(config, name, 10**12)
    anchor = make_datasette(db, triage=False, feeds=ROOT / "feeds.yml")
    for name, value in limits.items():
        setattr(config, name, value)
    (top,) = sqlite3.connect(db).execute("SELECT MAX(id) FROM entries").fetchone()
    name = db.stem
    pages = {
        "anchor: reading_list, facets on": f"/{name}/reading_list",
        "datasette reading_list": f"/{name}/reading_list",
        "datasette reading_list ?_facet=kind": f"/{name}/reading_list?_facet=kind",
        "datasette entries": f"/{name}/entries",
        "datasette row page": f"/{name}/entries/{top}",
        "datasette database page": f"/{name}",
    }
    return await rounds(ds, pages, anchor)


async def measure(db: Path) -> dict[str, list[float]]:
    from papertrail.browse import make_datasette

    ds = make_datasette(db, triage=True, feeds=ROOT / "feeds.yml")
    client = ds.client
    first = await client.get("/-/papers")
    assert first.status_code == 200, first.text[:300]
    token = first.cookies.get("ds_csrftoken")
    import re

    ids = [int(i) for i in re.findall(r'id="e(\d+)"', first.text)][:10] or [1]
    out: dict[str, list[float]] = {k: [] for k in ("today", "star", "read", "settled", "refit")}
    reranking = 0
    for n in range(ROUNDS):
        ms, response = await timed(client.get("/-/papers"))
        assert response.status_code == 200
        out["today"].append(ms)
        reranking += 'id="reranking"' in response.text
        entry = ids[(n // 2) % len(ids)]  # starred, then unstarred in the next round
        for action, on, off in (("star", "star", "unstar"), ("read", "read", "unread")):
            name = on if n % 2 == 0 else off
            data = {"action": name, "entry": str(entry), "csrftoken": token, "next": "/-/papers"}
            ms, response = await timed(
                client.post(
                    "/-/papers/act",
                    data=data,
                    cookies={"ds_csrftoken": token},
                    headers={"Accept": "application/json"},
                )
            )
            assert response.status_code == 200 and response.json()["ok"], response.text[:300]
            out[action].append(ms)
    out["_reranking"] = [float(reranking)]
    # From a star to its refit landing, then Today with nothing pending (every refit
    # landed: the order the labels give), on other cards of Today.
    for n in range(REFIT_ROUNDS):
        await settle(db)
        entry = ids[(ROUNDS // 2 + n) % len(ids)]
        data = {"action": "star", "entry": str(entry), "csrftoken": token, "next": "/-/papers"}
        t0 = time.perf_counter()
        response = await client.post(
            "/-/papers/act",
            data=data,
            cookies={"ds_csrftoken": token},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200 and response.json()["ok"], response.text[:300]
        while (await client.get("/-/papers/ranking")).json()["busy"]:
            await asyncio.sleep(0.005)
        out["refit"].append((time.perf_counter() - t0) * 1000)
        await settle(db)
        ms, response = await timed(client.get("/-/papers"))
        assert 'id="reranking"' not in response.text
        out["settled"].append(ms)
    name = db.stem
    for label, path in (
        ("datasette reading_list", f"/{name}/reading_list"),
        ("datasette entries", f"/{name}/entries"),
        ("datasette row page", f"/{name}/entries/{ids[0]}"),
        ("datasette database page", f"/{name}"),
    ):
        await client.get(path)
        ms, response = await timed(client.get(path))
        out[label] = [ms]
        print(f"  {label}: {ms:.0f} ms (HTTP {response.status_code})")
    out["_cards"] = [float(len(ids))]
    return out


async def settle(db: Path) -> None:
    """Wait until the background refresh of this process has written every score."""
    from papertrail.reading import rankcache

    await asyncio.to_thread(rankcache.wait, str(db.resolve()), "done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--db", type=Path, help="a COPY of a reading list (first_seen is rewritten)"
    )
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--today", type=int, default=600)
    parser.add_argument(
        "--datasette-only",
        action="store_true",
        help="time Datasette's own pages only (5 rounds each; the list is not rewritten)",
    )
    parser.add_argument(
        "--paging",
        action="store_true",
        help="time the reading page's paging (a COPY: first_seen is rewritten as for Today)",
    )
    args = parser.parse_args()
    if args.datasette_only and args.db is not None:
        datasette_only(args.db)
        return
    if args.paging and args.db is not None:
        if args.today:
            date_back(args.db, args.today)
        datasette_only(args.db, paging=True, today=bool(args.today))
        return
    if args.db is None:
        from bench_reading import build

        args.db = Path(tempfile.mkdtemp()) / "reading.db"
        build(args.db, args.entries)
    (size,) = sqlite3.connect(args.db).execute("SELECT COUNT(*) FROM entries").fetchone()
    date_back(args.db, args.today)
    print(f"{size:,} entries, {args.today} first seen in the last 24 h")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results = asyncio.run(measure(args.db))
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    labels = {
        "today": "today, right after a star and a read",
        "star": "star (the action's answer)",
        "read": "read (the action's answer)",
        "settled": "today, nothing pending",
        "refit": "star -> its refit landed",
    }
    for key, label in labels.items():
        values = results[key]
        print(
            f"  {label:<34} p50 {statistics.median(values):6.0f} ms"
            f"   p95 {pct(values, 0.95):6.0f} ms   (n={len(values)})"
        )
    n = int(results["_reranking"][0])
    print(f"  Today showed the order from before a refit under way {n} of {ROUNDS} times")
    print(f"load average before {' '.join(load_before)}, after {' '.join(load_after)}")


async def measure_paging(db: Path, today: bool = True) -> dict[str, list[float]]:
    """The reading page's paging (`--paging`): the first page of Unread, the 20th (after
    following "Older" 19 times), a second page of Search, Today with its --today entries
    and one domain of it shown whole; DATASETTE_ROUNDS each after one warm-up."""
    import re

    from papertrail.browse import make_datasette

    ds = make_datasette(db, triage=False, feeds=ROOT / "feeds.yml")
    url = "/-/papers/unread"
    for _ in range(19):
        url = re.findall(
            r'class="pager older"[^>]*><a href="([^"]+)"', (await ds.client.get(url)).text
        )[0]
    pages = {
        "unread, page 1": "/-/papers/unread",
        "unread, page 20": url.replace("&amp;", "&"),
        "search 'learning', page 2": "/-/papers/search?q=learning&start=60",
    }
    if today:  # (--today 0: the list is not rewritten, and Today is not timed)
        page = (await ds.client.get("/-/papers")).text
        more = re.findall(r'class="pager more"[^>]*><a href="([^"]+)"', page)
        pages["today"] = "/-/papers"
        pages["today, one domain, 2nd page"] = (
            more[0].replace("&amp;", "&") if more else "/-/papers"
        )
        print(f"  Today's 'more' links: {len(more)}; {page.count('<article')} cards on Today")
    return await rounds(ds, pages)


def datasette_only(db: Path, paging: bool = False, today: bool = True) -> None:
    (size,) = sqlite3.connect(db).execute("SELECT COUNT(*) FROM entries").fetchone()
    print(f"{size:,} entries; machine: {platform.machine()}, {os.cpu_count()} CPUs")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results = asyncio.run(measure_paging(db, today) if paging else measure_datasette(db))
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    for label, values in results.items():
        rounds = " ".join(f"{v:.0f}" for v in values)
        print(f"  {label:<38} median {statistics.median(values):6.0f} ms   ({rounds})")
    print(f"load average before {' '.join(load_before)}, after {' '.join(load_after)}")


if __name__ == "__main__":
    main()
