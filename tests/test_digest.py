"""Tests for papertrail.reading.digest: grouping and the four renderers."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from papertrail.reading.digest import FORMATS, Digest, FetchSummary, group_by_domain, render

DOMAINS = ["vision", "generative", "language", "audio", "ml-general"]
XSS_TITLE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
ANSI = re.compile(r"\x1b\[")


def entry(id: int, kind: str = "paper", domains: list[str] | None = None, **kw: Any) -> dict:
    e = {
        "id": id,
        "kind": kind,
        "title": f"Entry {id}",
        "url": f"https://example.org/{id}",
        "arxiv_id": None,
        "version": None,
        "domains": domains or ["ml-general"],
        "sources": ["arXiv cs.LG"],
        "first_seen": "2026-11-23T06:00:00+00:00",
        "authors": [],
        "categories": [],
        "primary_category": None,
        "summary": "",
        "published": None,
        "starred": False,
        "mentioned_by": 1,
    }
    e.update(kw)
    return e


def paper(id: int, arxiv_id: str, domains: list[str], **kw: Any) -> dict:
    kw.setdefault("url", f"https://arxiv.org/abs/{arxiv_id}")
    kw.setdefault("version", 1)
    return entry(id, "paper", domains, arxiv_id=arxiv_id, **kw)


def post(id: int, domains: list[str], **kw: Any) -> dict:
    kw.setdefault("sources", ["Hacker News"])
    return entry(id, "post", domains, **kw)


@pytest.fixture
def digest() -> Digest:
    entries = [
        post(10, ["vision"], title="A blog post on ViTs", url="https://blog.example.com/vit"),
        paper(
            1,
            "2411.01234",
            ["vision", "generative"],
            title="Segment Everything Twice",
            version=2,
            authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
            categories=["cs.CV", "cs.LG"],
            primary_category="cs.CV",
            summary="We segment. " * 60,
            mentioned_by=3,
        ),
        paper(
            2,
            "1508.06576",
            ["generative"],
            title="A Neural Algorithm of Artistic Style",
            authors=["Leon A. Gatys", "Alexander S. Ecker", "Matthias Bethge"],
            categories=["cs.CV"],
        ),
        paper(
            3,
            "2411.05678",
            ["language"],
            title="深層学習による日本語の文章要約とその評価についての包括的な研究",
            authors=["山田 太郎"],
            categories=["cs.CL"],
        ),
        post(
            11,
            ["language"],
            title=XSS_TITLE,
            url="javascript:alert(1)",
            sources=['Evil "feed"'],
            summary="<b>bold</b> & <script>x</script>",
        ),
        post(12, ["robotics-custom"], title="Robots *everywhere*", url="data:text/html,hi"),
        paper(4, "math.GT/0309136", [], title="Old-style id"),
    ]
    updates = [
        paper(
            5, "1701.07875", ["generative"], title="Wasserstein GAN", version=3, previous_version=2
        )
    ]
    summary = FetchSummary(
        sources_ok=12,
        sources_failed=1,
        new_papers=34,
        new_posts=5,
        updated_versions=7,
        failures=[("Distill", "HTTP 404 Not Found from https://distill.pub/rss.xml")],
        moved=[("Lil'Log", "https://lilianweng.github.io/index.xml")],
    )
    return Digest(
        title="papertrail digest — 2026-11-23",
        generated_at="2026-11-23T07:00:00+00:00",
        since=None,
        until=None,
        domain_order=DOMAINS,
        entries=entries,
        updates=updates,
        summary=summary,
    )


def empty_digest(**kw: Any) -> Digest:
    return Digest(
        title="papertrail digest — 2026-11-23",
        generated_at="2026-11-23T07:00:00+00:00",
        since=kw.pop("since", None),
        until=kw.pop("until", None),
        domain_order=DOMAINS,
        entries=[],
        **kw,
    )


# ---------------------------------------------------------------- grouping


def test_group_by_domain_each_entry_once_in_domain_order(digest: Digest) -> None:
    groups = group_by_domain(digest)
    assert [d for d, _ in groups] == ["vision", "generative", "language", "ml-general"] + [
        "robotics-custom"
    ]
    ids = [e["id"] for _, entries in groups for e in entries]
    assert sorted(ids) == sorted(e["id"] for e in digest.entries)
    assert len(ids) == len(set(ids))


def test_group_by_domain_papers_before_posts_keeping_order(digest: Digest) -> None:
    groups = dict(group_by_domain(digest))
    assert [e["id"] for e in groups["vision"]] == [1, 10]
    assert [e["id"] for e in groups["language"]] == [3, 11]
    assert [e["id"] for e in groups["generative"]] == [2]  # paper 1 only under its first domain
    assert [e["id"] for e in groups["ml-general"]] == [4]  # no domains -> ml-general


def test_group_by_domain_drops_duplicate_ids_and_empty_groups() -> None:
    d = empty_digest()
    d.entries = [paper(1, "2411.00001", ["audio"]), paper(1, "2411.00001", ["audio"])]
    assert [(dom, [e["id"] for e in es]) for dom, es in group_by_domain(d)] == [("audio", [1])]


# ---------------------------------------------------------------- text


def test_text_plain_has_no_escape_codes_and_lists_everything(digest: Digest) -> None:
    out = render(digest, "text")
    assert not ANSI.search(out)
    assert "\x1b" not in out
    assert "papertrail digest — 2026-11-23" in out
    assert "vision — 1 paper, 1 post" in out
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in out
    assert "Edsger Dijkstra" not in out
    assert "Leon A. Gatys, Alexander S. Ecker, Matthias Bethge" in out
    assert "et al." not in out.split("Leon A. Gatys")[1].splitlines()[0]
    assert "arXiv:2411.01234 v2  https://arxiv.org/abs/2411.01234" in out
    assert "cs.CV, cs.LG" in out
    assert "mentioned by 3 sources" in out
    assert "mentioned by 1 sources" not in out
    assert "[Hacker News] A blog post on ViTs" in out
    assert "https://blog.example.com/vit" in out
    assert "Updated versions of starred papers" in out
    assert "v2 → v3" in out
    assert out.index("vision —") < out.index("generative —") < out.index("language —")


def test_text_summary_line_last_with_failures_and_moved(digest: Digest) -> None:
    out = render(digest, "text")
    line = "12 sources ok, 1 failed · 34 new papers · 5 new posts · 7 updated versions"
    assert line in out
    tail = out[out.index(line) :].splitlines()
    assert tail[1].strip().startswith("✗ Distill: HTTP 404")
    assert "Lil'Log moved permanently to https://lilianweng.github.io/index.xml" in out
    assert "feeds.yml" in tail[-1] or "feeds.yml" in tail[-2]
    assert out.index("Updated versions") < out.index(line)


def test_text_summary_singulars() -> None:
    d = empty_digest(summary=FetchSummary(1, 0, new_papers=1, new_posts=0, updated_versions=1))
    out = render(d, "text")
    assert "1 source ok, 0 failed · 1 new paper · 0 new posts · 1 updated version" in out


def test_text_nothing_new_messages() -> None:
    assert "Nothing new since the last fetch." in render(empty_digest(), "text")
    out = render(empty_digest(since="2026-11-01", until="2026-11-02"), "text")
    assert "No entries between 2026-11-01 and 2026-11-02" in out
    assert "Nothing new since the last fetch." in render(empty_digest(), "markdown")
    assert "Nothing new since the last fetch." in render(empty_digest(), "html")


def test_text_color_uses_ansi(digest: Digest) -> None:
    assert ANSI.search(render(digest, "text", color=True))


def test_text_strips_control_characters_from_feed_text() -> None:
    d = empty_digest()
    d.entries = [post(1, ["vision"], title="evil \x1b[2J\x1b]0;pwned\x07 title\r\nnext", url=None)]
    for color in (False, True):
        out = render(d, "text", color=color)
        assert "\x1b[2J" not in out and "\x07" not in out and "\r" not in out
    assert "evil [2J ]0;pwned title next" in render(d, "text")


@pytest.mark.parametrize("width", [40, 60, 100])
def test_text_wraps_to_width(digest: Digest, width: int) -> None:
    from rich.cells import cell_len

    long_title = "A very long title about " + "scaling laws " * 20
    digest.entries.append(paper(20, "2411.09999", ["audio"], title=long_title))
    out = render(digest, "text", width=width)
    for line in out.splitlines():
        if "http" not in line:  # URLs are never broken
            assert cell_len(line) <= width, line
    assert "scaling laws" in out


# ---------------------------------------------------------------- markdown


def test_markdown_structure_and_links(digest: Digest) -> None:
    out = render(digest, "markdown")
    assert out.startswith("# papertrail digest — 2026-11-23\n")
    assert "\n## vision (1 paper, 1 post)\n" in out
    assert "[**Segment Everything Twice**](<https://arxiv.org/abs/2411.01234>)" in out
    assert "[arXiv:2411.01234 v2](<https://arxiv.org/abs/2411.01234>)" in out
    assert "([pdf](<https://arxiv.org/pdf/2411.01234>))" in out
    assert "https://arxiv.org/abs/math.GT/0309136" in out
    assert "*mentioned by 3 sources*" in out
    assert "## Updated versions of starred papers" in out
    assert "12 sources ok, 1 failed · 34 new papers" in out


def test_markdown_escapes_feed_text(digest: Digest) -> None:
    out = render(digest, "markdown")
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;&lt;img src=x onerror=alert\\(1\\)&gt;" in out
    assert "Robots \\*everywhere\\*" in out
    assert "javascript:alert" not in out.replace("link not shown: javascript:alert", "")
    assert "](<javascript" not in out and "](<data:" not in out
    d = empty_digest()
    d.entries = [post(1, ["vision"], title="1. [x](http://e.vil) _a_ `c` # h", url=None)]
    line = [ln for ln in render(d, "markdown").splitlines() if ln.startswith("- ")][0]
    assert "1\\. \\[x\\]\\(http://e.vil\\) \\_a\\_ \\`c\\` \\# h" in line


def test_markdown_link_destination_cannot_break_out() -> None:
    d = empty_digest()
    d.entries = [post(1, ["vision"], title="t", url="https://e.org/a b>c)<d\\")]
    out = render(d, "markdown")
    assert "(<https://e.org/a%20b%3Ec)%3Cd%5C>)" in out


# ---------------------------------------------------------------- html


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(doc: str) -> _Collector:
    parser = _Collector()
    parser.feed(doc)
    parser.close()
    return parser


def test_html_is_safe(digest: Digest) -> None:
    out = render(digest, "html")
    assert out.startswith("<!DOCTYPE html>")
    parsed = parse_html(out)
    names = [t for t, _ in parsed.tags]
    assert "script" not in names and "img" not in names and "iframe" not in names
    for tag, attrs in parsed.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if "href" in attrs:
            assert tag == "a"
            # links out are http(s) only; the index of domains links its own anchors
            assert re.match(r"https?://|#d-[a-z0-9-]+$|#updates$", attrs["href"] or ""), attrs
            if not attrs["href"].startswith("#"):
                assert attrs.get("rel") == "noopener noreferrer"
        assert "src" not in attrs
    metas = [a for t, a in parsed.tags if t == "meta"]
    assert {"charset": "utf-8"} in metas
    csp = [a["content"] for a in metas if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    text = "".join(parsed.text)
    assert XSS_TITLE in text  # shown as text, not markup
    assert html_escaped(XSS_TITLE) in out
    assert "javascript:alert(1)" in text  # shown, not linked
    assert "<b>bold</b> &amp; <script>x</script>" not in out
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in out
    assert "Evil &#34;feed&#34;" in out  # Jinja escapes a quote as &#34;


def html_escaped(s: str) -> str:
    import html

    return html.escape(s, quote=True)


def test_html_content(digest: Digest) -> None:
    out = render(digest, "html")
    parsed = parse_html(out)
    hrefs = [a["href"] for t, a in parsed.tags if t == "a"]
    assert "https://arxiv.org/abs/2411.01234" in hrefs
    assert "https://arxiv.org/pdf/2411.01234" in hrefs
    assert "https://blog.example.com/vit" in hrefs
    assert not any(h.startswith("data:") for h in hrefs)
    text = "".join(parsed.text)
    assert "深層学習による日本語の文章要約" in text
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
    assert '<details class="abstract">' in out
    summary = [t for t in parsed.text if t.startswith("We segment.")][0]
    # the full abstract (issue 16: the disclosure used to open a truncated one)
    assert len(summary) > 301 and summary.endswith("We segment.")
    assert "12 sources ok, 1 failed" in text and "✗ Distill" in text


# ---------------------------------------------------------------- json


def test_json_round_trips_with_required_keys(digest: Digest) -> None:
    out = render(digest, "json")
    data = json.loads(out)
    assert set(data) >= {"title", "generated_at", "since", "until", "entries", "updates"}
    assert set(data) >= {"summary", "groups"}
    assert data["since"] is None
    assert [e["id"] for e in data["entries"]] == [1, 10, 2, 3, 11, 4, 12]
    assert data["groups"][0] == {"domain": "vision", "count": 2}
    assert sum(g["count"] for g in data["groups"]) == len(data["entries"])
    required = {"id", "kind", "title", "url", "arxiv_id", "version", "domains", "sources"}
    for e in data["entries"]:
        assert set(e) >= required | {"first_seen"}
        if e["kind"] == "post":
            assert e["arxiv_id"] is None
    assert "深層学習" in out  # ensure_ascii=False
    assert data["entries"][4]["title"] == XSS_TITLE  # data kept as given
    assert data["summary"]["failures"] == [["Distill", digest.summary.failures[0][1]]]
    assert data["updates"][0]["previous_version"] == 2


def test_json_fills_missing_required_keys_and_null_summary() -> None:
    d = empty_digest()
    d.entries = [{"id": 7, "kind": "post", "title": "t", "domains": ["audio"]}]
    data = json.loads(render(d, "json"))
    assert data["entries"][0]["arxiv_id"] is None and data["entries"][0]["url"] is None
    assert data["summary"] is None


# ---------------------------------------------------------------- formats


def test_unknown_format_raises(digest: Digest) -> None:
    with pytest.raises(ValueError, match="unknown digest format"):
        render(digest, "pdf")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_unicode_and_ends_with_newline(digest: Digest, fmt: str) -> None:
    out = render(digest, fmt)
    assert out.endswith("\n")
    assert "深層学習" in out
