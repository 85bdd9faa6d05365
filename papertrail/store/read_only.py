"""A quick way into the reading list for commands that only read (`papertrail search`).

`connected` (schema.open_db) imports sqlite_utils, which imports numpy when
it is installed: 300-600 ms of a search's start-up on the 2-core build
machine under load, for a command whose query takes 10-40 ms. It also checks
the journal mode and runs the migration check on every open. A search needs
none of that when the file's schema is already current, so `reading` opens the
file with the standard library's sqlite3 and checks only that every migration
is recorded (one small read). Anything else (a missing file, a schema to
bring up to date, a file that is not a database) goes through `connected`,
which explains the problem or migrates, exactly as before.

What the search path uses of `sqlite_utils.Database` is `.execute`, `.query`
and `.conn`; `ReadConnection` is those three and nothing more (the search
tests run through it, and compare it with the full path).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from papertrail.store.lock import DatabaseLocked, is_busy, locked_message
from papertrail.store.schema import MIGRATIONS, SCHEMA_VERSION_TABLE, busy_timeout_s, connected

if TYPE_CHECKING:
    import sqlite_utils


class ReadConnection:
    """The part of `sqlite_utils.Database` that the search path calls."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(
        self, sql: str, parameters: Sequence[object] | Mapping[str, object] | None = None
    ) -> sqlite3.Cursor:
        if parameters is None:
            return self.conn.execute(sql)
        return self.conn.execute(sql, parameters)

    def query(
        self, sql: str, params: Sequence[object] | Mapping[str, object] | None = None
    ) -> Iterator[dict[str, object]]:
        """Rows as dicts keyed by column name, as `sqlite_utils.Database.query` gives them."""
        cursor = self.execute(sql, params)
        keys = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row, strict=True))

    def close(self) -> None:
        self.conn.close()


@contextmanager
def reading(path: Path | str) -> Iterator[sqlite_utils.Database]:
    """The reading list at `path`, opened for reading (nothing is created or migrated
    here: a file that needs either goes through `connected(path, create=False)`)."""
    conn = _open_current(Path(path))
    if conn is None:
        with connected(path, create=False) as db:
            yield db
        return
    try:
        # Typed as the Database the store functions take: the search path calls only
        # .execute, .query and .conn (tests/test_read_only.py runs it both ways).
        yield cast("sqlite_utils.Database", ReadConnection(conn))
    except sqlite3.OperationalError as e:
        if is_busy(e):
            raise DatabaseLocked(locked_message(Path(path), busy_timeout_s())) from None
        raise
    finally:
        conn.close()


_NAMES = frozenset(m.__name__.lstrip("_") for m in MIGRATIONS)


def _open_current(path: Path) -> sqlite3.Connection | None:
    """A connection to `path` if it is a papertrail database whose every migration is
    recorded; None otherwise (the caller then takes the full path)."""
    if not path.is_file():
        return None
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s() * 1000)}")
        done = {row[0] for row in conn.execute(f"SELECT name FROM {SCHEMA_VERSION_TABLE}")}
    except sqlite3.DatabaseError:
        conn.close()
        return None
    if not done >= _NAMES:
        conn.close()
        return None
    return conn
