"""Issue 18 item 10: the same post from two feeds is one entry, with both sources.

One real blog feed (tests/fixtures/feeds/ml-blogs/…openai_blog.xml) and copies
of it as other feeds would serve it (derived in memory): an aggregator that
tags links for analytics and gives its own guids, a FeedBurner proxy with
`feedburner:origLink`, a redirector whose guid is the real URL, one that
rewrites links to opaque ones, and one that links every item to one page.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, fixture_bytes

from papertrail.cli import cli
from papertrail.ids import url_match_key

OPENAI = "ml-blogs/jmamath-distill__openai_blog.xml"
TITLES = {
    "The next phase of the Microsoft OpenAI partnership",
    "Our principles",
    "Introducing GPT-5.5",
}
LINK_RE = re.compile(rb"<link>(https://openai\.com/index/([a-z0-9-]+))</link>")
GUID_RE = re.compile(rb"<guid[^>]*>[^<]*</guid>")


def cli_run(db: Path, feeds: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])
    assert result.exit_code == 0, result.output
    return result


def listed(db: Path, feeds: Path) -> list[dict[str, Any]]:
    return json.loads(cli_run(db, feeds, "list", "--kind", "post", "--json").stdout)


def aggregator(body: bytes) -> bytes:
    """Links as a planet/newsletter tool serves them; guids of its own."""
    variants = iter(
        [
            rb"http://www.openai.com/index/\2/?utm_source=planet&utm_medium=rss#comments",
            rb"https://OpenAI.com/index/\2/amp/",
            rb"https://openai.com/index/\2?ref=planet",
        ]
    )
    body = LINK_RE.sub(lambda m: m.expand(b"<link>" + next(variants) + b"</link>"), body)
    n = iter(range(1, 10))
    return GUID_RE.sub(lambda m: b'<guid isPermaLink="false">planet-%d</guid>' % next(n), body)


def feedburner(body: bytes) -> bytes:
    body = body.replace(
        b"<rss ", b'<rss xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    )
    body = GUID_RE.sub(b"", body)
    return LINK_RE.sub(
        rb"<link>http://feedproxy.google.com/~r/openai/~3/\2x9/</link>"
        rb"<feedburner:origLink>\1</feedburner:origLink>",
        body,
    )


def redirector(body: bytes) -> bytes:
    """Links through a click counter; the guid (a permalink) is the real page."""
    body = GUID_RE.sub(b"", body)
    return LINK_RE.sub(
        rb"<link>https://click.example.net/r/\2-77</link><guid isPermaLink=\"true\">\1</guid>", body
    )


def opaque(body: bytes, days_later: int = 0) -> bytes:
    """Opaque links and guids, nothing to match but title and date."""
    body = GUID_RE.sub(b"", body)
    n = iter(range(1, 10))
    body = LINK_RE.sub(lambda m: b"<link>https://lnk.example.net/%d</link>" % next(n), body)
    if days_later:
        body = re.sub(
            rb"(Mon|Sun|Thu), (2[0-9])", lambda m: b"Fri, %d" % (int(m[2]) + days_later), body
        )
    return body


@pytest.mark.parametrize("copy", [aggregator, feedburner, redirector])
def test_one_post_in_two_feeds_is_one_entry_with_both_sources(
    copy: Any, feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    original = fixture_bytes(OPENAI)
    feeds = make_feeds(
        [
            {"name": "openai", "kind": "feed", "url": feed_server.serve("/o", original)},
            {"name": "planet", "kind": "feed", "url": feed_server.serve("/p", copy(original))},
        ]
    )
    digest = json.loads(cli_run(db_path, feeds, "fetch", "--format", "json").stdout)
    posts = [e for e in digest["entries"] if e["kind"] == "post"]
    assert sorted(e["title"] for e in posts) == sorted(TITLES)  # each once in the digest
    assert all(sorted(e["sources"]) == ["openai", "planet"] for e in posts), posts
    entries = listed(db_path, feeds)
    assert len(entries) == 3 and all(sorted(e["sources"]) == ["openai", "planet"] for e in entries)
    # each entry keeps the link of the feed saved first (the fetch order decides)
    links = re.findall(rb"<link>([^<]+)</link>", original + copy(original))
    assert {e["url"] for e in entries} <= {link.decode() for link in links}
    # a re-run changes nothing
    cli_run(db_path, feeds, "fetch", "-q")
    assert len(listed(db_path, feeds)) == 3


@pytest.mark.parametrize("days_later", [0, 3])
def test_title_and_date_alone_merge_only_long_titles_within_a_day(
    days_later: int, feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    """The last resort, for links with nothing in common: the same title, published
    within a day, by another feed; only titles long enough to name one article
    ("Our principles" could be anyone's)."""
    original = fixture_bytes(OPENAI)
    feeds = make_feeds(
        [
            {"name": "openai", "kind": "feed", "url": feed_server.serve("/o", original)},
            {
                "name": "planet",
                "kind": "feed",
                "url": feed_server.serve("/l", opaque(original, days_later)),
            },
        ]
    )
    cli_run(db_path, feeds, "fetch", "-q")
    sources = {}
    for e in listed(db_path, feeds):
        sources.setdefault(e["title"], []).append(sorted(e["sources"]))
    long_title = "The next phase of the Microsoft OpenAI partnership"
    if days_later:
        assert len(sources[long_title]) == 2  # three days apart: two articles
    else:
        assert sources[long_title] == [["openai", "planet"]]
    for short in ("Our principles", "Introducing GPT-5.5"):
        assert sorted(sources[short]) == [["openai"], ["planet"]]


def test_a_feed_linking_every_item_to_one_page_merges_nothing(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    original = fixture_bytes(OPENAI)
    one_page = LINK_RE.sub(
        b"<link>https://openai.com/news/latest</link>", GUID_RE.sub(b"", original)
    )
    one_page = one_page.replace(b"<title>Our principles", b"<title>Principles we hold")
    feeds = make_feeds(
        [
            {"name": "news", "kind": "feed", "url": feed_server.serve("/n", one_page)},
        ]
    )
    cli_run(db_path, feeds, "fetch", "-q")
    # the feed's own items keyed by URL collapse as before (one key); nothing else merges
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM post_urls").fetchone() == (0,)


def test_an_existing_database_gets_no_new_duplicate(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    """A reading list made before post_urls existed: the migration fills it from the
    stored posts, so the other feed's copy joins the stored entry."""
    original = fixture_bytes(OPENAI)
    first = make_feeds(
        [{"name": "openai", "kind": "feed", "url": feed_server.serve("/o", original)}]
    )
    cli_run(db_path, first, "fetch", "-q")
    with sqlite3.connect(db_path) as conn:  # as the previous version left it
        conn.execute("DROP TABLE post_urls")
        conn.execute("DROP INDEX idx_entries_post_title")
        conn.execute("DELETE FROM _migrations WHERE name = 'm012_post_urls'")
    both = make_feeds(
        [
            {"name": "openai", "kind": "feed", "url": feed_server.serve("/o2", original)},
            {
                "name": "planet",
                "kind": "feed",
                "url": feed_server.serve("/p", aggregator(original)),
            },
        ]
    )
    cli_run(db_path, both, "fetch", "-q")
    entries = listed(db_path, both)
    assert len(entries) == 3 and all(sorted(e["sources"]) == ["openai", "planet"] for e in entries)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.Example.org/post/?utm_source=x#top", "http://example.org/post"),
        ("https://example.org/post/amp/", "https://m.example.org/post"),
        ("https://example-org.cdn.ampproject.org/c/s/example.org/post", "https://example.org/post"),
        ("https://example.org/post.amp.html", "https://example.org/post.html?amp=1"),
    ],
)
def test_url_match_key_meets_variants(a: str, b: str) -> None:
    assert url_match_key(a) == url_match_key(b) is not None


def test_url_match_key_keeps_pages_apart() -> None:
    assert url_match_key("https://example.org/") is None  # a home page names no post
    assert url_match_key("tag:example.org,2026:1") is None
    assert url_match_key("https://example.org/a") != url_match_key("https://example.org/b")
    assert url_match_key("https://example.org/?p=1") != url_match_key("https://example.org/?p=2")
