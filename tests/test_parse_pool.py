"""Feed documents parsed in worker processes (papertrail.ingest.pool), end to end
against the real HTTP server serving the recorded documents: a worker that dies or
hangs in a parse costs that source only, and the pool gives the same database as
the in-process path."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTENT_TYPES, FIXTURES, FeedServer, fixture_bytes

from papertrail.config import load_config
from papertrail.ingest.fetch import FetchReport, run_fetch
from papertrail.ingest.pool import ParseDone, ParsePool, ParseTask, TestHooks

BLOGS = [
    "ml-blogs/jmamath-distill__bair_blog.xml",
    "ml-blogs/jmamath-distill__fair_blog.xml",
    "ml-blogs/jmamath-distill__openai_blog.xml",
    "ml-blogs/jmamath-distill__gradient_blog.xml",
]


def _marked(rel: str, mark: str) -> bytes:
    """A recorded document with a comment carrying `mark` (the test-only hooks' trigger)."""
    body = fixture_bytes(rel)
    head, sep, rest = body.partition(b"?>")
    return head + sep + f"<!-- {mark} -->".encode() + rest


def _fetch(db: Path, feeds: Path) -> FetchReport:
    return run_fetch(db, load_config(feeds))


def _by_name(report: FetchReport) -> dict[str, Any]:
    return {s.name: s for s in report.sources}


def _sources(fs: FeedServer, bad: dict[str, bytes]) -> list[dict[str, Any]]:
    sources = [
        {"name": f"blog-{i}", "kind": "feed", "url": fs.serve_fixture(f"/b{i}.xml", rel)}
        for i, rel in enumerate(BLOGS)
    ]
    sources += [
        {"name": name, "kind": "feed", "url": fs.serve(f"/{name}.xml", body)}
        for name, body in bad.items()
    ]
    return sources


@pytest.mark.integration  # ~2-3 s: a forkserver, worker crashes, two fetches
def test_a_crashed_parse_costs_its_source_only(
    feed_server: FeedServer, make_feeds: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_PARSE_POOL", "1")
    monkeypatch.setenv("PAPERTRAIL_TEST_PARSE_CRASH", "CRASH-THIS-WORKER")
    bad = {f"crasher-{i}": _marked(BLOGS[i], "CRASH-THIS-WORKER") for i in range(3)}
    feeds = make_feeds(_sources(feed_server, bad), {"mentions_backfill": False})
    report = _fetch(db_path, feeds)
    by_name = _by_name(report)
    for name in bad:  # more crashes than workers: the pool replaced them each time
        assert by_name[name].status == "error"
        assert "the parser crashed" in (by_name[name].error or "")
        assert "exit code 70" in (by_name[name].error or "")
    for i in range(len(BLOGS)):
        assert by_name[f"blog-{i}"].status == "ok", by_name[f"blog-{i}"].error
        assert by_name[f"blog-{i}"].new_posts > 0
    with sqlite3.connect(db_path) as conn:
        saved = dict(conn.execute("SELECT source, COUNT(*) FROM entries GROUP BY source"))
        logged = dict(conn.execute("SELECT source, status FROM fetch_log"))
        etags = dict(conn.execute("SELECT name, etag FROM sources"))
    assert set(saved) == {f"blog-{i}" for i in range(len(BLOGS))}
    assert all(logged[name] == "error" and etags[name] is None for name in bad)
    # Without the crash the next fetch reads those documents (their validators were dropped).
    monkeypatch.delenv("PAPERTRAIL_TEST_PARSE_CRASH")
    again = _by_name(_fetch(db_path, feeds))
    assert all(again[name].status == "ok" for name in bad)
    assert all(again[f"blog-{i}"].status == "not-modified" for i in range(len(BLOGS)))


@pytest.mark.integration  # ~3 s: a forkserver, 36 feeds, worker crashes
def test_a_pool_started_with_the_run_parses_and_survives_a_crash(
    feed_server: FeedServer, make_feeds: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With POOL_EARLY_SOURCES new feeds the pool starts with the early HTTP lane, before
    the database is open; the writer adopts it: every body goes through it, and a crash
    there still costs its source only."""
    from papertrail.ingest import pool as pool_module

    monkeypatch.setenv("PAPERTRAIL_PARSE_POOL", "1")
    monkeypatch.setenv("PAPERTRAIL_TEST_PARSE_CRASH", "CRASH-THIS-WORKER")
    started: list[ParsePool] = []
    submitted: list[str] = []

    def start_pool(*args: Any) -> ParsePool | None:
        pool = real_start(*args)
        if pool is not None:
            started.append(pool)
            real_submit = pool.submit
            pool.submit = lambda task: (submitted.append(task.key), real_submit(task))[1]  # type: ignore[method-assign]
        return pool

    real_start = pool_module.start_pool
    monkeypatch.setattr(pool_module, "start_pool", start_pool)
    bad = {f"crasher-{i}": _marked(BLOGS[i], "CRASH-THIS-WORKER") for i in range(2)}
    sources = [
        {"name": f"blog-{i}", "kind": "feed", "url": feed_server.serve_fixture(f"/m{i}.xml", BLOGS[i % 4])}
        for i in range(pool_module.POOL_EARLY_SOURCES + 2)
    ]  # fmt: skip
    sources += _sources(feed_server, bad)[len(BLOGS) :]
    feeds = make_feeds(sources, {"mentions_backfill": False})
    by_name = _by_name(_fetch(db_path, feeds))
    assert len(started) == 1
    assert sorted(submitted) == sorted(s["name"] for s in sources)  # all parsed in the pool
    assert all(by_name[name].status == "error" for name in bad)
    assert all("the parser crashed" in (by_name[name].error or "") for name in bad)
    ok = [s["name"] for s in sources if s["name"] not in bad]
    assert all(by_name[name].status == "ok" and by_name[name].new_posts > 0 for name in ok[:4])
    assert all(by_name[name].status == "ok" for name in ok)


@pytest.mark.integration  # ~2-3 s: a forkserver, worker crashes, two fetches
def test_a_hanging_parse_is_stopped_and_reported(
    feed_server: FeedServer, make_feeds: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_PARSE_POOL", "1")
    monkeypatch.setenv("PAPERTRAIL_PARSE_TIMEOUT", "1")
    monkeypatch.setenv("PAPERTRAIL_TEST_PARSE_HANG", "HANG-THIS-WORKER")
    bad = {"hanger": _marked(BLOGS[2], "HANG-THIS-WORKER")}
    feeds = make_feeds(_sources(feed_server, bad), {"mentions_backfill": False})
    by_name = _by_name(_fetch(db_path, feeds))
    assert by_name["hanger"].status == "error"
    assert "took over 1 s and was stopped" in (by_name["hanger"].error or "")
    assert all(by_name[f"blog-{i}"].status == "ok" for i in range(len(BLOGS)))


def test_the_hooks_never_act_in_the_in_process_path(
    feed_server: FeedServer, make_feeds: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_PARSE_POOL", "0")
    monkeypatch.setenv("PAPERTRAIL_TEST_PARSE_CRASH", "CRASH-THIS-WORKER")
    bad = {"marked": _marked(BLOGS[0], "CRASH-THIS-WORKER")}
    feeds = make_feeds(_sources(feed_server, bad), {"mentions_backfill": False})
    by_name = _by_name(_fetch(db_path, feeds))
    assert {s.status for s in by_name.values()} == {"ok"}  # and this process is still here


# Every recorded feed document, by kind, plus one that is not a feed at all.
RECORDED = {
    "arxiv-rss": sorted((FIXTURES / "arxiv-rss").rglob("*.xml")),
    "feed": sorted(
        p for folder in ("ml-blogs", "community", "newsletters", "japanese")
        for p in (FIXTURES / folder).rglob("*.xml")
    ),
}  # fmt: skip


def _everything(fs: FeedServer) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = []
    for kind, paths in RECORDED.items():
        for i, p in enumerate(paths):
            url = fs.serve(f"/{kind}/{i}.xml", p.read_bytes(), CONTENT_TYPES["xml"])
            source: dict[str, Any] = {"name": f"{kind}-{i}", "kind": kind, "url": url}
            if kind == "arxiv-rss":
                source["categories"] = ["cs.LG"]
            sources.append(source)
    html = b"<!doctype html><html><body><p>moved</p></body></html>"
    sources.append({"name": "not-a-feed", "kind": "feed", "url": fs.serve("/x.html", html)})
    return sources


# Columns that differ between two runs by time or by arrival order, not by content.
_VOLATILE = {"id", "first_seen", "last_seen", "first_seen_run", "version_updated_at"}


def _content(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every entry (by key), its domains, sources, versions and mentions; the fetch log."""
    with sqlite3.connect(db) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(entries)")]
        keep = ", ".join(c for c in cols if c not in _VOLATILE)
        out = {"entries": sorted(conn.execute(f"SELECT {keep} FROM entries"))}
        for table, what in (
            ("entry_domains", "x.domain, x.rank, x.origin"),
            ("provenance", "x.source, x.announce_type"),
            ("entry_versions", "x.version, x.source"),
        ):
            sql = f"SELECT e.key, {what} FROM {table} x JOIN entries e ON e.id = x.entry_id"
            out[table] = sorted(conn.execute(sql))
        out["mentions"] = sorted(
            conn.execute(
                "SELECT e.key, m.arxiv_id FROM mentions m JOIN entries e ON e.id = m.post_id"
            )
        )
        out["fetch_log"] = sorted(
            conn.execute(
                "SELECT source, status, http_status, bytes, entries_seen, new_count, error, warnings "
                "FROM fetch_log"
            )
        )
    return out


@pytest.mark.integration  # ~2-3 s: a forkserver, worker crashes, two fetches
def test_the_pool_and_the_in_process_path_give_the_same_database(
    feed_server: FeedServer, make_feeds: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = make_feeds(_everything(feed_server), {"mentions_backfill": False})
    contents = {}
    for mode in ("0", "1"):
        monkeypatch.setenv("PAPERTRAIL_PARSE_POOL", mode)
        db = tmp_path / f"pool-{mode}.db"
        report = _fetch(db, feeds)
        assert report.count("ok") == len(report.sources) - 1  # all but not-a-feed
        contents[mode] = _content(db)
    in_process, pooled = contents["0"], contents["1"]
    assert len(in_process["entries"]) > 100 and len(in_process["entry_domains"]) > 100
    for table in in_process:
        assert pooled[table] == in_process[table], table


def test_every_task_comes_back_once_even_when_workers_die() -> None:
    """The pool on its own: 2 workers, 9 documents, 3 of which kill their worker."""
    delivered: list[ParseDone] = []
    body = fixture_bytes(BLOGS[2])
    marked = _marked(BLOGS[2], "DIE")
    pool = ParsePool(2, [], delivered.append, hooks=TestHooks(crash=b"DIE"))
    for i in range(9):
        pool.submit(ParseTask(f"t{i}", marked if i % 3 == 0 else body, {}, "http://x/", "feed"))
    deadline = time.monotonic() + 60
    while len(delivered) < 9 and time.monotonic() < deadline:
        time.sleep(0.05)
    pool.close()
    assert sorted(d.key for d in delivered) == [f"t{i}" for i in range(9)]
    for d in delivered:
        crashed = int(d.key[1:]) % 3 == 0
        assert (d.parsed is None) == crashed
        if not crashed:
            assert d.parsed is not None and len(d.parsed.records) == len(d.domains) > 0


def _tagged_pids(tag: str) -> list[int]:
    """Processes (ours: same user) whose environment carries `tag`."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if tag.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


@pytest.mark.integration  # kill -9 of whole fetch processes, ~5 s
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_a_killed_fetch_leaves_no_parse_worker_and_a_rerun_completes(
    feed_server: FeedServer, make_feeds: Any, tmp_path: Path
) -> None:
    from test_resilience import _fetch_cmd, _keys, _per_source
    from test_resilience import _sources as staggered

    feeds = make_feeds(staggered(feed_server), {"concurrency": 16, "per_host_limit": 16})
    tag = f"i19a-kill-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "PAPERTRAIL_PARSE_POOL": "1", "PAPERTRAIL_KILL_TEST_TAG": tag}
    reference = tmp_path / "reference.db"
    subprocess.run(_fetch_cmd(reference, feeds), check=True, capture_output=True, env=env)
    db = tmp_path / "killed.db"
    proc = subprocess.Popen(
        _fetch_cmd(db, feeds), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 10
    while len(_tagged_pids(tag)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)  # until the forkserver and its workers are up
    assert len(_tagged_pids(tag)) >= 3, "the parse pool never started"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _tagged_pids(tag) and time.monotonic() < deadline:
        time.sleep(0.05)  # the workers see their pipe close and exit
    assert _tagged_pids(tag) == []
    rerun = subprocess.run(_fetch_cmd(db, feeds), capture_output=True, text=True, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert _per_source(db) == _per_source(reference)
    assert _keys(db) == _keys(reference)
