"""Bookkeeping of bulk imports (`import_runs`): what was imported, how far an
interrupted import got, which lines were bad."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from papertrail.store.schema import utcnow

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.store.bulk import BulkStats


def resumable_import(
    db: sqlite_utils.Database, kind: str, path: str, size: int, mtime: float
) -> dict[str, Any] | None:
    """The newest unfinished import of this very file (same path, size and
    modification time), if any: a re-run continues after its committed lines."""
    rows = list(
        db.query("""SELECT * FROM import_runs WHERE kind = ? ORDER BY id DESC LIMIT 1""", [kind])
    )
    if not rows:
        return None
    row = rows[0]
    same_file = row["path"] == path and row["file_size"] == size and row["file_mtime"] == mtime
    if same_file and row["status"] != "done" and row["lines"] > 0:
        return row
    return None


def start_import(
    db: sqlite_utils.Database,
    kind: str,
    path: str,
    size: int,
    mtime: float,
    *,
    resume: dict[str, Any] | None = None,
    reserved: tuple[int, int] | None = None,
) -> int:
    """A new `import_runs` row, or the resumed one marked running again."""
    with db.atomic():
        if resume is not None:
            db.execute(
                "UPDATE import_runs SET status = 'running', error = NULL, finished_at = NULL "
                "WHERE id = ?",
                [resume["id"]],
            )
            return int(resume["id"])
        cur = db.execute(
            """INSERT INTO import_runs (kind, path, file_size, file_mtime, started_at,
                   reserved_lo, reserved_hi) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [kind, path, size, mtime, utcnow(), *(reserved or (None, None))],
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]


def record_batch(
    db: sqlite_utils.Database,
    run_id: int,
    last_line: int,
    stats: BulkStats,
    bad: list[tuple[int, str]],
    keep_examples: int,
) -> None:
    """How far the import got, in the batch's own transaction."""
    if bad:
        (examples,) = db.execute(
            "SELECT bad_examples FROM import_runs WHERE id = ?", [run_id]
        ).fetchone()
        kept = json.loads(examples)
        kept += [list(b) for b in bad[: max(0, keep_examples - len(kept))]]
        db.execute(
            "UPDATE import_runs SET bad_examples = ? WHERE id = ?", [json.dumps(kept), run_id]
        )
    db.execute(
        """UPDATE import_runs SET lines = ?, new = new + ?, updated = updated + ?,
               unchanged = unchanged + ?, bad_lines = bad_lines + ? WHERE id = ?""",
        [last_line, stats.new, stats.updated, stats.unchanged, len(bad), run_id],
    )


def finish_import(
    db: sqlite_utils.Database, run_id: int, status: str, error: str | None = None
) -> None:
    with db.atomic():
        db.execute(
            "UPDATE import_runs SET status = ?, finished_at = ?, error = ? WHERE id = ?",
            [status, utcnow(), error, run_id],
        )


def has_old_style_papers(db: sqlite_utils.Database) -> bool:
    """Whether any old-style paper (hep-th/9901001: letters first) is stored (on the
    arxiv_id index: new-style ids start with a digit)."""
    return db.execute("SELECT 1 FROM entries WHERE arxiv_id >= 'a' LIMIT 1").fetchone() is not None


def import_runs(db: sqlite_utils.Database, limit: int = 10) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM import_runs ORDER BY id DESC LIMIT ?", [limit]))
