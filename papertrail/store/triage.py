"""The reader's own marks on entries — read, starred, tags, notes — and the
reads behind `show` and `search`."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from papertrail.models import Entry, EntryDetail, Note
from papertrail.store import recent_fts
from papertrail.store.filters import EntryFilter, entries_by_ids, order_by
from papertrail.store.repro import reproductions_for_paper
from papertrail.store.schema import utcnow
from papertrail.text import HIT_END, HIT_START

if TYPE_CHECKING:
    import sqlite_utils

FLAGS = {"read": "read_at", "starred": "starred_at", "dismissed": "dismissed_at"}


# bm25 column weights: a hit in the title counts most, then the user's own notes.
_BM25 = "bm25(entries_fts, 10.0, 1.0, 4.0)"
_FTS_COLUMNS = ("title", "summary", "notes_text")


# ------------------------------------------------------------------- marks


def set_flag(db: sqlite_utils.Database, ids: Sequence[int], flag: str, on: bool) -> int:
    """Mark entries read/starred/dismissed (on) or not; returns how many changed state.
    Marking twice keeps the first timestamp."""
    column = FLAGS[flag]
    marks = ", ".join("?" * len(ids))
    with db.atomic():
        if on:
            cur = db.execute(
                f"UPDATE entries SET {column} = ? WHERE id IN ({marks}) AND {column} IS NULL",
                [utcnow(), *ids],
            )
        else:
            cur = db.execute(
                f"UPDATE entries SET {column} = NULL WHERE id IN ({marks}) AND {column} IS NOT NULL",
                list(ids),
            )
    return cur.rowcount


def add_tags(db: sqlite_utils.Database, entry_id: int, tags: Sequence[str]) -> list[str]:
    """Tag an entry; returns the tags that were new on it."""
    now = utcnow()
    added = []
    with db.atomic():
        for tag in tags:
            cur = db.execute(
                "INSERT OR IGNORE INTO entry_tags (entry_id, tag, origin, created_at) VALUES (?, ?, 'user', ?)",
                [entry_id, tag, now],
            )
            if cur.rowcount:
                added.append(tag)
    return added


def remove_tags(db: sqlite_utils.Database, entry_id: int, tags: Sequence[str]) -> list[str]:
    """Untag an entry (whoever added the tag); returns the tags that were removed."""
    removed = []
    with db.atomic():
        for tag in tags:
            cur = db.execute(
                "DELETE FROM entry_tags WHERE entry_id = ? AND tag = ?", [entry_id, tag]
            )
            if cur.rowcount:
                removed.append(tag)
    return removed


def add_note(db: sqlite_utils.Database, entry_id: int, text: str) -> Note:
    """Append a timestamped note; the entry's notes_text (searched by FTS) follows."""
    now = utcnow()
    with db.atomic():
        cur = db.execute(
            "INSERT INTO notes (entry_id, text, created_at) VALUES (?, ?, ?)", [entry_id, text, now]
        )
        _refresh_notes_text(db, entry_id)
    return {"id": int(cur.lastrowid or 0), "text": text, "created_at": now}


def delete_note(db: sqlite_utils.Database, entry_id: int, note_id: int) -> bool:
    with db.atomic():
        cur = db.execute("DELETE FROM notes WHERE id = ? AND entry_id = ?", [note_id, entry_id])
        _refresh_notes_text(db, entry_id)
    return cur.rowcount > 0


def _refresh_notes_text(db: sqlite_utils.Database, entry_id: int) -> None:
    db.execute(
        """UPDATE entries SET notes_text = COALESCE(
               (SELECT group_concat(text, char(10)) FROM
                   (SELECT text FROM notes WHERE entry_id = ? ORDER BY id)), '')
           WHERE id = ?""",
        [entry_id, entry_id],
    )


# ------------------------------------------------------------------- show


def entry_detail(db: sqlite_utils.Database, entry_id: int) -> EntryDetail:
    """Everything known about one entry: the entry dict plus versions, the sources
    that surfaced it, posts mentioning it, papers it mentions, notes, reproductions."""
    (row,) = entries_by_ids(db, [entry_id])
    entry = cast(EntryDetail, row)

    def q(sql: str, params: list[object]) -> list[Any]:
        return list(db.query(sql, params))

    entry["versions"] = q(
        "SELECT version, first_seen, source FROM entry_versions WHERE entry_id = ? ORDER BY version",
        [entry_id],
    )
    entry["provenance"] = q(
        "SELECT source, first_seen, last_seen, announce_type FROM provenance WHERE entry_id = ? "
        "ORDER BY first_seen, source",
        [entry_id],
    )
    entry["notes"] = q(
        "SELECT id, text, created_at FROM notes WHERE entry_id = ? ORDER BY id", [entry_id]
    )
    entry["tag_details"] = q(
        "SELECT tag, origin, created_at FROM entry_tags WHERE entry_id = ? ORDER BY tag", [entry_id]
    )
    entry["mentioned_in"] = (
        q(
            """SELECT p.id, p.title, p.url, p.source, m.first_seen FROM mentions m
               JOIN entries p ON p.id = m.post_id WHERE m.arxiv_id = ?
               ORDER BY m.first_seen DESC, p.id DESC""",
            [entry["arxiv_id"]],
        )
        if entry.get("arxiv_id")
        else []
    )
    entry["mentions"] = q(
        """SELECT m.arxiv_id, e.id, e.title FROM mentions m
           LEFT JOIN entries e ON e.arxiv_id = m.arxiv_id
           WHERE m.post_id = ? ORDER BY m.arxiv_id""",
        [entry_id],
    )
    entry["reproductions"] = reproductions_for_paper(db, entry.get("arxiv_id"))
    return entry


# ------------------------------------------------------------------- search


class SearchSyntaxError(ValueError):
    """The query is not valid FTS5 syntax. str() says what to do."""


# Anything beyond words means the user is writing FTS5 syntax on purpose.
_FTS_SYNTAX = re.compile(
    r'["()^{]|\w\*|\b(AND|OR|NOT|NEAR)\b|\b(title|summary|notes_text|notes)\s*:'
)
_NOTES_COLUMN = re.compile(r"\bnotes\s*:")
_WORD = re.compile(r"\w+")


def fts_query(query: str) -> str:
    """Plain words become an AND of quoted terms (so `GAN-based`, `C++` or `o'neil`
    never trip the parser; hyphenated words stay a phrase); queries using FTS5
    syntax — quotes, AND/OR/NOT/NEAR, prefix*, column:term — pass through as typed."""
    if _FTS_SYNTAX.search(query):
        return _NOTES_COLUMN.sub("notes_text:", query)
    parts = []
    for chunk in query.split():
        words = _WORD.findall(chunk)
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts)


# A query matching more entries than this ranks the newest this-many of them (by
# entry id: the order entries were added, which for an arXiv import is arXiv's
# own chronology). bm25 costs 3-10 µs per matching row, so ranking every match
# of "learning" across the whole of arXiv (~10^5-10^6 rows) would take seconds;
# finding the newest N matches walks the index backwards and stops.
SEARCH_WINDOW = 1000


class SearchHits(list[Entry]):
    """The entries a search found; `window` is set when only the newest
    SEARCH_WINDOW matches were ranked (more matched)."""

    window: int | None = None


_E_ID = re.compile(r"\be\.id\b")
_E_COLUMN = re.compile(r"\be\.")  # what is left of `entries e` once e.id is the FTS rowid


def _newest_matches(
    db: sqlite_utils.Database, table: str, match: str, where: str, params: Sequence[Any]
) -> list[tuple[int, float]]:
    """(entry id, relevance) of the newest SEARCH_WINDOW + 1 matches in the FTS5
    `table` that pass the filters (`where` over `entries e`), newest first: one
    backwards walk of the index, bm25 computed for those rows only."""
    rank = _BM25.replace("entries_fts", table)
    on_ids = _E_ID.sub(f"{table}.rowid", where)
    if not _E_COLUMN.search(on_ids):
        # No filter reads a column of `entries` (none, or only --domain/--tag/--source,
        # --starred, ids): no join, so no entries row is read per match (a --domain
        # search across arXiv spent half its time reading them).
        where_sql = "" if where == "1" else f" AND {on_ids}"
        sql = f"""SELECT rowid, -{rank} FROM {table} WHERE {table} MATCH ?{where_sql}
                  ORDER BY rowid DESC"""
    else:
        sql = f"""SELECT e.id, -{rank} FROM {table} JOIN entries e ON e.id = {table}.rowid
                  WHERE {table} MATCH ? AND {where} ORDER BY {table}.rowid DESC"""
    return db.execute(f"{sql} LIMIT ?", [match, *params, SEARCH_WINDOW + 1]).fetchall()


def search(
    db: sqlite_utils.Database,
    query: str,
    flt: EntryFilter = EntryFilter(),  # noqa: B008 (frozen dataclass)
    *,
    sort: str = "relevance",
    limit: int | None = 50,
) -> SearchHits:
    """Entries matching `query` (FTS5 over title, summary/post text and notes), best
    bm25 first by default, each with `snippet` (hits between HIT_START/HIT_END) and
    `relevance` (the negated bm25 score: higher is better).

    When more than SEARCH_WINDOW entries match, only the newest SEARCH_WINDOW
    matches are ranked and filtered (`SearchHits.window` says so). On a very
    large list they are looked up in the index of recent entries first
    (db/recent_fts.py), whose bm25 statistics are those of the recent entries."""
    match = fts_query(query)
    if not match.strip():
        raise SearchSyntaxError(f"nothing to search for in {query!r}: give at least one word")
    where, params = flt.where()
    try:
        found = []
        if recent_fts.floor(db) is not None:
            found = _newest_matches(db, recent_fts.TABLE, match, where, params)
        if len(found) <= SEARCH_WINDOW:  # the recent entries alone do not fill the window
            found = _newest_matches(db, "entries_fts", match, where, params)
    except sqlite3.OperationalError as e:
        raise SearchSyntaxError(_explain_fts_error(query, str(e))) from None
    windowed = len(found) > SEARCH_WINDOW
    relevance = dict(found[:SEARCH_WINDOW])
    if sort == "relevance":
        ids = sorted(relevance, key=lambda i: (-relevance[i], -i))
    else:
        ids = [
            r[0]
            for r in db.execute(
                "SELECT e.id FROM entries e WHERE e.id IN (SELECT value FROM json_each(?)) "
                f"ORDER BY {order_by(sort)}",
                [json.dumps(list(relevance))],
            )
        ]
    if limit is not None:
        ids = ids[: int(limit)]
    entries = SearchHits(entries_by_ids(db, ids))
    if windowed:
        entries.window = SEARCH_WINDOW
    highlighted = _highlights(db, match, ids)
    for entry in entries:
        title_hit, summary_hit, notes_hit = highlighted.get(entry["id"], (None, None, None))
        entry["relevance"] = round(relevance[entry["id"]], 4)
        entry["title_highlighted"] = title_hit if HIT_START in (title_hit or "") else None
        # The passage that explains the match: a note, else the text; a title-only
        # match needs no snippet (the title is shown highlighted).
        entry["snippet"] = next((s for s in (notes_hit, summary_hit) if s and HIT_START in s), "")
    return entries


def _highlights(
    db: sqlite_utils.Database, match: str, ids: list[int]
) -> dict[int, tuple[str, str, str]]:
    """(highlighted title, summary snippet, notes snippet) for the rows shown.

    Computed in a small temporary FTS5 table holding just these rows (same
    columns, same tokenizer): asking the big index for 50 given rows runs the
    query once per row, which for a prefix query (`diffus*`) over millions of
    entries means merging the prefix's doclists 50 times."""
    if not ids:
        return {}
    conn = db.conn
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.pt_search_hits "
        "USING fts5(title, summary, notes_text, tokenize='porter unicode61')"
    )
    conn.execute("DELETE FROM temp.pt_search_hits")
    marks = ", ".join("?" * len(ids))
    conn.execute(
        "INSERT INTO temp.pt_search_hits (rowid, title, summary, notes_text) "
        f"SELECT id, title, summary, notes_text FROM entries WHERE id IN ({marks})",
        ids,
    )
    hit = f"'{HIT_START}', '{HIT_END}'"
    return {
        row[0]: row[1:]
        for row in conn.execute(
            f"""SELECT rowid, highlight(pt_search_hits, 0, {hit}),
                   snippet(pt_search_hits, 1, {hit}, '…', 16),
                   snippet(pt_search_hits, 2, {hit}, '…', 16)
               FROM temp.pt_search_hits WHERE pt_search_hits MATCH ?""",
            [match],
        )
    }


def _explain_fts_error(query: str, error: str) -> str:
    hint = (
        'put phrases in double quotes ("style transfer"), write AND/OR/NOT in capitals '
        "between terms, end a prefix with * (diffus*)"
    )
    if "no such column" in error:
        column = error.rsplit(":", 1)[-1].strip()
        hint = f"{column!r} is not a searchable field; use one of {', '.join(_FTS_COLUMNS)} (e.g. title:gan)"
    return f"cannot search for {query!r}: {error.removeprefix('fts5: ')} — {hint}"
