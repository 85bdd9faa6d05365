"""The storage layer on its own: schema, upserts, and the full-text index staying in step."""

from __future__ import annotations

from pathlib import Path

from papertrail import store
from papertrail.models import Record


class OneDomain:
    domain_names = ("ml-general",)

    def tag(self, record: Record) -> list[str]:
        return ["ml-general"]


def _save(db, run_id: int, source: str, records: list[Record]) -> store.SaveStats:
    db.execute("INSERT OR IGNORE INTO sources (name, kind) VALUES (?, 'feed')", [source])
    return store.save_source_result(
        db,
        run_id=run_id,
        outcome=store.SourceOutcome(source=source, status="ok"),
        records=records,
        tagger=OneDomain(),
    )


def _search(db, term: str) -> list[int]:
    return [
        r[0] for r in db.execute("SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?", [term])
    ]


def test_migrations_run_once_and_the_db_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    db = store.open_db(path)
    assert db.journal_mode == "wal"
    assert store.migrate(db) == []  # already applied
    db.close()
    assert store.migrate(store.open_db(path)) == []


def test_fts_follows_inserts_and_text_changes_but_not_bookkeeping(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "r.db")
    run = store.start_run(db)
    paper = Record(
        kind="paper", title="Wasserstein GAN", arxiv_id="1701.07875", version=1, summary="critic"
    )
    assert _save(db, run, "a", [paper]).new_papers == 1
    (entry_id,) = _search(db, "wasserstein")
    # FTS5 writes a new segment row into its shadow table whenever the index changes.
    segments = db.execute("SELECT COUNT(*) FROM entries_fts_data").fetchone()[0]
    # Seen again by another source, same version: provenance and last_seen move, the index does not.
    assert _save(db, run, "b", [paper]).new_papers == 0
    assert db.execute("SELECT COUNT(*) FROM entries_fts_data").fetchone()[0] == segments
    assert _search(db, "wasserstein") == [entry_id]
    assert db.execute("SELECT COUNT(*) FROM provenance").fetchone()[0] == 2
    # A new version with a new title re-indexes the text.
    v2 = Record(
        kind="paper",
        title="Wasserstein Generative Adversarial Networks",
        arxiv_id="1701.07875",
        version=3,
    )
    assert _save(db, run, "a", [v2]).updated_versions == 1
    assert db.execute("SELECT COUNT(*) FROM entries_fts_data").fetchone()[0] > segments
    assert _search(db, "generative") == [entry_id]
    assert _search(db, "gan") == []
    assert db.execute("SELECT version, previous_version FROM entries").fetchone() == (3, 1)


def test_posts_are_keyed_per_source_by_guid_then_url_then_content(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "r.db")
    run = store.start_run(db)
    with_guid = Record(kind="post", title="A", url="https://x.org/a?utm_source=rss", guid="g-1")
    url_only = Record(kind="post", title="B", url="https://X.org/b?utm_medium=feed#top")
    bare = Record(kind="post", title="C", summary="no link at all")
    assert _save(db, run, "blog", [with_guid, url_only, bare]).new_posts == 3
    # the same items again (tracking params differ): nothing new
    again = [
        Record(kind="post", title="A (edited)", url="https://x.org/a", guid="g-1"),
        Record(kind="post", title="B", url="https://x.org/b"),
        Record(kind="post", title="C", summary="no link at all"),
    ]
    assert _save(db, run, "blog", again).new_posts == 0
    # the same post from another source is the same entry, with both sources (issue 18)
    stats = _save(db, run, "other", [with_guid])
    assert (stats.new_posts, stats.merged) == (0, 1)
    keys = [k for (k,) in db.execute("SELECT key FROM entries ORDER BY key")]
    assert keys[0] == "post:blog:g-1" and keys[1] == "post:blog:https://x.org/b"
    assert keys[2].startswith("post:blog:sha1:") and len(keys) == 3
    sources = db.execute(
        "SELECT p.source FROM provenance p JOIN entries e ON e.id = p.entry_id "
        "WHERE e.key = 'post:blog:g-1' ORDER BY p.source"
    ).fetchall()
    assert sources == [("blog",), ("other",)]
    assert list(store.iter_duplicate_keys(db)) == []


def test_parse_since_accepts_durations_and_dates() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert store.parse_since("24h", now) == "2026-11-22T12:00:00+00:00"
    assert store.parse_since("7d", now) == "2026-11-16T12:00:00+00:00"
    assert store.parse_since("2026-11-01", now) == "2026-11-01T00:00:00+00:00"
    import pytest

    with pytest.raises(ValueError, match="24h"):
        store.parse_since("last tuesday", now)


def test_unusable_database_paths_get_a_clear_error_and_lose_nothing(tmp_path: Path) -> None:
    import pytest

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(store.DatabaseError, match="cannot create the database .*--db"):
        store.open_db(blocker / "reading.db")
    other = tmp_path / "notes.db"
    other.write_bytes(b"my notes, not SQLite\n" * 100)
    with pytest.raises(store.DatabaseError, match="not a database"):
        store.open_db(other)
    assert other.read_bytes() == b"my notes, not SQLite\n" * 100
