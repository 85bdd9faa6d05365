"""Issue 18 item 5: corrections reach the database.

A real feed (tests/fixtures/feeds, edited in memory the way a site corrects a
post) served by the real HTTP server, fetched with `papertrail fetch` into a
real SQLite file, twice.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import CONTENT_TYPES, FeedServer, fixture_bytes
from werkzeug import Request, Response

from papertrail.cli import cli

OPENAI = "ml-blogs/jmamath-distill__openai_blog.xml"  # 3 items with guid, link and date
FEEDPARSER = Path(__file__).parent / "fixtures" / "feedparser"


class Changing:
    """A feed whose body the test changes between fetches."""

    def __init__(self, fs: FeedServer, path: str, body: bytes) -> None:
        self.body = body
        self.url = fs.handle(path, self.answer)

    def answer(self, request: Request) -> Response:
        return Response(self.body, headers={"Content-Type": CONTENT_TYPES["rss"]})


def cli_run(db: Path, feeds: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])
    assert result.exit_code == 0, result.output
    return result


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def search_ids(db: Path, feeds: Path, query: str) -> list[int]:
    out = json.loads(cli_run(db, feeds, "search", query, "--json").stdout)
    return [e["id"] for e in out]


def test_a_corrected_title_and_summary_update_the_entry_and_keep_the_users_marks(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    original = fixture_bytes(OPENAI)
    feed = Changing(feed_server, "/openai", original)
    feeds = make_feeds([{"name": "openai", "kind": "feed", "url": feed.url}])
    cli_run(db_path, feeds, "fetch", "-q")
    [(entry_id,)] = rows(db_path, "SELECT id FROM entries WHERE title = 'Our principles'")
    cli_run(db_path, feeds, "star", str(entry_id))
    cli_run(db_path, feeds, "tag", str(entry_id), "to-read")
    cli_run(db_path, feeds, "note", str(entry_id), "check the fifth principle")
    assert search_ids(db_path, feeds, "Altman") == [entry_id]

    # The site fixes the title and rewrites the summary; guid and link stay.
    feed.body = original.replace(b"<title>Our principles</title>", b"<title>Our five principles</title>").replace(
        b"Sam Altman shares five principles", b"Our CEO lists five principles"
    )  # fmt: skip
    cli_run(db_path, feeds, "fetch", "-q")

    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(3,)]
    [(title, summary, starred)] = rows(
        db_path, "SELECT title, summary, starred_at IS NOT NULL FROM entries WHERE id = ?",
        (entry_id,),
    )  # fmt: skip
    assert title == "Our five principles" and "Our CEO lists five principles" in summary
    assert starred
    assert rows(db_path, "SELECT tag FROM entry_tags WHERE entry_id = ? AND tag = 'to-read'",
                (entry_id,)) == [("to-read",)]  # fmt: skip
    assert rows(db_path, "SELECT text FROM notes WHERE entry_id = ?", (entry_id,)) == [
        ("check the fifth principle",)
    ]
    # the search index follows: the new words find it, the old ones no longer do
    assert search_ids(db_path, feeds, "CEO") == [entry_id]
    assert search_ids(db_path, feeds, "Altman") == []
    assert search_ids(db_path, feeds, "fifth") == [entry_id]  # the note is still indexed


def without_guid_and_link(body: bytes) -> bytes:
    return re.sub(rb"\s*<(guid|link)[^>]*>[^<]*</\1>", b"", body.split(b"<item>", 1)[1]).join(
        [body.split(b"<item>", 1)[0] + b"<item>", b""]
    )


def test_an_item_without_guid_and_link_whose_text_was_edited_stays_one_entry(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    original = without_guid_and_link(fixture_bytes(OPENAI))
    assert b"<guid" not in original and b"openai.com/index" not in original
    feed = Changing(feed_server, "/openai", original)
    feeds = make_feeds([{"name": "openai", "kind": "feed", "url": feed.url}])
    cli_run(db_path, feeds, "fetch", "-q")
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(3,)]
    [(entry_id,)] = rows(db_path, "SELECT id FROM entries WHERE title = 'Introducing GPT-5.5'")
    cli_run(db_path, feeds, "star", str(entry_id))

    # a typo fixed in one title, a sentence rewritten in another item's text
    feed.body = (
        original.replace(b"Introducing GPT-5.5", b"Introducing GPT-5.5 ", 1)
        .replace(
            b"<title>Introducing GPT-5.5 </title>", b"<title>Introducing GPT\xe2\x80\x915.5</title>"
        )
        .replace(b"Sam Altman shares five principles", b"Sam Altman shares 5 principles")
    )
    cli_run(db_path, feeds, "fetch", "-q")
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(3,)]
    assert rows(db_path, "SELECT title, starred_at IS NOT NULL FROM entries WHERE id = ?",
                (entry_id,)) == [("Introducing GPT\u20115.5", 1)]  # fmt: skip
    assert rows(
        db_path, "SELECT COUNT(*) FROM entries WHERE summary LIKE '%shares 5 principles%'"
    ) == [(1,)]

    # a new item (another date) next to them is a new entry, not a correction
    item = re.search(rb"<item>.*?</item>", feed.body, re.S)
    assert item is not None
    extra = (
        item.group(0)
        .replace(b"Mon, 27 Apr 2026", b"Tue, 28 Apr 2026")
        .replace(b"next phase", b"following phase")
    )
    feed.body = feed.body.replace(b"<item>", extra + b"<item>", 1)
    cli_run(db_path, feeds, "fetch", "-q")
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(4,)]


def test_a_description_only_item_edited_stays_one_entry(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    """feedparser's own item with only a <description> (no guid, link or date)."""
    original = (FEEDPARSER / "rss/item_description.xml").read_bytes()
    feed = Changing(feed_server, "/notes", original)
    feeds = make_feeds([{"name": "notes", "kind": "feed", "url": feed.url}])
    cli_run(db_path, feeds, "fetch", "-q")
    feed.body = original.replace(b"Example description", b"Example description, corrected")
    cli_run(db_path, feeds, "fetch", "-q")
    assert rows(db_path, "SELECT title, summary FROM entries") == [
        ("Example description, corrected", "Example description, corrected")
    ]
