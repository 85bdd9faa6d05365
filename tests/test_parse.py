"""papertrail.sources.parse against the real recorded documents in tests/fixtures/feeds/."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import arxiv
import pytest

from papertrail.models import ParsedFeed, Record
from papertrail.sources.parse import (
    SUMMARY_MAX_CHARS,
    FeedParseError,
    html_to_text,
    parse_arxiv_api,
    parse_arxiv_error,
    parse_feed,
    record_from_arxiv_result,
    tex_to_unicode,
)

FEEDS = Path(__file__).parent / "fixtures" / "feeds"

RSS = {"content-type": "application/rss+xml; charset=utf-8"}
ATOM = {"content-type": "application/atom+xml; charset=utf-8"}

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")

ARXIV_AI_RSS = "arxiv-rss/jmamath-distill__arxiv_cs_ai_rss_2026-04-27.xml"
ARXIV_ATOM = "arxiv-rss/zotero-arxiv-daily__cs.AI_atom_2025-08-20.xml"
LEGACY_RDF = "arxiv-rss/legacy-rdf/physbiblio__hep-ex_rdf_2018-05-23.xml"
HN = "community/hackernews__news.ycombinator.com_rss_2025-12-13.xml"
REDDIT = "community/reddit/newsyacht__reddit_r-pics_atom_2025-12-30.xml"
SUBSTACK = "newsletters/substack__interconnects.ai_feed_2026-08-02.xml"
ZENN = "japanese/aion__zenn.dev_trend_feed_2026-07-27.xml"
API_2026 = "arxiv-api/arxiv.py-recorded-2026"
API_2016 = "arxiv-api/arxiv.py-legacy-2016"


def load(rel: str) -> bytes:
    return (FEEDS / rel).read_bytes()


def parse(
    rel_or_body: str | bytes,
    kind: str = "feed",
    headers: dict[str, str] | None = None,
    base_url: str = "https://example.org/feed",
) -> ParsedFeed:
    body = load(rel_or_body) if isinstance(rel_or_body, str) else rel_or_body
    return parse_feed(
        body, RSS if headers is None else headers, base_url=base_url, source_kind=kind
    )


# --- every fixture ----------------------------------------------------------

# (fixture, source_kind, headers, base_url, number of records)
FEED_FIXTURES = [
    (ARXIV_AI_RSS, "arxiv-rss", RSS, "https://rss.arxiv.org/rss/cs.AI", 3),
    (
        "arxiv-rss/jmamath-distill__arxiv_cs_cl_rss_2026-04-27.xml",
        "arxiv-rss",
        RSS,
        "https://rss.arxiv.org/rss/cs.CL",
        3,
    ),
    (
        "arxiv-rss/jmamath-distill__arxiv_cs_lg_rss_2026-04-27.xml",
        "arxiv-rss",
        RSS,
        "https://rss.arxiv.org/rss/cs.LG",
        3,
    ),
    (ARXIV_ATOM, "arxiv-rss", ATOM, "https://rss.arxiv.org/atom/cs.AI", 7),
    (
        LEGACY_RDF,
        "arxiv-rss",
        {"content-type": "text/xml"},
        "http://export.arxiv.org/rss/hep-ex",
        3,
    ),
    (
        "ml-blogs/jmamath-distill__bair_blog.xml",
        "feed",
        RSS,
        "https://bair.berkeley.edu/blog/feed.xml",
        3,
    ),
    ("ml-blogs/jmamath-distill__fair_blog.xml", "feed", RSS, "https://engineering.fb.com/feed/", 3),
    ("ml-blogs/jmamath-distill__gradient_blog.xml", "feed", RSS, "https://thegradient.pub/rss/", 3),
    (
        "ml-blogs/jmamath-distill__huggingface_blog.xml",
        "feed",
        RSS,
        "https://huggingface.co/blog/feed.xml",
        3,
    ),
    (
        "ml-blogs/jmamath-distill__openai_blog.xml",
        "feed",
        RSS,
        "https://openai.com/news/rss.xml",
        3,
    ),
    (HN, "feed", RSS, "https://news.ycombinator.com/rss", 30),
    (REDDIT, "feed", ATOM, "https://www.reddit.com/r/pics/.rss", 1),
    (SUBSTACK, "feed", RSS, "https://www.interconnects.ai/feed", 20),
    (ZENN, "feed", RSS, "https://zenn.dev/feed", 20),
]


@pytest.mark.parametrize(
    ("rel", "kind", "headers", "base_url", "count"),
    FEED_FIXTURES,
    ids=[Path(f[0]).stem for f in FEED_FIXTURES],
)
def test_every_feed_fixture_parses(rel, kind, headers, base_url, count):
    parsed = parse(rel, kind, headers, base_url)
    assert parsed.warnings == []
    assert parsed.title
    assert len(parsed.records) == count
    for rec in parsed.records:
        assert isinstance(rec, Record)
        assert rec.kind == ("paper" if kind == "arxiv-rss" else "post")
        assert rec.title and rec.title == rec.title.strip()
        assert rec.url and rec.url.startswith(("http://", "https://"))
        assert not TAG.search(rec.summary), rec.summary[:200]
        assert len(rec.summary) <= SUMMARY_MAX_CHARS + 1
        assert rec.summary == " ".join(rec.summary.split())
        for value in (rec.published, rec.updated):
            assert value is None or ISO_UTC.match(value), value
        if kind == "arxiv-rss":
            assert rec.arxiv_id and rec.version is not None
            assert rec.announce_type in {"new", "cross", "replace", "replace-cross"}
            assert rec.categories and rec.primary_category == rec.categories[0]
            assert rec.authors
            assert rec.links == {
                "abs": f"https://arxiv.org/abs/{rec.arxiv_id}v{rec.version}",
                "pdf": f"https://arxiv.org/pdf/{rec.arxiv_id}v{rec.version}",
            }
            assert rec.url == f"https://arxiv.org/abs/{rec.arxiv_id}"
            assert "Announce Type" not in rec.summary
        else:
            assert rec.published is not None


def test_all_fixture_files_are_covered():
    """Every copied fixture is exercised by some test in this file."""
    covered = {f[0] for f in FEED_FIXTURES}
    covered |= {str(p.relative_to(FEEDS)) for p in (FEEDS / "arxiv-api").rglob("*.xml")}
    covered |= {str(p.relative_to(FEEDS)) for p in (FEEDS / "arxiv-bulk").rglob("*")}
    on_disk = {str(p.relative_to(FEEDS)) for p in FEEDS.rglob("*") if p.is_file()}
    assert on_disk - covered == {"MANIFEST.md"}


# --- rss.arxiv.org ---------------------------------------------------------


def test_arxiv_rss_item_fields():
    parsed = parse(ARXIV_AI_RSS, "arxiv-rss", base_url="https://rss.arxiv.org/rss/cs.AI")
    assert parsed.title == "cs.AI updates on arXiv.org"
    rec = parsed.records[0]
    assert rec.kind == "paper"
    assert rec.arxiv_id == "2604.21935"
    assert rec.version == 1
    assert rec.announce_type == "new"
    assert rec.guid == "oai:arXiv.org:2604.21935v1"
    assert (
        rec.title == "Math Takes Two: A test for emergent mathematical reasoning in communication"
    )
    assert rec.authors == ["Michael Cooper", "Samuel Cooper"]
    assert rec.categories == ["cs.AI", "cs.LG"]
    assert rec.primary_category == "cs.AI"
    # "Mon, 27 Apr 2026 00:00:00 -0400" in UTC
    assert rec.published == "2026-04-27T04:00:00+00:00"
    assert rec.summary.startswith("Although language models demonstrate remarkable proficiency")
    assert not rec.summary.startswith("arXiv:")
    assert rec.url == "https://arxiv.org/abs/2604.21935"
    assert rec.mentions == []


def test_arxiv_atom_flavour():
    parsed = parse(ARXIV_ATOM, "arxiv-rss", ATOM, "https://rss.arxiv.org/atom/cs.AI")
    types = [r.announce_type for r in parsed.records]
    assert types == ["cross"] * 5 + ["new"] * 2
    first = parsed.records[0]
    assert first.arxiv_id == "2508.13426" and first.version == 1
    # a cross-list into cs.AI: the primary category comes first
    assert first.categories == ["cs.CL", "cs.AI"]
    assert first.primary_category == "cs.CL"
    assert first.published == "2025-08-20T04:00:00+00:00"
    assert first.updated == "2025-08-20T04:00:19+00:00"
    assert first.authors == ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"]
    by_id = {r.arxiv_id: r for r in parsed.records}
    # raw TeX in dc:creator: Paulo Andr\'e Lima de Castro
    assert by_id["2508.13429"].authors == ["Paulo André Lima de Castro"]


def _variant_item(announce: str, version: int) -> bytes:
    """The first real cs.AI RSS item, re-announced as `announce` with version `version`."""
    body = load(ARXIV_AI_RSS).decode()
    body = body.replace(
        "<arxiv:announce_type>new</arxiv:announce_type>",
        f"<arxiv:announce_type>{announce}</arxiv:announce_type>",
        1,
    )
    body = body.replace("oai:arXiv.org:2604.21935v1", f"oai:arXiv.org:2604.21935v{version}", 1)
    body = body.replace(
        "arXiv:2604.21935v1 Announce Type: new",
        f"arXiv:2604.21935v{version} Announce Type: {announce}",
        1,
    )
    return body.encode()


@pytest.mark.parametrize(
    ("announce", "version"),
    [("new", 1), ("cross", 1), ("replace", 2), ("replace-cross", 3)],
)
def test_arxiv_rss_announce_types_and_versions(announce, version):
    rec = parse(_variant_item(announce, version), "arxiv-rss").records[0]
    assert rec.arxiv_id == "2604.21935"
    assert rec.announce_type == announce
    assert rec.version == version
    assert rec.links["pdf"] == f"https://arxiv.org/pdf/2604.21935v{version}"
    assert rec.summary.startswith("Although language models")


def test_arxiv_rss_version_from_description_when_guid_missing():
    body = load(ARXIV_AI_RSS).replace(
        b'<guid isPermaLink="false">oai:arXiv.org:2604.21935v1</guid>', b"", 1
    )
    rec = parse(body, "arxiv-rss").records[0]
    assert (rec.arxiv_id, rec.version, rec.guid) == ("2604.21935", 1, None)


def test_arxiv_rss_tex_accents_in_authors():
    body = load(ARXIV_AI_RSS).replace(
        b"<dc:creator>Michael Cooper, Samuel Cooper</dc:creator>",
        rb"""<dc:creator>J. M\"uller, Fran\c{c}ois Dupr\'e, S{\o}ren {\AA}berg, and Pawe\l{} Nowak</dc:creator>""",
        1,
    )
    rec = parse(body, "arxiv-rss").records[0]
    assert rec.authors == ["J. Müller", "François Dupré", "Søren Åberg", "Paweł Nowak"]


def test_arxiv_rss_item_without_id_is_skipped_with_warning():
    body = load(ARXIV_AI_RSS)
    body = body.replace(b'<guid isPermaLink="false">oai:arXiv.org:2604.21935v1</guid>', b"", 1)
    body = body.replace(b"<link>https://arxiv.org/abs/2604.21935</link>", b"", 1)
    body = body.replace(b"arXiv:2604.21935v1 Announce Type: new", b"Announcement", 1)
    parsed = parse(body, "arxiv-rss")
    assert [r.arxiv_id for r in parsed.records] == ["2604.21936", "2604.21937"]
    assert len(parsed.warnings) == 1 and "no recognisable arXiv id" in parsed.warnings[0]


def test_legacy_rdf():
    parsed = parse(
        LEGACY_RDF, "arxiv-rss", {"content-type": "text/xml"}, "http://export.arxiv.org/rss/hep-ex"
    )
    assert parsed.title == "hep-ex updates on arXiv.org"
    assert [(r.arxiv_id, r.version, r.announce_type) for r in parsed.records] == [
        ("1805.08875", 1, "new"),
        ("1805.09166", 1, "cross"),
        ("1805.06430", 2, "replace"),
    ]
    first, cross, updated = parsed.records
    # the "(arXiv:ID vN [cat] FLAG)" suffix and the period before it are gone; TeX stays
    assert first.title.startswith("Measurement of Transverse Single Spin Asymmetries in $\\pi^0$")
    assert first.title.endswith("Collisions at STAR")
    assert cross.title == "Recent Top quark results from the Tevatron"
    assert updated.title == "New Perspective on Hybrid Mesons"
    assert [r.categories for r in parsed.records] == [["hep-ex"], ["hep-ex"], ["nucl-th"]]
    # escaped <a> author links become plain names
    assert first.authors == ["Christopher Dilks (STAR Collaboration)"]
    assert updated.authors == [
        "Shu-Sheng Xu",
        "Zhu-Fang Cui",
        "Lei Chang",
        "Joannis Papavassiliou",
        "Craig D. Roberts",
        "Hong-Shi Zong",
    ]
    # HTML-escaped <p> description -> text; the doubly escaped "&lt;" is a real "<"
    assert first.summary.startswith("In 2015 the first collisions")
    assert "$2.6<\\eta<4$" in first.summary
    assert cross.summary == "We present recent measurements"
    # the legacy feed has no per-item dates
    assert all(r.published is None and r.updated is None for r in parsed.records)


# --- ordinary feeds ---------------------------------------------------------


def test_hacker_news_has_no_guid_and_numeric_entities():
    parsed = parse(HN, base_url="https://news.ycombinator.com/rss")
    assert parsed.title == "Hacker News"
    assert all(r.guid is None for r in parsed.records)
    titles = [r.title for r in parsed.records]
    assert "Recovering Anthony Bourdain's (really) lost Li.st's" in titles
    assert not any("&#" in t or "&amp;" in t for t in titles)
    first = parsed.records[0]
    assert first.title == "Linux Sandboxes and Fil-C"
    assert first.url == "https://fil-c.org/seccomp"
    assert first.published == "2025-12-13T22:58:29+00:00"
    assert first.updated is None
    assert first.links == {"comments": "https://news.ycombinator.com/item?id=46259064"}
    assert first.summary == "Comments"


def test_reddit_atom_relative_id():
    parsed = parse(REDDIT, headers=ATOM, base_url="https://www.reddit.com/r/pics/.rss")
    (rec,) = parsed.records
    assert rec.title == "(OC) The aspen trees of Colorado don’t feel real"
    # <id>t3_1pz1lp2</id> is a bare token; kept as given so the post's key does
    # not change when the feed URL does (e.g. after a permanent redirect)
    assert rec.guid == "t3_1pz1lp2"
    assert rec.url == (
        "https://www.reddit.com/r/pics/comments/1pz1lp2/oc_the_aspen_trees_of_colorado_dont_feel_real/"
    )
    assert rec.authors == ["/u/NaturePerson88"]
    assert rec.categories == ["pics"]
    assert rec.summary == "submitted by /u/NaturePerson88 [link] [comments]"
    assert rec.published == rec.updated == "2025-12-29T23:22:35+00:00"


def test_substack_cdata_and_big_content():
    parsed = parse(SUBSTACK, base_url="https://www.interconnects.ai/feed")
    assert parsed.title == "Interconnects AI"
    first = parsed.records[0]
    assert first.title.startswith("Latest open artifacts (#23): Laguna S2.1, Inkling, & Kimi K3")
    assert first.authors == ["Florian Brand"]
    assert (
        first.guid
        == first.url
        == "https://www.interconnects.ai/p/latest-open-artifacts-23-laguna-s21"
    )
    # the one-line description, then the start of the post body, cut on a word boundary
    assert first.summary.startswith(
        "Capacity to train strong models is proliferating. Consolidation"
    )
    assert first.summary.endswith("…")
    assert len(first.summary) <= SUMMARY_MAX_CHARS + 1
    assert first.published == "2026-08-02T13:01:40+00:00"
    # posts link arXiv papers from their body
    mentioning = [r for r in parsed.records if r.mentions]
    assert len(mentioning) >= 3
    assert "2501.12948" in {m for r in parsed.records for m in r.mentions}
    assert all(r.kind == "post" and r.arxiv_id is None for r in parsed.records)


def test_ml_blog_mentions():
    bair = parse("ml-blogs/jmamath-distill__bair_blog.xml").records
    assert bair[0].mentions[:2] == ["1312.6199", "1412.6572"]
    fair = parse("ml-blogs/jmamath-distill__fair_blog.xml").records
    assert fair[0].mentions == ["2510.20171"]
    assert fair[0].authors == []  # <dc:creator /> is empty
    assert fair[0].categories[0] == "AI Research"
    hf = parse("ml-blogs/jmamath-distill__huggingface_blog.xml").records
    assert all(r.summary == "" for r in hf)  # no description at all


@pytest.mark.parametrize(
    "headers",
    [RSS, {}, {"content-type": "text/xml"}, {"Content-Type": "text/html; charset=utf-8"}],
    ids=["rss", "no-headers", "text-xml", "text-html"],
)
def test_japanese_utf8_intact(headers):
    parsed = parse(ZENN, headers=headers, base_url="https://zenn.dev/feed")
    assert parsed.warnings == []
    assert parsed.title == "Zennのトレンド"
    first = parsed.records[0]
    assert first.title == "1日500コミットは、もう読めない ── だからコードレビューをやめた"
    assert first.authors == ["Isamu"]
    assert first.summary.startswith("最近、マージボタンを押すとき")


def test_utf8_without_xml_declaration_or_content_type():
    """No declaration, no Content-Type: XML's default (UTF-8) applies, not ISO-8859-1."""
    body = load(ZENN)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    body = body[len(b'<?xml version="1.0" encoding="UTF-8"?>') :]
    parsed = parse(body, headers={})
    assert (
        parsed.records[0].title == "1日500コミットは、もう読めない ── だからコードレビューをやめた"
    )


# --- not feeds, broken feeds, hostile feeds ----------------------------------


def test_html_page_is_not_a_feed():
    page = (
        b"<!DOCTYPE html><html><head><title>My research blog</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/index.xml">'
        b"</head><body><h1>Posts</h1><p>Hello</p></body></html>"
    )
    with pytest.raises(FeedParseError) as err:
        parse(
            page,
            headers={"content-type": "text/html; charset=utf-8"},
            base_url="https://blog.example.org/",
        )
    msg = str(err.value)
    assert "HTML page" in msg and "text/html" in msg
    assert "https://blog.example.org/index.xml" in msg


def test_html_page_without_feed_link():
    with pytest.raises(FeedParseError, match="HTML page.*feed link"):
        parse(b"<html><body><p>nothing</p></body></html>", headers={})


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (b"", RSS, "empty body"),
        (b"   \n", {}, "empty body"),
        (b'{"items": []}', {"content-type": "application/json"}, "JSON"),
        (b"just some text", {"content-type": "text/plain"}, "neither XML nor HTML"),
        (b"/etc/hostname", {}, "neither XML nor HTML"),  # never opened as a path
    ],
)
def test_not_a_feed(body, headers, expected):
    with pytest.raises(FeedParseError, match=expected):
        parse(body, headers=headers)


@pytest.mark.parametrize(
    "rel", sorted(str(p.relative_to(FEEDS)) for p in (FEEDS / "arxiv-bulk/oai-pmh").glob("*.xml"))
)
def test_oai_pmh_is_not_a_feed(rel):
    with pytest.raises(FeedParseError, match="root element is <OAI-PMH>"):
        parse(rel, headers={"content-type": "text/xml"})


def test_feed_parse_error_is_a_value_error():
    assert issubclass(FeedParseError, ValueError)


def test_bad_arguments():
    with pytest.raises(TypeError):
        parse_feed(load(HN).decode(), RSS, base_url="https://x/", source_kind="feed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="source_kind"):
        parse_feed(load(HN), RSS, base_url="https://x/", source_kind="arxiv")


@pytest.mark.parametrize(
    ("rel", "kind", "total"), [(SUBSTACK, "feed", 20), (ARXIV_ATOM, "arxiv-rss", 7)]
)
def test_truncated_feed_keeps_partial_records(rel, kind, total):
    body = load(rel)
    parsed = parse(body[: len(body) // 2], kind, headers={})
    assert 0 < len(parsed.records) < total
    assert len(parsed.warnings) == 1
    assert "not well-formed" in parsed.warnings[0]
    full = parse(body, kind, headers={})
    assert [r.title for r in parsed.records] == [r.title for r in full.records][
        : len(parsed.records)
    ]


HOSTILE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>https://evil.example/</link>
<item>
  <title>&lt;script&gt;alert(1)&lt;/script&gt; Hello &amp;amp; welcome</title>
  <link>/posts/1</link>
  <description>&lt;p&gt;Hi &lt;script&gt;alert(2)&lt;/script&gt;there &lt;b onclick="x()"&gt;bold&lt;/b&gt;,
  see &lt;a href="https://arxiv.org/abs/2401.12345v2"&gt;the paper&lt;/a&gt;.&lt;style&gt;p{color:red}&lt;/style&gt;
  &lt;!-- a comment --&gt;&lt;img src="x" onerror="alert(3)"&gt;a &amp;lt; b&lt;/p&gt;</description>
</item>
<item><description>no title and no link</description></item>
<item><title></title><link>https://arxiv.org/abs/1706.03762</link><description>Attention</description></item>
</channel></rss>"""


def test_script_in_title_stays_text_and_summary_has_no_tags():
    parsed = parse(HOSTILE_RSS, base_url="https://evil.example/feed")
    first, description_only, arxiv_link = parsed.records
    # titles are plain text: the characters survive, escaping is the renderer's job
    assert first.title == "<script>alert(1)</script> Hello & welcome"
    assert first.summary == "Hi there bold, see the paper. a < b"
    assert "alert" not in first.summary
    assert first.url == "https://evil.example/posts/1"
    assert first.mentions == ["2401.12345"]
    # the item with neither title nor link is kept, named by its text (issue 18)
    assert (description_only.title, description_only.url) == ("no title and no link", None)
    assert parsed.warnings == []
    # a post whose link is an arXiv paper is still a post, with the mention
    assert arxiv_link.kind == "post"
    assert arxiv_link.arxiv_id is None
    assert arxiv_link.mentions == ["1706.03762"]
    assert arxiv_link.title == "Attention"  # no title: the summary stands in


def test_atom_html_title_is_reduced_to_text():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
<updated>2026-01-02T03:04:05+01:00</updated>
<entry><title type="html">&lt;script&gt;alert(1)&lt;/script&gt;Fast &lt;em&gt;and&lt;/em&gt; small</title>
<id>urn:1</id><link href="https://a.example/1"/><updated>2026-01-02T03:04:05+01:00</updated>
<summary type="text">x &lt; y and &lt;b&gt; is text</summary></entry></feed>"""
    (rec,) = parse(body, headers=ATOM).records
    assert rec.title == "Fast and small"
    assert rec.guid == "urn:1"
    # Atom has no published here: published falls back to updated, in UTC
    assert rec.updated == rec.published == "2026-01-02T02:04:05+00:00"
    assert rec.summary == "x < y and <b> is text"  # type="text" is plain text already


def test_html_to_text():
    assert html_to_text("") == ""
    assert html_to_text("<p>a</p><p>b</p>") == "a b"
    assert html_to_text("see <a href='x'>this</a>, ok") == "see this, ok"
    assert html_to_text("$x<y$ and a < b") == "$x<y$ and a < b"
    assert html_to_text("<SCRIPT>bad()</SCRIPT>good") == "good"
    assert html_to_text("caf&eacute; &#x27;q&#x27;&nbsp;x") == "café 'q' x"
    long = "<p>" + "word " * 2000 + "</p>"
    cut = html_to_text(long, 100)
    assert cut.endswith("…") and len(cut) <= 101 and "wor…" not in cut


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"Andr\'e", "André"),
        (r"Andr\'{e}", "André"),
        (r"Andr{\'e}", "André"),
        (r"M\"uller", "Müller"),
        (r"M{\"u}ller", "Müller"),
        (r"{\o}rsted", "ørsted"),
        (r"Fran\c{c}ois", "François"),
        (r"Fran\c cois", "François"),
        (r"Ku\v{c}era", "Kučera"),
        (r"Erd\H{o}s", "Erdős"),
        (r"Mart\'{\i}nez", "Martínez"),
        (r"Mart\'\i nez", "Martínez"),
        (r"\AA{}ngstr\"om", "Ångström"),
        (r"Wei\ss", "Weiß"),
        (r"{\L}ukasz Kr\`ol", "Łukasz Kròl"),
        (r"Jo\~ao", "João"),
        ("No Accents", "No Accents"),
    ],
)
def test_tex_to_unicode(tex, text):
    assert tex_to_unicode(tex) == text


# --- arXiv API --------------------------------------------------------------


def test_arxiv_api_2026_format_with_doi_and_journal_ref():
    parsed = parse_arxiv_api(load("arxiv-api/arxiv-digest__all_nicotine_2026-07-17.xml"))
    assert len(parsed.records) == 10
    first = parsed.records[0]
    assert (first.arxiv_id, first.version) == ("1509.01687", 1)
    assert first.doi == "10.1063/1.4904358"
    assert first.journal_ref == "Journal of Applied Physics 116, 244307 (2014)"
    assert first.links["doi"] == "https://doi.org/10.1063/1.4904358"
    assert first.primary_category == "cond-mat.mes-hall"
    assert first.published == "2015-09-05T10:21:46+00:00"
    second = parsed.records[1]
    assert second.version == 2
    assert second.published < second.updated
    assert all(
        r.kind == "paper" and r.url == f"https://arxiv.org/abs/{r.arxiv_id}" for r in parsed.records
    )


def test_arxiv_api_2026_unprefixed_primary_category():
    parsed = parse_arxiv_api(load("arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml"))
    assert len(parsed.records) == 20
    first = parsed.records[0]
    assert first.arxiv_id == "2604.26951"
    assert first.primary_category == "cs.CL"
    assert first.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert first.authors == ["Gongbo Zhang", "Wen Wang", "Ye Tian", "Li Yuan"]
    assert first.comment == "15 pages, 3 figures. Code: https://github.com/PKU-YuanGroup/TIDE"
    assert first.links == {
        "abs": "https://arxiv.org/abs/2604.26951v1",
        "pdf": "https://arxiv.org/pdf/2604.26951v1",
    }


def test_arxiv_api_legacy_2016_format():
    (rec,) = parse_arxiv_api(load(f"{API_2016}/id_list=1111.2011v2.xml")).records
    assert (rec.arxiv_id, rec.version) == ("1111.2011", 2)
    # hard-wrapped title and abstract are joined
    assert (
        rec.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert rec.summary.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert "\n" not in rec.summary
    assert rec.doi == "10.1103/PhysRevB.85.115117"
    assert rec.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert rec.comment == "8 pages, 3 figures. Published version"
    assert rec.primary_category == "cond-mat.str-el"
    assert rec.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert rec.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert (rec.published, rec.updated) == (
        "2011-11-08T18:48:36+00:00",
        "2012-04-02T12:38:54+00:00",
    )

    search = parse_arxiv_api(load(f"{API_2016}/search_query=au:del_maestro.xml")).records
    assert len(search) == 10
    assert "cond-mat/0412498" in {r.arxiv_id for r in search}  # old-style id


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("id_2104.12255v1_s0_m100_6ae69987ffe1.body.xml", ["2104.12255"]),
        ("id_astro-ph_0601001_s0_m100_3150dca9dc76.body.xml", ["astro-ph/0601001"]),
        # asked for two ids, arXiv silently dropped the nonexistent one
        ("id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.body.xml", ["1707.08567"]),
        ("id_0000.0000_s0_m100_8b51d9633a68.body.xml", []),  # totalResults 0
    ],
)
def test_arxiv_api_recorded_id_queries(name, ids):
    parsed = parse_arxiv_api(load(f"{API_2026}/{name}"))
    assert [r.arxiv_id for r in parsed.records] == ids
    assert parsed.warnings == []


def test_arxiv_api_recorded_search_pages_do_not_overlap():
    page1 = parse_arxiv_api(load(f"{API_2026}/q_testing_s0_m10_bc5a6c384fe9.body.xml")).records
    page2 = parse_arxiv_api(load(f"{API_2026}/q_testing_s10_m10_34e56e15aaac.body.xml")).records
    assert len(page1) == len(page2) == 10
    assert not {r.arxiv_id for r in page1} & {r.arxiv_id for r in page2}
    assert "José Raúl Romero" in page1[1].authors
    assert page2[0].version == 2


ERROR_BODY = f"{API_2026}/id_abc_s0_m100_b79c8dcf6bc3.body.xml"


def test_arxiv_error_body():
    assert parse_arxiv_error(load(ERROR_BODY)) == "incorrect id format for abc"
    with pytest.raises(FeedParseError, match="incorrect id format for abc"):
        parse_arxiv_api(load(ERROR_BODY))


@pytest.mark.parametrize(
    "body",
    [
        load(f"{API_2026}/id_0000.0000_s0_m100_8b51d9633a68.body.xml"),
        load(f"{API_2016}/id_list=1111.2011v2.xml"),
        load(ARXIV_AI_RSS),
        b"",
        b"<not xml",
    ],
)
def test_arxiv_error_none_for_other_bodies(body):
    assert parse_arxiv_error(body) is None


def test_arxiv_api_garbage():
    with pytest.raises(FeedParseError):
        parse_arxiv_api(b"<html><body>Service Unavailable</body")


def test_record_from_arxiv_result():
    result = arxiv.Result(
        entry_id="http://arxiv.org/abs/hep-th/9901001v3",
        updated=datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        published=datetime(1999, 1, 1, 12, 0, 0, tzinfo=timezone.utc),
        title="A  title\n  wrapped",
        authors=[arxiv.Result.Author("A. Author"), arxiv.Result.Author("B. Author", ["Somewhere"])],
        summary="  An abstract\nwith newlines.  ",
        comment="10 pages",
        journal_ref=None,
        doi="10.1000/xyz",
        primary_category="hep-th",
        categories=["hep-th", "gr-qc"],
        links=[arxiv.Result.Link("http://arxiv.org/abs/hep-th/9901001v3", rel="alternate")],
    )
    rec = record_from_arxiv_result(result)
    assert rec == Record(
        kind="paper",
        title="A title wrapped",
        url="https://arxiv.org/abs/hep-th/9901001",
        arxiv_id="hep-th/9901001",
        version=3,
        authors=["A. Author", "B. Author"],
        summary="An abstract with newlines.",
        categories=["hep-th", "gr-qc"],
        primary_category="hep-th",
        published="1999-01-01T12:00:00+00:00",
        updated="2001-02-03T04:05:06+00:00",
        doi="10.1000/xyz",
        journal_ref=None,
        comment="10 pages",
        links={
            "abs": "https://arxiv.org/abs/hep-th/9901001v3",
            "pdf": "https://arxiv.org/pdf/hep-th/9901001v3",
            "doi": "https://doi.org/10.1000/xyz",
        },
        guid="http://arxiv.org/abs/hep-th/9901001v3",
    )
