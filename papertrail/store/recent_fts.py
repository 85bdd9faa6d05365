"""A second, small full-text index over the newest entries of a very large list.

`search` ranks the newest SEARCH_WINDOW matches of a query (db/triage.py). On a
list the size of arXiv (millions of entries) most of its time went to FTS5's
bm25, not to finding those matches: bm25 needs each query term's document
frequency, and FTS5 counts it by walking the term's whole doclist on every
query — 17 ms for "quantum" over 2.7 M papers, 35 ms for "language model".

`entries_fts_recent` indexes only the entries whose id is at least
`search_recent.floor` (the newest RECENT_ROWS, plus what arrived since the last
trim), with the same columns and tokenizer as `entries_fts`. When it holds more
than SEARCH_WINDOW matches of a query, they are exactly the newest matches of
the whole index too, and ranking them there walks doclists 10-30x shorter. bm25's
term statistics then describe the recent part of the list (as a search shard's
own statistics do); a query with fewer matches there falls back to the full index.

The index exists only on lists above BUILD_ABOVE entries (`maintain`, after a
fetch or an import). Triggers keep it in step with `entries` for ids at or above
the floor; `maintain` builds it, and trims it back to RECENT_ROWS once more than
TRIM_ABOVE entries sit above the floor. Each of those runs in one transaction,
so a killed process leaves the old index or the new one.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from papertrail.store.schema import max_entry_id

if TYPE_CHECKING:
    import sqlite_utils

TABLE = "entries_fts_recent"
STATE = "search_recent"
BUILD_ABOVE = 300_000  # entries; the same line as rank.LARGE_LIST
RECENT_ROWS = 100_000
TRIM_ABOVE = 150_000
COLUMNS = ("title", "summary", "notes_text")

_COLS = ", ".join(COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in COLUMNS)
_ABOVE = f"(SELECT floor FROM {STATE})"
_TRIGGERS = f"""
CREATE TRIGGER {TABLE}_ai AFTER INSERT ON entries WHEN new.id >= {_ABOVE} BEGIN
  INSERT INTO {TABLE} (rowid, {_COLS}) VALUES (new.id, {_NEW});
END;
CREATE TRIGGER {TABLE}_ad AFTER DELETE ON entries WHEN old.id >= {_ABOVE} BEGIN
  INSERT INTO {TABLE} ({TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD});
END;
CREATE TRIGGER {TABLE}_au AFTER UPDATE OF {_COLS} ON entries WHEN old.id >= {_ABOVE} BEGIN
  INSERT INTO {TABLE} ({TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD});
  INSERT INTO {TABLE} (rowid, {_COLS}) VALUES (new.id, {_NEW});
END;
"""


def floor(db: sqlite_utils.Database) -> int | None:
    """The lowest entry id in the recent index; None when there is no such index."""
    try:
        row = db.execute(f"SELECT floor FROM {STATE}").fetchone()
    except sqlite3.OperationalError:  # no such table: a list too small to need one
        return None
    return row[0] if row else None


def maintain(db: sqlite_utils.Database) -> str | None:
    """Build, trim or drop the recent index as the list's size asks; says what it did."""
    current = floor(db)
    if max_entry_id(db) <= BUILD_ABOVE:  # the list's size, from the primary key alone
        if current is None:
            return None
        drop(db)
        return "dropped"
    if current is None:
        build(db)
        return "built"
    (above,) = db.execute("SELECT COUNT(*) FROM entries WHERE id >= ?", [current]).fetchone()
    if above > TRIM_ABOVE:
        trim(db)
        return "trimmed"
    return None


def _newest_floor(db: sqlite_utils.Database) -> int:
    row = db.execute(
        "SELECT id FROM entries ORDER BY id DESC LIMIT 1 OFFSET ?", [RECENT_ROWS - 1]
    ).fetchone()
    return row[0] if row else 0


def build(db: sqlite_utils.Database) -> None:
    """(Re)create the recent index over the newest RECENT_ROWS entries."""
    with db.atomic():
        drop(db)
        db.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5({_COLS}, content='entries', "
            "content_rowid='id', tokenize='porter unicode61')"
        )
        db.execute(f"CREATE TABLE {STATE} (floor INTEGER NOT NULL)")
        start = _newest_floor(db)
        db.execute(f"INSERT INTO {STATE} (floor) VALUES (?)", [start])
        db.execute(
            f"INSERT INTO {TABLE} (rowid, {_COLS}) SELECT id, {_COLS} FROM entries WHERE id >= ?",
            [start],
        )
        _create_triggers(db)
        db.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")


def _create_triggers(db: sqlite_utils.Database) -> None:
    for statement in _TRIGGERS.strip().split("END;"):
        if statement.strip():
            db.execute(statement + "END;")


def trim(db: sqlite_utils.Database) -> None:
    """Raise the floor so the index holds the newest RECENT_ROWS entries again."""
    with db.atomic():
        old = floor(db)
        new = _newest_floor(db)
        if old is None or new <= old:
            return
        db.execute(
            f"INSERT INTO {TABLE} ({TABLE}, rowid, {_COLS}) "
            f"SELECT 'delete', id, {_COLS} FROM entries WHERE id >= ? AND id < ?",
            [old, new],
        )
        db.execute(f"UPDATE {STATE} SET floor = ?", [new])


def drop(db: sqlite_utils.Database) -> None:
    with db.atomic():
        for suffix in ("ai", "ad", "au"):
            db.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{suffix}")
        db.execute(f"DROP TABLE IF EXISTS {TABLE}")
        db.execute(f"DROP TABLE IF EXISTS {STATE}")
