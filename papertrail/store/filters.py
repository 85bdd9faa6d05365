"""Choosing entries: the filters shared by `list`, `search`, `export` and the digest,
and turning what a user typed (arXiv id, URL, short id) into an entry id.

Two-phase reads keep big reading lists fast: `select_ids` picks and orders the
ids with plain indexed SQL and a LIMIT, then `queries.entries_by_ids` builds
the full entry dicts (domains, sources, tags, mention counts) for those rows
only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papertrail.ids import canonical_url, parse_arxiv_id
from papertrail.models import Entry
from papertrail.store.codelinks import HAS_CODE_SQL
from papertrail.store.names import MAX_ID, BadInput
from papertrail.store.queries import query_entries

if TYPE_CHECKING:
    import sqlite_utils

SORTS = ("date", "rank")
KINDS = ("paper", "post")

# The date an entry is ordered by; idx_entries_date indexes this exact expression.
DATE_EXPR = "COALESCE(e.published, e.first_seen)"


@dataclass(frozen=True)
class EntryFilter:
    """Which entries to show. Every field is optional; set fields are ANDed,
    values within one list field are ORed (`domains=["cv", "nlp"]`)."""

    domains: Sequence[str] = ()
    tags: Sequence[str] = ()
    sources: Sequence[str] = ()
    kind: str | None = None  # 'paper' | 'post'
    unread: bool = False
    starred: bool = False
    since: str | None = None  # ISO 8601 lower bound on first_seen (see queries.parse_since)
    until: str | None = None
    include_hidden: bool = True  # False: leave out entries hidden by a block rule
    ids: Sequence[int] | None = None
    has_code: bool = False  # only papers with a code or artifact link (issue 20)
    # Paging in date order (the reading page's "Older"): only entries that sort after
    # this (date, id) in order_by("date"), i.e. after the last card of the page before.
    older_than: tuple[str, int] | None = None

    def set_filters(self) -> list[tuple[str, str, Sequence[str]]]:
        """(table, column, values) for the filters on the entry's domains, tags, sources."""
        pairs = [
            ("entry_domains", "domain", self.domains),
            ("entry_tags", "tag", self.tags),
            ("provenance", "source", self.sources),
        ]
        return [(t, c, v) for t, c, v in pairs if v]

    def where(self, driver: str | None = None) -> tuple[str, list[Any]]:
        """A WHERE clause over `entries e` and its parameters ('1' when nothing is set).

        `driver` names the set-filter table to drive the query from (`e.id IN
        (SELECT ...)` — best when it matches few rows), or "kind" when the kind
        asked for is rare; the others are EXISTS checks on rows read in the
        ORDER BY index (best when they match many)."""
        clauses: list[str] = []
        params: list[Any] = []

        for table, column, values in self.set_filters():
            marks = ", ".join("?" * len(values))
            if table == driver:
                clauses.append(
                    f"e.id IN (SELECT entry_id FROM {table} WHERE {column} IN ({marks}))"
                )
            else:
                clauses.append(
                    f"EXISTS (SELECT 1 FROM {table} x WHERE x.entry_id = e.id AND x.{column} IN ({marks}))"
                )
            params.extend(values)
        # Kind and read state split the list roughly in halves: the unary + keeps
        # SQLite from using their indexes, so it walks the ORDER BY index instead
        # of sorting most of the table.
        if self.kind:
            if self.kind not in KINDS:
                raise ValueError(f"unknown kind {self.kind!r}: use one of {', '.join(KINDS)}")
            if driver == "kind":
                # Few of this kind (posts among an imported arXiv): find them on the key
                # index ("post:…" / "arxiv:…" keys) rather than walk every row.
                lo, hi = _KEY_RANGES[self.kind]
                clauses.append("e.id IN (SELECT id FROM entries WHERE key >= ? AND key < ?)")
                params += [lo, hi]
            else:
                clauses.append("+e.kind = ?")
                params.append(self.kind)
        if self.unread:
            clauses.append("+e.read_at IS NULL")
        if self.starred:
            # Starred entries are few: always found on their partial index.
            clauses.append("e.id IN (SELECT id FROM entries WHERE starred_at IS NOT NULL)")
        if self.since:
            clauses.append("e.first_seen >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("e.first_seen < ?")
            params.append(self.until)
        if not self.include_hidden:
            clauses.append("e.hidden_by IS NULL")
        if self.has_code:
            clauses.append(HAS_CODE_SQL)
        if self.older_than is not None:
            # Written so idx_entries_date serves the range (`<=`), the OR only breaks ties.
            clauses.append(f"{DATE_EXPR} <= ? AND ({DATE_EXPR} < ? OR e.id < ?)")
            params += [self.older_than[0], self.older_than[0], self.older_than[1]]
        if self.ids is not None:
            clauses.append(f"e.id IN ({', '.join('?' * len(self.ids))})")
            params.extend(self.ids)
        return (" AND ".join(clauses) or "1"), params


def order_by(sort: str) -> str:
    if sort == "date":
        return f"{DATE_EXPR} DESC, e.id DESC"
    if sort == "rank":
        return f"e.score DESC, {DATE_EXPR} DESC, e.id DESC"
    raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")


# Entry keys are "post:<source>:…" and "arxiv:<id>" (db/writer.py): each kind is one
# range of the key index (';' sorts right after ':').
_KEY_RANGES = {"post": ("post:", "post;"), "paper": ("arxiv:", "arxiv;")}

# A set filter matching fewer rows than this drives the query (see EntryFilter.where):
# sorting a few thousand rows beats walking the whole ORDER BY index to find them.
SELECTIVE_ROWS = 20_000


def _driver(db: sqlite_utils.Database, flt: EntryFilter) -> str | None:
    """The most selective domain/tag/source (or kind) filter, if it is selective enough to drive."""
    best: tuple[int, str] | None = None
    for table, column, values in flt.set_filters():
        marks = ", ".join("?" * len(values))
        (n,) = db.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {column} IN ({marks}) LIMIT ?)",
            [*values, SELECTIVE_ROWS],
        ).fetchone()
        if n < SELECTIVE_ROWS and (best is None or n < best[0]):
            best = (n, table)
    if flt.kind in _KEY_RANGES:
        lo, hi = _KEY_RANGES[flt.kind]
        (n,) = db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE key >= ? AND key < ? LIMIT ?)",
            [lo, hi, SELECTIVE_ROWS],
        ).fetchone()
        if n < SELECTIVE_ROWS and (best is None or n < best[0]):
            best = (n, "kind")
    return best[1] if best else None


def select_ids(
    db: sqlite_utils.Database, flt: EntryFilter, *, sort: str = "date", limit: int | None = None
) -> list[int]:
    where, params = flt.where(_driver(db, flt))
    sql = f"SELECT e.id FROM entries e WHERE {where} ORDER BY {order_by(sort)}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [r[0] for r in db.execute(sql, params)]


def entries_by_ids(db: sqlite_utils.Database, ids: Sequence[int]) -> list[Entry]:
    """Full entry dicts for `ids`, in the order given."""
    out: dict[int, Entry] = {}
    chunk = 500  # stay far below SQLite's bound-parameter limit
    for i in range(0, len(ids), chunk):
        part = list(ids[i : i + chunk])
        for row in query_entries(db, f"e.id IN ({', '.join('?' * len(part))})", part):
            out[row["id"]] = row
    return [out[i] for i in ids if i in out]


def find_entries(
    db: sqlite_utils.Database,
    flt: EntryFilter = EntryFilter(),  # noqa: B008 (frozen, immutable default)
    *,
    sort: str = "date",
    limit: int | None = None,
) -> list[Entry]:
    """Entries matching `flt`, sorted, at most `limit` of them."""
    return entries_by_ids(db, select_ids(db, flt, sort=sort, limit=limit))


# ---------------------------------------------------------------- resolving ids


class EntryNotFound(KeyError):
    """What the user typed names no entry. str() is the message to show."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such entry"


@dataclass
class Resolved:
    ids: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def resolve_entry(db: sqlite_utils.Database, token: str) -> int:
    """The entry id for an arXiv id in any form (1508.06576, arXiv:1508.06576v2,
    https://arxiv.org/abs/..., /pdf/..., math/0309136), a post or paper URL, or
    a short id (the integer `papertrail list` shows). Raises EntryNotFound, or BadInput
    for a number no entry id can be."""

    text = token.strip()
    if text.lstrip("#").isdigit():
        number = int(text.lstrip("#"))
        if number > MAX_ID:
            raise BadInput(
                f"{text} cannot be an entry id (they go up to {MAX_ID:,}) — "
                "`papertrail list` shows the ids"
            )
        row = db.execute("SELECT id FROM entries WHERE id = ?", [number]).fetchone()
        if row:
            return int(row[0])
        raise EntryNotFound(f"no entry with short id {text} — `papertrail list` shows the ids")
    parsed = parse_arxiv_id(text)
    if parsed:
        arxiv_id = parsed[0]
        row = db.execute("SELECT id FROM entries WHERE arxiv_id = ?", [arxiv_id]).fetchone()
        if row:
            return int(row[0])
        raise EntryNotFound(
            f"arXiv:{arxiv_id} is not in the reading list — add it with `papertrail add {arxiv_id}`"
        )
    if "://" in text:
        url = canonical_url(text)
        row = db.execute(
            "SELECT id FROM entries WHERE url = ? OR url = ? ORDER BY id LIMIT 1", [text, url]
        ).fetchone()
        if row:
            return int(row[0])
        raise EntryNotFound(f"no entry links to {text}")
    raise EntryNotFound(
        f"cannot read {token!r} as an entry: give an arXiv id (1508.06576), "
        "an arXiv or post URL, or a short id from `papertrail list`"
    )


def resolve_entries(db: sqlite_utils.Database, tokens: Sequence[str]) -> Resolved:
    """Resolve many tokens, collecting the ones that name nothing instead of stopping."""
    out = Resolved()
    for token in tokens:
        try:
            entry_id = resolve_entry(db, token)
        except EntryNotFound as e:
            out.missing.append(str(e))
            continue
        if entry_id not in out.ids:
            out.ids.append(entry_id)
    return out
