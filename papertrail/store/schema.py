"""Opening the database and bringing its schema up to date (migrations run once each)."""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail.models import BULK_SOURCES
from papertrail.store.lock import DatabaseLocked, is_busy, locked_message
from papertrail.store.post_match import url_key_rows

if TYPE_CHECKING:
    import sqlite_utils


SCHEMA_VERSION_TABLE = "_migrations"
DEFAULT_BUSY_TIMEOUT_S = 10.0
# Provenance rows that are not archive imports (the partial index of migration 008 and the
# browse queries it serves use this very predicate).
NOT_BULK = f"source NOT IN ({', '.join(repr(s) for s in BULK_SOURCES)})"


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class DatabaseError(Exception):
    """The reading-list file cannot be opened or is not a papertrail database."""


class DatabaseMissing(DatabaseError):
    """A reading command named a database file that does not exist (nothing was created)."""


def open_db(path: Path | str, *, create: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the reading list and bring its schema up to date.

    A new file appears whole: it is made and migrated under a temporary name, then
    linked into place, so a process killed meanwhile never leaves a file without
    its schema. `create=False` (the reading commands) raises DatabaseMissing
    instead of creating an empty reading list at a mistyped path.

    Raises DatabaseError, naming the file and what to do, when the directory
    cannot be created or the file is not an SQLite database."""
    import sqlite_utils  # heavy (~220 ms): `papertrail --help` must not pay for it

    path = Path(path)
    try:
        if not path.exists():
            if not create:
                raise DatabaseMissing(
                    f"no reading list at {path} — check --db / PAPERTRAIL_DB (nothing was "
                    "created); `papertrail fetch` or `papertrail add` creates one"
                )
            _create_whole(path)
        db = sqlite_utils.Database(path, execute_plugins=False)
        _configure(db)
        migrate(db)
    except OSError as e:
        raise DatabaseError(
            f"cannot create the database {path}: {e.strerror or e} — "
            "pass a writable location with --db or PAPERTRAIL_DB"
        ) from None
    except sqlite3.DatabaseError as e:
        if is_busy(e):
            raise DatabaseLocked(locked_message(path, busy_timeout_s())) from None
        raise DatabaseError(
            f"cannot open {path} as a papertrail database: {e} — "
            "is it another kind of file? Pass another location with --db or PAPERTRAIL_DB"
        ) from None
    return db


@contextmanager
def _write_transaction(
    db: sqlite_utils.Database,
    nested: Callable[[], AbstractContextManager[sqlite_utils.Database]],
) -> Iterator[sqlite_utils.Database]:
    """`Database.atomic()`, but an outermost transaction is BEGIN IMMEDIATE. sqlite-utils
    begins a deferred one: it reads first, and when another connection (another program,
    or the background rescore of papertrail.reading.refresh) commits before its first
    write, SQLite cannot upgrade it and fails at once with "database is locked" without
    waiting the busy timeout. Taking the write lock first makes it wait its turn."""
    if db.conn.in_transaction:  # a savepoint inside the caller's transaction
        with nested() as same:
            yield same
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        db.conn.rollback()
        raise


def _configure(db: sqlite_utils.Database) -> None:
    """Per-connection settings: wait for a busy file, WAL, synchronous, foreign keys,
    write transactions that take the write lock at once."""
    db.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s() * 1000)}")
    db.atomic = functools.partial(_write_transaction, db, db.atomic)  # type: ignore[method-assign]
    # WAL: Datasette (or a second reader) can browse while a fetch writes.
    if db.journal_mode != "wal":
        db.enable_wal()
    # Safe with WAL: a crash loses at most the last commit, never consistency.
    db.conn.execute("PRAGMA synchronous = NORMAL")
    db.conn.execute("PRAGMA foreign_keys = ON")


def busy_timeout_s() -> float:
    """How long a connection waits for another program's write lock before giving up
    (PAPERTRAIL_BUSY_TIMEOUT seconds, default 10)."""
    raw = os.environ.get("PAPERTRAIL_BUSY_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_BUSY_TIMEOUT_S
    except ValueError:
        value = DEFAULT_BUSY_TIMEOUT_S
    return min(max(value, 0.0), 3600.0)


def _create_whole(path: Path) -> None:
    """Make a new reading list at `path` atomically: schema first, then the name."""
    import sqlite_utils  # heavy: see open_db

    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.creating")
    try:
        db = sqlite_utils.Database(tmp, execute_plugins=False)
        try:
            _configure(db)
            migrate(db)
        finally:
            db.close()  # the last connection: SQLite checkpoints and removes the -wal file
        try:
            os.link(tmp, path)  # fails if another process created it meanwhile: theirs stays
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files of creations killed before they finished (their process is gone)."""
    for tmp in path.parent.glob(f".{path.name}.*.creating*"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def max_entry_id(db: sqlite_utils.Database) -> int:
    """The largest entry id: the size of the reading list, from the primary key alone."""
    (n,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()
    return int(n)


@contextmanager
def connected(path: Path | str, *, create: bool = True) -> Iterator[sqlite_utils.Database]:
    """`open_db`, closed again when the block ends. A write that waited the busy
    timeout for another program's lock becomes DatabaseLocked (what holds it, what to do)."""
    db = open_db(path, create=create)
    try:
        yield db
    except sqlite3.OperationalError as e:
        if is_busy(e):
            raise DatabaseLocked(locked_message(Path(path), busy_timeout_s())) from None
        raise
    finally:
        db.close()


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
    _install_entries_fts(db, ["title", "summary"])


def _install_entries_fts(db: sqlite_utils.Database, columns: list[str]) -> None:
    """FTS5 over `columns` of entries (external content), with the trigger set we want."""
    for trigger in ("entries_ai", "entries_ad", "entries_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.table("entries").enable_fts(
        columns, fts_version="FTS5", create_triggers=True, tokenize="porter unicode61", replace=True
    )
    # New rows are indexed in bulk by EntryWriter.save (one INSERT ... SELECT per
    # source, 3x faster than a trigger per row); deletes keep sqlite-utils'
    # trigger, updates a narrower one. Only db/writer.py inserts entries.
    db.execute("DROP TRIGGER IF EXISTS entries_ai")
    cols = ", ".join(columns)
    old = ", ".join(f"old.{c}" for c in columns)
    new = ", ".join(f"new.{c}" for c in columns)
    # Re-index only when the indexed text changes, not on every last_seen bump.
    db.executescript(
        f"""
        DROP TRIGGER IF EXISTS entries_au;
        CREATE TRIGGER entries_au AFTER UPDATE OF {cols} ON entries BEGIN
          INSERT INTO entries_fts (entries_fts, rowid, {cols}) VALUES ('delete', old.rowid, {old});
          INSERT INTO entries_fts (rowid, {cols}) VALUES (new.rowid, {new});
        END;
        """
    )


def _m002_reading_list(db: sqlite_utils.Database) -> None:
    """Notes (searchable), the ranking score and block-rule state."""
    db.executescript(
        """
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_notes_entry ON notes(entry_id);
        -- All of an entry's notes, newline-joined, so one FTS index ranks them with the text.
        ALTER TABLE entries ADD COLUMN notes_text TEXT NOT NULL DEFAULT '';
        -- The ranking score (papertrail.reading.rank) and the block rule hiding an entry, if any.
        ALTER TABLE entries ADD COLUMN score REAL NOT NULL DEFAULT 0;
        ALTER TABLE entries ADD COLUMN hidden_by TEXT;
        CREATE INDEX idx_entries_score ON entries(score);
        CREATE INDEX idx_entries_date ON entries(COALESCE(published, first_seen));
        CREATE INDEX idx_entries_starred_at ON entries(starred_at);
        """
    )
    _install_entries_fts(db, ["title", "summary", "notes_text"])
    db.table("entries").rebuild_fts()


def _m003_reproductions(db: sqlite_utils.Database) -> None:
    """Reproductions, the papers each one implements, and a row per run."""
    db.executescript(
        """
        CREATE TABLE reproductions (
            name TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            module TEXT NOT NULL,
            registered_at TEXT NOT NULL
        );
        CREATE TABLE reproduction_papers (
            reproduction TEXT NOT NULL REFERENCES reproductions(name) ON DELETE CASCADE,
            arxiv_id TEXT NOT NULL,
            PRIMARY KEY (reproduction, arxiv_id)
        );
        CREATE INDEX idx_reproduction_papers_arxiv ON reproduction_papers(arxiv_id);
        CREATE TABLE repro_runs (
            id INTEGER PRIMARY KEY,
            reproduction TEXT NOT NULL,
            arxiv_id TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            duration_s REAL,
            status TEXT NOT NULL DEFAULT 'running',
            config TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            headline_metric TEXT,
            artifacts_dir TEXT,
            code_version TEXT,
            device TEXT,
            error TEXT
        );
        CREATE INDEX idx_repro_runs_reproduction ON repro_runs(reproduction, id);
        """
    )


def _m004_unknown_arxiv_ids(db: sqlite_utils.Database) -> None:
    """arXiv ids that were mentioned or asked for but that the arXiv API did not know,
    so the mentions backfill stops asking for them (papertrail.ingest.fetch)."""
    db.executescript(
        """
        CREATE TABLE unknown_arxiv_ids (
            arxiv_id TEXT PRIMARY KEY,
            first_checked TEXT NOT NULL,
            last_checked TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1
        );
        """
    )


def _m005_browse_views(db: sqlite_utils.Database) -> None:
    """`reading_list`: one row per entry with its domains, tags and sources as JSON
    arrays, for Datasette's facets and search (papertrail.browse)."""
    db.executescript(
        """
        CREATE VIEW reading_list AS
        SELECT
            e.id,
            COALESCE(e.published, e.first_seen) AS date,
            e.title,
            e.kind,
            e.arxiv_id,
            e.url,
            (SELECT json_group_array(domain) FROM
                (SELECT domain FROM entry_domains d WHERE d.entry_id = e.id
                 ORDER BY rank, domain)) AS domains,
            (SELECT json_group_array(tag) FROM
                (SELECT tag FROM entry_tags t WHERE t.entry_id = e.id ORDER BY tag)) AS tags,
            (SELECT json_group_array(source) FROM
                (SELECT source FROM provenance p WHERE p.entry_id = e.id
                 ORDER BY first_seen, source)) AS sources,
            CASE WHEN e.read_at IS NULL THEN 'no' ELSE 'yes' END AS read,
            CASE WHEN e.starred_at IS NULL THEN 'no' ELSE 'yes' END AS starred,
            e.primary_category,
            (SELECT COUNT(*) FROM mentions m
             WHERE e.arxiv_id IS NOT NULL AND m.arxiv_id = e.arxiv_id) AS mentions,
            (SELECT group_concat(value, ', ') FROM json_each(e.authors)) AS authors,
            e.summary,
            e.notes_text AS notes,
            (SELECT domain FROM entry_domains d WHERE d.entry_id = e.id
             ORDER BY rank, domain LIMIT 1) AS primary_domain,
            e.first_seen,
            e.read_at,
            e.starred_at,
            e.score,
            e.hidden_by
        FROM entries e;
        """
    )


def _m006_bulk_import(db: sqlite_utils.Database) -> None:
    """What arXiv's bulk metadata carries beyond the feeds (papertrail.ingest.snapshot,
    papertrail.ingest.oai), and where an import or a harvest got to."""
    db.executescript(
        """
        ALTER TABLE entries ADD COLUMN license TEXT;
        ALTER TABLE entries ADD COLUMN submitter TEXT;
        ALTER TABLE entries ADD COLUMN report_no TEXT;
        -- A hash of the metadata record a bulk import stored: an unchanged paper
        -- in a newer snapshot is skipped without touching its row.
        ALTER TABLE entries ADD COLUMN meta_hash TEXT;
        -- When arXiv says each version was submitted (first_seen is when we saw it).
        ALTER TABLE entry_versions ADD COLUMN submitted TEXT;
        CREATE TABLE import_runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            path TEXT NOT NULL,
            file_size INTEGER,
            file_mtime REAL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            lines INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            bad_lines INTEGER NOT NULL DEFAULT 0,
            bad_examples TEXT NOT NULL DEFAULT '[]',
            -- Entry ids kept for old-style papers (hep-th/9901001), which the
            -- snapshot lists last, so entry ids follow arXiv's chronology (search
            -- ranks the newest matches first; see db/triage.py).
            reserved_lo INTEGER,
            reserved_hi INTEGER,
            error TEXT
        );
        CREATE TABLE harvest_state (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            endpoint TEXT,
            set_spec TEXT,
            last_from TEXT,
            last_until TEXT,
            last_datestamp TEXT,
            resumption_token TEXT,
            started_at TEXT,
            finished_at TEXT,
            status TEXT,
            records INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        """
    )


def _m007_scale_indexes(db: sqlite_utils.Database) -> None:
    """With the whole of arXiv imported, every query must stay on an index: the
    recently read entries (similarity profile) and new versions in a window (the
    digest) get partial indexes, which cost nothing for the millions of rows
    never read or updated; the indexes on columns that are NULL for almost every
    row become partial too (a comparison in a query implies IS NOT NULL, so they
    still serve it), and the kind index, which no query uses any more, goes."""
    db.executescript(
        """
        DROP INDEX idx_entries_kind;
        DROP INDEX idx_entries_starred_at;
        CREATE INDEX idx_entries_starred_at ON entries(starred_at) WHERE starred_at IS NOT NULL;
        DROP INDEX idx_entries_first_seen_run;
        CREATE INDEX idx_entries_first_seen_run ON entries(first_seen_run)
            WHERE first_seen_run IS NOT NULL;
        DROP INDEX idx_entries_version_updated_run;
        CREATE INDEX idx_entries_version_updated_run ON entries(version_updated_run)
            WHERE version_updated_run IS NOT NULL;
        CREATE INDEX idx_entries_read_at ON entries(read_at) WHERE read_at IS NOT NULL;
        CREATE INDEX idx_entries_version_updated_at ON entries(version_updated_at)
            WHERE version_updated_at IS NOT NULL;
        """
    )


def _m008_browse_at_scale(db: sqlite_utils.Database) -> None:
    """Datasette's canned queries on the whole of arXiv: "most mentioned this week"
    reads provenance by date without the archive imports' rows (a partial index
    with the query's own predicate, NOT_BULK), and "unread by domain"
    walks each domain's entries by id (the domain index gains entry_id)."""
    db.executescript(
        f"""
        CREATE INDEX IF NOT EXISTS idx_provenance_recent ON provenance(last_seen)
            WHERE {NOT_BULK};
        DROP INDEX IF EXISTS idx_entry_domains_domain;
        CREATE INDEX IF NOT EXISTS idx_entry_domains_domain_entry
            ON entry_domains(domain, entry_id);
        """
    )


def _m009_feedback(db: sqlite_utils.Database) -> None:
    """Negative feedback and the learned ranking (issue 17): when an entry was dismissed
    ("not relevant"; it never comes back in a digest), and the fitted ranking models
    (papertrail.reading.learn), one row per profile: '' for everything you star and
    dismiss, a tag's name for that tag's own profile."""
    db.executescript(
        """
        ALTER TABLE entries ADD COLUMN dismissed_at TEXT;
        CREATE INDEX idx_entries_dismissed_at ON entries(dismissed_at)
            WHERE dismissed_at IS NOT NULL;
        CREATE TABLE ranking_models (
            profile TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            fitted_at TEXT NOT NULL,
            model TEXT NOT NULL
        );
        """
    )


def _m010_code_links(db: sqlite_utils.Database) -> None:
    """Code and artifact links of papers (papertrail.sources.codelinks), keyed by arXiv
    id like `mentions` (a post may cite a paper not yet in the list), with the entry
    they were found in (the paper itself, or the post); the trending view reads
    mentions by date, with their source. Existing papers are scanned on the next fetch: `code_link_scan`
    holds the last entry id scanned (0 here)."""
    db.executescript(
        """
        CREATE TABLE code_links (
            arxiv_id TEXT NOT NULL,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            found_in TEXT NOT NULL CHECK (found_in IN ('abstract', 'comment', 'post')),
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (arxiv_id, url, entry_id)
        );
        CREATE INDEX idx_code_links_entry ON code_links(entry_id);
        CREATE TABLE code_link_scan (
            name TEXT PRIMARY KEY,
            last_entry_id INTEGER NOT NULL DEFAULT 0,
            scanned_at TEXT
        );
        INSERT INTO code_link_scan (name, last_entry_id) VALUES ('papers', 0);
        -- The trending view reads a window of mentions with their posts' sources from one
        -- covering index: the source is copied onto each mention (by this trigger, so every
        -- writer of mentions keeps working unchanged).
        ALTER TABLE mentions ADD COLUMN source TEXT;
        UPDATE mentions SET source = (SELECT source FROM entries e WHERE e.id = mentions.post_id);
        CREATE TRIGGER mentions_source AFTER INSERT ON mentions WHEN new.source IS NULL BEGIN
            UPDATE mentions SET source = (SELECT source FROM entries WHERE id = new.post_id)
            WHERE post_id = new.post_id AND arxiv_id = new.arxiv_id;
        END;
        CREATE INDEX idx_mentions_window ON mentions(first_seen, arxiv_id, source);
        """
    )


def _m011_repro_weights(db: sqlite_utils.Database) -> None:
    """What a reproduction run keeps (issue 21): its weights file, its config file, and
    the earlier run it sampled from, evaluated or continued (`--from-run N`)."""
    db.executescript(
        """
        ALTER TABLE repro_runs ADD COLUMN weights_path TEXT;
        ALTER TABLE repro_runs ADD COLUMN config_path TEXT;
        ALTER TABLE repro_runs ADD COLUMN from_run INTEGER;
        """
    )


def _m012_post_urls(db: sqlite_utils.Database) -> None:
    """The URL keys posts are known by (papertrail.ids.url_match_key of their link, and
    of their guid when it is a URL), so that one article listed by two feeds is one
    entry (store/post_match.py, issue 18). Filled here from the posts already stored:
    the first (lowest id) post of a key keeps it; older duplicates are left as they
    are (not merged), but no new ones are made."""
    db.executescript(
        """
        CREATE TABLE post_urls (
            url_key TEXT PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE
        ) WITHOUT ROWID;
        CREATE INDEX idx_post_urls_entry ON post_urls(entry_id);
        -- the title-and-date last resort: one title, a window of dates; papers (all of
        -- arXiv, maybe) stay out of this index
        CREATE INDEX idx_entries_post_title ON entries(title, published) WHERE kind = 'post';
        """
    )
    # every post's key starts "post:" (on the key index, not a scan of every paper)
    posts = db.execute(
        "SELECT id, url, guid FROM entries WHERE key >= 'post:' AND key < 'post;' ORDER BY id"
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO post_urls (url_key, entry_id) VALUES (?, ?)", url_key_rows(posts)
    )


def _m014_ranking_state(db: sqlite_utils.Database) -> None:
    """How fresh the stored scores are (papertrail.reading.rank, issue 17): after a star,
    the top of the ranked list is rescored at once and the rest in the background; until
    that is done, `exact_above` says down to which score the stored order is exact."""
    db.executescript(
        """
        CREATE TABLE ranking_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        """
    )


def _m015_label_stamp(db: sqlite_utils.Database) -> None:
    """A counter every change of a label moves (a star, a read, a dismissal, a tag of
    yours), kept by triggers in the same transaction: a long-running process knows its
    labels and their fingerprint are unchanged with one read (issue 16: the reading
    page asks on every view)."""
    changed = "BEGIN UPDATE label_stamp SET n = n + 1; END"
    flags = "starred_at, read_at, dismissed_at"
    # One statement at a time, inside the migration's transaction (executescript would
    # commit first): a kill leaves all of it or none.
    for sql in (
        "CREATE TABLE label_stamp (n INTEGER NOT NULL)",
        "INSERT INTO label_stamp VALUES (0)",
        f"""CREATE TRIGGER label_stamp_entry_update AFTER UPDATE OF {flags} ON entries
        WHEN OLD.starred_at IS NOT NEW.starred_at OR OLD.read_at IS NOT NEW.read_at
          OR OLD.dismissed_at IS NOT NEW.dismissed_at {changed}""",
        f"""CREATE TRIGGER label_stamp_entry_insert AFTER INSERT ON entries
        WHEN COALESCE(NEW.starred_at, NEW.read_at, NEW.dismissed_at) IS NOT NULL {changed}""",
        f"""CREATE TRIGGER label_stamp_entry_delete AFTER DELETE ON entries
        WHEN COALESCE(OLD.starred_at, OLD.read_at, OLD.dismissed_at) IS NOT NULL {changed}""",
        f"""CREATE TRIGGER label_stamp_tag_insert AFTER INSERT ON entry_tags
        WHEN NEW.origin = 'user' {changed}""",
        f"""CREATE TRIGGER label_stamp_tag_delete AFTER DELETE ON entry_tags
        WHEN OLD.origin = 'user' {changed}""",
        f"""CREATE TRIGGER label_stamp_tag_update AFTER UPDATE ON entry_tags
        WHEN OLD.origin = 'user' OR NEW.origin = 'user' {changed}""",
    ):
        db.execute(sql)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m001_initial,
    _m002_reading_list,
    _m003_reproductions,
    _m004_unknown_arxiv_ids,
    _m005_browse_views,
    _m006_bulk_import,
    _m007_scale_indexes,
    _m008_browse_at_scale,
    _m009_feedback,
    _m010_code_links,
    _m011_repro_weights,
    _m012_post_urls,
    _m014_ranking_state,
    _m015_label_stamp,
]


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
