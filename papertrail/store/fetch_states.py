"""The sources' stored fetch state read cheaply, before the database is opened for writing.

A fetch starts its HTTP lane as soon as it knows each source's URL and validators
(ETag / Last-Modified), and opens the database for writing (sqlite-utils, the
migration check) while the requests are in flight. This read uses plain sqlite3,
read-only, and answers as `sync_sources` will leave the rows (a source new to the
file, or whose kind or URL changed in feeds.yml, has no validators); it declines
(None) whenever that cannot be known: schema migrations pending, a file that is not
a reading list, SQLite busy. The caller then reads the state the ordinary way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, cast

from papertrail.store.queries import SourceState
from papertrail.store.schema import MIGRATIONS, SCHEMA_VERSION_TABLE

if TYPE_CHECKING:
    from papertrail.config import Config


def read_fetch_states(db_path: Path, config: Config) -> dict[str, SourceState] | None:
    """Each source of `config` (by name) as `store.source_state` will return it once
    `sync_sources` has run (a database not made yet: every source new); None when the
    file cannot be read this way (then nothing is known early)."""
    rows = _source_rows(db_path) if db_path.exists() else {}
    if rows is None:
        return None
    url = {s.name: s.fetch_url(config.settings) for s in config.sources}
    return {s.name: _as_synced(rows.get(s.name), s.kind, url[s.name]) for s in config.sources}


def _source_rows(db_path: Path) -> dict[str, dict[str, object]] | None:
    """The `sources` table by name, read-only; None when migrations are pending or
    the file cannot be read."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        conn.row_factory = sqlite3.Row
        done = {r[0] for r in conn.execute(f"SELECT name FROM {SCHEMA_VERSION_TABLE}")}
        if any(m.__name__.lstrip("_") not in done for m in MIGRATIONS):
            return None  # the writer's open migrates first: the rows may change
        return {r["name"]: dict(r) for r in conn.execute("SELECT * FROM sources")}
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _as_synced(row: dict[str, object] | None, kind: str, url: str | None) -> SourceState:
    """A row as `sync_sources` leaves it: new or changed kind/URL -> no validators."""
    if row is None:
        return cast(SourceState, {"kind": kind, "config_url": url, "fetch_url": url})
    if row.get("kind") != kind or row.get("config_url") != url:
        row = {**row, "kind": kind, "config_url": url, "fetch_url": url}
        row["etag"] = row["last_modified"] = None
    row["in_config"] = 1
    return cast(SourceState, row)
