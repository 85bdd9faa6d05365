"""Issue 18 item 4: one bad byte must not garble a feed.

Real recorded feeds (tests/fixtures/feeds), with one invalid byte put into them
in memory. The declared encoding is kept, only the bad byte becomes U+FFFD, and
a warning says so (the fetch prints it after the source's name).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, fixture_bytes

from papertrail.cli import cli
from papertrail.sources.parse import parse_feed

ZENN = "japanese/aion__zenn.dev_trend_feed_2026-07-27.xml"  # declares UTF-8, Japanese text
BAIR = "ml-blogs/jmamath-distill__bair_blog.xml"  # no XML declaration, UTF-8 punctuation


def parse(body: bytes, content_type: str = "application/rss+xml") -> tuple[list[str], list[str]]:
    """Every item's title and summary (in one list), and the warnings."""
    parsed = parse_feed(
        body, {"content-type": content_type}, base_url="https://example.org/", source_kind="feed"
    )
    return [t for r in parsed.records for t in (r.title, r.summary)], parsed.warnings


def titles(body: bytes) -> list[str]:
    return parse(body)[0][::2]


def legacy_text(rel: str) -> str:
    """A fixture's text without the few characters windows-1252 lacks."""
    return fixture_bytes(rel).decode("utf-8").replace("\u21a9", "").replace("\u2010", "-")


def with_bad_byte(body: bytes, title: str, bad: bytes = b"\xff") -> bytes:
    """`body` with `bad` put right after the first character of `title`."""
    raw = title.encode("utf-8")
    at = body.index(raw) + len(title[0].encode("utf-8"))
    return body[:at] + bad + body[at:]


@pytest.mark.parametrize(
    ("rel", "content_type"),
    [
        (ZENN, "application/rss+xml"),  # the XML declaration says UTF-8
        (ZENN, "application/rss+xml; charset=utf-8"),  # and so does the HTTP header
        (BAIR, "application/rss+xml"),  # nothing says: XML's default, UTF-8
    ],
)
def test_one_invalid_byte_is_replaced_and_the_rest_kept(rel: str, content_type: str) -> None:
    clean = fixture_bytes(rel)
    expected, clean_warnings = parse(clean, content_type)
    assert not clean_warnings and any(ord(c) > 127 for t in expected for c in t)
    got, warnings = parse(with_bad_byte(clean, expected[0]), content_type)
    first = expected[0]
    assert got[0] == first[0] + "\ufffd" + first[1:]
    assert got[1:] == expected[1:]  # no mojibake anywhere else
    assert len(warnings) == 1, warnings
    assert "1 byte" in warnings[0] and "UTF-8" in warnings[0] and "U+FFFD" in warnings[0]


def test_a_legacy_feed_mislabelled_utf8_is_read_as_windows_1252() -> None:
    """Not one UTF-8 sequence in the whole document: it is an 8-bit feed whose label
    is wrong (the old blog-engine case), not a UTF-8 feed with a bad byte."""
    text = legacy_text(BAIR)
    expected, _ = parse(text.encode("utf-8"))
    assert any(ord(c) > 127 for t in expected for c in t)
    legacy = b'<?xml version="1.0" encoding="utf-8"?>\n' + text.encode("cp1252")
    got, warnings = parse(legacy)
    assert got == expected
    assert len(warnings) == 1 and "windows-1252" in warnings[0]


def test_a_declared_legacy_encoding_is_honoured_without_a_warning() -> None:
    text = legacy_text(BAIR)
    expected, _ = parse(text.encode("utf-8"))
    body = b'<?xml version="1.0" encoding="windows-1252"?>\n' + text.encode("cp1252")
    assert parse(body) == (expected, [])
    # the HTTP charset says so instead of the document
    assert parse(text.encode("cp1252"), "text/xml; charset=windows-1252") == (expected, [])


def test_fetch_warns_with_the_source_name_and_stores_clean_text(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    clean = fixture_bytes(ZENN)
    expected = titles(clean)
    url = feed_server.serve("/zenn", with_bad_byte(clean, expected[1]))
    feeds = make_feeds([{"name": "zenn-trend", "kind": "feed", "url": url}])
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "--feeds", str(feeds), "fetch", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["summary"]["warnings"]
    assert any(name == "zenn-trend" and "U+FFFD" in w for name, w in warnings), warnings
    with sqlite3.connect(db_path) as conn:
        stored = {r[0] for r in conn.execute("SELECT title FROM entries")}
    broken = expected[1][0] + "\ufffd" + expected[1][1:]
    assert stored == {*expected[:1], broken, *expected[2:]}
