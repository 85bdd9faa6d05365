"""Issue 19 item 2: the lxml fast path gives feedparser's records, or declines.

Every document in tests/fixtures (recorded feeds, handmade feeds, feedparser's own
test documents: provenance in each folder's MANIFEST.md) is parsed twice, by
`parse_feed_via` with the fast path and with feedparser only, as a blog feed and
as an arXiv feed: the records (every field), the feed title and the warnings
must be equal, or the fast path must have declined (feedparser then read the
document, so the result is feedparser's by construction). Which documents took
the fast path is asserted by name, so a fast path that declined everything (or
started declining a common real feed) fails here.

The whole feedparser suite (2,242 documents) runs with --run-integration; the
default run takes its RSS and Atom 1.0 documents.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from papertrail.models import ParsedFeed
from papertrail.sources.fastfeed import read_or_decline
from papertrail.sources.parse import FeedParseError, parse_feed, parse_feed_via

FIXTURES = Path(__file__).parent / "fixtures"
SUITE = FIXTURES / "feedparser" / "suite"
HEADERS = {"content-type": "application/xml"}
KINDS = ("feed", "arxiv-rss")

# Real documents the fast path must read itself (not decline): arXiv RSS and Atom
# daily feeds, arXiv API answers (2016 and 2026 formats), blogs, HN, Reddit,
# a Substack newsletter, a Japanese feed.
MUST_TAKE_FAST_PATH = [
    "feeds/arxiv-rss/jmamath-distill__arxiv_cs_ai_rss_2026-04-27.xml",
    "feeds/arxiv-rss/jmamath-distill__arxiv_cs_cl_rss_2026-04-27.xml",
    "feeds/arxiv-rss/jmamath-distill__arxiv_cs_lg_rss_2026-04-27.xml",
    "feeds/arxiv-rss/zotero-arxiv-daily__cs.AI_atom_2025-08-20.xml",
    "feeds/arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml",
    "feeds/arxiv-api/arxiv-digest__all_nicotine_2026-07-17.xml",
    "feeds/arxiv-api/arxiv.py-legacy-2016/search_query=au:del_maestro.xml",
    "feeds/arxiv-api/arxiv.py-recorded-2026/q_testing_s0_m10_bc5a6c384fe9.body.xml",
    "feeds/ml-blogs/jmamath-distill__bair_blog.xml",
    "feeds/ml-blogs/jmamath-distill__fair_blog.xml",
    "feeds/ml-blogs/jmamath-distill__gradient_blog.xml",
    "feeds/ml-blogs/jmamath-distill__openai_blog.xml",
    "feeds/community/hackernews__news.ycombinator.com_rss_2025-12-13.xml",
    "feeds/community/reddit/newsyacht__reddit_r-pics_atom_2025-12-30.xml",
    "feeds/newsletters/substack__interconnects.ai_feed_2026-08-02.xml",
    "feeds/japanese/aion__zenn.dev_trend_feed_2026-07-27.xml",
]
# ...and the ones outside tests/fixtures/feedparser/suite it declines, with why.
EXPECTED_DECLINES = {
    "feedparser/rss/item_description_naked_markup.xml": "markup inside a text element",
    "feeds/arxiv-rss/legacy-rdf/physbiblio__hep-ex_rdf_2018-05-23.xml": "RSS 1.0",
    "feeds/arxiv-bulk/oai-pmh/DERIVED__ListRecords_arXiv_physics-hep-ex_page1.xml": "namespace",
    "feeds/arxiv-bulk/oai-pmh/DERIVED__ListRecords_arXiv_physics-hep-ex_page2.xml": "namespace",
    "feeds/arxiv-bulk/oai-pmh/hepcrawl__GetRecord_arXiv_1401.2122.xml": "namespace",
    "feeds/arxiv-bulk/oai-pmh/hepcrawl__ListRecords_arXiv_arxiv-physics-hep-ex.xml": "namespace",
}


def _documents(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.xml") if p.is_file())


def _recorded() -> list[Path]:
    return [p for p in _documents(FIXTURES) if SUITE not in p.parents]


def _both(body: bytes, kind: str) -> tuple[str, ParsedFeed | str, ParsedFeed | str]:
    """(reader the fast path used, its result, feedparser's result); a FeedParseError
    is compared by its message."""
    base = "https://example.org/feeds/x.xml"
    try:
        fast = parse_feed_via(body, HEADERS, base_url=base, source_kind=kind)
        reader, got = fast.reader, fast.feed
    except FeedParseError as exc:
        reader, got = "error", f"FeedParseError: {exc}"
    try:
        want: ParsedFeed | str = parse_feed_via(
            body, HEADERS, base_url=base, source_kind=kind, fast_path=False
        ).feed
    except FeedParseError as exc:
        want = f"FeedParseError: {exc}"
    return reader, got, want


def _assert_same(name: str, kind: str, got: ParsedFeed | str, want: ParsedFeed | str) -> None:
    if isinstance(got, str) or isinstance(want, str):
        assert got == want, name
        return
    assert got.title == want.title, (name, kind)
    assert got.warnings == want.warnings, (name, kind)
    assert len(got.records) == len(want.records), (name, kind)
    for i, (a, b) in enumerate(zip(got.records, want.records, strict=True)):
        for field in a.__dataclass_fields__:
            assert getattr(a, field) == getattr(b, field), (name, kind, i, field)


def _check(paths: list[Path]) -> dict[str, set[str]]:
    """Compare both paths on every document; {reader: document names}."""
    took: dict[str, set[str]] = {"lxml": set(), "feedparser": set(), "error": set()}
    for path in paths:
        name = path.relative_to(FIXTURES).as_posix()
        body = path.read_bytes()
        for kind in KINDS:
            reader, got, want = _both(body, kind)
            _assert_same(name, kind, got, want)
            took[reader].add(name)
    return took


def test_recorded_and_handmade_documents_give_feedparsers_records() -> None:
    took = _check(_recorded())
    print(f"\nfast path (lxml): {len(took['lxml'])} documents: {sorted(took['lxml'])}")
    print(f"declined (feedparser read them): {sorted(took['feedparser'])}")
    assert not set(MUST_TAKE_FAST_PATH) - took["lxml"], "common real feeds must take the fast path"
    declined = took["feedparser"] | took["error"]
    assert declined == set(EXPECTED_DECLINES)
    for name, why in EXPECTED_DECLINES.items():
        reason = read_or_decline((FIXTURES / name).read_bytes())
        assert isinstance(reason, str) and why in reason, (name, reason)


def test_feedparsers_rss_and_atom_test_documents_give_the_same_records() -> None:
    paths = _documents(SUITE / "wellformed" / "rss") + _documents(SUITE / "wellformed" / "atom10")
    took = _check(paths)
    print(f"\nfeedparser suite rss+atom10: {len(took['lxml'])} of {len(paths)} on the fast path")
    assert len(paths) == 431
    assert len(took["lxml"]) >= 250  # most of them are plain documents the fast path reads


@pytest.mark.integration
def test_feedparsers_whole_test_suite_gives_the_same_records() -> None:
    paths = _documents(SUITE)
    took = _check(paths)
    print(f"\nfeedparser suite: {len(took['lxml'])} of {len(paths)} on the fast path")
    assert len(paths) == 2242
    assert len(took["lxml"]) >= 800


# --- variants of real documents, derived in memory ---------------------------

LG = "feeds/arxiv-rss/jmamath-distill__arxiv_cs_lg_rss_2026-04-27.xml"
BLOG = "feeds/ml-blogs/jmamath-distill__openai_blog.xml"
ATOM = "feeds/community/reddit/newsyacht__reddit_r-pics_atom_2025-12-30.xml"


def _variant(name: str, old: bytes, new: bytes) -> bytes:
    body = (FIXTURES / name).read_bytes()
    assert old in body, (name, old)
    return body.replace(old, new, 1)


def _first_title(name: str) -> bytes:
    body = (FIXTURES / name).read_bytes()
    start = body.index(b"<title>", body.index(b"<item>" if b"<item>" in body else b"<entry>"))
    return body[start : body.index(b"</title>", start) + len(b"</title>")]


SAME_ON_FAST_PATH = {
    # feedparser's quirks the fast path reproduces
    "c1 control in a title": (BLOG, "title", b"<title>Caf&#x80; &#x93;quoted&#x94;</title>"),
    "utf-8 read as latin-1": (BLOG, "title", "<title>CafÃ© crÃ¨me</title>".encode()),
    "html-looking rss title": (BLOG, "title", b"<title>A &lt;b&gt;bold&lt;/b&gt; move</title>"),
    "author with e-mail": (
        LG,
        "creator",
        b"<author>jane@example.org (Jane Roe)</author>",
    ),
    "two titles": (BLOG, "title", b"<title></title><title>Second</title><title>Third</title>"),
    "relative link": (BLOG, "link", b"<link>/posts/relative?a=1&amp;b=2</link>"),
}
DECLINED = {
    "xml:base": (ATOM, b"<entry>", b'<entry xml:base="https://elsewhere.example/">'),
    "comment in a title": (BLOG, b"<title>", b"<title><!-- c -->"),
    "doctype": (BLOG, b"<rss", b'<!DOCTYPE rss [<!ENTITY x "y">]><rss'),
    "not well-formed": (BLOG, b"</channel>", b"<p>&nbsp;</channel>"),
    "xhtml content": (ATOM, b'type="html"', b'type="xhtml"'),
    "a source": (BLOG, b"<item>", b"<item><source url='https://x.example/'>X</source>"),
}


@pytest.mark.parametrize("case", sorted(SAME_ON_FAST_PATH))
def test_variants_the_fast_path_reads_give_the_same_records(case: str) -> None:
    name, what, new = SAME_ON_FAST_PATH[case]
    if what == "title":
        body = _variant(name, _first_title(name), new)
    elif what == "creator":
        body = _variant(name, b"<dc:creator>", new + b"<dc:creator>")
    else:
        body = (FIXTURES / name).read_bytes()
        start = body.index(b"<link>", body.index(b"<item>"))
        body = body[:start] + new + body[body.index(b"</link>", start) + 7 :]
    for kind in KINDS:
        reader, got, want = _both(body, kind)
        assert reader == "lxml", (case, read_or_decline(body))
        _assert_same(case, kind, got, want)


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_what_the_fast_path_does_not_model_goes_to_feedparser(case: str) -> None:
    name, old, new = DECLINED[case]
    body = _variant(name, old, new)
    assert isinstance(read_or_decline(body), str)
    for kind in KINDS:
        reader, got, want = _both(body, kind)
        assert reader in ("feedparser", "error"), case
        _assert_same(case, kind, got, want)


def test_parse_feed_keeps_its_signature_and_uses_the_fast_path() -> None:
    body = (FIXTURES / LG).read_bytes()
    parsed = parse_feed(
        body, HEADERS, base_url="https://rss.arxiv.org/rss/cs.LG", source_kind="arxiv-rss"
    )
    outcome = parse_feed_via(
        body, HEADERS, base_url="https://rss.arxiv.org/rss/cs.LG", source_kind="arxiv-rss"
    )
    assert outcome.reader == "lxml" and parsed == outcome.feed
    assert [r.arxiv_id for r in parsed.records] and all(r.kind == "paper" for r in parsed.records)
