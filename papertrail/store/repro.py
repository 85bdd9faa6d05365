"""Reproductions in the reading list: which exist, which papers they implement, their runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from papertrail.models import Record, ReproductionLink, ReproRun, Tagger
from papertrail.store.schema import utcnow
from papertrail.store.writer import EntryWriter

if TYPE_CHECKING:
    import sqlite_utils

REPRO_SOURCE = "reproductions"  # provenance of paper entries added from a reproduction's constants


def register_reproduction(
    db: sqlite_utils.Database, name: str, title: str, module: str, arxiv_ids: Sequence[str]
) -> None:
    """Upsert a reproduction and the papers it implements (papers no longer listed are dropped)."""
    with db.atomic():
        db.execute(
            """INSERT INTO reproductions (name, title, module, registered_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET title = excluded.title, module = excluded.module""",
            [name, title, module, utcnow()],
        )
        db.execute(
            f"DELETE FROM reproduction_papers WHERE reproduction = ? AND arxiv_id NOT IN ({', '.join('?' * len(arxiv_ids))})",
            [name, *arxiv_ids],
        )
        db.conn.executemany(
            "INSERT OR IGNORE INTO reproduction_papers (reproduction, arxiv_id) VALUES (?, ?)",
            [(name, a) for a in arxiv_ids],
        )


def missing_papers(db: sqlite_utils.Database, arxiv_ids: Sequence[str]) -> list[str]:
    """Those of `arxiv_ids` with no entry in the reading list."""
    have = {
        r[0]
        for r in db.execute(
            f"SELECT arxiv_id FROM entries WHERE arxiv_id IN ({', '.join('?' * len(arxiv_ids))})",
            list(arxiv_ids),
        )
    }
    return [a for a in arxiv_ids if a not in have]


def save_paper_records(
    db: sqlite_utils.Database, records: Sequence[Record], tagger: Tagger, source: str = REPRO_SOURCE
) -> int:
    """Save paper records (new ones added, existing ones refreshed); returns how many were new.

    A paper new to the reading list is dated by arXiv: its `first_seen` is its
    publication date, like an archive import's, so it never shows up as new today."""
    ids = [r.arxiv_id for r in records if r.arxiv_id]
    with db.atomic():
        new = missing_papers(db, ids) if ids else []
        count = EntryWriter(db, tagger, None).save(source, records).new_papers
        if new:
            db.execute(
                f"""UPDATE entries SET first_seen = published
                    WHERE arxiv_id IN ({", ".join("?" * len(new))})
                      AND published IS NOT NULL AND published < first_seen""",
                new,
            )
        return count


def paper_entry_ids(db: sqlite_utils.Database, arxiv_ids: Sequence[str]) -> dict[str, int]:
    rows = db.execute(
        f"SELECT arxiv_id, id FROM entries WHERE arxiv_id IN ({', '.join('?' * len(arxiv_ids))})",
        list(arxiv_ids),
    )
    return {a: i for a, i in rows}


def start_repro_run(
    db: sqlite_utils.Database,
    *,
    reproduction: str,
    arxiv_id: str | None,
    config: dict[str, Any],
    artifacts_dir: str,
    code_version: str,
    device: str | None = None,
    config_path: str | None = None,
    from_run: int | None = None,
) -> int:
    with db.atomic():
        cur = db.execute(
            """INSERT INTO repro_runs (reproduction, arxiv_id, started_at, status, config,
                   artifacts_dir, code_version, device, config_path, from_run)
               VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)""",
            [
                reproduction,
                arxiv_id,
                utcnow(),
                _json(config),
                artifacts_dir,
                code_version,
                device,
                config_path,
                from_run,
            ],
        )
        assert cur.lastrowid is not None
        return cur.lastrowid


def finish_repro_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    status: str,
    duration_s: float,
    metrics: dict[str, Any] | None = None,
    headline: str | None = None,
    config: dict[str, Any] | None = None,
    arxiv_id: str | None = None,
    device: str | None = None,
    error: str | None = None,
    weights_path: str | None = None,
) -> None:
    """Close a run: status ok | failed | interrupted. Values given as None keep what is there."""
    with db.atomic():
        db.execute(
            """UPDATE repro_runs SET finished_at = ?, duration_s = ?, status = ?,
                   metrics = COALESCE(?, metrics), headline_metric = COALESCE(?, headline_metric),
                   config = COALESCE(?, config), arxiv_id = COALESCE(?, arxiv_id),
                   device = COALESCE(?, device), error = ?,
                   weights_path = COALESCE(?, weights_path)
               WHERE id = ?""",
            [
                utcnow(),
                round(duration_s, 3),
                status,
                None if metrics is None else _json(metrics),
                headline,
                None if config is None else _json(config),
                arxiv_id,
                device,
                error,
                weights_path,
                run_id,
            ],
        )


def repro_runs(
    db: sqlite_utils.Database,
    *,
    reproduction: str | None = None,
    arxiv_id: str | None = None,
    limit: int | None = None,
) -> list[ReproRun]:
    """Runs, newest first; config and metrics decoded."""
    where, params = [], []
    if reproduction:
        where.append("reproduction = ?")
        params.append(reproduction)
    if arxiv_id:
        where.append("arxiv_id = ?")
        params.append(arxiv_id)
    sql = "SELECT * FROM repro_runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_decode(r) for r in db.query(sql, params)]


def repro_run(db: sqlite_utils.Database, run_id: int) -> ReproRun | None:
    """One run by its id, config and metrics decoded; None when there is none."""
    rows = list(db.query("SELECT * FROM repro_runs WHERE id = ?", [run_id]))
    return _decode(rows[0]) if rows else None


def latest_repro_runs(db: sqlite_utils.Database) -> dict[str, dict[str, ReproRun]]:
    """Per reproduction: its latest real run ("run") and latest dry run ("dry_run")."""
    out: dict[str, dict[str, ReproRun]] = {}
    rows = db.query(
        """SELECT * FROM repro_runs WHERE id IN (
               SELECT MAX(id) FROM repro_runs
               GROUP BY reproduction, COALESCE(json_extract(config, '$.dry_run'), 0))"""
    )
    for row in rows:
        run = _decode(row)
        kind = "dry_run" if run["config"].get("dry_run") else "run"
        out.setdefault(run["reproduction"], {})[kind] = run
    return out


def reproductions_for_paper(
    db: sqlite_utils.Database, arxiv_id: str | None, *, runs: int = 5
) -> list[ReproductionLink]:
    """The reproductions implementing a paper, each with its latest `runs` runs (newest
    first) and how many it has had (for `papertrail show`)."""
    if not arxiv_id:
        return []
    rows = db.query(
        """SELECT r.* FROM reproductions r JOIN reproduction_papers p ON p.reproduction = r.name
           WHERE p.arxiv_id = ? ORDER BY r.name""",
        [arxiv_id],
    )
    out = []
    for row in rows:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM repro_runs WHERE reproduction = ?", [row["name"]]
        ).fetchone()
        recent = repro_runs(db, reproduction=row["name"], limit=runs)
        out.append(cast(ReproductionLink, {**row, "runs": recent, "run_count": count}))
    return out


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _decode(row: dict[str, Any]) -> ReproRun:
    row = dict(row)
    for key in ("config", "metrics"):
        row[key] = json.loads(row[key] or "{}")
    return cast(ReproRun, row)
