"""Issue 18 item 6: nothing a feedparser user would see is dropped.

feedparser's own test documents (tests/fixtures/feedparser, provenance in its
MANIFEST.md) and the recorded feeds (tests/fixtures/feeds) with their titles
taken out in memory.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, fixture_bytes

from papertrail.cli import cli
from papertrail.models import ParsedFeed
from papertrail.sources.parse import parse_feed

FEEDPARSER = Path(__file__).parent / "fixtures" / "feedparser"


def parse(body: bytes) -> ParsedFeed:
    return parse_feed(
        body, {"content-type": "application/xml"}, base_url="https://blog.example.org/feed",
        source_kind="feed",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rel", "title", "summary"),
    [
        ("rss/item_description.xml", "Example description", "Example description"),
        ("rss/item_description_escaped_markup.xml", "Example description", "Example description"),
        ("rss/item_description_naked_markup.xml", "Example description", "Example description"),
        (
            "rss/item_description_br.xml",
            "article title article byline text of article",
            "article title article byline text of article",
        ),
        ("rss/item_content_encoded.xml", "Example content", "Example content"),
        ("rss/item_fullitem.xml", "Example content", "Example content"),
        ("atom10/entry_summary.xml", "Example Atom", "Example Atom"),
        ("atom10/entry_content_escaped_markup.xml", "Example Atom", "Example Atom"),
    ],
)
def test_an_item_with_only_text_is_kept_with_a_title_from_it(
    rel: str, title: str, summary: str
) -> None:
    parsed = parse((FEEDPARSER / rel).read_bytes())
    assert [(r.title, r.summary, r.url) for r in parsed.records] == [(title, summary, None)]
    assert parsed.warnings == []


def test_an_item_with_nothing_to_show_is_still_skipped_with_a_warning() -> None:
    parsed = parse((FEEDPARSER / "rss/item_guid_not_permalink.xml").read_bytes())
    assert parsed.records == []
    assert parsed.warnings and "skipped" in parsed.warnings[0]


def test_an_atom_entry_with_only_a_tag_id_gets_no_url_or_title_from_it() -> None:
    body = (FEEDPARSER / "atom10/entry_id.xml").read_bytes()
    tag = b"tag:blogger.com,1999:blog-893591374313312737.post-4788628857625737701"
    only_id = body.replace(b"http://example.com/", tag)
    parsed = parse(only_id)
    assert parsed.records == []  # nothing to show: no link, no title, no text
    assert parsed.warnings and "skipped" in parsed.warnings[0]
    # with some text it is kept, keyed by the id, but the id is neither URL nor title
    with_text = only_id.replace(b"</id>", b"</id><summary>Comment text. More.</summary>")
    [record] = parse(with_text).records
    assert (record.url, record.title, record.guid) == (None, "Comment text", tag.decode())
    # an http(s) id is still a link, as feedparser makes it one
    [linked] = parse(body.replace(b"</id>", b"</id><summary>x</summary>")).records
    assert linked.url == "http://example.com/"


def without_titles(body: bytes) -> bytes:
    """A feed's items without their <title> (the channel keeps its own)."""
    head, sep, items = body.partition(b"<item>")
    return head + sep + re.sub(rb"<title>.*?</title>", b"", items, flags=re.S)


def test_titles_made_from_real_descriptions_are_first_sentences_or_short() -> None:
    body = fixture_bytes("ml-blogs/jmamath-distill__bair_blog.xml")
    full = parse(body).records
    parsed = parse(without_titles(body))
    assert len(parsed.records) == len(full) == 3
    for record, original in zip(parsed.records, full, strict=True):
        assert record.summary == original.summary and record.url == original.url
        assert 0 < len(record.title) <= 81 and "<" not in record.title
        assert original.summary.startswith(record.title.rstrip("…"))


def test_fetch_stores_description_only_items(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    body = b"".join(
        (FEEDPARSER / rel).read_bytes()
        for rel in ("rss/item_description.xml",)  # one real feedparser document, served
    )
    feeds = make_feeds([{"name": "notes", "kind": "feed", "url": feed_server.serve("/n", body)}])
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--feeds", str(feeds), "fetch", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT title, summary, url FROM entries").fetchall() == [
            ("Example description", "Example description", None)
        ]
