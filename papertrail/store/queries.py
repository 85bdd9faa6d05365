"""Reading and small updates: sources, fetch runs, entries for the digest."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypedDict, cast

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.config import Config


from papertrail.models import PSEUDO_SOURCES, Entry
from papertrail.store.codelinks import ENTRY_CODE_LINKS_SQL, decode_entry_links
from papertrail.store.names import BadInput
from papertrail.store.schema import utcnow

# ------------------------------------------------------------------- sources


def sync_sources(db: sqlite_utils.Database, config: Config) -> None:
    """Make the `sources` table reflect feeds.yml: new rows, changed URLs reset
    their conditional-GET state; sources removed from the file keep their
    history but are marked `in_config = 0`."""
    settings = config.settings
    with db.atomic():
        db.execute("UPDATE sources SET in_config = 0")
        for source in config.sources:
            url = source.fetch_url(settings)
            row = db.execute(
                "SELECT kind, config_url FROM sources WHERE name = ?", [source.name]
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO sources (name, kind, config_url, fetch_url, in_config) VALUES (?, ?, ?, ?, 1)",
                    [source.name, source.kind, url, url],
                )
            elif row[0] != source.kind or row[1] != url:
                db.execute(
                    """UPDATE sources SET kind = ?, config_url = ?, fetch_url = ?, etag = NULL,
                       last_modified = NULL, in_config = 1 WHERE name = ?""",
                    [source.kind, url, url, source.name],
                )
            else:
                db.execute("UPDATE sources SET in_config = 1 WHERE name = ?", [source.name])


class SourceState(TypedDict, total=False):
    """A row of `sources`: a source's fetch state (see the module docstring of `store`)."""

    name: str
    kind: str
    config_url: str | None
    fetch_url: str | None
    etag: str | None
    last_modified: str | None
    in_config: int | bool
    last_fetch_at: str | None
    last_success_at: str | None
    last_status: str | None
    last_http_status: int | None
    last_error: str | None
    consecutive_failures: int
    paused: int
    paused_at: str | None
    entries: int  # `list_sources` only: entries this source surfaced


def source_state(db: sqlite_utils.Database, name: str) -> SourceState | None:
    rows = list(db.query("SELECT * FROM sources WHERE name = ?", [name]))
    return cast(SourceState, rows[0]) if rows else None


def list_sources(db: sqlite_utils.Database) -> list[SourceState]:
    """Every source with its fetch state and how many entries it surfaced."""
    sql = """
        SELECT s.*, (SELECT COUNT(*) FROM provenance p WHERE p.source = s.name) AS entries
        FROM sources s ORDER BY s.in_config DESC, s.name
    """
    return [cast(SourceState, row) for row in db.query(sql)]


def enable_source(db: sqlite_utils.Database, name: str) -> bool:
    """Un-pause a source paused after repeated failures. False if there is no such source."""
    with db.atomic():
        cur = db.execute(
            "UPDATE sources SET paused = 0, paused_at = NULL, consecutive_failures = 0 WHERE name = ?",
            [name],
        )
    return cur.rowcount > 0


# ---------------------------------------------------------------------- runs


def start_run(db: sqlite_utils.Database) -> int:
    with db.atomic():
        # A run still marked running was killed: say so, so the log is honest.
        db.execute("UPDATE fetch_runs SET status = 'interrupted' WHERE status = 'running'")
        cur = db.execute("INSERT INTO fetch_runs (started_at) VALUES (?)", [utcnow()])
    assert cur.lastrowid is not None
    return cur.lastrowid


def finish_run(db: sqlite_utils.Database, run_id: int, counts: dict[str, int]) -> None:
    cols = (
        "sources_ok",
        "sources_failed",
        "sources_not_modified",
        "sources_skipped",
        "new_papers",
        "new_posts",
        "updated_versions",
    )
    with db.atomic():
        db.execute(
            "UPDATE fetch_runs SET status = 'done', finished_at = ?, "
            + ", ".join(f"{c} = ?" for c in cols)
            + " WHERE id = ?",
            [utcnow(), *(int(counts.get(c, 0)) for c in cols), run_id],
        )


def previous_completed_run(db: sqlite_utils.Database, before: int) -> int:
    """The id of the last completed run before `before` (0 when none)."""
    row = db.execute(
        "SELECT MAX(id) FROM fetch_runs WHERE status = 'done' AND id < ?", [before]
    ).fetchone()
    return int(row[0] or 0)


# ------------------------------------------------------------------- reading

# Provenance names that are not feeds never count as "mentioned by a source".
_PSEUDO_SQL = "(" + ", ".join(f"'{s}'" for s in PSEUDO_SOURCES) + ")"

_ENTRY_SELECT = """
SELECT e.id, e.kind, e.title, e.url, e.arxiv_id, e.version, e.previous_version, e.authors,
       e.summary, e.categories, e.primary_category, e.published, e.updated, e.doi,
       e.journal_ref, e.comment, e.links, e.first_seen, e.last_seen, e.version_updated_at,
       e.starred_at, e.read_at, e.dismissed_at, e.score, e.hidden_by,
       (SELECT json_group_array(domain) FROM
           (SELECT domain FROM entry_domains d WHERE d.entry_id = e.id ORDER BY rank, domain)) AS domains,
       (SELECT json_group_array(source) FROM
           (SELECT source FROM provenance p WHERE p.entry_id = e.id ORDER BY first_seen, source)) AS sources,
       (SELECT json_group_array(tag) FROM
           (SELECT tag FROM entry_tags t WHERE t.entry_id = e.id ORDER BY tag)) AS tags,
       (SELECT COUNT(DISTINCT src) FROM (
            SELECT p.source AS src FROM provenance p WHERE p.entry_id = e.id
                AND p.source NOT IN {PSEUDO}
            UNION SELECT m_post.source FROM mentions m JOIN entries m_post ON m_post.id = m.post_id
            WHERE e.arxiv_id IS NOT NULL AND m.arxiv_id = e.arxiv_id)) AS mentioned_by,
       {CODE_LINKS}
FROM entries e
""".replace("{PSEUDO}", _PSEUDO_SQL).replace("{CODE_LINKS}", ENTRY_CODE_LINKS_SQL)


def _entry_row(row: dict[str, Any]) -> Entry:
    for col in ("authors", "categories", "domains", "sources", "tags"):
        row[col] = json.loads(row[col]) if row.get(col) else []
    row["links"] = json.loads(row["links"]) if row.get("links") else {}
    row["code_links"] = decode_entry_links(row.get("code_links"))
    row["starred"] = bool(row.pop("starred_at", None))
    row["read"] = bool(row.pop("read_at", None))
    row["dismissed"] = row.get("dismissed_at") is not None
    return cast(Entry, row)


def query_entries(db: sqlite_utils.Database, where: str, params: Sequence[Any] = ()) -> list[Entry]:
    # `+e.kind`: sorting on the kind index would walk the whole table; the WHERE
    # clause's own index (a first_seen window, a run) is the one to use.
    sql = f"{_ENTRY_SELECT} WHERE {where} ORDER BY +e.kind, COALESCE(e.published, e.first_seen) DESC, e.id DESC"
    return [_entry_row(r) for r in db.query(sql, list(params))]


def entries_since_run(db: sqlite_utils.Database, after_run: int) -> list[Entry]:
    """Entries first seen in a run after `after_run` (what is new since the previous fetch)."""
    return query_entries(db, "e.first_seen_run > ?", [after_run])


def _window(column: str, since: str, until: str | None) -> tuple[str, list[str]]:
    # IS NOT NULL lets SQLite use a partial index (version_updated_at's).
    if until:
        return f"{column} IS NOT NULL AND {column} >= ? AND {column} < ?", [since, until]
    return f"{column} IS NOT NULL AND {column} >= ?", [since]


def entries_between(db: sqlite_utils.Database, since: str, until: str | None = None) -> list[Entry]:
    return query_entries(db, *_window("e.first_seen", since, until))


def starred_updates_since_run(db: sqlite_utils.Database, after_run: int) -> list[Entry]:
    return query_entries(db, "e.starred_at IS NOT NULL AND e.version_updated_run > ?", [after_run])


def starred_updates_between(
    db: sqlite_utils.Database, since: str, until: str | None = None
) -> list[Entry]:
    where, params = _window("e.version_updated_at", since, until)
    return query_entries(db, f"e.starred_at IS NOT NULL AND {where}", params)


def count_entries(db: sqlite_utils.Database) -> dict[str, int]:
    return {kind: n for kind, n in db.execute("SELECT kind, COUNT(*) FROM entries GROUP BY kind")}


def fetch_log(
    db: sqlite_utils.Database, run_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    if run_id is not None:
        return list(db.query("SELECT * FROM fetch_log WHERE run_id = ? ORDER BY id", [run_id]))
    return list(db.query("SELECT * FROM fetch_log ORDER BY id DESC LIMIT ?", [limit]))


def iter_duplicate_keys(db: sqlite_utils.Database) -> Iterator[tuple[str, int]]:
    """Sanity check used by tests and `doctor`-style checks: natural keys stored twice (never expected)."""
    yield from db.execute("SELECT key, COUNT(*) FROM entries GROUP BY key HAVING COUNT(*) > 1")


def parse_since(value: str, now: datetime | None = None) -> str:
    """'24h', '7d', '90m', '2w' or 'YYYY-MM-DD' (or full ISO) -> ISO 8601 UTC lower bound.
    Raises BadInput (bad usage) for anything else, or a duration reaching before year 1."""
    now = now or datetime.now(timezone.utc)
    v = value.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if v and v[-1] in units and v[:-1].isdigit():
        try:
            start = now - timedelta(**{units[v[-1]]: int(v[:-1])})
        except (OverflowError, ValueError):
            raise BadInput(
                f"--since {value!r} reaches back before the year 1: use a shorter duration "
                "(365d, 52w) or a date like 1990-01-01"
            ) from None
        return start.isoformat(timespec="seconds")
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(
            f"cannot read --since {value!r}: use a duration like 24h, 7d, 2w or a date like 2026-11-01"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc).isoformat(timespec="seconds")
    except OverflowError:
        raise BadInput(f"--since {value!r} is out of range: use a date like 1990-01-01") from None
