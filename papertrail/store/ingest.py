"""Queries for the fetch side: messages already seen in a mailbox, mentioned papers
still missing, arXiv ids the API does not know, and provenance added by hand."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypedDict, cast

from papertrail.store.schema import utcnow

if TYPE_CHECKING:
    import sqlite_utils

# An id the API did not know is asked for again after a day (a paper announced
# today can lag behind in the API), at most this many times in all.
UNKNOWN_RETRY_AFTER = timedelta(days=1)
UNKNOWN_MAX_ATTEMPTS = 3


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def post_guids(db: sqlite_utils.Database, source: str) -> set[str]:
    """The guids of the posts stored for `source` (from the post keys, on the key index)."""
    prefix = f"post:{source}:"
    # ':' + 1 == ';': every key starting with the prefix sorts in [prefix, upper).
    upper = prefix[:-1] + ";"
    rows = db.execute(
        "SELECT substr(key, ?) FROM entries WHERE key >= ? AND key < ?",
        [len(prefix) + 1, prefix, upper],
    )
    return {r[0] for r in rows}


def missing_mentioned_ids(db: sqlite_utils.Database, now: datetime | None = None) -> list[str]:
    """arXiv ids mentioned by posts that have no entry yet, oldest mention first,
    leaving out ids the API did not know (until they are due for another try)."""
    now = now or datetime.now(timezone.utc)
    retry_before = (now - UNKNOWN_RETRY_AFTER).isoformat(timespec="seconds")
    rows = db.execute(
        """
        SELECT m.arxiv_id FROM mentions m
        LEFT JOIN unknown_arxiv_ids u ON u.arxiv_id = m.arxiv_id
        WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.arxiv_id = m.arxiv_id)
          AND (u.arxiv_id IS NULL OR (u.attempts < ? AND u.last_checked <= ?))
        GROUP BY m.arxiv_id
        ORDER BY MIN(m.first_seen), m.arxiv_id
        """,
        [UNKNOWN_MAX_ATTEMPTS, retry_before],
    )
    return [r[0] for r in rows]


def remember_unknown_ids(db: sqlite_utils.Database, ids: Iterable[str]) -> None:
    """Record that the arXiv API answered without these ids (one more attempt each)."""
    now = utcnow()
    with db.atomic():
        db.conn.executemany(
            """INSERT INTO unknown_arxiv_ids (arxiv_id, first_checked, last_checked, attempts)
               VALUES (?, ?, ?, 1)
               ON CONFLICT (arxiv_id) DO UPDATE SET last_checked = excluded.last_checked,
                   attempts = unknown_arxiv_ids.attempts + 1""",
            [(i, now, now) for i in dict.fromkeys(ids)],
        )


def unknown_arxiv_ids(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """Every remembered unknown id with when it was checked and how often."""
    return {r["arxiv_id"]: r for r in db.query("SELECT * FROM unknown_arxiv_ids")}


class PaperRef(TypedDict):
    """A paper in the reading list, named: its short id, arXiv id, version and title."""

    id: int
    arxiv_id: str
    version: int | None
    title: str


def papers_by_arxiv_id(db: sqlite_utils.Database, ids: Sequence[str]) -> dict[str, PaperRef]:
    """{arxiv_id: {id, arxiv_id, version, title}} for the ids that have an entry."""
    out: dict[str, PaperRef] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        sql = (
            "SELECT id, arxiv_id, version, title FROM entries "
            f"WHERE arxiv_id IN ({', '.join('?' * len(chunk))})"
        )
        for row in db.query(sql, list(chunk)):
            out[row["arxiv_id"]] = cast(PaperRef, row)
    return out


def add_provenance(
    db: sqlite_utils.Database, entry_ids: Iterable[int], source: str, run_id: int | None = None
) -> int:
    """Say that `source` surfaced these entries (e.g. "manual"); returns how many were new."""
    now = utcnow()
    with db.atomic():
        before = db.conn.total_changes
        db.conn.executemany(
            """INSERT INTO provenance (entry_id, source, first_seen, last_seen, run_id)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (entry_id, source) DO NOTHING""",
            [(i, source, now, now, run_id) for i in dict.fromkeys(entry_ids)],
        )
        added = db.conn.total_changes - before
        db.conn.executemany(
            "UPDATE provenance SET last_seen = ? WHERE entry_id = ? AND source = ?",
            [(now, i, source) for i in dict.fromkeys(entry_ids)],
        )
    return added
