"""The HTTP lane started before the database is opened (issue 19 D): the cheap read of
the stored validators answers as the writer's own read does, and the re-fetch that uses
it sends conditional requests and saves every source."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from conftest import FeedServer, write_feeds

from papertrail import store
from papertrail.config import load_config
from papertrail.ingest.fetch import run_fetch
from papertrail.ingest.http_lane import http_requests, start_early, wanted_sources
from papertrail.sources.http import FetchRequest, fetch_all
from papertrail.store.fetch_states import read_fetch_states

BAIR = "ml-blogs/jmamath-distill__bair_blog.xml"


def _sources(feed_server: FeedServer, n: int) -> list[dict[str, Any]]:
    return [
        {"name": f"f{i}", "kind": "feed", "url": feed_server.serve_fixture(f"/f{i}", BAIR)}
        for i in range(n)
    ]


def _writer_requests(db_path: Path, config: Any) -> list[FetchRequest]:
    """What the writer asks for: `sync_sources`, then `source_state` per source."""
    with store.connected(db_path) as db:
        store.sync_sources(db, config)
        wanted = wanted_sources(config, None)
        states = {s.name: store.source_state(db, s.name) or {} for s in wanted}
    active = [s for s in wanted if not states[s.name].get("paused")]
    return http_requests(active, states, config.settings)  # type: ignore[arg-type]


def test_the_cheap_read_asks_what_the_writer_asks(
    feed_server: FeedServer, tmp_path: Path, db_path: Path
) -> None:
    sources = _sources(feed_server, 4)
    feeds = write_feeds(tmp_path / "feeds.yml", sources)
    config = load_config(feeds)
    assert read_fetch_states(db_path, config) is not None  # no database yet: all new
    run_fetch(db_path, config)
    # One URL changed in feeds.yml (its validators no longer apply), one source new,
    # one paused, one removed.
    sources[1]["url"] = feed_server.serve_fixture("/moved", BAIR)
    sources[3] = {"name": "new", "kind": "feed", "url": feed_server.url("/new")}
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE sources SET paused = 1 WHERE name = 'f2'")
    config = load_config(write_feeds(tmp_path / "feeds.yml", sources))
    early = read_fetch_states(db_path, config)
    assert early is not None
    requests = http_requests(
        [s for s in config.sources if not early[s.name].get("paused")], early, config.settings
    )
    assert [r.key for r in requests] == ["f0", "f1", "new"]
    assert requests[0].etag and not requests[1].etag and not requests[2].etag
    assert requests == _writer_requests(db_path, config)


def test_a_re_fetch_starts_early_and_saves_every_source(
    feed_server: FeedServer, tmp_path: Path, db_path: Path
) -> None:
    config = load_config(write_feeds(tmp_path / "feeds.yml", _sources(feed_server, 6)))
    first = run_fetch(db_path, config)
    assert first.totals["sources_ok"] == 6 and first.totals["new_posts"] > 0
    with store.database_lock(db_path):
        lane = start_early(db_path, config, None)
        assert lane is not None
        lane.thread.join(timeout=30)
        assert lane.first_wave.is_set() and lane.results.qsize() == 6
    assert lane.requests == _writer_requests(db_path, config)  # so the writer adopts it
    feed_server.requests.clear()
    again = run_fetch(db_path, config)
    assert again.totals["sources_not_modified"] == 6
    assert all(r.headers.get("If-None-Match") for r in feed_server.requests)


def test_a_database_with_migrations_pending_is_not_read_early(
    tmp_path: Path, db_path: Path
) -> None:
    with store.connected(db_path) as db:
        db.execute("DELETE FROM _migrations WHERE name = '" + "m012_post_urls" + "'")
    config = load_config(write_feeds(tmp_path / "feeds.yml", []))
    assert read_fetch_states(db_path, config) is None


def test_first_wave_is_signalled_once_the_requests_are_out(feed_server: FeedServer) -> None:
    body = (Path(__file__).parent / "fixtures" / "feeds" / BAIR).read_bytes()
    urls = [feed_server.serve(f"/w{i}", body, delay=0.3) for i in range(5)]
    events: list[str] = []
    results = asyncio.run(
        fetch_all(
            [FetchRequest(key=str(i), url=u) for i, u in enumerate(urls)],
            on_result=lambda r: events.append("result"),
            on_first_wave=lambda: events.append("wave"),
        )
    )
    assert [r.status for r in results] == [200] * 5
    # Signalled once, while every request waited for its (slow) answer.
    assert events == ["wave"] + ["result"] * 5
