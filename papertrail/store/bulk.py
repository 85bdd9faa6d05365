"""Saving arXiv papers in bulk: the metadata snapshot and OAI-PMH harvests.

The fetch path (`writer.EntryWriter`) saves a feed's few hundred records at a
time; an import saves millions, so this path is built for that:

- rows arrive ready-made (`paper_item`: JSON encoded, domains tagged), so the
  snapshot importer can build them in a second process;
- one lookup per batch finds the papers already stored; a paper whose metadata
  hash is unchanged is skipped without touching its row, so re-importing a
  newer snapshot rewrites only what changed;
- new rows get their ids here (max id + 1, …) and go in with `executemany`,
  followed by one `INSERT … SELECT` into the full-text index, domains,
  versions and provenance, all in the caller's transaction.

An entry first seen through an import is dated by arXiv, not by the import:
`first_seen` is the paper's first-version date (`published`), so importing
the archive does not make 2.7 million papers "new" in tomorrow's digest. It
is not tied to a fetch run (`first_seen_run` stays NULL).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from papertrail.store.schema import utcnow

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.models import ArxivMeta, Tagger

# One paper, as `save_items` takes it:
# (arxiv_id, meta_hash, fields, versions, domains) where `fields` follows
# _FIELDS, versions is [(n, submitted)], domains the rule-made domains in order.
PaperItem = tuple[str, str, tuple[Any, ...], list[tuple[int, str]], list[str]]

_FIELDS = (
    "version", "title", "authors", "summary", "url", "categories", "primary_category",
    "published", "updated", "doi", "journal_ref", "comment", "links", "guid",
    "license", "submitter", "report_no",
)  # fmt: skip
_F = {name: i for i, name in enumerate(_FIELDS)}
_INSERT = (
    "INSERT INTO entries (id, key, kind, arxiv_id, "
    + ", ".join(_FIELDS)
    + ", meta_hash, first_seen, last_seen) VALUES (?, ?, 'paper', ?, "
    + ", ".join("?" * len(_FIELDS))
    + ", ?, ?, ?)"
)
# A date without a time (OAI-PMH gives days only) does not replace the same
# day's exact time (from the snapshot or the API).
_KEEP_TIME = """CASE WHEN :{c} IS NULL THEN {c}
        WHEN substr(:{c}, 11) = 'T00:00:00+00:00' AND substr({c}, 1, 10) = substr(:{c}, 1, 10)
        THEN {c} ELSE :{c} END"""
_UPDATE = f"""
UPDATE entries SET
    authors = :authors, url = COALESCE(:url, url),
    categories = CASE WHEN :categories != '[]' THEN :categories ELSE categories END,
    primary_category = COALESCE(:primary_category, primary_category),
    published = {_KEEP_TIME.format(c="published")}, updated = {_KEEP_TIME.format(c="updated")},
    doi = COALESCE(:doi, doi), journal_ref = COALESCE(:journal_ref, journal_ref),
    comment = COALESCE(:comment, comment), links = :links, license = COALESCE(:license, license),
    submitter = COALESCE(:submitter, submitter), report_no = COALESCE(:report_no, report_no),
    meta_hash = :meta_hash, last_seen = :now
WHERE id = :id
"""
# Only when the text really changes: naming title/summary fires the FTS trigger.
_UPDATE_TEXT = """
UPDATE entries SET title = ?, summary = CASE WHEN ? != '' THEN ? ELSE summary END
WHERE id = ? AND (title IS NOT ? OR (? != '' AND summary IS NOT ?))
"""
_BUMP_VERSION = """
UPDATE entries SET version = ?, guid = ?,
    previous_version = CASE WHEN version IS NOT NULL THEN version ELSE previous_version END,
    version_updated_at = CASE WHEN version IS NOT NULL THEN ? ELSE version_updated_at END
WHERE id = ? AND (version IS NULL OR version < ?)
"""
_VERSIONS = """
INSERT INTO entry_versions (entry_id, version, first_seen, source, submitted) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (entry_id, version) DO UPDATE SET submitted = excluded.submitted
"""
_PROVENANCE = """
INSERT INTO provenance (entry_id, source, first_seen, last_seen) VALUES (?, ?, ?, ?)
ON CONFLICT (entry_id, source) DO UPDATE SET last_seen = excluded.last_seen
"""
_DOMAIN = (
    "INSERT OR IGNORE INTO entry_domains (entry_id, domain, rank, origin) VALUES (?, ?, ?, 'rule')"
)


@dataclass
class BulkStats:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: BulkStats) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged


def _json(value: Any) -> str:
    return orjson.dumps(value).decode() if value else ("{}" if isinstance(value, dict) else "[]")


def meta_hash(meta: ArxivMeta) -> str:
    """A hash of everything the reading list keeps of a paper's metadata: equal
    hashes, nothing to rewrite (a snapshot's `update_date` alone is not a change)."""
    r = meta.record
    parts = (r.arxiv_id, r.version, r.title, r.authors, r.summary, r.categories, r.published,
             r.updated, r.doi, r.journal_ref, r.comment, meta.versions, meta.license,
             meta.submitter, meta.report_no)  # fmt: skip
    return hashlib.blake2b(orjson.dumps(parts), digest_size=10).hexdigest()


def paper_item(meta: ArxivMeta, domains: list[str], hash_: str | None = None) -> PaperItem:
    """What `save_items` stores for one paper (picklable: built in a worker process)."""
    r = meta.record
    assert r.arxiv_id is not None
    fields = (
        r.version, r.title, _json(r.authors), r.summary, r.url, _json(r.categories),
        r.primary_category, r.published, r.updated, r.doi, r.journal_ref, r.comment,
        _json(r.links), r.guid, meta.license, meta.submitter, meta.report_no,
    )  # fmt: skip
    return (r.arxiv_id, hash_ or meta_hash(meta), fields, meta.versions, domains)


def save_papers(
    db: sqlite_utils.Database, metas: Sequence[ArxivMeta], *, source: str, tagger: Tagger
) -> BulkStats:
    """Tag and upsert `metas` in one transaction (the OAI-PMH harvest's entry point)."""
    items = [paper_item(m, tagger.tag_archive(m.record)) for m in metas]
    with db.atomic():
        return save_items(db.conn, items, source=source)


def save_items(
    conn: sqlite3.Connection,
    items: Sequence[PaperItem],
    *,
    source: str,
    now: str | None = None,
    reserved: tuple[int, int] | None = None,
) -> BulkStats:
    """Upsert papers inside the caller's transaction. Within `items` the last
    record of an id wins (a snapshot lists each paper once).

    `reserved` (lo, hi): entry ids kept for old-style papers; new ones take the
    next free id there, every other new paper an id above it."""
    now = now or utcnow()
    stats = BulkStats()
    by_id: dict[str, PaperItem] = {item[0]: item for item in items}
    existing = _existing(conn, list(by_id))
    new = [item for aid, item in by_id.items() if aid not in existing]
    changed = []
    for aid, item in by_id.items():
        found = existing.get(aid)
        if found is None:
            continue
        if found[1] == item[1]:
            stats.unchanged += 1
        else:
            changed.append((found[0], item))
    if new:
        _insert_new(conn, new, source, now, reserved)
        stats.new = len(new)
    if changed:
        _update_changed(conn, changed, source, now)
        stats.updated = len(changed)
    return stats


def _insert_new(
    conn: sqlite3.Connection,
    new: list[PaperItem],
    source: str,
    now: str,
    reserved: tuple[int, int] | None,
) -> None:
    """Insert papers the list lacks: entries, their full-text rows, then the child rows."""
    (next_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM entries").fetchone()
    next_old = hi = 0
    if reserved is not None:
        lo, hi = reserved
        next_id = max(next_id, hi + 1)
        (next_old,) = conn.execute(
            "SELECT COALESCE(MAX(id) + 1, ?) FROM entries WHERE id BETWEEN ? AND ?",
            [lo, lo, hi],
        ).fetchone()
    rows = []
    ids = []
    for aid, hash_, fields, _, _ in new:
        if next_old and next_old <= hi and "/" in aid:
            entry_id, next_old = next_old, next_old + 1
        else:
            entry_id, next_id = next_id, next_id + 1
        published = fields[_F["published"]]
        rows.append((entry_id, f"arxiv:{aid}", aid, *fields, hash_, published or now, now))
        ids.append(entry_id)
    conn.executemany(_INSERT, rows)
    conn.executemany(
        "INSERT INTO entries_fts (rowid, title, summary, notes_text) VALUES (?, ?, ?, '')",
        [(r[0], r[4], r[6]) for r in rows],
    )
    _children(conn, list(zip(ids, new, strict=True)), source, now)


def _update_changed(
    conn: sqlite3.Connection, changed: list[tuple[int, PaperItem]], source: str, now: str
) -> None:
    """Rewrite papers whose metadata hash changed (text, version, rule-made domains)."""
    for entry_id, (_, hash_, f, _, _) in changed:
        params = dict(zip(_FIELDS, f, strict=True))
        conn.execute(_UPDATE, {**params, "meta_hash": hash_, "now": now, "id": entry_id})
        title, summary = f[_F["title"]], f[_F["summary"]]
        conn.execute(_UPDATE_TEXT, [title, summary, summary, entry_id, title, summary, summary])
        version = f[_F["version"]]
        if version is not None:
            conn.execute(_BUMP_VERSION, [version, f[_F["guid"]], now, entry_id, version])
        conn.execute("DELETE FROM entry_domains WHERE entry_id = ? AND origin = 'rule'", [entry_id])
    _children(conn, changed, source, now)


def _children(
    conn: sqlite3.Connection, rows: list[tuple[int, PaperItem]], source: str, now: str
) -> None:
    conn.executemany(
        _VERSIONS, [(eid, n, now, source, at) for eid, item in rows for n, at in item[3]]
    )
    conn.executemany(_DOMAIN, [(eid, d, k) for eid, item in rows for k, d in enumerate(item[4])])
    conn.executemany(_PROVENANCE, [(eid, source, now, now) for eid, _ in rows])


def _existing(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[int, str | None]]:
    """{arxiv_id: (entry id, meta_hash)} for the ids already stored."""
    found: dict[str, tuple[int, str | None]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = f"SELECT arxiv_id, id, meta_hash FROM entries WHERE arxiv_id IN ({', '.join('?' * len(chunk))})"
        for aid, entry_id, hash_ in conn.execute(sql, chunk):
            found[aid] = (entry_id, hash_)
    return found
