"""Browse the reading list in Datasette (`papertrail browse`).

- `config.py`   the metadata: labels, facets, sort, search, hidden tables, canned queries
- `plugin.py`   the Datasette plugin: links (arXiv abstract + PDF, posts, entries), header
                labels, triage links, the windowed search; imports Datasette, so it is
                loaded by name when a Datasette is made (`_register_plugin`), never here
- `guard.py`    the loopback guard in front of every write (plain ASGI)
- `page.py`     the reading page (issue 16): Today, Unread, Starred, tags, Search, a
                paper page, as cards (papertrail.reading.cards); `routes.py` serves it on
                the same Datasette (`/` leads there), `actions.py` is its triage table
                (key -> the papertrail.api call of the CLI, and the undo), `page/` its
                templates, CSS and script
- `server.py`   checking the reading list, making the Datasette, serving it (`serve`);
                its names load from here on first use, like `papertrail.api`'s, so
                `papertrail --help` does not open the store
- `templates/`  papertrail's own templates, found through Datasette's template lookup:
                `_table.html` shows a row page as "label: value" lines
                (papertrail-record.html) and defers to Datasette's own `_table.html`
                everywhere else

The SQL (the `reading_list` view and the canned read queries) lives in papertrail.store
(`schema._m005_browse_views`, `store/browse.py`). The database is served mutable,
never immutable, so a fetch can write while the browser is open and a reload
shows the new entries. Datasette and uvicorn are imported only when a server is made.

May import: api, reading, store, config, models, ids, text.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papertrail.browse.server import (
        PLUGIN_MODULE,
        TEMPLATES,
        BrowseError,
        EmptyReadingList,
        ReadyInfo,
        check_reading_list,
        database_name,
        is_loopback,
        make_datasette,
        serve,
    )

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "BrowseError",
    "EmptyReadingList",
    "PLUGIN_MODULE",
    "ReadyInfo",
    "TEMPLATES",
    "check_reading_list",
    "database_name",
    "is_loopback",
    "make_datasette",
    "serve",
]
# the names `server` defines, loaded on first use
_SERVER = frozenset(__all__) - {"DEFAULT_HOST", "DEFAULT_PORT"}


def __getattr__(name: str) -> object:
    """Load `server` the first time one of its names is asked for."""
    if name not in _SERVER:
        raise AttributeError(f"module 'papertrail.browse' has no attribute {name!r}")
    value = getattr(importlib.import_module("papertrail.browse.server"), name)
    globals()[name] = value
    return value
