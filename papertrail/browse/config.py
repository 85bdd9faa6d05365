"""Datasette's configuration for the reading list: labels, facets, sort order,
search, hidden tables and canned queries, as the metadata dict of Datasette 0.64/0.65.

Pure: builds dicts, imports no Datasette.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from papertrail.store.browse import (
    READ_QUERIES,
    CannedQuery,
    unread_by_domain_newest,
)
from papertrail.store.triage import SEARCH_WINDOW

PLUGIN = "papertrail"  # the plugin-config key (papertrail.browse.plugin)
MAIN_VIEW = "reading_list"

# Settings passed to Datasette (`datasette --setting NAME VALUE`).
SETTINGS: dict[str, Any] = {
    # A fetch can run while the browser is open: every reload reads the file again.
    "default_cache_ttl": 0,
    "truncate_cells_html": 160,  # long abstracts and post bodies, in lists
    "facet_time_limit_ms": 1000,  # array facets over the view on a large list
    "sql_time_limit_ms": 3000,
    "suggest_facets": False,  # the useful ones are configured below
    "default_page_size": 50,
}

# Column headers shown instead of column names, for every table, view and query.
COLUMN_LABELS: dict[str, str] = {
    "id": "Id",
    "entry": "Entry",
    "entry_id": "Entry",
    "date": "Date",
    "kind": "Kind",
    "title": "Title",
    "arxiv_id": "arXiv",
    "version": "Version",
    "url": "Link",
    "domain": "Domain",
    "primary_domain": "Primary domain",
    "domains": "Domains",
    "tags": "Tags",
    "tag": "Tag",
    "sources": "Sources",
    "source": "Source",
    "primary_category": "arXiv category",
    "categories": "arXiv categories",
    "read": "Read",
    "starred": "Starred",
    "mentions": "Mentioned in posts",
    "authors": "Authors",
    "summary": "Summary",
    "notes": "Notes",
    "notes_text": "Notes",
    "first_seen": "First seen",
    "last_seen": "Last seen",
    "read_at": "Read at",
    "starred_at": "Starred at",
    "score": "Score",
    "hidden_by": "Hidden by rule",
    "published": "Published",
    "updated": "Updated",
    "doi": "DOI",
    "journal_ref": "Journal ref",
    "comment": "Comment",
    "links": "Links",
    "origin": "Origin",
    "rank": "Rank",
    "created_at": "Added",
    "announce_type": "Announcement",
    "sources_count": "Sources",
    "post_mentions": "Post mentions",
    "mentioned_by": "Mentioned by",
    "reproduction": "Reproduction",
    "runs": "Runs",
    "last_status": "Last status",
    "headline_metric": "Headline metric",
    "last_run_at": "Last run",
    "paused": "Paused",
    "consecutive_failures": "Failures in a row",
    "http_status": "HTTP status",
    "last_fetch": "Last fetch",
    "duration_ms": "Duration (ms)",
    "entries_seen": "Entries seen",
    "new_count": "New",
    "updated_count": "Updated",
    "error": "Error",
    "last_success_at": "Last success",
    "status": "Status",
    "started_at": "Started",
    "finished_at": "Finished",
    "name": "Name",
    "text": "Text",
    "post_id": "Post",
}

TABLE_TITLES: dict[str, str] = {
    MAIN_VIEW: "Reading list",
    "entries": "Entries",
    "entry_domains": "Domains of each entry",
    "entry_tags": "Tags of each entry",
    "entry_versions": "arXiv versions seen",
    "provenance": "Where each entry was found",
    "mentions": "arXiv papers mentioned in posts",
    "notes": "Notes",
    "sources": "Sources",
    "fetch_runs": "Fetch runs",
    "fetch_log": "Fetch log (one row per source per run)",
    "reproductions": "Reproductions",
    "reproduction_papers": "Papers each reproduction implements",
    "repro_runs": "Reproduction runs",
    "unknown_arxiv_ids": "arXiv ids the API did not know",
}

# Bookkeeping nobody browses; Datasette hides the FTS tables by itself.
HIDDEN_TABLES = (
    "_migrations",
    "entries_fts",
    "entries_fts_recent",
    "label_stamp",
    "ranking_state",
    "search_recent",
    "unknown_arxiv_ids",
)


def column_label(name: str) -> str:
    return COLUMN_LABELS.get(name, name)


def _query(q: CannedQuery) -> dict[str, Any]:
    out: dict[str, Any] = {"title": q.title, "description": q.description, "sql": q.sql.strip()}
    if q.write:
        out.update(
            write=True,
            on_success_message=f"Done: {q.title.lower()}.",
            on_error_message=f"Could not {q.title.lower()}: check the entry id.",
        )
    return out


# Above this many entries (the whole of arXiv imported) the search box looks through
# the newest matches and "Unread by domain" takes each domain's newest.
LARGE_LIST = 300_000
# Each default facet groups every row of the reading list, at a cost that differs by kind
# (2-core VM at load ~12; docs/BENCHMARKS.md, issue 16): a column facet (kind, arXiv
# category, read, starred) ~2.3 µs a row; an array facet (domains, tags, sources), which
# Datasette dedupes over every column of the view, ~70 µs a row. Each kind is on by
# default up to the size where the page still answers within 1 s; above it, it is
# computed when asked for: one click (?_facet=kind), linked from the view's description.
COLUMN_FACETS_UP_TO = 50_000
ARRAY_FACETS_UP_TO = 5_000
FACETS_UP_TO = COLUMN_FACETS_UP_TO  # above this, no default facet at all


def build_metadata(
    database: str,
    *,
    triage: bool,
    entries: int = 0,
    db_path: str = "",
    feeds: str = "",
) -> dict[str, Any]:
    """Datasette metadata for the reading list served under the name `database`.
    `triage` lets the reading page write (only ever when listening on loopback);
    `entries`, the size of the list, turns default facets off above LARGE_LIST;
    `db_path` and `feeds` are where the reading page's API calls find the list and
    feeds.yml (papertrail.browse.page)."""
    large = entries > LARGE_LIST
    description = _database_description(triage)
    plugin: dict[str, Any] = {
        "database": database,
        "triage": triage,
        "db_path": db_path,
        "feeds": feeds,
    }
    if large:
        # Datasette's own search (`id IN (every match)`, then sorted) reads a million
        # rows for a common word at this size and hits the time limit: the plugin
        # answers the search box from the newest SEARCH_WINDOW matches instead.
        plugin["search_window"] = SEARCH_WINDOW
    return {
        "title": "papertrail",
        "description": description,
        "databases": {
            database: {
                "description": description,
                "tables": _tables(entries),
                "queries": _queries(large=large),
            }
        },
        "plugins": {PLUGIN: plugin},
    }


def _database_description(triage: bool) -> str:
    description = (
        "Your papertrail reading list as tables. The reading page (/-/papers) shows it as "
        "papers to read"
    )
    description += (
        ", where you star, read, tag and note them (offered because this server listens on "
        "this computer alone)."
        if triage
        else " (read-only: this server listens beyond this computer)."
    )
    return description


def _queries(*, large: bool) -> dict[str, dict[str, Any]]:
    queries = {q.name: _query(q) for q in READ_QUERIES}
    if large:
        queries["unread_by_domain"] = _query(unread_by_domain_newest())
    return queries


def _tables(entries: int) -> dict[str, dict[str, Any]]:
    """Per-table metadata: titles, sort order, facets, search, hidden tables."""
    tables: dict[str, dict[str, Any]] = {
        name: {"title": title} for name, title in TABLE_TITLES.items()
    }
    tables[MAIN_VIEW].update(_reading_list(entries))
    tables["entries"].update(
        sort_desc="first_seen",
        label_column="title",
        facets=[] if entries > FACETS_UP_TO else ["kind", "primary_category"],
    )
    tables["fetch_log"].update(sort_desc="id", facets=["source", "status"])
    tables["fetch_runs"].update(sort_desc="id")
    for name in HIDDEN_TABLES:
        tables.setdefault(name, {})["hidden"] = True
    return tables


def _reading_list(entries: int) -> dict[str, Any]:
    """The main view's metadata: the facets cheap at this size (the description links
    the others); above LARGE_LIST it also says how search behaves there."""
    description = (
        "Every paper and post, newest first. Facet by domain, tag, kind, source, "
        "arXiv category, read or starred; the search box looks through titles, "
        "abstracts, post text and your notes."
    )
    on = [f for f in FACETS if entries <= (ARRAY_FACETS_UP_TO if f.array else COLUMN_FACETS_UP_TO)]
    out: dict[str, Any] = {"sort_desc": "date", "facets": [f.spec for f in on]}
    off = [f for f in FACETS if f not in on]
    if off:
        description += (
            f" On a list of {entries:,} entries some facets are computed when asked for "
            "(each groups every row): "
        )
        links = html.escape(description) + _facet_links(off)
        description += "add one with ?_facet=kind or ?_facet_array=domains."
        if entries > LARGE_LIST:
            search = (
                f" A search looks through the newest {SEARCH_WINDOW:,} matches: add words"
                " to reach older ones."
            )
            description, links = description + search, links + html.escape(search)
        out["description_html"] = links
    return {"description": description, **out, "fts_table": "entries_fts", "fts_pk": "id"}


@dataclass(frozen=True)
class Facet:
    label: str
    column: str
    array: bool  # a JSON array per row (Datasette's array facet: the costly kind)

    @property
    def spec(self) -> str | dict[str, str]:
        return {"array": self.column} if self.array else self.column

    @property
    def arg(self) -> str:
        return f"_facet_array={self.column}" if self.array else f"_facet={self.column}"


# The reading list view's facets, in the order Datasette shows them.
FACETS = (
    Facet("domain", "domains", True),
    Facet("tag", "tags", True),
    Facet("kind", "kind", False),
    Facet("source", "sources", True),
    Facet("arXiv category", "primary_category", False),
    Facet("read", "read", False),
    Facet("starred", "starred", False),
)


def _facet_links(facets: Sequence[Facet]) -> str:
    links = [f'<a href="?{f.arg}">{html.escape(f.label)}</a>' for f in facets]
    return "facet by " + ", ".join(links) + "."
