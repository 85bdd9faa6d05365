"""A fetch killed at any moment leaves every source fully saved or untouched,
and re-running completes it with nothing lost and nothing duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FeedServer

# kill -9 of whole fetch processes, ~10 s each: behind --run-integration (CI runs them)
pytestmark = pytest.mark.integration

FEEDS = [
    ("blog-bair", "ml-blogs/jmamath-distill__bair_blog.xml"),
    ("blog-fair", "ml-blogs/jmamath-distill__fair_blog.xml"),
    ("blog-gradient", "ml-blogs/jmamath-distill__gradient_blog.xml"),
    ("blog-openai", "ml-blogs/jmamath-distill__openai_blog.xml"),
    ("hn", "community/hackernews__news.ycombinator.com_rss_2025-12-13.xml"),
    ("newsletter", "newsletters/substack__interconnects.ai_feed_2026-08-02.xml"),
    ("zenn", "japanese/aion__zenn.dev_trend_feed_2026-07-27.xml"),
    ("arxiv-lg", "arxiv-rss/jmamath-distill__arxiv_cs_lg_rss_2026-04-27.xml"),
    ("arxiv-ai", "arxiv-rss/zotero-arxiv-daily__cs.AI_atom_2025-08-20.xml"),
]


def _sources(fs: FeedServer) -> list[dict[str, Any]]:
    out = []
    for i, (name, rel) in enumerate(FEEDS):
        # Staggered answers spread the saves over ~1.5 s so kills land at different stages.
        url = fs.serve_fixture(
            f"/{name}",
            rel,
            "atom" if rel.endswith("atom_2025-08-20.xml") else "rss",
            delay=0.15 * i,
            conditional=False,
        )
        kind = "arxiv-rss" if name.startswith("arxiv") else "feed"
        src: dict[str, Any] = {"name": name, "kind": kind, "url": url}
        if kind == "arxiv-rss":
            src["categories"] = ["cs.LG"]
        out.append(src)
    return out


def _fetch_cmd(db: Path, feeds: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "papertrail",
        "--db",
        str(db),
        "--feeds",
        str(feeds),
        "fetch",
        "-q",
    ]


def _per_source(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT source, COUNT(*) FROM provenance GROUP BY source"))


def _keys(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [k for (k,) in conn.execute("SELECT key FROM entries ORDER BY key")]


@pytest.mark.parametrize("kill_after", [0.25, 0.6, 0.9, 1.3])
def test_killed_fetch_then_rerun_loses_and_duplicates_nothing(
    feed_server: FeedServer, make_feeds: Any, tmp_path: Path, kill_after: float
) -> None:
    feeds = make_feeds(_sources(feed_server), {"concurrency": 16, "per_host_limit": 16})
    reference = tmp_path / "reference.db"
    subprocess.run(_fetch_cmd(reference, feeds), check=True, capture_output=True)
    expected = _per_source(reference)
    assert len(expected) == len(FEEDS)

    db = tmp_path / "killed.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        _fetch_cmd(db, feeds), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master")}
        # Killed while the new file's schema was being created: each migration is one
        # transaction, so there are no tables yet (the re-run creates them), or all.
        if "fetch_log" in tables:
            with sqlite3.connect(db) as conn:
                logged = {s for (s,) in conn.execute("SELECT source FROM fetch_log")}
            partial = _per_source(db)
        else:
            assert not tables & {"sources", "entries", "provenance"}, tables
            logged, partial = set(), {}
        for source, n in partial.items():
            # all of a source's entries, or none of them, and its log row with them
            assert n == expected[source], (source, n, expected[source])
            assert source in logged

    rerun = subprocess.run(_fetch_cmd(db, feeds), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert _per_source(db) == expected
    assert _keys(db) == _keys(reference)
    with sqlite3.connect(db) as conn:
        statuses = [s for (s,) in conn.execute("SELECT status FROM fetch_runs ORDER BY id")]
        fts_rows = conn.execute("SELECT COUNT(*) FROM entries_fts").fetchone()[0]
        entries = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    assert statuses[-1] == "done"
    assert fts_rows == entries  # the full-text index moved in the same transactions
