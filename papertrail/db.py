"""The reading list on disk: the one module that owns SQL.

Schema (created by the migrations at the bottom, each run once and recorded
in `_migrations`):

- `sources`      one row per source name: kind, the URL from feeds.yml
                 (`config_url`) and the URL actually fetched (`fetch_url`,
                 updated by permanent redirects), conditional-GET state
                 (etag, last_modified), last status, consecutive failures and
                 whether the source is paused after too many of them.
- `entries`      papers and posts. `key` is the natural key: papers are
                 `arxiv:<version-less id>`; posts are keyed per source by
                 guid -> canonical URL -> content hash
                 (`post:<source>:<guid|url|sha1>`). The integer `id` is the
                 short id users type.
- `entry_versions` every arXiv version seen of a paper, when, and from where.
- `provenance`   which sources surfaced each entry, first and last seen.
- `entry_domains` domain tags (origin: `rule` from feeds.yml, or `source`
                 from a source's tags); `rank` 0 is the primary domain.
- `entry_tags`   free tags (from a source's `tags`; users add theirs later).
- `mentions`     arXiv papers linked from posts.
- `fetch_runs` / `fetch_log`  one row per run, one row per source per run.
- `entries_fts`  FTS5 over title and summary, kept in sync by triggers.

Every write happens inside `Database.atomic()` so a killed process leaves
each source either fully saved or untouched.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from papertrail.models import ANNOUNCE_REPLACE, Record

if TYPE_CHECKING:
    from papertrail.config import Config

SCHEMA_VERSION_TABLE = "_migrations"


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the reading list and bring its schema up to date."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path, execute_plugins=False)
    # WAL: Datasette (or a second reader) can browse while a fetch writes.
    db.conn.execute("PRAGMA busy_timeout = 10000")
    if db.journal_mode != "wal":
        db.enable_wal()
    db.conn.execute(
        "PRAGMA synchronous = NORMAL"
    )  # safe with WAL: a crash loses at most the last commit
    db.conn.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db


# ---------------------------------------------------------------- migrations


def _m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            config_url TEXT,
            fetch_url TEXT,
            etag TEXT,
            last_modified TEXT,
            in_config INTEGER NOT NULL DEFAULT 1,
            last_fetch_at TEXT,
            last_success_at TEXT,
            last_status TEXT,
            last_http_status INTEGER,
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            paused INTEGER NOT NULL DEFAULT 0,
            paused_at TEXT
        );
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('paper', 'post')),
            arxiv_id TEXT UNIQUE,
            version INTEGER,
            title TEXT NOT NULL,
            authors TEXT NOT NULL DEFAULT '[]',
            summary TEXT NOT NULL DEFAULT '',
            url TEXT,
            categories TEXT NOT NULL DEFAULT '[]',
            primary_category TEXT,
            published TEXT,
            updated TEXT,
            doi TEXT,
            journal_ref TEXT,
            comment TEXT,
            links TEXT NOT NULL DEFAULT '{}',
            source TEXT,
            guid TEXT,
            content_hash TEXT,
            first_seen TEXT NOT NULL,
            first_seen_run INTEGER,
            last_seen TEXT NOT NULL,
            previous_version INTEGER,
            version_updated_at TEXT,
            version_updated_run INTEGER,
            read_at TEXT,
            starred_at TEXT
        );
        CREATE INDEX idx_entries_first_seen ON entries(first_seen);
        CREATE INDEX idx_entries_first_seen_run ON entries(first_seen_run);
        CREATE INDEX idx_entries_version_updated_run ON entries(version_updated_run);
        CREATE INDEX idx_entries_kind ON entries(kind);
        CREATE TABLE entry_versions (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            source TEXT,
            PRIMARY KEY (entry_id, version)
        );
        CREATE TABLE provenance (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            announce_type TEXT,
            run_id INTEGER,
            PRIMARY KEY (entry_id, source)
        );
        CREATE INDEX idx_provenance_source ON provenance(source);
        CREATE TABLE entry_domains (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            domain TEXT NOT NULL,
            rank INTEGER NOT NULL DEFAULT 0,
            origin TEXT NOT NULL DEFAULT 'rule',
            PRIMARY KEY (entry_id, domain)
        );
        CREATE INDEX idx_entry_domains_domain ON entry_domains(domain);
        CREATE TABLE entry_tags (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT 'user',
            created_at TEXT NOT NULL,
            PRIMARY KEY (entry_id, tag)
        );
        CREATE INDEX idx_entry_tags_tag ON entry_tags(tag);
        CREATE TABLE mentions (
            post_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            arxiv_id TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (post_id, arxiv_id)
        );
        CREATE INDEX idx_mentions_arxiv_id ON mentions(arxiv_id);
        CREATE TABLE fetch_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            sources_ok INTEGER NOT NULL DEFAULT 0,
            sources_failed INTEGER NOT NULL DEFAULT 0,
            sources_not_modified INTEGER NOT NULL DEFAULT 0,
            sources_skipped INTEGER NOT NULL DEFAULT 0,
            new_papers INTEGER NOT NULL DEFAULT 0,
            new_posts INTEGER NOT NULL DEFAULT 0,
            updated_versions INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE fetch_log (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES fetch_runs(id),
            source TEXT NOT NULL,
            url TEXT,
            started_at TEXT NOT NULL,
            duration_ms INTEGER,
            status TEXT NOT NULL,
            http_status INTEGER,
            bytes INTEGER NOT NULL DEFAULT 0,
            entries_seen INTEGER NOT NULL DEFAULT 0,
            new_count INTEGER NOT NULL DEFAULT 0,
            updated_count INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            warnings TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX idx_fetch_log_source ON fetch_log(source, id);
        CREATE INDEX idx_fetch_log_run ON fetch_log(run_id);
        """
    )
    db["entries"].enable_fts(
        ["title", "summary"], fts_version="FTS5", create_triggers=True, tokenize="porter unicode61"
    )
    # New rows are indexed in bulk by EntryWriter.save (one INSERT ... SELECT per
    # source, 3x faster than a trigger per row); deletes keep sqlite-utils'
    # trigger, updates a narrower one. Only db.py inserts entries.
    db.execute("DROP TRIGGER entries_ai")
    # Re-index only when the indexed text changes, not on every last_seen bump.
    db.executescript(
        """
        DROP TRIGGER entries_au;
        CREATE TRIGGER entries_au AFTER UPDATE OF title, summary ON entries BEGIN
          INSERT INTO entries_fts (entries_fts, rowid, title, summary)
            VALUES ('delete', old.rowid, old.title, old.summary);
          INSERT INTO entries_fts (rowid, title, summary) VALUES (new.rowid, new.title, new.summary);
        END;
        """
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m001_initial]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply migrations not yet recorded; each in its own transaction. Returns the names applied."""
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {r[0] for r in db.execute(f"SELECT name FROM {SCHEMA_VERSION_TABLE}")}
    applied = []
    for migration in MIGRATIONS:
        name = migration.__name__.lstrip("_")
        if name in done:
            continue
        with db.atomic():
            migration(db)
            db.execute(
                f"INSERT INTO {SCHEMA_VERSION_TABLE} (name, applied_at) VALUES (?, ?)",
                [name, utcnow()],
            )
        applied.append(name)
    return applied


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


def source_state(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM sources WHERE name = ?", [name]))
    return rows[0] if rows else None


def list_sources(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every source with its last fetch, newest-first log row folded in."""
    return list(
        db.query(
            """
            SELECT s.*,
                   (SELECT COUNT(*) FROM provenance p WHERE p.source = s.name) AS entries
            FROM sources s ORDER BY s.in_config DESC, s.name
            """
        )
    )


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
    return int(cur.lastrowid)


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


# ---------------------------------------------------------------- saving


@dataclass
class SaveStats:
    seen: int = 0
    new_papers: int = 0
    new_posts: int = 0
    updated_versions: int = 0
    skipped_replacements: int = 0  # new versions of papers not in the reading list

    @property
    def new(self) -> int:
        return self.new_papers + self.new_posts


@dataclass
class SourceOutcome:
    """What happened when fetching one source, for the source row and the fetch log."""

    source: str
    status: str  # ok | not-modified | error | skipped
    url: str | None = None
    http_status: int | None = None
    bytes: int = 0
    duration_ms: int = 0
    error: str | None = None
    warnings: Sequence[str] = ()
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    started_at: str | None = None


def post_key(source: str, record: Record) -> str:
    """Posts are keyed per source by guid, else canonical URL, else a hash of their content."""
    from papertrail.ids import canonical_url

    if record.guid:
        ident = record.guid.strip()
    elif record.url:
        ident = canonical_url(record.url)
    else:
        ident = "sha1:" + content_hash(record)
    return f"post:{source}:{ident}"


def content_hash(record: Record) -> str:
    return hashlib.sha1(f"{record.title}\x00{record.summary}".encode()).hexdigest()


def paper_key(arxiv_id: str) -> str:
    return f"arxiv:{arxiv_id}"


_ENTRY_COLUMNS = (
    "key",
    "kind",
    "arxiv_id",
    "version",
    "title",
    "authors",
    "summary",
    "url",
    "categories",
    "primary_category",
    "published",
    "updated",
    "doi",
    "journal_ref",
    "comment",
    "links",
    "source",
    "guid",
    "content_hash",
    "first_seen",
    "first_seen_run",
    "last_seen",
)
_INSERT_ENTRY = f"INSERT INTO entries ({', '.join(_ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(_ENTRY_COLUMNS))})"
_UPSERT_PROVENANCE = """
INSERT INTO provenance (entry_id, source, first_seen, last_seen, announce_type, run_id)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (entry_id, source) DO UPDATE SET last_seen = excluded.last_seen,
    announce_type = COALESCE(excluded.announce_type, provenance.announce_type)
"""
# Metadata refreshed when a newer version (or the same version from a richer
# source, e.g. the API after the RSS feed) arrives. COALESCE keeps what we had
# when the newcomer lacks a field.
_UPDATE_PAPER = """
UPDATE entries SET
    authors = ?, url = COALESCE(?, url), categories = CASE WHEN ? != '[]' THEN ? ELSE categories END,
    primary_category = COALESCE(?, primary_category), published = COALESCE(published, ?),
    updated = COALESCE(?, updated), doi = COALESCE(?, doi), journal_ref = COALESCE(?, journal_ref),
    comment = COALESCE(?, comment), links = CASE WHEN ? != '{}' THEN ? ELSE links END,
    last_seen = ?
WHERE id = ?
"""
# Title and summary only when they really change: naming them in an UPDATE fires
# the full-text trigger (UPDATE OF title, summary) even for equal values.
_UPDATE_TEXT = """
UPDATE entries SET title = ?, summary = CASE WHEN ? != '' THEN ? ELSE summary END
WHERE id = ? AND (title IS NOT ? OR (? != '' AND summary IS NOT ?))
"""


# One encoder for every row: json.dumps(..., separators=...) builds a new
# encoder per call, which was ~10 % of the save path.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    return _encode(value)


class EntryWriter:
    """Saves records inside the caller's transaction. Keeps no state between sources."""

    def __init__(
        self, db: sqlite_utils.Database, tagger: Any, run_id: int | None, now: str | None = None
    ):
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.tagger = tagger
        self.run_id = run_id
        self.now = now or utcnow()

    def save(
        self, source: str, records: Iterable[Record], source_tags: Sequence[str] = ()
    ) -> SaveStats:
        """Upsert one source's records. Hot path of every fetch (and the 50k-entry
        ingest benchmark): new rows go in with executemany, and the full-text
        index is filled with one INSERT ... SELECT rather than a per-row trigger."""
        stats = SaveStats()
        records = list(records)
        keys = [
            paper_key(r.arxiv_id) if r.kind == "paper" and r.arxiv_id else post_key(source, r)
            for r in records
        ]
        existing = self._lookup(keys)
        new: dict[str, Record] = {}
        kept: list[tuple[str, Record]] = []
        for record, key in zip(records, keys, strict=True):
            stats.seen += 1
            found = existing.get(key)
            if found is not None:
                entry_id, old_version = found
                if self._update(entry_id, record, old_version):
                    stats.updated_versions += 1
                    existing[key] = (entry_id, record.version)
            elif key in new:
                continue  # the same item twice in one document: keep the first
            elif record.kind == "paper" and record.announce_type in ANNOUNCE_REPLACE:
                # A new version of a paper we never had: arXiv's daily feed lists
                # these for old papers; they are not news to the reader.
                stats.skipped_replacements += 1
                continue
            else:
                new[key] = record
                if record.kind == "paper":
                    stats.new_papers += 1
                else:
                    stats.new_posts += 1
            kept.append((key, record))

        if new:
            (max_before,) = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()
            self.conn.executemany(_INSERT_ENTRY, [self._row(source, k, r) for k, r in new.items()])
            self.conn.execute(
                "INSERT INTO entries_fts (rowid, title, summary) SELECT id, title, summary FROM entries WHERE id > ?",
                [max_before],
            )
            existing.update(self._lookup(list(new)))
            self._tag_new([(existing[k][0], r) for k, r in new.items()], source_tags)

        provenance, versions, mentions = [], [], []
        for key, r in kept:
            entry_id = existing[key][0]
            provenance.append((entry_id, source, self.now, self.now, r.announce_type, self.run_id))
            if r.kind == "paper" and r.version is not None:
                versions.append((entry_id, r.version, self.now, source))
            if r.kind == "post":
                mentions += [(entry_id, arxiv_id, self.now) for arxiv_id in r.mentions]
        self.conn.executemany(_UPSERT_PROVENANCE, provenance)
        self.conn.executemany(
            "INSERT OR IGNORE INTO entry_versions (entry_id, version, first_seen, source) VALUES (?, ?, ?, ?)",
            versions,
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO mentions (post_id, arxiv_id, first_seen) VALUES (?, ?, ?)",
            mentions,
        )
        return stats

    def _tag_new(self, entries: list[tuple[int, Record]], source_tags: Sequence[str]) -> None:
        domain_names = set(getattr(self.tagger, "domain_names", ()) or ())
        source_domains = [t for t in source_tags if t in domain_names]
        rows = []
        for entry_id, r in entries:
            domains = self.tagger.tag(r)
            rows += [(entry_id, d, rank, "rule") for rank, d in enumerate(domains)]
            rows += [
                (entry_id, d, len(domains) + i, "source")
                for i, d in enumerate(source_domains)
                if d not in domains
            ]
        self.conn.executemany(
            "INSERT OR IGNORE INTO entry_domains (entry_id, domain, rank, origin) VALUES (?, ?, ?, ?)",
            rows,
        )
        if source_tags:
            self.conn.executemany(
                "INSERT OR IGNORE INTO entry_tags (entry_id, tag, origin, created_at) VALUES (?, ?, 'source', ?)",
                [(entry_id, t, self.now) for entry_id, _ in entries for t in source_tags],
            )

    def _lookup(self, keys: list[str]) -> dict[str, tuple[int, int | None]]:
        found: dict[str, tuple[int, int | None]] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            sql = (
                f"SELECT key, id, version FROM entries WHERE key IN ({', '.join('?' * len(chunk))})"
            )
            for key, entry_id, version in self.conn.execute(sql, chunk):
                found[key] = (entry_id, version)
        return found

    def _row(self, source: str, key: str, r: Record) -> list[Any]:
        is_post = r.kind == "post"
        return [
            key,
            r.kind,
            None if is_post else r.arxiv_id,
            r.version,
            r.title,
            _dumps(r.authors),
            r.summary,
            r.url,
            _dumps(r.categories),
            r.primary_category,
            r.published,
            r.updated,
            r.doi,
            r.journal_ref,
            r.comment,
            _dumps(r.links),
            source if is_post else None,
            r.guid,
            content_hash(r) if is_post else None,
            self.now,
            self.run_id,
            self.now,
        ]

    def _update(self, entry_id: int, r: Record, old_version: int | None) -> bool:
        """Refresh an existing entry. True when it moved to a newer arXiv version."""
        if r.kind == "post":
            self.conn.execute("UPDATE entries SET last_seen = ? WHERE id = ?", [self.now, entry_id])
            return False
        newer = r.version is not None and (old_version is None or r.version > old_version)
        older = r.version is not None and old_version is not None and r.version < old_version
        if older:
            # An out-of-date listing (e.g. an API result cached upstream): keep ours.
            self.conn.execute("UPDATE entries SET last_seen = ? WHERE id = ?", [self.now, entry_id])
            return False
        authors, cats, links = _dumps(r.authors), _dumps(r.categories), _dumps(r.links)
        self.conn.execute(
            _UPDATE_PAPER,
            [authors, r.url, cats, cats, r.primary_category, r.published, r.updated, r.doi,
             r.journal_ref, r.comment, links, links, self.now, entry_id],
        )  # fmt: skip
        self.conn.execute(
            _UPDATE_TEXT,
            [r.title, r.summary, r.summary, entry_id, r.title, r.summary, r.summary],
        )
        if newer and old_version is not None:
            self.conn.execute(
                """UPDATE entries SET version = ?, previous_version = ?, version_updated_at = ?,
                   version_updated_run = ? WHERE id = ?""",
                [r.version, old_version, self.now, self.run_id, entry_id],
            )
            self._tag(entry_id, r, ())
            return True
        if newer:  # we had no version number before; not news
            self.conn.execute("UPDATE entries SET version = ? WHERE id = ?", [r.version, entry_id])
        return False

    def _tag(self, entry_id: int, r: Record, source_tags: Sequence[str]) -> None:
        domains = self.tagger.tag(r)
        domain_names = set(getattr(self.tagger, "domain_names", ()) or ())
        extra = [t for t in source_tags if t in domain_names and t not in domains]
        # Rule-made domains are recomputed; anything a person (or a source) set is kept.
        self.conn.execute(
            "DELETE FROM entry_domains WHERE entry_id = ? AND origin = 'rule'", [entry_id]
        )
        taken = {
            row[0]
            for row in self.conn.execute(
                "SELECT domain FROM entry_domains WHERE entry_id = ?", [entry_id]
            )
        }
        rows = [(entry_id, d, rank, "rule") for rank, d in enumerate(domains) if d not in taken]
        rows += [
            (entry_id, d, len(domains) + i, "source") for i, d in enumerate(extra) if d not in taken
        ]
        self.conn.executemany(
            "INSERT OR IGNORE INTO entry_domains (entry_id, domain, rank, origin) VALUES (?, ?, ?, ?)",
            rows,
        )
        if source_tags:
            self.conn.executemany(
                "INSERT OR IGNORE INTO entry_tags (entry_id, tag, origin, created_at) VALUES (?, ?, 'source', ?)",
                [(entry_id, t, self.now) for t in source_tags],
            )


def save_source_result(
    db: sqlite_utils.Database,
    *,
    run_id: int,
    outcome: SourceOutcome,
    records: Sequence[Record] = (),
    tagger: Any = None,
    source_tags: Sequence[str] = (),
    max_failures: int = 5,
) -> SaveStats:
    """Save one source's entries, its fetch state and its log row in ONE transaction."""
    now = utcnow()
    stats = SaveStats()
    with db.atomic():
        if records:  # a failed source may still carry what it got before failing
            stats = EntryWriter(db, tagger, run_id, now).save(outcome.source, records, source_tags)
        _record_outcome(db, run_id, outcome, stats, now, max_failures)
    return stats


def _record_outcome(
    db: sqlite_utils.Database,
    run_id: int,
    o: SourceOutcome,
    stats: SaveStats,
    now: str,
    max_failures: int,
) -> None:
    conn = db.conn
    warnings = list(o.warnings)
    if stats.skipped_replacements:
        warnings.append(
            f"{stats.skipped_replacements} new version(s) of papers not in the reading list were not added"
        )
    conn.execute(
        """INSERT INTO fetch_log (run_id, source, url, started_at, duration_ms, status, http_status,
               bytes, entries_seen, new_count, updated_count, error, warnings)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            run_id,
            o.source,
            o.url,
            o.started_at or now,
            o.duration_ms,
            o.status,
            o.http_status,
            o.bytes,
            stats.seen,
            stats.new,
            stats.updated_versions,
            o.error,
            _dumps(warnings),
        ],
    )
    if o.status == "skipped":
        return
    if o.status in ("ok", "not-modified"):
        conn.execute(
            """UPDATE sources SET last_fetch_at = ?, last_success_at = ?, last_status = ?,
                   last_http_status = ?, last_error = NULL, consecutive_failures = 0,
                   etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
                   fetch_url = COALESCE(?, fetch_url)
               WHERE name = ?""",
            [now, now, o.status, o.http_status, o.etag, o.last_modified, o.permanent_url, o.source],
        )
    else:
        conn.execute(
            """UPDATE sources SET last_fetch_at = ?, last_status = ?, last_http_status = ?,
                   last_error = ?, consecutive_failures = consecutive_failures + 1
               WHERE name = ?""",
            [now, o.status, o.http_status, o.error, o.source],
        )
        conn.execute(
            """UPDATE sources SET paused = 1, paused_at = ?
               WHERE name = ? AND consecutive_failures >= ? AND paused = 0""",
            [now, o.source, max_failures],
        )


# ----------------------------------------------------------------- retagging


def retag_all(db: sqlite_utils.Database, tagger: Any, batch: int = 2000) -> int:
    """Re-apply the domain rules to every stored entry (keeps user/source domains)."""
    count = 0
    writer = EntryWriter(db, tagger, None)
    last_id = 0
    while True:
        rows = db.execute(
            "SELECT id, kind, title, summary, categories, primary_category FROM entries WHERE id > ? ORDER BY id LIMIT ?",
            [last_id, batch],
        ).fetchall()
        if not rows:
            break
        with db.atomic():
            for entry_id, kind, title, summary, categories, primary in rows:
                record = Record(
                    kind=kind,
                    title=title,
                    summary=summary,
                    categories=json.loads(categories),
                    primary_category=primary,
                )
                writer._tag(entry_id, record, ())
                count += 1
        last_id = rows[-1][0]
    return count


# ------------------------------------------------------------------- reading

_ENTRY_SELECT = """
SELECT e.id, e.kind, e.title, e.url, e.arxiv_id, e.version, e.previous_version, e.authors,
       e.summary, e.categories, e.primary_category, e.published, e.updated, e.doi,
       e.journal_ref, e.comment, e.links, e.first_seen, e.last_seen, e.version_updated_at,
       e.starred_at, e.read_at,
       (SELECT json_group_array(domain) FROM
           (SELECT domain FROM entry_domains d WHERE d.entry_id = e.id ORDER BY rank, domain)) AS domains,
       (SELECT json_group_array(source) FROM
           (SELECT source FROM provenance p WHERE p.entry_id = e.id ORDER BY first_seen, source)) AS sources,
       (SELECT json_group_array(tag) FROM
           (SELECT tag FROM entry_tags t WHERE t.entry_id = e.id ORDER BY tag)) AS tags,
       (SELECT COUNT(DISTINCT src) FROM (
            SELECT p.source AS src FROM provenance p WHERE p.entry_id = e.id
            UNION SELECT m_post.source FROM mentions m JOIN entries m_post ON m_post.id = m.post_id
            WHERE e.arxiv_id IS NOT NULL AND m.arxiv_id = e.arxiv_id)) AS mentioned_by
FROM entries e
"""


def _entry_row(row: dict[str, Any]) -> dict[str, Any]:
    for col in ("authors", "categories", "domains", "sources", "tags"):
        row[col] = json.loads(row[col]) if row.get(col) else []
    row["links"] = json.loads(row["links"]) if row.get("links") else {}
    row["starred"] = bool(row.pop("starred_at", None))
    row["read"] = bool(row.pop("read_at", None))
    return row


def query_entries(
    db: sqlite_utils.Database, where: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    sql = f"{_ENTRY_SELECT} WHERE {where} ORDER BY e.kind, COALESCE(e.published, e.first_seen) DESC, e.id DESC"
    return [_entry_row(r) for r in db.query(sql, list(params))]


def entries_since_run(db: sqlite_utils.Database, after_run: int) -> list[dict[str, Any]]:
    """Entries first seen in a run after `after_run` (what is new since the previous fetch)."""
    return query_entries(db, "e.first_seen_run > ?", [after_run])


def _window(column: str, since: str, until: str | None) -> tuple[str, list[str]]:
    if until:
        return f"{column} >= ? AND {column} < ?", [since, until]
    return f"{column} >= ?", [since]


def entries_between(
    db: sqlite_utils.Database, since: str, until: str | None = None
) -> list[dict[str, Any]]:
    return query_entries(db, *_window("e.first_seen", since, until))


def starred_updates_since_run(db: sqlite_utils.Database, after_run: int) -> list[dict[str, Any]]:
    return query_entries(db, "e.starred_at IS NOT NULL AND e.version_updated_run > ?", [after_run])


def starred_updates_between(
    db: sqlite_utils.Database, since: str, until: str | None = None
) -> list[dict[str, Any]]:
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
    """'24h', '7d', '90m', '2w' or 'YYYY-MM-DD' (or full ISO) -> ISO 8601 UTC lower bound."""
    now = now or datetime.now(timezone.utc)
    v = value.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if v and v[-1] in units and v[:-1].isdigit():
        return (now - timedelta(**{units[v[-1]]: int(v[:-1])})).isoformat(timespec="seconds")
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"cannot read --since {value!r}: use a duration like 24h, 7d, 2w or a date like 2026-11-01"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")
