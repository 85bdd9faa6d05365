"""`papertrail digest --format atom`: the digest as an Atom 1.0 feed, checked by
parsing it back with feedparser (what feed readers are built on)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from conftest import FeedServer

from papertrail.cli import cli
from papertrail.cli._base import FORMATS as CLI_FORMATS
from papertrail.reading.digest import ATOM_FEED_ID, FORMATS, Digest, _clean, render, render_atom


def invoke(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])


def parse(text: str) -> Any:
    parsed = feedparser.parse(io.BytesIO(text.encode("utf-8")))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def digest_of(entries: list[dict[str, Any]], **kw: Any) -> Digest:
    return Digest(
        title=kw.pop("title", "papertrail digest — 2026-11-23"),
        generated_at="2026-11-23T08:00:00+00:00",
        since="2026-11-22T08:00:00+00:00",
        until=None,
        domain_order=["vision", "generative", "language"],
        entries=entries,
        **kw,
    )


def paper(**kw: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "kind": "paper",
        "title": "A Neural Algorithm of Artistic Style",
        "url": "https://arxiv.org/abs/1508.06576v2",
        "arxiv_id": "1508.06576",
        "version": 2,
        "authors": ["Leon A. Gatys", "Alexander S. Ecker", "Matthias Bethge"],
        "summary": "In fine art, especially painting, humans have mastered the skill.",
        "published": "2015-08-26T17:53:00+00:00",
        "updated": "2015-09-02T10:00:00+00:00",
        "first_seen": "2026-11-23T07:00:00+00:00",
        "domains": ["generative", "vision"],
        "sources": ["arxiv-daily"],
        **kw,
    }


def test_the_digest_of_a_fetched_reading_list_is_a_valid_feed(
    reading_list: tuple[Path, Path], tmp_path: Path
) -> None:
    db, feeds = reading_list
    out = tmp_path / "digest.xml"
    result = invoke(db, feeds, "digest", "--since", "3650d", "--format", "atom", "-o", str(out))
    assert result.exit_code == 0, result.output
    feed = parse(out.read_text(encoding="utf-8"))
    assert feed.feed.id == ATOM_FEED_ID
    assert feed.feed.title.startswith("papertrail digest — ")
    assert feed.feed.updated_parsed is not None
    assert feed.feed.author == "papertrail"

    as_json = invoke(db, feeds, "digest", "--since", "3650d", "--format", "json")
    entries = json.loads(as_json.stdout)["entries"]
    assert len(feed.entries) == len(entries) > 20
    by_id = {e.id: e for e in feed.entries}
    for entry in entries:
        if entry["arxiv_id"]:
            item = by_id[f"https://arxiv.org/abs/{entry['arxiv_id']}"]
            assert any(link.type == "application/pdf" for link in item.links)
        else:
            item = next(e for e in feed.entries if e.link == entry["url"])
            assert item.id.startswith("tag:papertrail,2024:post:")
        assert item.title == _clean(entry["title"])
        assert item.link == (entry["url"] or f"https://arxiv.org/abs/{entry['arxiv_id']}")
        assert [t.term for t in item.tags] == entry["domains"]
        assert [a.name for a in item.get("authors", [])] == [_clean(a) for a in entry["authors"]]
        if entry["summary"]:
            assert item.summary == _clean(entry["summary"])
        assert item.updated_parsed is not None
    # entries come in the digest's order: grouped by domain, most discussed first
    assert [e.title for e in feed.entries[:3]] == [_clean(e["title"]) for e in entries[:3]]


def test_fetch_prints_the_new_entries_as_atom(
    feed_server: FeedServer, make_feeds: Any, db_path: Path
) -> None:
    url = feed_server.serve_fixture("/openai", "ml-blogs/jmamath-distill__openai_blog.xml")
    feeds = make_feeds([{"name": "openai", "kind": "feed", "url": url, "tags": ["blog"]}])
    result = invoke(db_path, feeds, "fetch", "--format", "atom")
    assert result.exit_code == 0, result.output
    feed = parse(result.stdout)
    assert len(feed.entries) >= 3
    assert all(e.link.startswith("https://openai.com/") for e in feed.entries)


def test_hostile_text_stays_text_and_the_xml_stays_valid() -> None:
    hostile = paper(
        title="<b>bold</b> & ]]> \x00\x1b[31mred\x07 \ud800 \ufffe end",
        authors=["Eve <eve@example.org>", "\x1b]0;pwned\x07Mallory"],
        summary="<script>alert(1)</script> &amp; done",
        domains=["vision", 'x"y'],
    )
    text = render_atom(digest_of([hostile], title="digest \x0c<&>"))
    assert "\x1b" not in text and "\x00" not in text and "<script>" not in text
    feed = parse(text)
    assert feed.feed.title == "digest <&>"
    (item,) = feed.entries
    assert item.title == "<b>bold</b> & ]]> [31mred end"
    assert item.title_detail.type == "text/plain"
    assert [a.name for a in item.authors] == ["Eve <eve@example.org>", "]0;pwned Mallory"]
    assert item.summary == "<script>alert(1)</script> &amp; done"
    assert [t.term for t in item.tags] == ["vision", 'x"y']


def test_unsafe_links_are_left_out() -> None:
    post = paper(kind="post", arxiv_id=None, url="javascript:alert(1)", authors=[])
    text = render_atom(digest_of([post]))
    (item,) = parse(text).entries
    assert item.title == post["title"]
    assert "<link" not in text and "javascript" not in text


def test_updates_get_a_versioned_id_and_posts_are_not_repeated() -> None:
    a = {"kind": "post", "arxiv_id": None, "version": None, "domains": ["language"]}
    post = paper(id=2, url="https://blog.example.org/p", title="A post", **a)
    same_post = {**post, "id": 3, "sources": ["hn"]}
    update = paper(id=4, version=3, previous_version=2, version_updated_at="2026-11-23T06:00:00Z")
    feed = parse(render_atom(digest_of([paper(), post, same_post], updates=[update])))
    ids = [e.id for e in feed.entries]
    assert len(ids) == len(set(ids)) == 3
    assert ids[-1] == "https://arxiv.org/abs/1508.06576v3"
    assert feed.entries[-1].title.endswith("(v2 → v3)")
    assert feed.entries[-1].updated == "2026-11-23T06:00:00+00:00"
    original = next(e for e in feed.entries if e.id == "https://arxiv.org/abs/1508.06576")
    assert original.updated == "2015-09-02T10:00:00+00:00"
    assert original.published == "2015-08-26T17:53:00+00:00"


def test_an_empty_digest_is_a_valid_empty_feed() -> None:
    feed = parse(render(digest_of([]), "atom"))
    assert feed.entries == [] and feed.feed.subtitle == "since 2026-11-22T08:00:00+00:00"


def test_self_link_when_the_feed_url_is_known() -> None:
    text = render_atom(digest_of([paper()]), self_url="https://me.example.org/digest.xml")
    links = parse(text).feed.links
    assert [(link.rel, link.href) for link in links] == [
        ("self", "https://me.example.org/digest.xml")
    ]


@pytest.mark.parametrize("formats", [FORMATS, CLI_FORMATS])
def test_atom_is_a_format_everywhere(formats: tuple[str, ...]) -> None:
    assert "atom" in formats
