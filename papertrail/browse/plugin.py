"""papertrail's Datasette plugin: links for arXiv ids, posts and entries, labels for
column headers, triage links, and the guard that keeps the triage queries to this
computer (papertrail.browse.guard).

Datasette imports it: `papertrail.browse.make_datasette` loads this module by name
and registers it with Datasette's plugin manager, so Datasette is imported at the
top here and nowhere at module level else (`papertrail --help` never loads it).
It acts only on the database named in the `papertrail` plugin configuration
(papertrail.browse.config), so another Datasette in the same process is left alone.

Everything uses Datasette's extension points, no copy of its templates:
- `render_cell`: the links, and the triage links beside read/starred/tags;
- `extra_body_script`: papertrail's column labels in the headers of Datasette's
  own tables (table, view and query pages), set by a few lines of JavaScript
  from `header_labels_script`;
- the templates/ folder (Datasette's `_table.html` lookup): a record page shows
  its row as "label: value" lines (papertrail-record.html, with the triage links
  from `extra_template_vars`), every other table is Datasette's own `_table.html`;
- `filters_from_request` and `asgi_wrapper`: the windowed search and the guard.

Every value from a feed is escaped here before it is wrapped in markup: titles,
URLs and tags are the feed author's text, never trusted HTML.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.filters import FilterArguments
from markupsafe import Markup, escape

from papertrail.browse.config import COLUMN_LABELS, MAIN_VIEW, PLUGIN, column_label
from papertrail.browse.guard import SEARCHABLE, WINDOW_ARG, ASGIApp, guarded
from papertrail.browse.routes import ROUTES

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

# A cell's value as SQLite gives it.
CellValue = str | int | float | bytes | None


def _config(datasette: Datasette) -> dict[str, Any]:
    return datasette.plugin_config(PLUGIN) or {}


def _ours(datasette: Datasette, database: str | None) -> dict[str, Any] | None:
    cfg = _config(datasette)
    return cfg if cfg and database == cfg.get("database") else None


# ------------------------------------------------------------------- cells


def _link(href: str, text: str, *, external: bool = False) -> Markup:
    extra = Markup(' rel="noopener noreferrer" target="_blank"') if external else Markup("")
    return Markup('<a href="{}"{}>{}</a>').format(href, extra, text)


def _http_url(value: str) -> str | None:
    """The value when it is an http(s) URL (never javascript:, data: and the like)."""
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value.strip() if scheme in ("http", "https") else None


def arxiv_links(arxiv_id: str) -> Markup:
    quoted = quote(arxiv_id, safe="/.")
    return Markup(" ").join(
        [
            _link(f"https://arxiv.org/abs/{quoted}", arxiv_id, external=True),
            _link(f"https://arxiv.org/pdf/{quoted}", "pdf", external=True),
        ]
    )


def _json_list(value: CellValue) -> list[str] | None:
    if not isinstance(value, str) or not value.startswith("["):
        return None
    try:
        items = json.loads(value)
    except ValueError:
        return None
    return [str(i) for i in items] if isinstance(items, list) else None


def _row_value(row: sqlite3.Row, key: str) -> CellValue:
    try:
        return row[key]
    except (IndexError, KeyError):
        return None


@dataclass(frozen=True)
class _Cell:
    """Where a cell is shown: what its links need."""

    datasette: Datasette
    database: str
    table: str | None
    row: sqlite3.Row
    triage: bool

    @property
    def entry_id(self) -> CellValue:
        return _row_value(self.row, "id")

    def entry_url(self, entry_id: object) -> str:
        return f"{self.datasette.urls.table(self.database, 'entries')}/{entry_id}"


_FLAG_COLUMNS = {"read": "read", "starred": "starred", "read_at": "read", "starred_at": "starred"}
_URL_COLUMNS = ("url", "fetch_url", "config_url")
_ARRAY_COLUMNS = ("domains", "tags", "sources")


def _text(value: CellValue) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _flag_cell(cell: _Cell, column: str, value: CellValue) -> Markup | None:
    """A read/starred state: yes/no (or when), with a link to the entry on the reading
    page, where it is starred or read through papertrail's API (never raw SQL)."""
    entry_id = cell.entry_id
    if entry_id is None:
        return None
    is_set = value == "yes" if cell.table == MAIN_VIEW else value is not None
    shown = ("★ " if is_set and _FLAG_COLUMNS[column] == "starred" else "") + (
        "yes" if is_set and cell.table == MAIN_VIEW else "" if value is None else _text(value)
    )
    return Markup('{} <a class="papertrail-triage" href="{}">{}</a>').format(
        shown or "no", f"/-/papers/{_text(entry_id)}", "change"
    )


def _link_cell(cell: _Cell, column: str, value: CellValue) -> Markup | None:
    """arXiv ids, URLs and entry ids, wherever they are shown."""
    if column == "arxiv_id" and isinstance(value, str) and value:
        return arxiv_links(value)
    if column in _URL_COLUMNS and isinstance(value, str):
        url = _http_url(value)
        if not url:  # javascript:, data: and the like stay inert text
            return Markup(escape(value))
        # In lists, the site's name is enough; the record page shows the whole URL.
        text = urlsplit(url).netloc if cell.table == MAIN_VIEW else url
        return _link(url, text or url, external=True)
    if column == "entry" and cell.table is None and isinstance(value, int):
        return _link(cell.entry_url(value), f"#{value}")
    if cell.table == "entries" and column in ("authors", "categories", "links"):
        return _json_cell(column, value)
    return None


def _json_cell(column: str, value: CellValue) -> Markup | None:
    """An entry's authors and categories as a list, its links as links (http(s) only)."""
    if not isinstance(value, str):
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if isinstance(data, list):
        return Markup(escape(", ".join(str(item) for item in data)))
    if isinstance(data, dict):
        parts = []
        for name, url in data.items():
            href = _http_url(str(url))
            parts.append(
                _link(href, str(name), external=True)
                if href
                else Markup("{}: {}").format(name, url)
            )
        return Markup(" · ").join(parts)
    return None


def _array_cell(cell: _Cell, column: str, value: CellValue) -> Markup | None:
    """Domains, tags and sources as links that filter the list (tags: `+ tag` too)."""
    items = _json_list(value)
    if items is None:
        return None
    if not items:  # an empty cell, not Datasette's raw "[]" (an empty Markup reads as unhandled)
        return Markup('<span class="none"></span>')
    view_url = cell.datasette.urls.table(cell.database, MAIN_VIEW)
    out = Markup(", ").join(
        _link(view_url + "?" + urlencode({f"{column}__arraycontains": item}), item)
        for item in items
    )
    return out


def _reading_list_cell(cell: _Cell, column: str, value: CellValue) -> Markup | None:
    """The main view's id, date, title and list columns."""
    entry_id = cell.entry_id
    if column == "id":
        return _link(cell.entry_url(value), "#" + str(value))
    if column == "date" and isinstance(value, str) and len(value) > 10:
        return Markup('<span title="{}">{}</span>').format(value, value[:10])
    if column == "title" and entry_id is not None:
        return _link(cell.entry_url(entry_id), str(value))
    if column in _ARRAY_COLUMNS:
        return _array_cell(cell, column, value)
    return None


@hookimpl
def render_cell(
    row: sqlite3.Row,
    value: CellValue,
    column: str,
    table: str | None,
    database: str,
    datasette: Datasette,
) -> Markup | None:
    cfg = _ours(datasette, database)
    if cfg is None:
        return None
    cell = _Cell(datasette, database, table, row, triage=bool(cfg.get("triage")))
    if cell.triage and column in _FLAG_COLUMNS and table in (MAIN_VIEW, "entries"):
        return _flag_cell(cell, column, value)
    if value is None:
        return None
    link = _link_cell(cell, column, value)
    if link is not None or table != MAIN_VIEW:
        return link
    return _reading_list_cell(cell, column, value)


# ------------------------------------------------------------------- pages

# Sets papertrail's labels as the text of the column headers of Datasette's
# tables. Table pages name the column in `data-column`, query pages only in the
# text; a sortable header's text is in its link, followed by the sort arrow.
_HEADER_LABELS_JS = """
(() => {
  const labels = new Map(Object.entries(%s));
  // Datasette's "Title (view)" heading and "domains (array)" facet names, in words.
  const h1 = document.querySelector("h1");
  if (h1) for (const node of h1.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) node.nodeValue = node.nodeValue.replace(/ \\(view\\)$/, "");
  }
  for (const strong of document.querySelectorAll(".facet-info-name strong")) {
    const node = strong.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) continue;
    const name = node.nodeValue.trim().replace(/ \\((array|date)\\)$/, "");
    node.nodeValue = (labels.get(name) ?? name) + " ";
  }
  for (const th of document.querySelectorAll("table.rows-and-columns > thead th")) {
    const name = th.dataset.column ?? th.textContent.trim();
    const label = labels.get(name);
    if (!label) continue;
    for (const node of (th.querySelector("a") ?? th).childNodes) {
      if (node.nodeType === Node.TEXT_NODE && node.nodeValue.includes(name)) {
        node.nodeValue = node.nodeValue.replace(name, label);
        break;
      }
    }
  }
})();
"""


def header_labels_script(columns: Sequence[str] | None) -> str | None:
    """The script that labels the headers of a page showing `columns` (None: any)."""
    names = COLUMN_LABELS.keys() if columns is None else columns
    labels = {name: COLUMN_LABELS[name] for name in names if name in COLUMN_LABELS}
    if not labels:
        return None
    # Inside <script>: "<" escaped so no text can close the element.
    return _HEADER_LABELS_JS % json.dumps(labels).replace("<", "\\u003c")


@hookimpl
def extra_body_script(
    database: str | None, columns: Sequence[str] | None, datasette: Datasette
) -> str | None:
    if _ours(datasette, database) is None:
        return None
    return header_labels_script(columns)


@hookimpl
def extra_template_vars(
    datasette: Datasette,
    database: str | None,
    table: str | None,
    view_name: str,
    request: Request | None,
) -> dict[str, object]:
    """For templates/papertrail-record.html: `column_label`, and on an entry's page
    with triage on, `triage_links` [(text, href)]."""
    cfg = _config(datasette)
    if not cfg:
        return {}
    out: dict[str, object] = {"column_label": column_label}
    if (
        cfg.get("triage")
        and view_name == "row"
        and table == "entries"
        and database == cfg.get("database")
        and request is not None
    ):
        entry_id = request.url_vars.get("pks", "")
        if entry_id.isdigit():
            out["triage_links"] = [
                ("star, read, tag or note it on the reading page", f"/-/papers/{entry_id}")
            ]
    return out


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Datasette) -> None:
    if _ours(datasette, database) is not None:
        # Wait for a running fetch's commit instead of failing at once.
        conn.execute("PRAGMA busy_timeout = 10000")


# ------------------------------------------------------------------- search, guard


@hookimpl(trylast=True)  # last, so its `supports_search` is the one that counts
def filters_from_request(
    request: Request, database: str, table: str, datasette: Datasette
) -> Callable[[], Awaitable[FilterArguments]] | None:
    """On a very large list, the search box (renamed WINDOW_ARG by the guard)
    looks through the newest `search_window` matches only."""
    cfg = _ours(datasette, database)
    window = (cfg or {}).get("search_window")
    if not window or table not in SEARCHABLE:
        return None

    async def inner() -> FilterArguments:
        search = request.args.get(WINDOW_ARG, "").strip()
        context: dict[str, object] = {"supports_search": True}
        if not search:
            return FilterArguments([], extra_context=context)
        clause = (
            "id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH escape_fts(:pt_search) "
            f"ORDER BY rowid DESC LIMIT {int(window)})"
        )
        return FilterArguments(
            [clause],
            {"pt_search": search},
            [f'search matches "{search}" (among the newest {int(window):,} matches)'],
            {**context, "search": search},
        )

    return inner


@hookimpl
def extra_css_urls(database: str | None, datasette: Datasette) -> list[str]:
    """Datasette's pages: wide enough titles, no second read/starred column."""
    return ["/-/papers/static/datasette.css"] if _config(datasette) else []


@hookimpl
def register_routes(datasette: Datasette) -> list[tuple[str, Callable[..., Awaitable[object]]]]:
    """The reading page (papertrail.browse.routes): `/` opens on it."""
    return list(ROUTES)


@hookimpl
def asgi_wrapper(datasette: Datasette) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        def config() -> Mapping[str, Any]:
            return _config(datasette)

        return guarded(app, config)

    return wrap


# The tables SQLite's FTS5 keeps behind each full-text index (hidden by Datasette).
FTS_SHADOWS = ("_data", "_idx", "_docsize", "_config", "_content")


@hookimpl
def startup(datasette: Datasette) -> None:
    """The database page counts every table, a time limit on each, but counting an
    FTS5 index's segment table is one long SQLite step that limit cannot interrupt
    (1.2 s of blobs on the whole of arXiv): its hidden shadow tables go uncounted."""
    name = _config(datasette).get("database")
    if not name or name not in datasette.databases:
        return
    db = datasette.get_database(name)
    count_all = db.table_counts

    async def table_counts(limit: int = 10) -> dict[str, int | None]:
        tables = await db.table_names()
        fts = {t for t in tables if f"{t}_data" in tables and f"{t}_idx" in tables}
        skipped = {f"{t}{suffix}" for t in fts for suffix in FTS_SHADOWS}
        if not skipped:
            return dict(await count_all(limit))
        counts: dict[str, int | None] = {}
        for table in tables:
            counts[table] = None if table in skipped else await _count(db, table, limit)
        return counts

    db.table_counts = table_counts


async def _count(db: Any, table: str, limit: int) -> int | None:
    """Datasette's own count of one table, None when it takes over `limit` ms."""
    try:
        result = await db.execute(f"select count(*) from [{table}]", custom_time_limit=limit)
        return int(result.rows[0][0])
    except (QueryInterrupted, sqlite3.OperationalError, sqlite3.DatabaseError):
        return None
