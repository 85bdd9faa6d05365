"""The reading page (issue 16) through Datasette's in-process client, on a reading list
filled through the real fetch path (recorded feeds + the hostile blog, test_browse's
`fetch_world`): views, triage through papertrail.api, undo, refusals, escaping.
The same session in a real browser is tests/test_reading_page_chromium.py."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_browse import fetch_world

from papertrail import api
from papertrail.browse import make_datasette
from papertrail.cli import cli
from papertrail.reading import cards
from papertrail.reading.texmath import tex_to_mathml, text_with_math
from papertrail.store import triage


@pytest.fixture(scope="module")
def _world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    db, feeds = fetch_world(tmp_path_factory.mktemp("reading-page"))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, feeds


@pytest.fixture
def world(_world: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "reading.db"
    shutil.copyfile(_world[0], db)
    return db, _world[1]


class Page:
    """Datasette's in-process client on the reading page, with its CSRF cookie."""

    def __init__(self, db: Path, feeds: Path, *, triage: bool = True) -> None:
        self.ds = make_datasette(db, triage=triage, feeds=feeds)
        self.paths = api.Paths(db=db, feeds=feeds)
        self.token = ""

    def get(self, path: str, **kw: Any) -> Any:
        response = asyncio.run(self.ds.client.get(path, **kw))
        self.token = response.cookies.get("ds_csrftoken") or self.token
        return response

    def html(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        return str(response.text)

    def act(self, action: str, entry: int, arg: str = "", *, js: bool = True, **kw: Any) -> Any:
        if not self.token:
            self.get("/-/papers")
        data = {"action": action, "entry": str(entry), "arg": arg, "next": "/-/papers"}
        data["csrftoken"] = self.token
        headers = {"Accept": "application/json"} if js else {}
        headers.update(kw.pop("headers", {}))
        cookies = kw.pop("cookies", {"ds_csrftoken": self.token})
        return asyncio.run(
            self.ds.client.post("/-/papers/act", data=data, headers=headers, cookies=cookies)
        )


def sql(db: Path, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


def card_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="card[^"]*" id="e(\d+)"', page)]


def show_json(db: Path, feeds: Path, entry: int) -> dict[str, Any]:
    import json

    result = CliRunner().invoke(
        cli, ["--db", str(db), "--feeds", str(feeds), "show", str(entry), "--json"]
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


# ------------------------------------------------------------------ views


def test_browse_opens_on_today_grouped_and_ranked_as_the_digest(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    home = page.get("/")
    assert home.status_code == 302 and home.headers["location"] == "/-/papers"
    today = page.html("/-/papers")
    digest = api.digest(page.paths, since="24h")
    from papertrail.reading.digest import group_by_domain

    groups = group_by_domain(digest)
    expected = [e["id"] for _, entries in groups for e in entries[:25]]
    assert card_ids(today) == expected
    headings = re.findall(r'<h2 class="domain" id="d-\d+">([^<]+) <small>', today)
    assert headings == [domain for domain, _ in groups]
    # The domain index links each group; Datasette's tables are one click away.
    assert 'href="#d-1"' in today and 'href="/reading"' in today
    assert "Content-Security-Policy" in page.get("/-/papers").headers


def test_unread_starred_tag_and_search_views(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    unread = page.html("/-/papers/unread")
    newest = api.list_entries(page.paths, api.make_filter(unread=True), limit=60)
    assert card_ids(unread) == [e["id"] for e in newest]
    assert "Nothing starred yet" in page.html("/-/papers/starred")
    blog = page.html("/-/papers/tag/blog")
    tagged = api.list_entries(page.paths, api.make_filter(tags=["blog"]), limit=60)
    assert card_ids(blog) == [e["id"] for e in tagged] and tagged
    # Search: the engine and relevance order of `papertrail search`, filters included.
    found = page.html("/-/papers/search?q=diffusion")
    hits = api.search(page.paths, "diffusion", limit=60).entries
    assert card_ids(found) == [e["id"] for e in hits] and len(hits) > 1
    papers = page.html("/-/papers/search?q=diffusion&kind=paper")
    assert card_ids(papers) == [
        e["id"] for e in api.search(page.paths, "diffusion", api.make_filter(kind="paper")).entries
    ]
    assert "<mark>" in found  # hits highlighted
    bad = page.html("/-/papers/search?q=%22unclosed")
    assert "Nothing here" in bad or "quote" in bad.lower()


def test_the_paper_page_shows_versions_notes_score_and_reproductions(
    world: tuple[Path, Path],
) -> None:
    db, feeds = world
    page = Page(db, feeds)
    (pid,) = sql(db, "SELECT id FROM entries WHERE arxiv_id = '2604.26951'")[0]
    page.act("note", pid, "check the TIDE ablation")
    paper = page.html(f"/-/papers/{pid}")
    assert "Why this score" in paper and "Versions" in paper and "Reproductions" in paper
    assert "check the TIDE ablation" in paper
    assert '<details class="abstract" open>' in paper
    assert page.get("/-/papers/999999").status_code == 404


def test_cards_show_authors_dates_links_and_discussion(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    today = page.html("/-/papers")
    assert " et al.</span>" in today
    assert re.search(
        r'<time datetime="[^"]+" title="[^"]+">(today|yesterday|\d+ days ago|\d+ \w{3} \d{4})</time>',
        today,
    )
    assert 'href="https://arxiv.org/pdf/' in today
    # The paper the hostile post links: discussed by 2, with the post linked.
    assert "discussed by 2" in today and 'href="http://hostile.invalid/posts/1"' in today


def test_whys_the_page_had_no_time_for_are_served_on_request(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    answer = page.get("/-/papers/why?ids=1,2,999999").json()
    assert answer == {} or set(answer) <= {"1", "2"}
    answer = page.get("/-/papers/why?ids=1,2").json()
    assert set(answer) == {"1", "2"} and all(isinstance(v, str) and v for v in answer.values())


def test_no_request_leaves_the_package(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    for path in ("/-/papers", "/-/papers/1", "/-/papers/search?q=model"):
        text = page.html(path)
        head = text.split("</head>", 1)[0]
        assert re.findall(r'(?:src|href)="([^"]+)"', head) == [
            "/-/papers/static/cards.css",
            "/-/papers/static/page.css",
            "/-/papers/static/page.js",
        ]
        assert "<style" not in text and " style=" not in text and "<script>" not in text
    for name in ("cards.css", "page.css", "page.js"):
        body = page.get(f"/-/papers/static/{name}").text
        assert "http://" not in body and "https://" not in body and "@import" not in body


# ------------------------------------------------------------------ safety


def test_hostile_feed_text_is_text_on_every_view(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    (post,) = sql(db, "SELECT id FROM entries WHERE url LIKE 'http://hostile.invalid/%'")[0]
    (paper,) = sql(db, "SELECT id FROM entries WHERE arxiv_id = '2604.26951'")[0]
    for path in (
        "/-/papers",
        "/-/papers/unread",
        "/-/papers/tag/blog",
        "/-/papers/search?q=hostile",
        f"/-/papers/{post}",
        f"/-/papers/{paper}",
    ):
        text = page.html(path)
        assert "&lt;script&gt;window.__pwned" in text, path
        assert "<script>window" not in text and "<img src=x" not in text, path
        assert 'onerror="window' not in text and 'href="javascript:' not in text, path
    digest = CliRunner().invoke(
        cli, ["--db", str(db), "--feeds", str(feeds), "digest", "--format", "html"]
    )
    assert "&lt;script&gt;window.__pwned" in digest.output
    assert "<script" not in digest.output and 'href="javascript:' not in digest.output
    assert '"Segoe UI"' in digest.output  # the card CSS itself is not entity-escaped


def test_tex_renders_as_mathml_and_feed_markup_in_maths_stays_text() -> None:
    out = text_with_math(r"Bounds on $\ln\ln T$ and $O(n^{2})$ for $\mathcal{L}_\infty$")
    assert out.count("<math") == 3
    assert '<mi>ln</mi><mo rspace="0.1667em">\u2061</mo><mi>ln</mi>' in out
    assert "<msup><mi>n</mi><mrow><mn>2</mn></mrow></msup>" in out
    assert 'mathvariant="script"' in out and "<mi>∞</mi>" in out
    hostile = text_with_math("$x</math><script>alert(1)</script>$ <b>")
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile and "&lt;b&gt;" in hostile
    assert text_with_math(r"costs $5 and $10") == "costs $5 and $10"
    assert text_with_math(r"$\unknowncommand{x}$") == r"$\unknowncommand{x}$"
    assert tex_to_mathml(r"\frac{1}{2") is None  # unbalanced: shown as TeX
    assert "<mfrac>" in (tex_to_mathml(r"\frac{1}{\sqrt{2}}") or "")


def test_dates_in_words_and_authors_cut_short() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)
    assert cards.human_date("2026-12-03T01:00:00+00:00", now) == "today"
    assert cards.human_date("2026-12-02T23:00:00+00:00", now) == "yesterday"
    assert cards.human_date("2026-11-30T10:00:00+00:00", now) == "3 days ago"
    assert cards.human_date("2026-11-02T10:00:00+00:00", now) == "2 Nov 2026"
    assert cards.human_date("not a date", now) == ""
    assert cards.short_authors(["A", "B", "C", "D"]) == "A, B, C et al."
    assert cards.short_authors(["A", "B"]) == "A, B"


# ------------------------------------------------------------------ triage


def test_star_read_tag_note_and_undo_go_through_the_api(world: tuple[Path, Path]) -> None:
    db, feeds = world
    page = Page(db, feeds)
    (eid,) = sql(db, "SELECT id FROM entries WHERE arxiv_id = '2604.26951'")[0]
    answer = page.act("star", eid).json()
    assert answer["ok"] and answer["undo"] == {"action": "unstar", "entry": eid, "arg": ""}
    assert 'aria-pressed="true"' in answer["card"] and "★ Starred" in answer["card"]
    assert show_json(db, feeds, eid)["starred"] is True
    starred = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), "list", "--starred"])
    assert f"{eid}" in starred.output
    assert page.act("read", eid).json()["ok"] and show_json(db, feeds, eid)["read"] is True
    tagged = page.act("tag", eid, "to-reproduce  theory").json()
    assert tagged["undo"]["action"] == "untag"
    assert {"to-reproduce", "theory"} <= set(show_json(db, feeds, eid)["tags"])
    noted = page.act("note", eid, "read §3 again").json()
    notes = show_json(db, feeds, eid)["notes"]
    assert [n["text"] for n in notes] == ["read §3 again"]
    assert noted["undo"] == {"action": "delete_note", "entry": eid, "arg": str(notes[0]["id"])}
    # Undo, newest first, through the same API.
    for done in (noted, tagged):
        undo = done["undo"]
        assert page.act(undo["action"], undo["entry"], undo["arg"]).json()["ok"]
    shown = show_json(db, feeds, eid)
    assert shown["notes"] == [] and "theory" not in shown["tags"]
    assert page.act("unstar", eid).json()["ok"] and show_json(db, feeds, eid)["starred"] is False
    # Starring twice changes nothing and offers no undo.
    page.act("star", eid)
    assert page.act("star", eid).json()["undo"] is None


def test_without_javascript_an_action_is_a_form_post_and_a_redirect(
    world: tuple[Path, Path],
) -> None:
    db, feeds = world
    page = Page(db, feeds)
    today = page.html("/-/papers")
    assert '<form method="post" action="/-/papers/act" class="act">' in today
    (eid,) = card_ids(today)[:1]
    response = page.act("star", eid, js=False)
    assert response.status_code == 303
    where = response.headers["location"]
    assert where.startswith("/-/papers?") and where.endswith(f"#e{eid}")
    after = page.html(where.split("#")[0])
    assert f"Starred #{eid}" in after and 'name="action" value="unstar"' in after
    assert sql(db, "SELECT starred_at IS NOT NULL FROM entries WHERE id = ?", (eid,)) == [(1,)]


def test_writes_are_refused_without_token_from_other_sites_and_when_read_only(
    world: tuple[Path, Path],
) -> None:
    db, feeds = world
    page = Page(db, feeds)
    page.get("/-/papers")
    assert page.act("star", 1, cookies={}).status_code == 403
    assert page.act("star", 1, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert page.act("star", 1, headers={"Origin": "http://evil.example"}).status_code == 403
    assert asyncio.run(page.ds.client.get("/-/papers/act")).status_code == 405
    public = Page(db, feeds, triage=False)
    text = public.html("/-/papers")
    assert "/-/papers/act" not in text and "Read-only" in text
    assert public.act("star", 1).status_code == 403
    assert sql(db, "SELECT COUNT(*) FROM entries WHERE starred_at IS NOT NULL") == [(0,)]
    # Unknown actions and entries: a sentence, nothing written.
    assert page.act("drop_table", 1).status_code == 400
    assert "no entry" in page.act("star", 999999).json()["error"].lower()


def test_not_relevant_dismisses_through_the_api_and_undoes(world: tuple[Path, Path]) -> None:
    """`x` ("not relevant", issue 17's dismiss) is offered, writes dismissed_at through
    api.mark as `papertrail dismiss` does, and its undo takes the dismissal back."""
    db, feeds = world
    page = Page(db, feeds)
    assert "dismissed" in triage.FLAGS
    assert 'value="dismiss"' in page.html("/-/papers")
    answer = page.act("dismiss", 1).json()
    assert answer["ok"] and answer["undo"]["action"] == "undismiss"
    assert sql(db, "SELECT dismissed_at IS NOT NULL FROM entries WHERE id = 1") == [(1,)]
    assert page.act("undismiss", 1).json()["ok"]
    assert sql(db, "SELECT dismissed_at IS NULL FROM entries WHERE id = 1") == [(1,)]
