"""store.read_only: `papertrail search` opens the reading list without sqlite_utils (issue 19)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from papertrail.store import DatabaseError, DatabaseMissing, connected
from papertrail.store.read_only import ReadConnection, reading
from papertrail.store.triage import search

REPO = Path(__file__).resolve().parent.parent


def _hits(db: object) -> list[tuple[int, float, str]]:
    found = search(db, "learning", limit=30)  # type: ignore[arg-type]
    return [(e["id"], e["relevance"], e["snippet"]) for e in found]


def test_a_current_list_is_read_without_sqlite_utils(reading_list: tuple[Path, Path]) -> None:
    db_path, _ = reading_list
    with reading(db_path) as fast:
        assert isinstance(fast, ReadConnection)
        quick = _hits(fast)
    with connected(db_path, create=False) as full:
        assert _hits(full) == quick
    assert quick, "the fixtures mention learning"


def test_a_list_that_needs_a_migration_goes_the_full_way(
    reading_list: tuple[Path, Path],
) -> None:
    db_path, _ = reading_list
    last = "m012_post_urls"  # undone by hand, as if the file predated it
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TABLE post_urls")
        conn.execute("DROP INDEX idx_entries_post_title")
        assert conn.execute("DELETE FROM _migrations WHERE name = ?", [last]).rowcount == 1
    with reading(db_path) as db:
        assert not isinstance(db, ReadConnection)
        assert _hits(db)
    with sqlite3.connect(db_path) as conn:  # recorded again by the full open
        assert conn.execute("SELECT 1 FROM _migrations WHERE name = ?", [last]).fetchone()


def test_missing_or_foreign_files_are_explained(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissing), reading(tmp_path / "nope.db"):
        pass
    assert not (tmp_path / "nope.db").exists()
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    with pytest.raises(DatabaseError), reading(text):
        pass


def test_the_search_command_does_not_import_sqlite_utils(reading_list: tuple[Path, Path]) -> None:
    db_path, feeds = reading_list
    code = (
        "import sys\nfrom papertrail.cli import cli\n"
        f"args = ['--db', {str(db_path)!r}, '--feeds', {str(feeds)!r}, 'search', 'learning']\n"
        "try:\n    cli(args)\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('LOADED' if 'sqlite_utils' in sys.modules else 'NOT LOADED', file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert "NOT LOADED" in result.stderr, result.stderr
    assert "learning" in result.stdout.lower()
