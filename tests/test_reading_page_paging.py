"""Paging on the reading page (issue 16): every view shows a page of cards with a plain
link to the next one, and following the links shows each entry exactly once, in the
order `papertrail list` / `search` / `digest` give. Pages are made small (a few cards)
so the recorded world (test_browse's `fetch_world`, through the real fetch path) spans
several; the same links in a real browser, appended in place, are in
tests/test_reading_page_chromium.py."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_reading_page import Page, card_ids

from papertrail import api
from papertrail.browse import page as page_module
from papertrail.reading.digest import group_by_domain

pytest_plugins = ["test_reading_page"]  # its `world` fixture

PAGE = 10


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_module, "LIST_LIMIT", PAGE)
    monkeypatch.setattr(page_module, "PER_DOMAIN", 2)


def older_link(text: str) -> str | None:
    found = re.search(r'<nav class="pager older"[^>]*><a href="([^"]+)"', text)
    return html.unescape(found.group(1)) if found else None


def follow(page: Page, url: str) -> list[list[int]]:
    """The card ids of each page, following "Older →" / "Next →" to the end."""
    pages: list[list[int]] = []
    next_url: str | None = url
    while next_url:
        text = page.html(next_url)
        pages.append(card_ids(text))
        next_url = older_link(text)
        assert len(pages) < 50, "the links go round in circles"
    return pages


def test_lists_page_through_every_entry_once_in_list_order(
    world: tuple[Path, Path], small_pages: None
) -> None:
    db, feeds = world
    page = Page(db, feeds)
    for url, flt in (
        ("/-/papers/unread", api.make_filter(unread=True)),
        ("/-/papers/all", api.make_filter()),
        ("/-/papers/tag/blog", api.make_filter(tags=["blog"])),
    ):
        pages = follow(page, url)
        expected = [e["id"] for e in api.list_entries(page.paths, flt, limit=None)]
        assert [i for p in pages for i in p] == expected, url
        assert all(len(p) == PAGE for p in pages[:-1]) and 0 < len(pages[-1]) <= PAGE
    assert len(follow(page, "/-/papers/unread")) > 2  # the world spans several pages
    # Best first (rank order) pages by position, with a link back.
    ranked = follow(page, "/-/papers/all?sort=rank")
    best = api.list_entries(page.paths, sort="rank", limit=None)
    assert [i for p in ranked for i in p] == [e["id"] for e in best]
    second = page.html(f"/-/papers/all?sort=rank&start={PAGE}")
    assert "← First page" in second and 'href="/-/papers/all?sort=rank"' in second


def test_reading_cards_on_unread_shifts_nothing_on_the_next_page(
    world: tuple[Path, Path], small_pages: None
) -> None:
    """The next page continues after the last card shown, not at a count: marking the
    first page read (as you do on Unread) does not skip anyone."""
    db, feeds = world
    page = Page(db, feeds)
    first = page.html("/-/papers/unread")
    before = [e["id"] for e in api.list_entries(page.paths, api.make_filter(unread=True))]
    for entry in card_ids(first):
        assert page.act("read", entry).json()["ok"]
    second = page.html(older_link(first) or "")
    assert card_ids(second) == before[PAGE : 2 * PAGE]
    assert "← Newest" in second and "Older than #" in second
    assert page.get("/-/papers/unread?after=999999").status_code == 400
    assert page.get("/-/papers/unread?sort=rank&start=lots").status_code == 400


def test_search_pages_by_relevance(world: tuple[Path, Path], small_pages: None) -> None:
    db, feeds = world
    page = Page(db, feeds)
    pages = follow(page, "/-/papers/search?q=model")
    hits = api.search(page.paths, "model", limit=None).entries
    assert len(hits) > PAGE
    assert [i for p in pages for i in p] == [e["id"] for e in hits]
    nothing = page.html("/-/papers/search?q=zzzzqqqq")
    assert "No paper matches" in nothing and not card_ids(nothing)


def test_today_says_how_many_more_and_shows_a_domain_whole(
    world: tuple[Path, Path], small_pages: None
) -> None:
    db, feeds = world
    page = Page(db, feeds)
    today = page.html("/-/papers")
    groups = group_by_domain(api.digest(page.paths, since="24h"))
    assert card_ids(today) == [e["id"] for _, es in groups for e in es[:2]]
    domain, entries = max(groups, key=lambda g: len(g[1]))
    assert len(entries) > 2 + PAGE  # the biggest domain spans pages beyond Today's two
    more = re.findall(
        r'<nav class="pager more"[^>]*><a href="([^"]+)" data-append>(\d+) more in ([^<]+) →', today
    )
    assert (f"{len(entries) - 2}", domain) in [(n, d) for _, n, d in more]
    link = next(html.unescape(u) for u, _, d in more if d == domain)
    shown = [i for p in follow(page, link) for i in p]
    assert shown == [e["id"] for e in entries[2:]]  # the rest of the domain, in digest order
    whole = page.html(f"/-/papers?domain={domain}")
    assert card_ids(whole) == [e["id"] for e in entries[:PAGE]] and "← All of Today" in whole
