"""Code and artifact links (issue 20): found in the recorded arXiv API answers (comments
such as "Code: https://github.com/…"), in recorded blog posts citing papers, stored by a
real fetch into a real SQLite file, and shown by list / show / exports. Links that only
look like code links (hand-made hostile feed) never become one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import fixture_bytes, private_copy, serving, write_feeds
from test_fetch import serve_api

from papertrail.cli import cli
from papertrail.ingest.codelinks import scan_papers
from papertrail.sources.codelinks import classify, paper_code_links, post_code_links
from papertrail.sources.parse import parse_arxiv_api, parse_feed
from papertrail.store import connected

HANDMADE = Path(__file__).parent / "fixtures" / "handmade"
API = "arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml"


def run(db: Path, feeds: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


# ---------------------------------------------------------------- extraction (pure)


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)//github.com/a/b",
        "data:text/html,github.com/a/b",
        "https://github.com.evil.io/a/b",
        "https://gìthub.com/a/b",
        "https://xn--gthub-n4a.com/a/b",
        "https://github.com@evil.io/a/b",
        "https://evil.io@github.com/a/b",
        "https://github.com:8443/a/b",
        "https://bit.ly/abc",
        "https://t.co/abc",
        "https://github.com/features/copilot",
        "https://huggingface.co/papers/2604.26951",
        "ftp://github.com/a/b",
    ],
)
def test_what_only_looks_like_a_code_link_is_none(raw: str) -> None:
    assert classify(raw) is None
    assert classify(raw, project_cue=True) is None or raw.startswith("https://github.com/f")


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("https://github.com/ClawGym.", ("github", "https://github.com/ClawGym")),
        ("github.com/foo/bar.git", ("github", "https://github.com/foo/bar")),
        ("https://github.com/o/r/tree/main/src?utm_source=x", ("github", "https://github.com/o/r")),
        ("https://gitlab.com/g/sub/p/-/tree/main", ("gitlab", "https://gitlab.com/g/sub/p")),
        ("https://codeberg.org/o/r", ("codeberg", "https://codeberg.org/o/r")),
        ("https://hf.co/meta/llama", ("hf-model", "https://huggingface.co/meta/llama")),
        (
            "https://huggingface.co/datasets/o/d?utm_source=nl",
            ("hf-dataset", "https://huggingface.co/datasets/o/d"),
        ),
        ("https://huggingface.co/spaces/o/s", ("hf-space", "https://huggingface.co/spaces/o/s")),
    ],
)
def test_repositories_and_artifacts_are_typed_and_normalised(
    raw: str, expected: tuple[str, str]
) -> None:
    assert classify(raw) == expected


def test_a_project_page_counts_only_when_the_text_says_so() -> None:
    links = paper_code_links(
        "Results at https://example.org/leaderboard. Project page: "
        "https://foo.github.io/proj/?utm_campaign=x&id=3.",
        None,
    )
    assert [(k.kind, k.url, k.found_in) for k in links] == [
        ("project", "https://foo.github.io/proj/?id=3", "abstract")
    ]


def test_the_recorded_api_answer_yields_its_two_code_links() -> None:
    parsed = parse_arxiv_api(fixture_bytes(API))
    found = {
        (r.arxiv_id, k.url, k.kind, k.found_in)
        for r in parsed.records
        for k in paper_code_links(r.summary, r.comment)
    }
    assert found == {
        ("2604.26951", "https://github.com/PKU-YuanGroup/TIDE", "github", "comment"),
        ("2604.26904", "https://github.com/ClawGym", "github", "abstract"),
    }


def test_a_recorded_blog_post_links_the_code_of_the_paper_it_cites() -> None:
    parsed = parse_feed(
        fixture_bytes("ml-blogs/jmamath-distill__bair_blog.xml"),
        {"content-type": "application/rss+xml"},
        base_url="http://x/",
        source_kind="feed",
    )
    found = {(k.arxiv_id, k.url, k.kind) for r in parsed.records for k in r.code_links}
    assert ("2405.20559", "https://github.com/Waller-Lab/EncodingInformation", "github") in found
    # every link is attributed to a paper the post cites
    cited = {i for r in parsed.records for i in r.mentions}
    assert {a for a, _, _ in found} <= cited


def test_a_newsletter_attributes_links_only_within_a_paragraph() -> None:
    html = (
        '<ul><li><a href="https://huggingface.co/o/model-a">A</a> '
        '(<a href="https://arxiv.org/abs/2605.05365">report</a>)</li>'
        '<li><a href="https://huggingface.co/o/model-b">B</a>, no paper</li></ul>'
    )
    found = {(k.arxiv_id, k.url) for k in post_code_links([html])}
    assert found == {("2605.05365", "https://huggingface.co/o/model-a")}


# ---------------------------------------------------------------- a real fetch


@pytest.fixture(scope="module")
def _fetched_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("codelinks")
    with serving() as fs:
        hostile = (HANDMADE / "hostile-code-links_atom.xml").read_bytes()
        sources = [
            {"name": "arxiv-lg", "kind": "arxiv", "categories": ["cs.LG"], "max_results": 20},
            {"name": "bair", "kind": "feed", "tags": ["blog"],
             "url": fs.serve_fixture("/bair", "ml-blogs/jmamath-distill__bair_blog.xml")},
            {"name": "liars", "kind": "feed",
             "url": fs.serve("/liars", hostile, "application/atom+xml")},
        ]  # fmt: skip
        feeds = write_feeds(base / "feeds.yml", sources, {"arxiv_api_url": serve_api(fs, API)})
        run(base / "reading.db", feeds, "fetch", "-q")
    return base / "reading.db", feeds


@pytest.fixture
def fetched(_fetched_template: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """(database, feeds.yml) after one real fetch of the API answer, BAIR and the liars."""
    return private_copy(*_fetched_template, tmp_path)


def test_a_fetch_stores_typed_links_with_where_they_were_found(fetched: tuple[Path, Path]) -> None:
    db, _ = fetched
    stored = set(rows(db, "SELECT arxiv_id, url, kind, found_in FROM code_links"))
    assert ("2604.26951", "https://github.com/PKU-YuanGroup/TIDE", "github", "comment") in stored
    assert ("2604.26904", "https://github.com/ClawGym", "github", "abstract") in stored
    assert (
        "2405.20559",
        "https://github.com/Waller-Lab/EncodingInformation",
        "github",
        "post",
    ) in stored
    # the hostile post: only the real data set, its tracking parameters stripped
    from_liars = set(
        rows(
            db,
            "SELECT c.url FROM code_links c JOIN entries p ON p.id = c.entry_id "
            "WHERE p.source = 'liars'",
        )
    )
    assert from_liars == {("https://huggingface.co/datasets/pku-yuan/tide-data",)}
    every_url = " ".join(u for (u,) in rows(db, "SELECT url FROM code_links"))
    for bad in ("javascript", "data:", "evil", "xn--", "bit.ly", "t.co/", "utm_", "unrelated"):
        assert bad not in every_url


def test_list_has_code_show_and_exports_carry_the_links(fetched: tuple[Path, Path]) -> None:
    db, feeds = fetched
    listed = json.loads(run(db, feeds, "list", "--has-code", "--json"))
    assert {e["arxiv_id"] for e in listed} == {"2604.26951", "2604.26904"}
    tide = next(e for e in listed if e["arxiv_id"] == "2604.26951")
    assert tide["code_links"][0] == {
        "url": "https://github.com/PKU-YuanGroup/TIDE",
        "kind": "github",
        "found_in": "comment",
    }
    # the data set from the hostile post belongs to TIDE too, after the paper's own link
    assert [c["url"] for c in tide["code_links"]] == [
        "https://github.com/PKU-YuanGroup/TIDE",
        "https://huggingface.co/datasets/pku-yuan/tide-data",
    ]
    shown = run(db, feeds, "show", "2604.26951")
    assert "https://github.com/PKU-YuanGroup/TIDE  (github, in the comment)" in shown
    bib = run(db, feeds, "export", "2604.26951", "--format", "bibtex")
    assert (
        "code          = {https://github.com/PKU-YuanGroup/TIDE "
        "https://huggingface.co/datasets/pku-yuan/tide-data}," in bib
    )
    csv_text = run(db, feeds, "export", "--has-code", "--format", "csv")
    assert "https://github.com/ClawGym" in csv_text and "code_links" in csv_text.splitlines()[0]
    digest = run(db, feeds, "digest", "--since", "1d")
    assert "code: https://github.com/PKU-YuanGroup/TIDE (GitHub)" in digest
    html = run(db, feeds, "digest", "--since", "1d", "--format", "html")
    assert '<a href="https://github.com/ClawGym" rel="noopener noreferrer">GitHub</a>' in html


def test_an_older_reading_list_is_backfilled_once(fetched: tuple[Path, Path]) -> None:
    db, _ = fetched
    with sqlite3.connect(db) as conn:  # as the migration leaves a list made before code links
        conn.execute("DELETE FROM code_links WHERE found_in != 'post'")
        conn.execute("UPDATE code_link_scan SET last_entry_id = 0, scanned_at = NULL")
    with connected(db) as conn:
        assert scan_papers(conn) == 2
        assert scan_papers(conn) == 0  # the mark moved: nothing is read twice
    assert len(rows(db, "SELECT 1 FROM code_links WHERE found_in != 'post'")) == 2


def test_the_fast_url_scan_finds_what_the_pattern_finds() -> None:
    """`_urls_in_text` (a cheap scan for where a URL may start, then the full pattern there)
    finds exactly the matches of `_URL_IN_TEXT.finditer` on every recorded document and
    on texts made to catch the edges: re.I's other letters (ſ, ı, İ, the Kelvin sign), a
    lookbehind that looks before the start, back-to-back and overlapping candidates."""
    from papertrail.sources import codelinks as cl

    texts = [
        "see https://github.com/a/b and www.github.com/c/d, HTTPS://GITLAB.COM/x/y",
        "xgithub.com/no a/github.com/no .github.com/no @gitlab.com/no -codeberg.org/no",
        "httpſ://example.org/a gıthub.com/a/b GİTHUB.COM/c/d huggingface.co/m HUGGİNGFACE.co/n",
        "hhttp://a.b/c wwwww.github.com/x/y github.com/a/bhttps://c.d/e ccodeberg.org/z/w",
        "http:/ broken http:// https://",
        "\u212a github.com/\u212a",
        "",
    ]
    root = Path(__file__).parent / "fixtures"
    texts += [p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*"))
              if p.is_file() and p.suffix in (".xml", ".html", ".htm", ".atom", ".rss", ".txt")]  # fmt: skip
    assert len(texts) > 100
    for text in texts:
        slow = [(m.start(), m.group(0)) for m in cl._URL_IN_TEXT.finditer(text)]
        assert [(m.start(), m.group(0)) for m in cl._urls_in_text(text)] == slow


def _html_links_by_copy(fragment: str) -> list[tuple[int, str, bool]]:
    """The plain way `_html_links` finds links (its code before issue 19 R): each href with
    the cue around its tag, then `_text_links` over a copy with links and tags blanked."""
    import html
    import re

    from papertrail.sources import codelinks as cl

    found = []
    for m in cl._HREF.finditer(fragment):
        raw = next(g for g in m.groups() if g is not None)
        before = html.unescape(
            re.sub(r"<[^>]*>", " ", fragment[max(0, m.start() - 200) : m.start()])
        )
        inner = html.unescape(
            re.sub(r"<[^>]*>", " ", fragment[m.end() : m.end() + 120].split("</a")[0])
        )
        cue = cl._cue_before(before, len(before)) or cl._cue_before(inner + " ", len(inner) + 1)
        found.append((m.start(), raw, cue))
    text = cl._ANCHOR.sub(lambda t: " " * len(t.group(0)), fragment)
    text = re.sub(r"<[^>]*>", lambda t: " " * len(t.group(0)), text)
    return found + list(cl._text_links(text))


def test_html_links_are_found_as_in_a_blanked_copy() -> None:
    """`_html_links` scans the fragment itself (URLs inside a tag skipped, the cue read from
    the 60 characters before with their tags blanked) and works a href's cue out only when
    asked: the same links, offsets and cues as the plain way, on every recorded post and on
    fragments made for the edges (a tag cut by the cue's window, '<' without '>', URLs in
    attributes, in link text, next to tags)."""
    import feedparser  # the recorded posts' HTML, as the parser hands it on

    from papertrail.sources import codelinks as cl

    fragments = [
        "<p>Code: <b>https://github.com/a/b</b></p><img src='https://github.com/no/no'>",
        "<p>" + "x" * 50 + '<span class="a.b">project page</span> https://example.org/p</p>',
        'see <span title="a long title with a dot. and more text here">code</span>: www.github.com/x/y',
        "a < b https://github.com/c/d <z github.com/e/f> g >h https://x.org/i",
        '<a href="https://github.com/in/link">https://github.com/in/text</a> after: gitlab.com/g/h',
        'Code: <span class="x.y">https://example.org/p</span>',  # a "." in a tag: blanked
        '<span data-x="' + "y" * 50 + ' implementation">  https://example.org/q',  # cut tag
        "no url here at all",
        "huggingface.co/m/n at the start",
        "",
    ]
    root = Path(__file__).parent / "fixtures" / "feeds"
    for path in sorted(root.rglob("*.xml")):
        for entry in feedparser.parse(path.read_bytes()).entries:
            fragments.append(entry.get("summary", ""))
            fragments += [c.get("value", "") for c in entry.get("content", [])]
    assert sum(1 for f in fragments if "href" in f) > 50
    for fragment in fragments:
        new = [
            (at, raw, cue() if callable(cue) else cue) for at, raw, cue in cl._html_links(fragment)
        ]
        assert new == _html_links_by_copy(fragment), fragment[:200]
