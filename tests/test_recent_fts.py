"""The index of recent entries that very large lists search first (db/recent_fts.py).

Built on the 100 real snapshot lines (tests/fixtures/feeds/arxiv-bulk) with the
size thresholds scaled down; its contents are checked term by term, position by
position, against the main index (fts5vocab), after every kind of change."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_snapshot import LINES, SNAPSHOT, run_import, write_lines

from papertrail import store
from papertrail.cli import cli
from papertrail.store import recent_fts, triage


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recent_fts, "BUILD_ABOVE", 50)
    monkeypatch.setattr(recent_fts, "RECENT_ROWS", 30)
    monkeypatch.setattr(recent_fts, "TRIM_ABOVE", 45)


def instances(conn: sqlite3.Connection, table: str, floor: int) -> list[tuple]:
    """Every (term, row, column, offset) the FTS5 `table` holds for rows >= floor."""
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.v_{table} USING fts5vocab(main, {table}, instance)"
    )
    return conn.execute(
        f"SELECT term, doc, col, offset FROM temp.v_{table} WHERE doc >= ? ORDER BY 1, 2, 3, 4",
        [floor],
    ).fetchall()


def assert_mirrors_main_index(db_path: Path) -> int:
    """The recent index holds exactly what the main index holds for ids >= its floor."""
    conn = sqlite3.connect(db_path)
    try:
        (floor,) = conn.execute("SELECT floor FROM search_recent").fetchone()
        recent = instances(conn, "entries_fts_recent", 0)
        assert recent, "the recent index is empty"
        assert min(r[1] for r in recent) >= floor
        assert recent == instances(conn, "entries_fts", floor)
        return floor
    finally:
        conn.close()


def imported(tmp_path: Path, lines: list[str] = LINES) -> Path:
    db_path = tmp_path / "pt.db"
    run_import(db_path, write_lines(tmp_path / "s.json", lines))
    return db_path


def maintain(db_path: Path) -> str | None:
    db = store.open_db(db_path)
    try:
        return recent_fts.maintain(db)
    finally:
        db.close()


def test_small_lists_have_no_recent_index(tmp_path: Path) -> None:
    db_path = imported(tmp_path)
    assert maintain(db_path) is None
    conn = sqlite3.connect(db_path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "entries_fts_recent" not in names and "search_recent" not in names


def test_built_over_the_newest_entries_and_kept_in_step(
    tmp_path: Path, small_thresholds: None
) -> None:
    db_path = imported(tmp_path)
    assert maintain(db_path) == "built"
    floor = assert_mirrors_main_index(db_path)
    conn = sqlite3.connect(db_path)
    ids = [r[0] for r in conn.execute("SELECT id FROM entries ORDER BY id DESC")]
    assert floor == ids[recent_fts.RECENT_ROWS - 1]
    above, below = ids[0], ids[-1]
    # Notes, edited text and deletions, above and below the floor.
    with conn:
        conn.execute(
            "UPDATE entries SET notes_text = 'zebrafish notes' WHERE id IN (?, ?)", [above, below]
        )
        conn.execute("UPDATE entries SET title = 'A retitled paper' WHERE id = ?", [ids[1]])
        conn.execute(
            "UPDATE entries SET last_seen = 'x' WHERE id = ?", [ids[2]]
        )  # not indexed text
        conn.execute("DELETE FROM entries WHERE id IN (?, ?)", [ids[3], ids[-2]])
    conn.close()
    assert assert_mirrors_main_index(db_path) == floor
    assert maintain(db_path) is None  # nothing to do


def test_new_and_changed_papers_from_a_newer_snapshot_reach_it(
    tmp_path: Path, small_thresholds: None
) -> None:
    db_path = imported(tmp_path, LINES[:60])
    assert maintain(db_path) == "built"
    newer = [json.loads(line) for line in LINES]
    newer[-45]["title"] = "A changed title about zebrafish"  # above the floor: re-indexed
    run_import(db_path, write_lines(tmp_path / "newer.json", [json.dumps(o) for o in newer]))
    floor = assert_mirrors_main_index(db_path)
    # 40 new papers: 70 entries above the floor, more than TRIM_ABOVE.
    assert maintain(db_path) == "trimmed"
    new_floor = assert_mirrors_main_index(db_path)
    assert new_floor > floor
    conn = sqlite3.connect(db_path)
    (above,) = conn.execute("SELECT COUNT(*) FROM entries WHERE id >= ?", [new_floor]).fetchone()
    conn.close()
    assert above == recent_fts.RECENT_ROWS


def test_dropped_when_the_list_is_small_again(
    tmp_path: Path, small_thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = imported(tmp_path)
    assert maintain(db_path) == "built"
    monkeypatch.setattr(recent_fts, "BUILD_ABOVE", 10_000)
    assert maintain(db_path) == "dropped"
    db = store.open_db(db_path)
    try:
        assert recent_fts.floor(db) is None
        assert triage.search(db, "diphoton")  # the main index still answers
    finally:
        db.close()


def search_ids(db_path: Path, *args: str) -> tuple[list[int], str]:
    result = CliRunner().invoke(cli, ["--db", str(db_path), "search", *args, "--json"])
    assert result.exit_code == 0, result.output
    return [e["id"] for e in json.loads(result.stdout)], result.stderr


def test_search_finds_the_same_entries_with_it(
    tmp_path: Path, small_thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = imported(tmp_path)
    monkeypatch.setattr(triage, "SEARCH_WINDOW", 8)
    queries = [
        ["the"],
        ["of", "--sort", "date"],
        ["the", "--kind", "paper"],
        ["diphoton"],
        ["quantum"],
    ]
    before = [search_ids(db_path, *q) for q in queries]
    assert maintain(db_path) == "built"
    after = [search_ids(db_path, *q) for q in queries]
    for (ids_before, err_before), (ids_after, err_after) in zip(before, after, strict=True):
        # The same newest matches, the same window notice; bm25 may order them differently.
        assert sorted(ids_before) == sorted(ids_after)
        assert ("More than 8" in err_before) == ("More than 8" in err_after)
    # "the" fills the window from the recent index alone; "diphoton" (the first,
    # oldest paper) is below the floor and comes from the main index.
    floor = assert_mirrors_main_index(db_path)
    assert min(after[0][0]) >= floor and "More than 8" in after[0][1]
    assert after[3][0] and max(after[3][0]) < floor
    # Sorting by date inside the window: newest first.
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "search", "of", "--sort", "date", "--json"]
    )
    dates = [e["published"] for e in json.loads(result.stdout)]
    assert len(dates) == 8 and dates == sorted(dates, reverse=True)


def test_an_import_builds_it_on_a_very_large_list(tmp_path: Path, small_thresholds: None) -> None:
    db_path = tmp_path / "pt.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "import", "arxiv-snapshot", str(SNAPSHOT), "--workers", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "index of the newest entries for search built" in result.output
    assert_mirrors_main_index(db_path)


def test_ranking_reads_term_counts_from_it(tmp_path: Path, small_thresholds: None) -> None:
    """The ranking profile's document frequencies come from the recent index when
    there is one: N is the entries above the floor, and each count is theirs."""
    from papertrail.store.ranking import document_frequencies

    db_path = imported(tmp_path)
    db = store.open_db(db_path)
    try:
        n_all, df_all = document_frequencies(db, ["the", "quantum"])
        assert n_all == 100 and df_all["the"] > 30
        assert recent_fts.maintain(db) == "built"
        n, df = document_frequencies(db, ["the", "quantum"])
        floor = recent_fts.floor(db)
        assert n == recent_fts.RECENT_ROWS
        (expected,) = db.execute(
            "SELECT COUNT(*) FROM entries_fts WHERE entries_fts MATCH 'the' AND rowid >= ?",
            [floor],
        ).fetchone()
        assert df["the"] == expected < df_all["the"]
    finally:
        db.close()
