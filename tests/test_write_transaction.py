"""Write transactions take the write lock at once (store.schema._write_transaction).

sqlite-utils' `Database.atomic()` begins a deferred transaction: when another connection
(another program, or the background rescore of papertrail.reading.refresh in the same
process) commits between its first read and its first write, WAL SQLite cannot upgrade it
and the write fails at once with "database is locked", without waiting the busy timeout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from papertrail.store.schema import open_db


def test_a_read_then_write_transaction_holds_the_write_lock_from_its_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reading.db"
    db = open_db(path)
    other = sqlite3.connect(path, timeout=0.2)
    with db.atomic():
        db.execute("SELECT count(*) FROM ranking_state").fetchone()
        # Another writer cannot commit between our read and our write: it waits, then
        # gives up (deferred, it would commit and our write below would fail instead).
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO ranking_state (key, value) VALUES ('other', '1')")
        db.execute("INSERT INTO ranking_state (key, value) VALUES ('ours', '1')")
    other.rollback()
    rows = dict(other.execute("SELECT key, value FROM ranking_state").fetchall())
    assert rows.get("ours") == "1" and "other" not in rows
    other.close()
    db.close()


def test_nested_blocks_stay_savepoints_of_the_outer_transaction(tmp_path: Path) -> None:
    db = open_db(tmp_path / "reading.db")
    with pytest.raises(RuntimeError), db.atomic():
        db.execute("INSERT INTO ranking_state (key, value) VALUES ('outer', '1')")
        with db.atomic():
            db.execute("INSERT INTO ranking_state (key, value) VALUES ('inner', '1')")
        raise RuntimeError("roll back everything")
    assert db.execute("SELECT count(*) FROM ranking_state").fetchone()[0] == 0
    db.close()
