"""End to end: feeds.yml -> `papertrail fetch` -> SQLite -> digest, against a real
HTTP server on loopback serving the recorded documents in tests/fixtures/feeds."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CONTENT_TYPES, FeedServer, fixture_bytes
from werkzeug import Response

from papertrail.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, cli

API = "arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml"


def world(feed_server: FeedServer) -> list[dict[str, Any]]:
    """A morning's sources: arXiv daily (RSS, 3 categories), an API query, blogs,
    community and a newsletter, all served from recorded documents."""
    fs = feed_server
    return [
        {
            "name": "arxiv-cs-lg",
            "kind": "arxiv-rss",
            "categories": ["cs.LG"],
            "url": fs.serve_fixture(
                "/rss/cs.LG", "arxiv-rss/jmamath-distill__arxiv_cs_lg_rss_2026-04-27.xml"
            ),
        },
        {
            "name": "arxiv-cs-ai",
            "kind": "arxiv-rss",
            "categories": ["cs.AI"],
            "url": fs.serve_fixture(
                "/rss/cs.AI", "arxiv-rss/jmamath-distill__arxiv_cs_ai_rss_2026-04-27.xml"
            ),
        },
        {
            "name": "arxiv-cs-cl",
            "kind": "arxiv-rss",
            "categories": ["cs.CL"],
            "url": fs.serve_fixture(
                "/rss/cs.CL", "arxiv-rss/jmamath-distill__arxiv_cs_cl_rss_2026-04-27.xml"
            ),
        },
        {
            "name": "arxiv-lg-api",
            "kind": "arxiv",
            "categories": ["cs.LG", "cs.AI"],
            "max_results": 20,
        },
        {
            "name": "bair",
            "kind": "feed",
            "tags": ["blog"],
            "url": fs.serve_fixture("/bair/feed.xml", "ml-blogs/jmamath-distill__bair_blog.xml"),
        },
        {
            "name": "openai",
            "kind": "feed",
            "tags": ["blog"],
            "url": fs.serve_fixture("/openai/rss.xml", "ml-blogs/jmamath-distill__openai_blog.xml"),
        },
        {
            "name": "hn",
            "kind": "feed",
            "tags": ["community"],
            "url": fs.serve_fixture(
                "/hn/rss", "community/hackernews__news.ycombinator.com_rss_2025-12-13.xml"
            ),
        },
        {
            "name": "reddit",
            "kind": "feed",
            "tags": ["community"],
            "url": fs.serve_fixture(
                "/r/pics/.rss",
                "community/reddit/newsyacht__reddit_r-pics_atom_2025-12-30.xml",
                "atom",
            ),
        },
        {
            "name": "interconnects",
            "kind": "feed",
            "tags": ["newsletter"],
            "url": fs.serve_fixture(
                "/interconnects/feed", "newsletters/substack__interconnects.ai_feed_2026-08-02.xml"
            ),
        },
        {
            "name": "zenn",
            "kind": "feed",
            "tags": ["japanese"],
            "url": fs.serve_fixture(
                "/zenn/feed", "japanese/aion__zenn.dev_trend_feed_2026-07-27.xml"
            ),
        },
    ]


def serve_api(fs: FeedServer, rel: str = API, status: int = 200) -> str:
    body = fixture_bytes(rel)
    return fs.handle(
        "/api/query",
        lambda req: Response(body, status=status, headers={"Content-Type": CONTENT_TYPES["api"]}),
    )


def one_feed(fs: FeedServer) -> list[dict[str, Any]]:
    """A single small, well-formed blog feed."""
    return [
        {
            "name": "a",
            "kind": "feed",
            "url": fs.serve_fixture("/a", "ml-blogs/jmamath-distill__openai_blog.xml"),
        }
    ]


def invoke(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["--db", str(db), "--feeds", str(feeds), *args], catch_exceptions=False
    )


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def fetched(feed_server: FeedServer, make_feeds: Any, db_path: Path) -> tuple[Path, Path, Any]:
    api = serve_api(feed_server)
    feeds = make_feeds(world(feed_server), {"arxiv_api_url": api})
    result = invoke(db_path, feeds, "fetch", "--format", "json")
    assert result.exit_code == 0, result.output
    return db_path, feeds, json.loads(result.stdout)


def test_fetch_fills_the_reading_list_and_prints_a_json_digest(fetched: Any) -> None:
    db, _, digest = fetched
    entries = digest["entries"]
    kinds = {e["kind"] for e in entries}
    assert kinds == {"paper", "post"}
    for e in entries:  # the contract other parts rely on
        for key in (
            "id",
            "kind",
            "title",
            "url",
            "arxiv_id",
            "version",
            "domains",
            "sources",
            "first_seen",
        ):
            assert key in e, key
        assert e["domains"], e["title"]
        assert e["sources"]
        if e["kind"] == "post":
            assert e["arxiv_id"] is None
        else:
            assert e["arxiv_id"] and "v" not in e["arxiv_id"].split(".")[-1]
    papers = [e for e in entries if e["kind"] == "paper"]
    # 20 API results + the RSS items announced new/cross (replacements of unknown papers are skipped)
    assert len(papers) >= 20
    assert rows(db, "SELECT COUNT(*) FROM entries")[0][0] == len(entries)
    summary = digest["summary"]
    assert summary["sources_ok"] == 10 and summary["sources_failed"] == 0
    assert summary["new_papers"] == len(papers)
    assert summary["new_posts"] == len(entries) - len(papers)


def test_every_source_is_logged_and_stateful(fetched: Any) -> None:
    db, _, _ = fetched
    log = rows(
        db, "SELECT source, status, http_status, bytes, new_count FROM fetch_log ORDER BY source"
    )
    assert len(log) == 10
    assert all(status == "ok" and code == 200 for _, status, code, _, _ in log)
    assert all(n > 0 for _, _, _, n, _ in log)
    etags = rows(db, "SELECT name, etag FROM sources WHERE kind != 'arxiv'")
    assert all(etag for _, etag in etags)


def test_refetch_is_conditional_and_duplicates_nothing(
    fetched: Any, feed_server: FeedServer
) -> None:
    db, feeds, _ = fetched
    before = rows(db, "SELECT key, title FROM entries ORDER BY key")
    sent = dict(feed_server.bodies_sent)
    result = invoke(db, feeds, "fetch", "--format", "json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert again["entries"] == []  # nothing new since the previous fetch
    assert again["summary"]["sources_not_modified"] == 9  # every feed answered 304
    assert feed_server.bodies_sent == sent  # no feed body transferred again
    assert rows(db, "SELECT key, title FROM entries ORDER BY key") == before
    assert [
        r for r in rows(db, "SELECT key, COUNT(*) FROM entries GROUP BY key HAVING COUNT(*) > 1")
    ] == []
    sent_if_none_match = [r for r in feed_server.requests if r.headers.get("If-None-Match")]
    assert len(sent_if_none_match) >= 9


def test_text_digest_groups_by_domain_and_ends_with_summary(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    feeds = make_feeds(world(feed_server), {"arxiv_api_url": serve_api(feed_server)})
    result = invoke(db_path, feeds, "fetch")
    assert result.exit_code == 0, result.output
    out = result.stdout.rstrip().splitlines()
    assert "10 sources ok" in "\n".join(out[-3:])
    assert "new papers" in "\n".join(out[-3:])
    text = result.stdout
    assert "arxiv.org/abs/" in text
    # domain headings appear in feeds.yml order
    order = [
        "vision",
        "generative",
        "language",
        "audio",
        "graphs",
        "reinforcement-learning",
        "tabular",
        "3d-and-other",
        "ml-general",
    ]
    positions = [text.find(d) for d in order if text.find(d) != -1]
    assert len(positions) >= 2 and positions == sorted(positions)


def test_digest_command_renders_windows_and_formats(fetched: Any, tmp_path: Path) -> None:
    db, feeds, digest = fetched
    result = invoke(db, feeds, "digest", "--since", "24h", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["entries"]) == len(digest["entries"])
    empty = invoke(
        db, feeds, "digest", "--since", "2000-01-01", "--until", "2000-01-02", "--format", "json"
    )
    assert json.loads(empty.stdout)["entries"] == []
    html = tmp_path / "d.html"
    result = invoke(db, feeds, "digest", "--since", "7d", "--format", "html", "-o", str(html))
    assert result.exit_code == 0
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    md = invoke(db, feeds, "digest", "--since", "7d", "--format", "markdown")
    assert md.stdout.startswith("#")
    bad = invoke(db, feeds, "digest", "--since", "yesterday-ish")
    assert bad.exit_code != 0 and "24h" in bad.output


def test_one_bad_source_never_stops_the_others(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    fs = feed_server
    sources = [
        {
            "name": "good",
            "kind": "feed",
            "url": fs.serve_fixture("/good", "ml-blogs/jmamath-distill__openai_blog.xml"),
        },
        {
            "name": "missing",
            "kind": "feed",
            "url": fs.handle("/missing", lambda r: Response("nope", 404)),
        },
        {
            "name": "html-page",
            "kind": "feed",
            "url": fs.serve(
                "/page",
                b"<!doctype html><html><head><title>Blog</title></head><body><p>hi</p></body></html>",
                CONTENT_TYPES["html"],
            ),
        },
        {
            "name": "slow",
            "kind": "feed",
            "url": fs.serve_fixture(
                "/slow", "ml-blogs/jmamath-distill__openai_blog.xml", delay=2.5
            ),
        },
        {
            "name": "truncated",
            "kind": "feed",
            "url": fs.serve(
                "/truncated", fixture_bytes("ml-blogs/jmamath-distill__fair_blog.xml")[:30000]
            ),
        },
        {"name": "refused", "kind": "feed", "url": "http://127.0.0.1:9/feed.xml"},
        {"name": "arxiv-bad-query", "kind": "arxiv", "query": "ti:[broken", "max_results": 5},
    ]
    api = serve_api(
        fs, "arxiv-api/arxiv.py-recorded-2026/id_abc_s0_m100_b79c8dcf6bc3.body.xml", status=400
    )
    feeds = make_feeds(sources, {"arxiv_api_url": api, "timeout": 1})
    result = invoke(db_path, feeds, "fetch", "--format", "json")
    assert result.exit_code == 0, result.output  # some sources worked
    summary = json.loads(result.stdout)["summary"]
    failed = dict((name, error) for name, error in summary["failures"])
    assert set(failed) == {"missing", "html-page", "slow", "refused", "arxiv-bad-query"}
    assert "404" in failed["missing"]
    assert "HTML" in failed["html-page"]
    assert "timed out" in failed["slow"].lower()
    assert "400" in failed["arxiv-bad-query"] and "incorrect id format" in failed["arxiv-bad-query"]
    log = dict(rows(db_path, "SELECT source, status FROM fetch_log"))
    assert log["good"] == "ok" and log["truncated"] == "ok"
    assert all(log[name] == "error" for name in failed)
    warnings = dict(rows(db_path, "SELECT source, warnings FROM fetch_log"))
    assert json.loads(warnings["truncated"])  # kept what parsed, recorded the warning
    assert rows(db_path, "SELECT COUNT(*) FROM entries WHERE source = 'truncated'")[0][0] >= 1


def test_all_sources_failing_exits_1(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    feeds = make_feeds(
        [
            {
                "name": "gone",
                "kind": "feed",
                "url": feed_server.handle("/x", lambda r: Response("", 410)),
            }
        ]
    )
    result = invoke(db_path, feeds, "fetch")
    assert result.exit_code == EXIT_FAILED, result.output
    assert "gone" in result.stdout and "410" in result.stdout


def test_bad_feeds_file_fetches_nothing_and_leaves_db_untouched(
    tmp_path: Path, db_path: Path
) -> None:
    feeds = tmp_path / "feeds.yml"
    feeds.write_text("sources:\n  - name: a\n    kind: feed\n    url: ftp://example.org/feed\n")
    result = invoke(db_path, feeds, "fetch")
    assert result.exit_code == EXIT_CONFIG
    assert "feeds.yml:4" in result.output and "url" in result.output
    assert not db_path.exists()


def test_a_second_concurrent_fetch_says_so_and_exits_75(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    from filelock import FileLock

    feeds = make_feeds(one_feed(feed_server))
    with FileLock(f"{db_path}.lock"):
        result = invoke(db_path, feeds, "fetch")
    assert result.exit_code == EXIT_LOCKED
    assert "already running" in result.output
    assert invoke(db_path, feeds, "fetch").exit_code == 0


def test_repeated_failures_pause_a_source_until_enabled(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    feeds = make_feeds(
        [
            {
                "name": "ok",
                "kind": "feed",
                "url": feed_server.serve_fixture(
                    "/ok", "ml-blogs/jmamath-distill__openai_blog.xml"
                ),
            },
            {
                "name": "flaky",
                "kind": "feed",
                "url": feed_server.handle("/flaky", lambda r: Response("", 500)),
            },
        ],
        {"max_failures": 2, "max_retries": 0},
    )
    for _ in range(2):
        invoke(db_path, feeds, "fetch")
    assert feed_server.hits["/flaky"] == 2
    result = invoke(db_path, feeds, "fetch", "--format", "json")
    assert feed_server.hits["/flaky"] == 2  # skipped, not fetched
    failures = dict(json.loads(result.stdout)["summary"]["failures"])
    assert "papertrail sources enable flaky" in failures["flaky"]
    listing = invoke(db_path, feeds, "sources")
    assert "paused" in listing.stdout
    assert invoke(db_path, feeds, "sources", "enable", "flaky").exit_code == 0
    invoke(db_path, feeds, "fetch")
    assert feed_server.hits["/flaky"] == 3
    assert invoke(db_path, feeds, "sources", "enable", "nope").exit_code != 0


def test_permanent_redirect_updates_the_stored_url(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    fs = feed_server
    new = fs.serve_fixture("/new/feed.xml", "ml-blogs/jmamath-distill__openai_blog.xml")
    old = fs.handle("/old/feed.xml", lambda r: Response("", 301, headers={"Location": new}))
    feeds = make_feeds([{"name": "moved", "kind": "feed", "url": old}])
    result = invoke(db_path, feeds, "fetch", "--format", "json")
    summary = json.loads(result.stdout)["summary"]
    assert summary["moved"] == [["moved", new]]
    assert rows(db_path, "SELECT fetch_url FROM sources WHERE name = 'moved'")[0][0] == new
    invoke(db_path, feeds, "fetch")
    assert fs.hits["/old/feed.xml"] == 1  # the next run goes straight to the new URL


def test_replace_announcement_updates_version_not_a_new_entry(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    """An arXiv `replace` for a paper we have bumps its version; it is not new in the digest,
    but a new version of a *starred* paper is shown."""
    new_item = _rss_item("2604.00001", 1, "new")
    fs = feed_server
    state = {"body": _rss([new_item])}
    url = fs.handle(
        "/rss", lambda r: Response(state["body"], headers={"Content-Type": CONTENT_TYPES["rss"]})
    )
    feeds = make_feeds(
        [{"name": "daily", "kind": "arxiv-rss", "categories": ["cs.LG"], "url": url}]
    )
    first = json.loads(invoke(db_path, feeds, "fetch", "--format", "json").stdout)
    assert [e["arxiv_id"] for e in first["entries"]] == ["2604.00001"]
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE entries SET starred_at = '2026-01-01T00:00:00+00:00'")
    state["body"] = _rss(
        [_rss_item("2604.00001", 2, "replace"), _rss_item("2604.09999", 3, "replace")]
    )
    second = json.loads(invoke(db_path, feeds, "fetch", "--format", "json").stdout)
    assert second["entries"] == []
    assert second["summary"]["updated_versions"] == 1
    assert [(u["arxiv_id"], u["version"], u["previous_version"]) for u in second["updates"]] == [
        ("2604.00001", 2, 1)
    ]
    assert rows(db_path, "SELECT arxiv_id, version FROM entries") == [("2604.00001", 2)]
    assert rows(db_path, "SELECT version FROM entry_versions ORDER BY version") == [(1,), (2,)]


def _rss_item(arxiv_id: str, version: int, announce: str) -> str:
    return f"""<item><title>Paper {arxiv_id} on diffusion models</title>
<link>https://arxiv.org/abs/{arxiv_id}</link>
<description>arXiv:{arxiv_id}v{version} Announce Type: {announce}
Abstract: We study generative adversarial networks.</description>
<guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>
<category>cs.LG</category><dc:creator>Ada Lovelace, Alan Turing</dc:creator>
<pubDate>Mon, 27 Apr 2026 00:00:00 -0400</pubDate>
<arxiv:announce_type>{announce}</arxiv:announce_type></item>"""


def _rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel><title>cs.LG updates on arXiv.org</title>'
        "<link>http://rss.arxiv.org/rss/cs.LG</link><description>cs.LG updates</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def test_retag_reapplies_edited_rules(fetched: Any) -> None:
    import yaml

    db, feeds, _ = fetched
    data = yaml.safe_load(feeds.read_text())
    data["domains"]["tabular"]["keywords"] = [r"\bthe\b"]  # an over-eager rule a user might write
    feeds.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = invoke(db, feeds, "retag")
    assert result.exit_code == 0 and "Re-tagged" in result.output
    n_entries = rows(db, "SELECT COUNT(*) FROM entries")[0][0]
    n_tabular = rows(db, "SELECT COUNT(*) FROM entry_domains WHERE domain = 'tabular'")[0][0]
    assert n_tabular > n_entries // 2


def test_unknown_source_name_is_reported(fetched: Any) -> None:
    db, feeds, _ = fetched
    result = invoke(db, feeds, "fetch", "--source", "nope")
    assert result.exit_code != 0 and "nope" in result.output


def test_main_job_uses_the_default_database_in_the_user_data_dir(
    feed_server: FeedServer, make_feeds: Any, isolated: Path
) -> None:
    feeds = make_feeds(one_feed(feed_server))
    result = CliRunner().invoke(cli, ["--feeds", str(feeds), "fetch"])
    assert result.exit_code == 0, result.output
    assert list((isolated / "home" / "data").rglob("papertrail.db"))


def test_env_vars_select_db_and_feeds(
    feed_server: FeedServer, make_feeds: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = make_feeds(one_feed(feed_server))
    monkeypatch.setenv("PAPERTRAIL_DB", str(db_path))
    monkeypatch.setenv("PAPERTRAIL_FEEDS", str(feeds))
    assert CliRunner().invoke(cli, ["fetch"]).exit_code == 0
    assert db_path.exists()


def test_arxiv_api_unreachable_and_empty_results_are_reported_per_source(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    empty = "arxiv-api/arxiv.py-recorded-2026/id_0000.0000_s0_m100_8b51d9633a68.body.xml"
    feeds = make_feeds(
        [
            {
                "name": "quiet-query",
                "kind": "arxiv",
                "query": "nothing matches this",
                "max_results": 5,
            }
        ],
        {"arxiv_api_url": serve_api(feed_server, empty)},
    )
    result = json.loads(invoke(db_path, feeds, "fetch", "--format", "json").stdout)
    assert result["summary"]["sources_ok"] == 1
    assert any("no results" in w for _, w in result["summary"]["warnings"])

    closed = make_feeds(
        [{"name": "api", "kind": "arxiv", "categories": ["cs.LG"]}]
    )  # API on a closed port
    out = invoke(db_path, closed, "fetch", "--format", "json")
    assert out.exit_code == EXIT_FAILED
    ((name, error),) = json.loads(out.stdout)["summary"]["failures"]
    assert "could not connect to the arXiv API at http://127.0.0.1:9/api/query" in error
    assert "object at 0x" not in error


def test_quiet_fetch_prints_only_the_summary(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    feeds = make_feeds(one_feed(feed_server))
    out = invoke(db_path, feeds, "fetch", "-q").stdout
    assert out.splitlines()[0].startswith("1 source ok, 0 failed")
    assert "Nothing new" not in out and "openai.com" not in out


def test_no_progress_output_when_stderr_is_not_a_terminal(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    """Progress is for people at a terminal; cron jobs and pipes get only the digest."""
    feeds = make_feeds(one_feed(feed_server))
    result = invoke(db_path, feeds, "fetch")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "1 source ok" in result.stdout
