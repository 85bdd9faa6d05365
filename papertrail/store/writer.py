"""Saving what a fetch brought: entries, provenance, versions, tags, source state, log.

Every write happens inside `Database.atomic()` so a killed process leaves
each source either fully saved or untouched.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papertrail.ids import canonical_url
from papertrail.models import ANNOUNCE_REPLACE, BULK_SOURCES, Record, Tagger
from papertrail.store.post_match import PostMatcher

if TYPE_CHECKING:
    import sqlite_utils

    pass


from papertrail.store import codelinks
from papertrail.store.schema import utcnow

# ---------------------------------------------------------------- saving


@dataclass
class SaveStats:
    seen: int = 0
    new_papers: int = 0
    new_posts: int = 0
    updated_versions: int = 0
    skipped_replacements: int = 0  # new versions of papers not in the reading list
    corrected: int = 0  # posts whose title or text the source corrected (issue 18)
    merged: int = 0  # items already stored from another feed: one entry, one more source

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
_INSERT_DOMAIN = (
    "INSERT OR IGNORE INTO entry_domains (entry_id, domain, rank, origin) VALUES (?, ?, ?, ?)"
)
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


# A post re-served by its own source (same guid or URL): what may have been corrected.
_UPDATE_POST = """
UPDATE entries SET last_seen = ?, url = COALESCE(?, url),
    authors = CASE WHEN ? != '[]' THEN ? ELSE authors END, updated = COALESCE(?, updated),
    published = COALESCE(published, ?), content_hash = ?
WHERE id = ?
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
        self, db: sqlite_utils.Database, tagger: Tagger, run_id: int | None, now: str | None = None
    ):
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.tagger = tagger
        self.run_id = run_id
        self.now = now or utcnow()
        self._hashes: dict[int, str | None] = {}  # content_hash of the posts looked up

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
        known = set(existing)  # found under their own key: their URLs are on record already
        matcher = PostMatcher(self.conn, source, records, keys)
        new, kept = self._sort(records, keys, existing, stats, matcher)
        if new:
            self._insert(source, new, existing, source_tags)
        self._link(source, kept, existing)
        matcher.register((existing[key][0], r) for key, r in kept if key not in known)
        return stats

    def _sort(
        self,
        records: list[Record],
        keys: list[str],
        existing: dict[str, tuple[int, int | None]],
        stats: SaveStats,
        matcher: PostMatcher,
    ) -> tuple[dict[str, Record], list[tuple[str, Record]]]:
        """New records by key, and every record kept (new or known); known papers
        move to a newer version here, known posts take their source's corrections,
        and `existing` follows."""
        new: dict[str, Record] = {}
        kept: list[tuple[str, Record]] = []
        foreign: set[str] = set()  # keys matched to another source's post
        for record, key in zip(records, keys, strict=True):
            stats.seen += 1
            if key not in existing and key not in new and record.kind == "post":
                self._match(key, record, existing, foreign, matcher, stats)
            found = existing.get(key)
            if found is not None:
                entry_id, old_version = found
                if self._update(entry_id, record, old_version, own=key not in foreign):
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
        return new, kept

    def _match(
        self,
        key: str,
        record: Record,
        existing: dict[str, tuple[int, int | None]],
        foreign: set[str],
        matcher: PostMatcher,
        stats: SaveStats,
    ) -> None:
        """A post whose key is new may still be stored: from another feed, or as this
        source's item before a correction of its text (store/post_match.py)."""
        match = matcher.find(record)
        if match is None:
            return
        existing[key] = (match.entry_id, None)
        if match.same_source:
            # This source's item without guid or link, keyed by its old text: the entry
            # takes the new key, so the next fetch finds it directly.
            self.conn.execute("UPDATE entries SET key = ? WHERE id = ?", [key, match.entry_id])
            stats.corrected += 1
        else:
            foreign.add(key)
            stats.merged += 1

    def _insert(
        self,
        source: str,
        new: dict[str, Record],
        existing: dict[str, tuple[int, int | None]],
        source_tags: Sequence[str],
    ) -> None:
        """New entries, their full-text rows and domains; `existing` learns their ids."""
        (max_before,) = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()
        self.conn.executemany(_INSERT_ENTRY, [self._row(source, k, r) for k, r in new.items()])
        self.conn.execute(
            "INSERT INTO entries_fts (rowid, title, summary, notes_text) "
            "SELECT id, title, summary, notes_text FROM entries WHERE id > ?",
            [max_before],
        )
        existing.update(self._lookup(list(new)))
        self._tag_new([(existing[k][0], r) for k, r in new.items()], source_tags)

    def _link(
        self,
        source: str,
        kept: list[tuple[str, Record]],
        existing: dict[str, tuple[int, int | None]],
    ) -> None:
        """Provenance, versions and mentions for every record the source listed."""
        provenance, versions, mentions, code = [], [], [], []
        for key, r in kept:
            entry_id = existing[key][0]
            provenance.append((entry_id, source, self.now, self.now, r.announce_type, self.run_id))
            if r.kind == "paper" and r.version is not None:
                versions.append((entry_id, r.version, self.now, source))
            if r.kind == "post":
                mentions += [(entry_id, arxiv_id, self.now) for arxiv_id in r.mentions]
                code += codelinks.post_rows(entry_id, r.code_links, self.now)
        self.conn.executemany(_UPSERT_PROVENANCE, provenance)
        self.conn.executemany(
            "INSERT OR IGNORE INTO entry_versions (entry_id, version, first_seen, source) VALUES (?, ?, ?, ?)",
            versions,
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO mentions (post_id, arxiv_id, first_seen) VALUES (?, ?, ?)",
            mentions,
        )
        codelinks.save_post_rows(self.db, code)

    def _domain_rows(
        self,
        entry_id: int,
        r: Record,
        source_domains: Sequence[str] = (),
        domains: list[str] | None = None,
    ) -> list[tuple[int, str, int, str]]:
        """Rule-made domains (rank 0 is the primary; `domains` when already known),
        then a source's tags that name a domain."""
        if domains is None:
            domains = self.tagger.tag(r)
        rows = [(entry_id, d, rank, "rule") for rank, d in enumerate(domains)]
        rows += [
            (entry_id, d, len(domains) + i, "source")
            for i, d in enumerate(source_domains)
            if d not in domains
        ]
        return rows

    def _tag_new(self, entries: list[tuple[int, Record]], source_tags: Sequence[str]) -> None:
        domain_names = set(getattr(self.tagger, "domain_names", ()) or ())
        source_domains = [t for t in source_tags if t in domain_names]
        rows = [
            row for entry_id, r in entries for row in self._domain_rows(entry_id, r, source_domains)
        ]
        self.conn.executemany(_INSERT_DOMAIN, rows)
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
                "SELECT key, id, version, content_hash FROM entries "
                f"WHERE key IN ({', '.join('?' * len(chunk))})"
            )
            for key, entry_id, version, text_hash in self.conn.execute(sql, chunk):
                found[key] = (entry_id, version)
                self._hashes[entry_id] = text_hash
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

    def _update(self, entry_id: int, r: Record, old_version: int | None, own: bool = True) -> bool:
        """Refresh an existing entry. True when it moved to a newer arXiv version. A post
        takes corrections only from its own source (`own`); another feed listing the
        same article adds a source, not its wording."""
        if r.kind == "post":
            if own:
                self._update_post(entry_id, r)
            else:
                self.conn.execute(
                    "UPDATE entries SET last_seen = ? WHERE id = ?", [self.now, entry_id]
                )
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
            self._retag(entry_id, r)
            return True
        if newer:  # we had no version number before; not news
            self.conn.execute("UPDATE entries SET version = ? WHERE id = ?", [r.version, entry_id])
        return False

    def _update_post(self, entry_id: int, r: Record) -> None:
        """A post as its source serves it now: a corrected title or text replaces the
        stored one (the full-text trigger re-indexes it, the rule-made domains are
        recomputed); tags, notes, stars and read marks are other tables or columns."""
        text_hash = content_hash(r)
        if self._hashes.get(entry_id) == text_hash:  # the usual case: served as before
            self.conn.execute("UPDATE entries SET last_seen = ? WHERE id = ?", [self.now, entry_id])
            return
        authors = _dumps(r.authors)
        self.conn.execute(
            _UPDATE_POST,
            [self.now, r.url, authors, authors, r.updated, r.published, text_hash, entry_id],
        )
        changed = self.conn.execute(
            _UPDATE_TEXT, [r.title, r.summary, r.summary, entry_id, r.title, r.summary, r.summary]
        ).rowcount
        if changed:
            self._retag(entry_id, r)

    def _retag(self, entry_id: int, r: Record, *, archive_only: bool = False) -> None:
        """Recompute rule-made domains; a domain a person or a source set is kept
        (INSERT OR IGNORE leaves it, on the (entry_id, domain) key). A paper known
        only from an archive import is tagged as the import tags it (no catch-all
        domain for a paper outside every rule's categories)."""
        self.conn.execute(
            "DELETE FROM entry_domains WHERE entry_id = ? AND origin = 'rule'", [entry_id]
        )
        domains = self.tagger.tag_archive(r) if archive_only else None
        self.conn.executemany(_INSERT_DOMAIN, self._domain_rows(entry_id, r, domains=domains))


def save_source_result(
    db: sqlite_utils.Database,
    *,
    run_id: int,
    outcome: SourceOutcome,
    records: Sequence[Record] = (),
    tagger: Tagger | None = None,
    source_tags: Sequence[str] = (),
    max_failures: int = 5,
) -> SaveStats:
    """Save one source's entries, its fetch state and its log row in ONE transaction
    (`tagger` tags the entries: needed when there are `records`)."""
    now = utcnow()
    stats = SaveStats()
    with db.atomic():
        if records:  # a failed source may still carry what it got before failing
            if tagger is None:
                raise ValueError("save_source_result: records to save need a tagger")
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


def retag_all(db: sqlite_utils.Database, tagger: Tagger, batch: int = 2000) -> int:
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
        archive_only = _archive_only(db, rows[0][0], rows[-1][0])
        with db.atomic():
            for entry_id, kind, title, summary, categories, primary in rows:
                record = Record(
                    kind=kind,
                    title=title,
                    summary=summary,
                    categories=json.loads(categories),
                    primary_category=primary,
                )
                writer._retag(entry_id, record, archive_only=entry_id in archive_only)
                count += 1
        last_id = rows[-1][0]
    return count


def _archive_only(db: sqlite_utils.Database, lo: int, hi: int) -> set[int]:
    """The entries between ids lo and hi that only archive imports brought in."""
    marks = ", ".join("?" * len(BULK_SOURCES))
    return {
        r[0]
        for r in db.execute(
            f"SELECT entry_id FROM provenance WHERE entry_id BETWEEN ? AND ? GROUP BY entry_id "
            f"HAVING MIN(source IN ({marks})) = 1",
            [lo, hi, *BULK_SOURCES],
        )
    }
