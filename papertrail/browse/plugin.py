"""papertrail's Datasette plugin: links for arXiv ids, posts and entries, labels for
column headers, and the guard that keeps the triage queries to this computer.

Registered by `papertrail.browse.make_datasette`; it acts only on the database
named in the `papertrail` plugin configuration (papertrail.browse.config), so
another Datasette in the same process is left alone.

Every value from a feed is escaped here before it is wrapped in markup: titles,
URLs and tags are the feed author's text, never trusted HTML.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from datasette import hookimpl
from datasette.filters import FilterArguments
from markupsafe import Markup, escape

from papertrail.browse.config import MAIN_VIEW, PLUGIN, column_label

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Any]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _config(datasette: Any) -> dict[str, Any]:
    return datasette.plugin_config(PLUGIN) or {}


def _ours(datasette: Any, database: str | None) -> dict[str, Any] | None:
    cfg = _config(datasette)
    return cfg if cfg and database == cfg.get("database") else None


# ------------------------------------------------------------------- cells


def _link(href: str, text: str, *, external: bool = False) -> Markup:
    extra = Markup(' rel="noopener noreferrer" target="_blank"') if external else Markup("")
    return Markup('<a href="{}"{}>{}</a>').format(href, extra, text)


def _http_url(value: Any) -> str | None:
    """The value when it is an http(s) URL (never javascript:, data: and the like)."""
    if not isinstance(value, str):
        return None
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


def _json_list(value: Any) -> list[str] | None:
    if not isinstance(value, str) or not value.startswith("["):
        return None
    try:
        items = json.loads(value)
    except ValueError:
        return None
    return [str(i) for i in items] if isinstance(items, list) else None


def _triage_link(datasette: Any, database: str, query: str, text: str, **args: Any) -> Markup:
    href = datasette.urls.database(database) + "/" + query + "?" + urlencode(args)
    return Markup('<a class="papertrail-triage" href="{}">{}</a>').format(href, text)


def _row_value(row: Any, key: str) -> Any:
    try:
        return row[key]
    except (IndexError, KeyError):
        return None


_FLAG_QUERIES = {
    ("read", False): ("mark_read", "mark read"),
    ("read", True): ("mark_unread", "mark unread"),
    ("starred", False): ("star", "star"),
    ("starred", True): ("unstar", "unstar"),
}


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Markup | None:
    cfg = _ours(datasette, database)
    if cfg is None:
        return None
    triage = bool(cfg.get("triage"))
    entry_url = datasette.urls.table(database, "entries")

    # Triage links next to the read/starred state, in the list and on an entry's page.
    flag = {"read": "read", "starred": "starred", "read_at": "read", "starred_at": "starred"}
    if triage and column in flag and table in (MAIN_VIEW, "entries"):
        entry_id = _row_value(row, "id")
        if entry_id is None:
            return None
        is_set = value == "yes" if table == MAIN_VIEW else value is not None
        query, text = _FLAG_QUERIES[(flag[column], is_set)]
        link = _triage_link(datasette, database, query, text, entry_id=entry_id)
        shown = "" if value is None else value
        return Markup("{} {}").format(shown, link) if shown else link

    if value is None:
        return None
    if column == "arxiv_id" and isinstance(value, str) and value:
        return arxiv_links(value)
    if column in ("url", "fetch_url", "config_url") and isinstance(value, str):
        url = _http_url(value)
        if not url:  # javascript:, data: and the like stay inert text
            return Markup(escape(value))
        # In lists, the site's name is enough; the record page shows the whole URL.
        text = urlsplit(url).netloc if table == MAIN_VIEW else url
        return _link(url, text or url, external=True)
    if column == "entry" and table is None and isinstance(value, int):
        return _link(f"{entry_url}/{value}", f"#{value}")
    if table != MAIN_VIEW:
        return None
    entry_id = _row_value(row, "id")
    if column == "id":
        return _link(f"{entry_url}/{value}", f"#{value}")
    if column == "date" and isinstance(value, str) and len(value) > 10:
        return Markup('<span title="{}">{}</span>').format(value, value[:10])
    if column == "title" and entry_id is not None:
        return _link(f"{entry_url}/{entry_id}", str(value))
    if column in ("domains", "tags", "sources"):
        items = _json_list(value)
        if items is None:
            return None
        view_url = datasette.urls.table(database, MAIN_VIEW)
        out = Markup(", ").join(
            _link(view_url + "?" + urlencode({f"{column}__arraycontains": item}), item)
            for item in items
        )
        if column == "tags" and triage and entry_id is not None:
            add = _triage_link(datasette, database, "add_tag", "+ tag", entry_id=entry_id)
            out = Markup("{} {}").format(out, add) if out else add
        return out
    return None


@hookimpl
def extra_template_vars(
    datasette: Any, database: str | None, table: str | None, view_name: str, request: Any
) -> dict[str, Any]:
    cfg = _config(datasette)
    if not cfg:
        return {}
    out: dict[str, Any] = {"column_label": column_label}
    if (
        cfg.get("triage")
        and view_name == "row"
        and table == "entries"
        and database == cfg.get("database")
        and request is not None
    ):
        entry_id = request.url_vars.get("pks", "")
        base = datasette.urls.database(database) + "/"
        out["triage_links"] = [
            (text, base + query + "?" + urlencode({"entry_id": entry_id}))
            for query, text in (
                ("mark_read", "mark read"),
                ("star", "star"),
                ("add_tag", "add a tag"),
                ("mark_unread", "mark unread"),
                ("unstar", "unstar"),
                ("remove_tag", "remove a tag"),
            )
        ]
    return out


@hookimpl
def prepare_connection(conn: Any, database: str, datasette: Any) -> None:
    if _ours(datasette, database) is not None:
        # Wait for a running fetch's commit instead of failing at once.
        conn.execute("PRAGMA busy_timeout = 10000")


# ------------------------------------------------------------------- guard


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8001
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refusal(scope: dict) -> str | None:
    """Why a request must not reach a Datasette whose triage queries write, or None.

    Datasette's CSRF check lets through a POST that carries no cookie (a form on
    another site posting here), and a page on another host name can point that
    name at 127.0.0.1 (DNS rebinding). Loopback is the whole security model here,
    so: the Host must be a loopback name, and a POST must come from this origin."""
    host = _header(scope, b"host")
    if host is not None and _host_name(host) not in LOOPBACK_NAMES:
        return f"Host {host!r} is not this computer"
    if scope.get("method") == "POST":
        site = _header(scope, b"sec-fetch-site")
        if site is not None:  # every current browser sends it: trust it
            return (
                None if site in ("same-origin", "none") else f"a write from another site ({site})"
            )
        origin = _header(scope, b"origin")
        # Datasette sends Referrer-Policy: no-referrer, so a browser's own form
        # posts may say Origin: null; without Sec-Fetch-Site that cannot be told
        # apart from another site's form, so it is refused too.
        if origin is not None and (
            host is None or origin.split("://", 1)[-1].lower() != host.lower()
        ):
            return f"a write from another origin ({origin})"
    return None


# ------------------------------------------------------------------- windowed search

# On a very large list (config `search_window`) the search box's `_search` is
# renamed to this before Datasette sees it, so Datasette's own search clause
# (`id IN (every match)`: a million rows for a common word) is never built, and
# `filters_from_request` below answers it from the newest matches. (Not
# `_search_…`: Datasette reads every `_search*` argument as a column search.)
WINDOW_ARG = "_pt_search"
SEARCHABLE = (MAIN_VIEW, "entries")


def windowed_search_scope(scope: dict, database: str) -> dict:
    """`scope` with `_search` renamed to WINDOW_ARG on the searchable pages of `database`."""
    query = scope.get("query_string") or b""
    if b"_search=" not in query:
        return scope
    path = scope.get("path", "")
    page = path.rsplit("/", 1)[-1].split(".", 1)[0]
    if page not in SEARCHABLE or not path.startswith(f"/{database}/"):
        return scope
    args = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if not any(k == "_search" for k, _ in args):
        return scope
    # A new search replaces the one carried along in the form's hidden fields.
    args = [(WINDOW_ARG if k == "_search" else k, v) for k, v in args if k != WINDOW_ARG]
    return dict(scope, query_string=urlencode(args).encode("latin-1"))


@hookimpl(trylast=True)  # last, so its `supports_search` is the one that counts
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    cfg = _ours(datasette, database)
    window = (cfg or {}).get("search_window")
    if not window or table not in SEARCHABLE:
        return None

    async def inner() -> FilterArguments:
        search = request.args.get(WINDOW_ARG, "").strip()
        context: dict[str, Any] = {"supports_search": True}
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
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: dict, receive: Any, send: Any) -> None:
            cfg = _config(datasette)
            if scope.get("type") == "http" and cfg.get("search_window"):
                scope = windowed_search_scope(scope, cfg.get("database", ""))
            if scope.get("type") == "http" and _config(datasette).get("triage"):
                why = refusal(scope)
                if why:
                    body = f"Refused: {why}. papertrail browse only answers this computer.\n"
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                        }
                    )
                    await send({"type": "http.response.body", "body": body.encode()})
                    return
            await app(scope, receive, send)

        return guarded

    return wrap
