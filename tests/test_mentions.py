"""The mentions backfill: at the end of a fetch, arXiv papers that posts link to but the
reading list lacks are fetched (batched `id_list` calls) and stored with provenance
"mentioned". The arXiv API is a real loopback server answering from recorded entries
(`ArxivIdApi` in test_add.py; provenance in its docstring)."""

from __future__ import annotations

import json
import mailbox
import sqlite3
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, fixture_bytes
from test_add import ArxivIdApi

from papertrail.cli import cli
from papertrail.ingest.add import MENTIONED_SOURCE
from papertrail.store.ingest import UNKNOWN_MAX_ATTEMPTS


def invoke(db: Path, feeds: Path) -> Any:
    return CliRunner().invoke(
        cli, ["--db", str(db), "--feeds", str(feeds), "fetch", "--format", "json"]
    )


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def blog_citing(fs: FeedServer, text: str) -> str:
    """The recorded OpenAI blog feed with its first item's description replaced by `text`."""
    body = fixture_bytes("ml-blogs/jmamath-distill__openai_blog.xml").decode("utf-8")
    start = body.index("<description>OpenAI and Microsoft")
    end = body.index("</description>", start)
    body = body[:start] + f"<description>{text}</description>" + body[end + 14 :]
    return fs.serve("/blog", body.encode("utf-8"))


def newsletter_citing(path: Path, ids: list[str]) -> Path:
    msg = EmailMessage()
    msg["From"] = "Papers Weekly <weekly@example.org>"
    msg["Subject"] = "This week's papers"
    msg["Message-ID"] = "<weekly-1@example.org>"
    msg.set_content("\n".join(f"- https://arxiv.org/abs/{i}" for i in ids))
    box = mailbox.mbox(str(path), create=True)
    box.add(bytes(msg))
    box.close()
    return path


@pytest.fixture
def api(feed_server: FeedServer) -> ArxivIdApi:
    return ArxivIdApi(feed_server)


@pytest.fixture
def feeds(make_feeds: Any, feed_server: FeedServer, api: ArxivIdApi) -> Path:
    url = blog_citing(
        feed_server,
        "See arXiv:2104.12255 and https://arxiv.org/abs/1707.08567v1; also arXiv:2612.99999.",
    )
    return make_feeds([{"name": "blog", "kind": "feed", "url": url}], {"arxiv_api_url": api.url})


def test_mentioned_papers_are_fetched_stored_and_shown_as_new(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    result = invoke(db_path, feeds)
    assert result.exit_code == 0, result.output
    digest = json.loads(result.stdout)
    papers = {e["arxiv_id"]: e for e in digest["entries"] if e["kind"] == "paper"}
    assert set(papers) == {"2104.12255", "1707.08567"}
    assert papers["1707.08567"]["title"].startswith("Proceedings of Workshop AEW10")
    assert papers["1707.08567"]["sources"] == [MENTIONED_SOURCE]
    assert papers["1707.08567"]["domains"]  # tagged like any paper
    assert digest["summary"]["new_papers"] == 2 and digest["summary"]["sources_ok"] == 1
    assert api.calls == [["1707.08567", "2104.12255", "2612.99999"]]  # one batched call
    # The id arXiv does not know is remembered and said once, as a warning.
    assert rows(db_path, "SELECT arxiv_id, attempts FROM unknown_arxiv_ids") == [("2612.99999", 1)]
    warnings = digest["summary"]["warnings"]
    assert any(
        name == MENTIONED_SOURCE and "arXiv does not know 1 mentioned id(s) (2612.99999)" in w
        for name, w in warnings
    ), warnings
    run = rows(db_path, "SELECT MAX(id) FROM fetch_runs")[0][0]
    assert rows(
        db_path, "SELECT COUNT(*) FROM entries WHERE kind = 'paper' AND first_seen_run = ?", (run,)
    ) == [(2,)]
    assert rows(db_path, "SELECT new_papers, status FROM fetch_runs") == [(2, "done")]

    # Next fetch: nothing missing, nothing asked (the unknown id waits a day).
    again = invoke(db_path, feeds)
    assert again.exit_code == 0
    assert json.loads(again.stdout)["entries"] == []
    assert len(api.calls) == 1


def test_unknown_ids_are_retried_after_a_day_at_most_three_times(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    assert invoke(db_path, feeds).exit_code == 0
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat(timespec="seconds")
    for attempt in range(2, UNKNOWN_MAX_ATTEMPTS + 1):
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE unknown_arxiv_ids SET last_checked = ?", (two_days_ago,))
        assert invoke(db_path, feeds).exit_code == 0
        assert api.calls[-1] == ["2612.99999"]
        assert rows(db_path, "SELECT attempts FROM unknown_arxiv_ids") == [(attempt,)]
    calls = len(api.calls)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE unknown_arxiv_ids SET last_checked = ?", (two_days_ago,))
    assert invoke(db_path, feeds).exit_code == 0
    assert len(api.calls) == calls  # given up on


def test_arxiv_down_is_a_warning_and_the_next_fetch_retries(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    api.status = 503
    result = invoke(db_path, feeds)
    assert result.exit_code == 0, result.output  # the blog was fetched: not a failed run
    summary = json.loads(result.stdout)["summary"]
    assert summary["sources_ok"] == 1 and summary["sources_failed"] == 0
    assert summary["failures"] == []
    (warning,) = [w for name, w in summary["warnings"] if name == MENTIONED_SOURCE]
    assert warning.startswith("3 mentioned arXiv paper(s) not fetched: arXiv API answered HTTP 503")
    assert warning.endswith("(the next fetch tries again)")
    assert rows(db_path, "SELECT COUNT(*) FROM entries WHERE kind = 'paper'") == [(0,)]
    assert rows(db_path, "SELECT COUNT(*) FROM unknown_arxiv_ids") == [(0,)]  # not "unknown"

    api.status = 200
    again = json.loads(invoke(db_path, feeds).stdout)
    assert {e["arxiv_id"] for e in again["entries"]} == {"2104.12255", "1707.08567"}


def test_hundreds_of_mentions_go_in_batches_of_at_most_100(
    tmp_path: Path, make_feeds: Any, db_path: Path, api: ArxivIdApi
) -> None:
    known = sorted(api.entries)
    unknown = [f"2612.{n:05d}" for n in range(1, 181)]
    newsletter_citing(tmp_path / "news.mbox", known + unknown)
    feeds = make_feeds(
        [{"name": "news", "kind": "mailbox", "path": "news.mbox"}], {"arxiv_api_url": api.url}
    )
    result = invoke(db_path, feeds)
    assert result.exit_code == 0, result.output
    total = len(known) + len(unknown)
    assert [len(c) for c in api.calls] == [100] * (total // 100) + [total % 100]
    stored = rows(
        db_path,
        "SELECT e.arxiv_id FROM entries e JOIN provenance p ON p.entry_id = e.id "
        "WHERE p.source = ? ORDER BY 1",
        (MENTIONED_SOURCE,),
    )
    assert [a for (a,) in stored] == known
    assert rows(db_path, "SELECT COUNT(*) FROM unknown_arxiv_ids") == [(len(unknown),)]


def test_the_backfill_keeps_the_polite_interval_after_the_api_sources(
    make_feeds: Any, feed_server: FeedServer, db_path: Path, api: ArxivIdApi
) -> None:
    url = blog_citing(feed_server, "See arXiv:2104.12255.")
    feeds = make_feeds(
        [
            {"name": "blog", "kind": "feed", "url": url},
            {"name": "gans", "kind": "arxiv", "query": "generative adversarial"},
        ],
        {"arxiv_api_url": api.url, "arxiv_delay_seconds": 0.5},
    )
    assert invoke(db_path, feeds).exit_code == 0
    assert api.calls == [[], ["2104.12255"]]  # the search, then the backfill
    assert api.times[1] - api.times[0] >= 0.5


def test_no_backfill_calls_when_the_api_was_unreachable_in_this_run(
    make_feeds: Any, feed_server: FeedServer, db_path: Path
) -> None:
    url = blog_citing(feed_server, "See arXiv:2104.12255.")
    feeds = make_feeds(  # the default test API URL is a closed loopback port
        [
            {"name": "blog", "kind": "feed", "url": url},
            {"name": "gans", "kind": "arxiv", "query": "generative adversarial"},
        ]
    )
    result = invoke(db_path, feeds)
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["summary"]["warnings"]
    assert [
        MENTIONED_SOURCE,
        (
            "1 mentioned arXiv paper(s) not fetched: the arXiv API was unreachable in this run; "
            "the next fetch tries again"
        ),
    ] in warnings
