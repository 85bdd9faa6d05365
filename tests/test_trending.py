"""`papertrail trending` (issue 20): papers ranked by the distinct sources that mentioned
them in a window, weighted by kind; the digest opens with it. Real fetches of the recorded
OpenAI blog feed (its items' descriptions rewritten in memory to cite papers of the
recorded arXiv API answer) from a loopback server into a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, fixture_bytes, private_copy, serving, write_feeds
from test_fetch import serve_api

from papertrail.cli import cli

API = "arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml"
A, B, C, D = "2604.26951", "2604.26904", "2604.26880", "2604.26869"


def feed_citing(fs: FeedServer, path: str, texts: list[str], site: str | None = None) -> str:
    """The recorded OpenAI blog feed, its items' descriptions replaced by `texts` (in order;
    items beyond them keep theirs)."""
    body = fixture_bytes("ml-blogs/jmamath-distill__openai_blog.xml").decode("utf-8")
    # Each feed its own posts (its own URLs and titles): one article listed by several
    # feeds is one entry since issue 18, and these tests are about distinct posts.
    site = site or path.strip("/")
    body = body.replace("https://openai.com/", f"https://{site}.example.org/")
    body = body.replace("<title>", f"<title>{site}: ")
    parts = re.split(r"(<description>.*?</description>)", body)
    item = 0
    for i, part in enumerate(parts):
        if part.startswith("<description>") and i > 1:  # parts[1] is the channel's
            if item < len(texts):
                parts[i] = f"<description>{texts[item]}</description>"
            item += 1
    return fs.serve(path, "".join(parts).encode("utf-8"))


def cite(*ids: str) -> str:
    return " ".join(f"https://arxiv.org/abs/{i}" for i in ids)


@pytest.fixture(scope="module")
def _discussed_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One real fetch per module; each test gets its own copy (`discussed`)."""
    base = tmp_path_factory.mktemp("discussed")
    with serving() as fs:
        sources = [
            {"name": "arxiv-lg", "kind": "arxiv", "categories": ["cs.LG"], "max_results": 20},
            {"name": "hn", "kind": "feed", "tags": ["community"],
             "url": feed_citing(fs, "/hn", [cite(A, B)])},
            {"name": "weekly", "kind": "feed", "tags": ["newsletter"],
             "url": feed_citing(fs, "/weekly", [cite(A)])},
            # one blog repeating itself: C in two posts, and D
            {"name": "blog", "kind": "feed", "url": feed_citing(fs, "/blog", [cite(C), cite(C, D)])},
            {"name": "blog2", "kind": "feed", "url": feed_citing(fs, "/blog2", [cite(D)])},
        ]  # fmt: skip
        feeds = write_feeds(base / "feeds.yml", sources, {"arxiv_api_url": serve_api(fs, API)})
        run(base / "reading.db", feeds, "fetch", "-q")
    return base / "reading.db", feeds


@pytest.fixture
def discussed(_discussed_template: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    return private_copy(*_discussed_template, tmp_path)


def run(db: Path, feeds: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])
    assert result.exit_code == 0, result.output
    return result.output


def trending(db: Path, feeds: Path, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run(db, feeds, "trending", "--json", *args))
    return data


def test_papers_rank_by_weighted_distinct_sources(discussed: tuple[Path, Path]) -> None:
    db, feeds = discussed
    papers = trending(db, feeds)["papers"]
    ranked = [(p["arxiv_id"], p["score"], p["sources"]) for p in papers]
    assert ranked == [
        (A, 4.0, ["hn", "weekly"]),  # a community source and a newsletter
        (D, 2.0, ["blog", "blog2"]),  # two blogs, 1 each: ties with B, more sources
        (B, 2.0, ["hn"]),
        (C, 1.0, ["blog"]),  # one blog twice is still one source
    ]
    c = papers[-1]
    assert [p["source"] for p in c["posts"]] == ["blog", "blog"]  # both posts listed
    assert papers[0]["entry"]["title"].startswith("Turning the TIDE")
    assert papers[0]["posts"][0]["title"]


def test_text_view_lists_the_posts(discussed: tuple[Path, Path]) -> None:
    db, feeds = discussed
    text = run(db, feeds, "trending", "--limit", "2")
    assert "1. Turning the TIDE" in text
    assert "2 sources · weight 4: hn, weekly" in text
    assert "[weekly] " in text and "[hn] " in text
    assert text.count("arxiv.org/abs/") == 2


def test_the_window_and_archive_imports(discussed: tuple[Path, Path]) -> None:
    db, feeds = discussed
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE mentions SET first_seen = '2020-01-01T00:00:00+00:00' WHERE arxiv_id = ?", [C]
        )
        # a "post" as an archive import would own it: never counts
        conn.execute("UPDATE entries SET source = 'arxiv-snapshot' WHERE source = 'blog2'")
        conn.execute("UPDATE mentions SET source = 'arxiv-snapshot' WHERE source = 'blog2'")
    ids = [p["arxiv_id"] for p in trending(db, feeds)["papers"]]
    assert C not in ids  # mentioned only before the window
    assert [p for p in trending(db, feeds)["papers"] if p["arxiv_id"] == D][0]["sources"] == [
        "blog"
    ]
    assert C in [p["arxiv_id"] for p in trending(db, feeds, "--since", "2019-12-31")["papers"]]


def test_domain_filter_keeps_papers_of_that_domain(discussed: tuple[Path, Path]) -> None:
    db, feeds = discussed
    shown = json.loads(run(db, feeds, "show", A, "--json"))
    domain = shown["domains"][0]
    papers = trending(db, feeds, "--domain", domain)["papers"]
    assert A in [p["arxiv_id"] for p in papers]
    assert all(domain in p["entry"]["domains"] for p in papers)
    assert trending(db, feeds, "--domain", "no-such-domain")["papers"] == []


def test_the_digest_opens_with_the_section(discussed: tuple[Path, Path]) -> None:
    db, feeds = discussed
    text = run(db, feeds, "digest", "--since", "1d")
    head = text.index("Discussed since")
    first_domain = min(
        text.index(f"{d} —")
        for d in ("language", "vision", "learning", "ml-general")
        if f"{d} —" in text
    )
    assert head < first_domain
    assert "Turning the TIDE" in text[head:first_domain]
    data = json.loads(run(db, feeds, "digest", "--since", "1d", "--format", "json"))
    assert data["trending"][0]["arxiv_id"] == A
    html = run(db, feeds, "digest", "--since", "1d", "--format", "html")
    assert html.index('<section class="trending">') < html.index('<h2 class="domain"')


def test_every_mention_carries_its_posts_source(discussed: tuple[Path, Path]) -> None:
    db, _ = discussed
    with sqlite3.connect(db) as conn:
        missing = conn.execute(
            "SELECT COUNT(*) FROM mentions m JOIN entries p ON p.id = m.post_id "
            "WHERE m.source IS NOT p.source"
        ).fetchone()[0]
    assert missing == 0  # the trigger of migration 010 copies it on every insert


def test_no_mentions_says_what_fills_the_view(make_feeds: Any, db_path: Path) -> None:
    feeds = make_feeds([])
    run(db_path, feeds, "fetch", "-q")  # an empty reading list: trending never creates one
    out = run(db_path, feeds, "trending")
    assert "No paper was mentioned" in out
    digest = run(db_path, feeds, "digest", "--since", "1d")
    assert "Discussed" not in digest


def test_one_article_in_two_feeds_counts_for_both_sources(tmp_path: Path) -> None:
    """The same post listed by a blog and a community feed is one entry (issue 18) with
    both sources; trending counts each of them, with its weight."""
    with serving() as fs:
        sources = [
            {"name": "blog", "kind": "feed", "url": feed_citing(fs, "/b", [cite(A)], "same")},
            {"name": "hn", "kind": "feed", "tags": ["community"],
             "url": feed_citing(fs, "/h", [cite(A)], "same")},
        ]  # fmt: skip
        feeds = write_feeds(tmp_path / "feeds.yml", sources, {"mentions_backfill": False})
        run(tmp_path / "reading.db", feeds, "fetch", "-q")
    with sqlite3.connect(tmp_path / "reading.db") as conn:
        (posts,) = conn.execute(
            "SELECT COUNT(*) FROM entries WHERE kind = 'post' AND summary LIKE ?", [f"%{A}%"]
        ).fetchone()
    assert posts == 1  # one entry for the article both feeds list
    papers = trending(tmp_path / "reading.db", feeds)["papers"]
    assert [(p["arxiv_id"], p["score"], sorted(p["sources"])) for p in papers] == [
        (A, 3.0, ["blog", "hn"])
    ]
