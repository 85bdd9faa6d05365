"""`papertrail browse`: Datasette on a reading list filled through the real fetch
path (recorded feeds on a loopback server, plus the hand-made hostile feed),
exercised with Datasette's own in-process client."""

from __future__ import annotations

import asyncio
import html
import json
import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasette
import pytest
from click.testing import CliRunner
from conftest import CONTENT_TYPES, FeedServer, write_feeds
from pytest_httpserver import HTTPServer
from test_fetch import serve_api, world

from papertrail.browse import (
    TEMPLATES,
    EmptyReadingList,
    check_reading_list,
    config,
    is_loopback,
    make_datasette,
)
from papertrail.browse.config import (
    ARRAY_FACETS_UP_TO,
    COLUMN_LABELS,
    FACETS_UP_TO,
    LARGE_LIST,
    build_metadata,
)
from papertrail.browse.guard import refusal
from papertrail.cli import cli
from papertrail.ingest import snapshot
from papertrail.models import BULK_SOURCES
from papertrail.sources import oai_parse
from papertrail.store import open_db
from papertrail.store.browse import READ_QUERIES, unread_by_domain_newest

HOSTILE = Path(__file__).parent / "fixtures" / "handmade" / "hostile-blog_atom.xml"
MENTIONED = "2604.26951"  # the API fixture's paper that the hostile post links


def fetch_world(base: Path, extra: list[dict[str, Any]] | None = None) -> tuple[Path, Path]:
    """Fetch the recorded world (tests/test_fetch.py) plus the hostile blog into
    base/reading.db through `papertrail fetch`; returns (db, feeds)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        fs = FeedServer(server)
        sources = world(fs) + [
            {
                "name": "hostile",
                "kind": "feed",
                "tags": ["blog"],
                "url": fs.serve("/hostile/atom", HOSTILE.read_bytes(), CONTENT_TYPES["atom"]),
            },
            *(extra or []),
        ]
        feeds = write_feeds(base / "feeds.yml", sources, {"arxiv_api_url": serve_api(fs)})
        db = base / "reading.db"
        result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), "fetch", "-q"])
        assert result.exit_code == 0, result.output
    finally:
        server.clear()
        server.stop()
    return db, feeds


@pytest.fixture(scope="module")
def _world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _ = fetch_world(tmp_path_factory.mktemp("browse-world"))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


@pytest.fixture
def reading_db(_world_template: Path, tmp_path: Path) -> Path:
    """A private copy of the fetched reading list."""
    db = tmp_path / "reading.db"
    shutil.copyfile(_world_template, db)
    return db


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class Client:
    """Datasette's in-process client, used synchronously."""

    def __init__(self, db: Path, *, triage: bool = True):
        self.ds = make_datasette(db, triage=triage)
        self.name = db.stem

    def get(self, path: str, **kw: Any) -> Any:
        return run(self.ds.client.get(path, **kw))

    def json(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        return response.json()

    def rows(self, query: str, args: str = "") -> list[dict[str, Any]]:
        return self.json(f"/{self.name}/{query}.json?_shape=array{args}")

    def post(self, path: str, data: dict[str, Any], **kw: Any) -> Any:
        return run(self.ds.client.post(path, data=data, **kw))


@pytest.fixture
def client(reading_db: Path) -> Iterator[Client]:
    yield Client(reading_db)


def sql(db: Path, query: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


# ------------------------------------------------------------------- canned queries


def test_todays_digest_is_what_papertrail_digest_prints(client: Client, reading_db: Path) -> None:
    rows = client.rows("todays_digest")
    result = CliRunner().invoke(
        cli, ["--db", str(reading_db), "digest", "--since", "24h", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    digest_ids = {e["id"] for e in json.loads(result.stdout)["entries"]}
    assert len(rows) > 20
    assert {r["entry"] for r in rows} == digest_ids
    primary = dict(sql(reading_db, "SELECT entry_id, domain FROM entry_domains WHERE rank = 0"))
    assert all(r["domain"] == primary[r["entry"]] for r in rows)
    # The paper two sources brought in (arXiv API + the hostile post's link) comes first.
    assert rows[0]["arxiv_id"] == MENTIONED


def test_unread_by_domain_lists_unread_entries_under_their_primary_domain(
    client: Client, reading_db: Path
) -> None:
    read = [i for (i,) in sql(reading_db, "SELECT id FROM entries ORDER BY id LIMIT 5")]
    with sqlite3.connect(reading_db) as conn:
        conn.execute(
            f"UPDATE entries SET read_at = '2026-04-28T00:00:00+00:00' WHERE id IN ({','.join('?' * len(read))})",
            read,
        )
    rows = client.rows("unread_by_domain")
    unread = {i for (i,) in sql(reading_db, "SELECT id FROM entries WHERE read_at IS NULL")}
    assert {r["entry"] for r in rows} == unread and not unread & set(read)
    assert len(rows) == len(unread)  # one row per entry, under its primary domain
    domains = [r["domain"] for r in rows]
    assert domains == sorted(domains)
    primary = dict(sql(reading_db, "SELECT entry_id, domain FROM entry_domains WHERE rank = 0"))
    assert all(r["domain"] == primary[r["entry"]] for r in rows)


def test_starred_lists_starred_entries_newest_star_first(client: Client, reading_db: Path) -> None:
    assert client.rows("starred") == []
    with sqlite3.connect(reading_db) as conn:
        conn.execute("UPDATE entries SET starred_at = '2026-04-27T00:00:00+00:00' WHERE id = 3")
        conn.execute("UPDATE entries SET starred_at = '2026-04-28T00:00:00+00:00' WHERE id = 7")
    assert [r["entry"] for r in client.rows("starred")] == [7, 3]


def test_most_mentioned_this_week_counts_sources_and_post_links(
    client: Client, reading_db: Path
) -> None:
    rows = {r["arxiv_id"]: r for r in client.rows("most_mentioned_this_week")}
    hit = rows[MENTIONED]
    assert hit["post_mentions"] == 1 and hit["sources_count"] == 2
    assert set(hit["mentioned_by"].split(",")) == {"arxiv-lg-api", "hostile"}
    assert (
        hit["entry"]
        == sql(reading_db, "SELECT id FROM entries WHERE arxiv_id = ?", (MENTIONED,))[0][0]
    )
    # Expected independently: papers surfaced by 2+ sources, or linked from a post.
    multi = {
        a
        for (a,) in sql(
            reading_db,
            """SELECT e.arxiv_id FROM provenance p JOIN entries e ON e.id = p.entry_id
               WHERE e.arxiv_id IS NOT NULL GROUP BY e.arxiv_id HAVING COUNT(*) > 1""",
        )
    }
    linked = {a for (a,) in sql(reading_db, "SELECT arxiv_id FROM mentions")}
    assert set(rows) == multi | linked
    counts = [r["sources_count"] for r in rows.values()]
    assert counts == sorted(counts, reverse=True)


def test_papers_with_reproductions(client: Client, reading_db: Path) -> None:
    assert client.rows("papers_with_reproductions") == []
    # Reproductions are registered by `papertrail repro`, not by fetch: write the rows.
    with sqlite3.connect(reading_db) as conn:
        conn.execute(
            "INSERT INTO reproductions VALUES ('demo', 'Demo', 'reproductions.demo', '2026-04-28T00:00:00+00:00')"
        )
        conn.execute("INSERT INTO reproduction_papers VALUES ('demo', ?)", (MENTIONED,))
        for status in ("failed", "ok"):
            conn.execute(
                "INSERT INTO repro_runs (reproduction, arxiv_id, started_at, finished_at, status, headline_metric) "
                "VALUES ('demo', ?, '2026-04-28T00:00:00+00:00', '2026-04-28T00:01:00+00:00', ?, 'fid 12.3')",
                (MENTIONED, status),
            )
    (row,) = client.rows("papers_with_reproductions")
    assert row["arxiv_id"] == MENTIONED and row["reproduction"] == "demo"
    assert row["runs"] == 2 and row["last_status"] == "ok" and row["headline_metric"] == "fid 12.3"
    assert row["entry"] is not None and row["title"]


def test_sources_and_their_last_fetch_come_from_the_fetch_log(
    client: Client, reading_db: Path
) -> None:
    rows = {r["source"]: r for r in client.rows("sources_last_fetch")}
    log = {
        source: (status, new_count)
        for source, status, new_count in sql(
            reading_db,
            "SELECT source, status, new_count FROM fetch_log WHERE id IN "
            "(SELECT MAX(id) FROM fetch_log GROUP BY source)",
        )
    }
    assert set(rows) == set(log) and len(rows) == 11
    assert {s: (r["last_status"], r["new_count"]) for s, r in rows.items()} == log
    assert rows["hostile"]["new_count"] == 2


# ------------------------------------------------------------------- view: facets, search, sort


def test_reading_list_facets_match_the_join_tables(client: Client, reading_db: Path) -> None:
    data = client.json(f"/{client.name}/reading_list.json?_size=5")
    facets = data["facet_results"]
    assert set(facets) >= {
        "domains",
        "tags",
        "kind",
        "sources",
        "primary_category",
        "read",
        "starred",
    }
    domain_counts = {f["value"]: f["count"] for f in facets["domains"]["results"]}
    expected = dict(sql(reading_db, "SELECT domain, COUNT(*) FROM entry_domains GROUP BY domain"))
    assert domain_counts == expected
    source_counts = {f["value"]: f["count"] for f in facets["sources"]["results"]}
    assert source_counts["hostile"] == 2
    assert {f["value"] for f in facets["read"]["results"]} == {"no"}
    # Following a facet filters the list.
    vision = client.json(
        f"/{client.name}/reading_list.json?domains__arraycontains=vision&_size=max"
    )
    assert vision["filtered_table_rows_count"] == expected["vision"]


def test_reading_list_is_newest_first_and_searchable(client: Client, reading_db: Path) -> None:
    data = client.json(f"/{client.name}/reading_list.json?_shape=objects&_size=max&_nofacet=1")
    dates = [r["date"] for r in data["rows"]]
    assert dates == sorted(dates, reverse=True)
    hits = client.json(
        f"/{client.name}/reading_list.json?_search=diffusion&_shape=objects&_nofacet=1"
    )["rows"]
    expected = {
        i
        for (i,) in sql(
            reading_db, "SELECT rowid FROM entries_fts WHERE entries_fts MATCH 'diffusion'"
        )
    }
    assert expected and {r["id"] for r in hits} == expected
    entries = client.json(f"/{client.name}/entries.json?_search=diffusion&_shape=array")
    assert {r["id"] for r in entries} == expected
    page = client.get(f"/{client.name}/reading_list").text
    assert 'id="_search"' in page


def test_pages_show_labels_links_and_hide_internal_tables(client: Client) -> None:
    page = client.get(f"/{client.name}/reading_list").text
    assert header_labels(page)["primary_category"] == COLUMN_LABELS["primary_category"]
    assert f'href="https://arxiv.org/abs/{MENTIONED}"' in page
    assert f'href="https://arxiv.org/pdf/{MENTIONED}"' in page
    hostile = client.get(f"/{client.name}/reading_list?sources__arraycontains=hostile").text
    assert 'href="http://hostile.invalid/posts/1"' in hostile
    index = client.json(f"/{client.name}.json")
    hidden = {t["name"] for t in index["tables"] if t["hidden"]}
    assert {"_migrations", "entries_fts"} <= hidden
    assert "reading_list" in {v["name"] for v in index["views"]}
    titles = {q["name"]: q["title"] for q in index["queries"]}
    assert titles["todays_digest"] == "Today's digest"
    assert titles["sources_last_fetch"] == "Sources and their last fetch"
    # An entry's page: title as its label, links to arXiv.
    (pid,) = sql(client.ds.files[0], "SELECT id FROM entries WHERE arxiv_id = ?", (MENTIONED,))[0]
    entry = client.get(f"/{client.name}/entries/{pid}").text
    assert f"https://arxiv.org/pdf/{MENTIONED}" in entry


def test_feed_text_is_escaped_and_javascript_links_are_not_links(
    client: Client, reading_db: Path
) -> None:
    (post,) = sql(reading_db, "SELECT id FROM entries WHERE url LIKE 'http://hostile.invalid/%'")[0]
    for path in (
        f"/{client.name}/reading_list?sources__arraycontains=hostile",
        f"/{client.name}/entries?_search=hostile",
        f"/{client.name}/entries/{post}",
        f"/{client.name}/todays_digest",
        f"/{client.name}/reading_list?_search=hostile",
    ):
        page = client.get(path).text
        assert "&lt;script&gt;window.__pwned" in page, path
        assert "<script>window.__pwned" not in page
        assert "<img src=x" not in page and "<svg onload" not in page
        assert 'href="javascript:' not in page


# ------------------------------------------------------------------- triage


@pytest.mark.integration  # every canned query run through Datasette: seconds
def test_no_canned_write_query_is_left_and_sql_stays_read_only(reading_db: Path) -> None:
    """Triage is the reading page's (papertrail.api), never SQL of Datasette's: the
    canned write queries are gone on loopback too, and arbitrary SQL cannot write."""
    for triage in (True, False):
        client = Client(reading_db, triage=triage)
        queries = {q["name"] for q in client.json(f"/{client.name}.json")["queries"]}
        assert queries and not queries & {"mark_read", "mark_unread", "star", "unstar", "add_tag"}
        assert client.get(f"/{client.name}/mark_read").status_code == 404
        response = client.get(f"/{client.name}.json?sql=UPDATE+entries+SET+read_at%3D1")
        assert response.status_code == 400
    assert sql(reading_db, "SELECT COUNT(*) FROM entries WHERE read_at IS NOT NULL") == [(0,)]


def test_the_list_links_to_the_reading_page_on_loopback_only(reading_db: Path) -> None:
    local = Client(reading_db, triage=True)
    page = local.get(f"/{local.name}/reading_list").text
    assert 'class="papertrail-triage" href="/-/papers/' in page
    public = Client(reading_db, triage=False)
    assert "papertrail-triage" not in public.get(f"/{public.name}/reading_list").text


def test_writes_from_other_sites_and_host_names_are_refused(
    client: Client, reading_db: Path
) -> None:
    path = "/-/papers/act"
    for headers in (
        {"Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"},
        {"Origin": "null"},
        {"Host": "evil.example:8001"},
    ):
        response = client.post(path, {"entry": "1", "action": "read"}, headers=headers)
        assert response.status_code == 403, headers
    assert sql(reading_db, "SELECT COUNT(*) FROM entries WHERE read_at IS NOT NULL") == [(0,)]
    assert refusal({"method": "GET", "headers": [(b"host", b"localhost:8001")]}) is None
    # A browser's own form post under Datasette's no-referrer policy.
    same = [(b"host", b"127.0.0.1:8001"), (b"origin", b"null"), (b"sec-fetch-site", b"same-origin")]
    assert refusal({"method": "POST", "headers": same}) is None
    assert refusal({"method": "GET", "headers": [(b"host", b"[::1]:8001")]}) is None
    assert (
        refusal(
            {
                "method": "POST",
                "headers": [(b"host", b"127.0.0.1:8001"), (b"origin", b"http://127.0.0.1:8001")],
            }
        )
        is None
    )


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.1.1"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.2", "::", "example.org"]))


# ------------------------------------------------------------------- live, empty, templates, labels


def test_a_fetch_while_browsing_shows_on_reload(
    client: Client, reading_db: Path, tmp_path: Path
) -> None:
    before = client.json(f"/{client.name}/reading_list.json?_nofacet=1")[
        "filtered_table_rows_count"
    ]
    # A second fetch (a new blog) writes to the same file the server is reading.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        fs = FeedServer(server)
        feeds = write_feeds(
            tmp_path / "more.yml",
            [
                {
                    "name": "hf",
                    "kind": "feed",
                    "url": fs.serve_fixture(
                        "/hf", "ml-blogs/jmamath-distill__huggingface_blog.xml"
                    ),
                }
            ],
        )
        result = CliRunner().invoke(
            cli, ["--db", str(reading_db), "--feeds", str(feeds), "fetch", "-q"]
        )
        assert result.exit_code == 0, result.output
    finally:
        server.clear()
        server.stop()
    added = sql(reading_db, "SELECT COUNT(*) FROM provenance WHERE source = 'hf'")[0][0]
    assert added > 0
    after = client.json(f"/{client.name}/reading_list.json?_nofacet=1")["filtered_table_rows_count"]
    assert after == before + added
    response = client.get(f"/{client.name}/reading_list")
    assert "max-age=0" in response.headers.get(
        "cache-control", ""
    ) or "no-" in response.headers.get("cache-control", "")


def test_browse_without_a_reading_list_says_to_fetch_first(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), "browse"])
    assert result.exit_code == 1
    assert "papertrail fetch" in result.output and str(missing) in result.output
    assert not missing.exists()  # nothing created
    open_db(tmp_path / "empty.db").close()
    with pytest.raises(EmptyReadingList, match="no entries yet"):
        check_reading_list(tmp_path / "empty.db")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "empty.db"), "browse"])
    assert result.exit_code == 1 and "papertrail fetch" in result.output


def test_browse_says_when_the_port_is_taken(reading_db: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["--db", str(reading_db), "browse", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port}" in result.output and "--port" in result.output


def header_labels(page: str) -> dict[str, str]:
    """The labels the page's script sets on its column headers ({} without the script)."""
    found = re.search(r"new Map\(Object\.entries\((\{.*?\})\)\)", page)
    return json.loads(found.group(1)) if found else {}


def header_names(page: str) -> list[str]:
    """The column each header of the page's Datasette table names, as the script reads
    it: `data-column` on table pages, the text on query pages."""
    head = page[page.index("<thead>") : page.index("</thead>")]
    return [
        attr or html.unescape(text).strip()
        for attr, text in re.findall(r'<th\b[^>]*?(?:data-column="([^"]*)"[^>]*)?>\s*([^<]*)', head)
    ]


@pytest.mark.parametrize(
    "page",
    [
        "reading_list",
        "entries",
        "fetch_log",
        "todays_digest",
        "sources_last_fetch",
        "?sql=select+id,+title,+arxiv_id,+primary_category+from+entries+limit+3",
    ],
)
def test_every_labelled_column_header_gets_its_label(client: Client, page: str) -> None:
    """Datasette's own tables (lists, views, canned and custom queries) show
    papertrail's labels: the page carries them for the script that sets them
    (tests/test_browse_chromium.py sees the result), keyed by the column each
    header names."""
    sep = "" if page.startswith("?") else "/"
    html_page = client.get(f"/{client.name}{sep}{page}").text
    names = header_names(html_page)
    assert names and "<script>window.__pwned" not in html_page
    labelled = {n: COLUMN_LABELS[n] for n in names if n in COLUMN_LABELS}
    assert labelled and header_labels(html_page) == labelled


def test_an_entry_page_shows_its_record_as_labelled_lines_with_triage(reading_db: Path) -> None:
    """A row page is papertrail's record layout ("label: value" lines, not one very
    wide row), with the triage links on loopback; lists keep Datasette's table."""
    local, public = Client(reading_db, triage=True), Client(reading_db, triage=False)
    (pid,) = sql(reading_db, "SELECT id FROM entries WHERE arxiv_id = ?", (MENTIONED,))[0]
    page = local.get(f"/{local.name}/entries/{pid}").text
    record = page[page.index('class="rows-and-columns papertrail-record"') :]
    lines = re.findall(r'<th scope="row" class="col-([^"]+)"[^>]*>([^<]*)</th>', record)
    assert ("primary_category", "arXiv category") in lines
    assert ("key", "key") in lines  # a column without a label keeps its name
    assert "<thead>" not in record.split("</table>", 1)[0]
    triage = re.findall(r'<a href="([^"]+)">([^<]+)</a>', record.split("Triage:", 1)[1])
    assert triage[0] == (f"/-/papers/{pid}", "star, read, tag or note it on the reading page")
    assert "Triage:" not in public.get(f"/{public.name}/entries/{pid}").text
    # A list is Datasette's own table: sortable headers that name their column.
    listing = local.get(f"/{local.name}/entries?_size=2").text
    assert "papertrail-record" not in listing and 'data-column="primary_category"' in listing


def test_shipped_templates_are_papertrails_own() -> None:
    """No copy of a Datasette template: a shipped template that takes the name of
    one of Datasette's (found first by Datasette's template lookup) only picks
    papertrail's own or defers to Datasette's original ("default:" prefix)."""
    theirs = {p.name for p in (Path(datasette.__file__).parent / "templates").glob("*.html")}
    shipped = {p.name: p.read_text() for p in TEMPLATES.glob("*.html")}
    assert "papertrail-record.html" in shipped
    for name, text in shipped.items():
        if name in theirs:
            assert f'{{% include "default:{name}" %}}' in text, name
            assert len(text.splitlines()) < 15, f"{name} looks like a copy of Datasette's"


def test_a_very_large_list_gets_no_default_facets() -> None:
    """Each facet groups every row: over millions of entries (the whole of arXiv
    imported) they would take seconds, so they are only computed when asked for."""

    def facets(entries: int) -> tuple[list, list]:
        tables = build_metadata("pt", triage=False, entries=entries)["databases"]["pt"]["tables"]
        return tables["reading_list"]["facets"], tables["entries"]["facets"]

    assert len(facets(1000)[0]) == 7 and facets(1000)[1]
    # Array facets (domains, tags, sources) cost ~30x a column facet: they stop first.
    assert facets(ARRAY_FACETS_UP_TO + 1)[0] == ["kind", "primary_category", "read", "starred"]
    assert facets(FACETS_UP_TO + 1) == ([], []) and facets(LARGE_LIST + 1) == ([], [])
    # Each one left out is a click away: the description links it.
    view = build_metadata("pt", triage=False, entries=200_000)["databases"]["pt"]["tables"]
    links = view["reading_list"]["description_html"]
    assert '<a href="?_facet=kind">kind</a>' in links and "?_facet_array=domains" in links
    few = build_metadata("pt", triage=False, entries=20_000)["databases"]["pt"]["tables"]
    links = few["reading_list"]["description_html"]
    assert "?_facet_array=domains" in links and "?_facet=kind" not in links


def test_a_very_large_list_searches_the_newest_matches(
    reading_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Datasette's own search reads every match before sorting (seconds for a common
    word across all of arXiv); above LARGE_LIST the search box, on the reading list
    and on entries, looks through the newest SEARCH_WINDOW matches instead."""
    monkeypatch.setattr(config, "LARGE_LIST", 10)
    monkeypatch.setattr(config, "SEARCH_WINDOW", 5)
    client = Client(reading_db)
    name = client.name

    def matches(word: str) -> list[int]:
        return [
            i
            for (i,) in sql(
                reading_db,
                "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid DESC",
                (word,),
            )
        ]

    common = matches("the")
    assert len(common) > 5
    for page in ("reading_list", "entries"):
        hits = client.json(f"/{name}/{page}.json?_search=the&_shape=array&_nofacet=1")
        assert sorted(r["id"] for r in hits) == sorted(common[:5])
    rare = matches("diffusion")
    assert 0 < len(rare) <= 5
    hits = client.json(f"/{name}/reading_list.json?_search=diffusion&_shape=array&_nofacet=1")
    assert sorted(r["id"] for r in hits) == sorted(rare)
    html = client.get(f"/{name}/reading_list?_search=the").text
    assert 'name="_search" value="the"' in html
    assert "among the newest 5 matches" in html
    assert 'name="_pt_search" value="the"' in html  # carried by the form...
    # ...and replaced by the next search typed into the box.
    hits = client.json(
        f"/{name}/reading_list.json?_pt_search=the&_search=diffusion&_shape=array&_nofacet=1"
    )
    assert sorted(r["id"] for r in hits) == sorted(rare)


def test_an_archive_import_is_not_a_source_surfacing_papers_this_week(
    client: Client, reading_db: Path
) -> None:
    """An import touches every paper at once: that is not news, so provenance from
    the snapshot or the OAI harvest does not count in "most mentioned this week"."""
    assert set(BULK_SOURCES) == {snapshot.SOURCE, oai_parse.SOURCE}
    before = {r["arxiv_id"]: r["sources_count"] for r in client.rows("most_mentioned_this_week")}
    with sqlite3.connect(reading_db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO provenance (entry_id, source, first_seen, last_seen) "
            "SELECT id, ?, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), "
            "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM entries WHERE kind = 'paper'",
            [(s,) for s in BULK_SOURCES],
        )
    assert {r["arxiv_id"]: r["sources_count"] for r in client.rows("most_mentioned_this_week")} == (
        before
    )


def test_canned_queries_stay_on_indexes_for_a_very_large_list(
    client: Client, reading_db: Path
) -> None:
    """Above LARGE_LIST, "unread by domain" shows each domain's newest unread
    entries (every one would sort millions of rows), and "most mentioned this
    week" reads provenance through its partial index; both plans scan no big table."""
    everything = client.rows("unread_by_domain")
    assert everything
    newest = unread_by_domain_newest(10_000).sql
    assert [tuple(r.values()) for r in everything] == sql(reading_db, newest)
    two = sql(reading_db, unread_by_domain_newest(2).sql)
    by_domain: dict[str, list[int]] = {}
    for r in everything:
        by_domain.setdefault(r["domain"], []).append(r["entry"])
    assert sorted((d, e) for d, e, *_ in two) == sorted(
        (d, e) for d, ids in by_domain.items() for e in sorted(ids, reverse=True)[:2]
    )
    mentioned = next(q for q in READ_QUERIES if q.name == "most_mentioned_this_week").sql
    for query, index in (
        (newest, "idx_entry_domains_domain_entry"),
        (mentioned, "idx_provenance_recent"),
    ):
        plan = " | ".join(r[3] for r in sql(reading_db, "EXPLAIN QUERY PLAN " + query))
        assert index in plan, plan
        assert "SCAN e " not in plan + " " and "SCAN entries" not in plan, plan
        assert "SCAN p " not in plan + " " and "SCAN provenance" not in plan, plan


def test_a_very_large_list_gets_the_windowed_unread_by_domain() -> None:
    def query(entries: int) -> str:
        meta = config.build_metadata("pt", triage=False, entries=entries)
        return meta["databases"]["pt"]["queries"]["unread_by_domain"]["sql"]

    assert "LIMIT" not in query(1000)
    assert "LIMIT 100" in query(config.LARGE_LIST + 1)


def test_the_database_page_does_not_count_full_text_index_internals(
    client: Client, reading_db: Path
) -> None:
    """Counting an FTS5 segment table is one SQLite step no time limit interrupts (1.2 s
    on the whole of arXiv): the database page leaves the hidden shadow tables uncounted
    and counts the rest as Datasette does."""
    assert client.get(f"/{client.name}").status_code == 200
    counts = run(client.ds.get_database(client.name).table_counts(1000))
    assert counts["entries_fts_data"] is None and counts["entries_fts_docsize"] is None
    assert counts["entries"] == sql(reading_db, "SELECT COUNT(*) FROM entries")[0][0] > 0
