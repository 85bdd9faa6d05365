"""The SQL behind the ranking score (papertrail.reading.rank): what each part reads, and the write.

Keyword rules and the "like what you starred" part go through the FTS5 index
(`entries_fts`, porter stemming): one indexed MATCH per keyword or term
instead of a regex over every summary. Everything is read with plain indexed
SQL and handed to `papertrail.reading.rank`, which does the arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from papertrail.models import BULK_SOURCES, PSEUDO_SOURCES
from papertrail.store import recent_fts

if TYPE_CHECKING:
    import sqlite_utils

# Provenance names papertrail itself writes (a paper added by hand, a paper
# backfilled because a post linked it): not "another source" talking about it.
# papertrail's own provenance names and the archive imports are not sources.
NOT_SOURCES = PSEUDO_SOURCES + BULK_SOURCES

_CHUNK = 500  # bound parameters per IN (...) list, far below SQLite's limit


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def reference_day(db: sqlite_utils.Database) -> float | None:
    """The Julian day of the newest `first_seen` (the last fetch): recency is measured from it,
    so a score depends only on what is stored, not on when it is computed."""
    (day,) = db.execute("SELECT julianday(MAX(first_seen)) FROM entries").fetchone()
    return day


def entry_rows(
    db: sqlite_utils.Database,
    ids: Sequence[int] | None = None,
    author_needles: Iterable[str] = (),
    *,
    between: tuple[int, int] | None = None,
) -> Iterator[tuple[int, float | None, bool, float, str | None, str | None]]:
    """(id, Julian day of its date, starred, stored score, stored hidden_by, authors JSON)
    per entry, in one pass over the table. The date is `published`, else `first_seen`
    (what `list` sorts by). The authors JSON comes only for entries whose author list
    contains one of `author_needles` (LIKE, a cheap prefilter: the caller checks names).
    `between` (lo, hi): only the ids in that range (ids None)."""
    needles = [n for n in dict.fromkeys(author_needles) if n]
    like = " OR ".join("authors LIKE ? ESCAPE '\\'" for _ in needles) or "0"
    params: list[Any] = [_like(n) for n in needles]
    select = (
        "SELECT id, COALESCE(julianday(published), julianday(first_seen)), "
        f"starred_at IS NOT NULL, score, hidden_by, CASE WHEN {like} THEN authors END "
        "FROM entries"
    )
    if ids is None and between is not None:
        yield from db.execute(f"{select} WHERE id BETWEEN ? AND ?", [*params, *between])
        return
    if ids is None:
        yield from db.execute(select, params)
        return
    for part in _chunks(ids):
        yield from db.execute(f"{select} WHERE id IN ({_marks(len(part))})", [*params, *part])


_SOURCES = f"""
    SELECT entry_id, source AS src FROM provenance
    WHERE source NOT IN ({_marks(len(NOT_SOURCES))}) {{where_p}}
    UNION ALL
    SELECT paper.id, post.source FROM mentions m
    JOIN entries paper ON paper.arxiv_id = m.arxiv_id
    JOIN entries post ON post.id = m.post_id
    WHERE post.source IS NOT NULL {{where_m}}
"""


def source_counts(db: sqlite_utils.Database, ids: Sequence[int] | None = None) -> dict[int, int]:
    """Entries surfaced or mentioned by two or more distinct sources -> how many.
    Counts a source once whether it listed the entry or linked it from a post."""
    out: dict[int, int] = {}
    if ids is None:
        sql = _SOURCES.format(where_p="", where_m="")
        params: list[Any] = list(NOT_SOURCES)
        out.update(
            db.execute(
                f"SELECT entry_id, COUNT(DISTINCT src) AS n FROM ({sql}) "
                "GROUP BY entry_id HAVING n > 1",
                params,
            )
        )
        return out
    for part in _chunks(ids):
        marks = _marks(len(part))
        sql = _SOURCES.format(
            where_p=f"AND entry_id IN ({marks})", where_m=f"AND paper.id IN ({marks})"
        )
        out.update(
            db.execute(
                f"SELECT entry_id, COUNT(DISTINCT src) AS n FROM ({sql}) "
                "GROUP BY entry_id HAVING n > 1",
                [*NOT_SOURCES, *part, *part],
            )
        )
    return out


def entry_source_names(db: sqlite_utils.Database, entry_id: int) -> list[str]:
    """The distinct sources that surfaced or mentioned one entry, first seen first."""
    sql = _SOURCES.format(where_p="AND entry_id = ?", where_m="AND paper.id = ?")
    return [
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT src FROM ({sql}) ORDER BY src", [*NOT_SOURCES, entry_id, entry_id]
        )
    ]


# At most this many ids below the dense newest block are looked up one by one.
_MAX_OUTLIERS = 500


def id_bounds(ids: Sequence[int]) -> tuple[int, list[int]]:
    """(lo, outliers) covering `ids`: the ids >= lo are the newest block, at least half
    of every id in its range (a windowed rescore: the last 60 days), and `outliers`
    are the few ids below it (old starred entries). An FTS5 query bounded by
    `rowid >= lo` seeks to it instead of walking a common term's whole doclist."""
    s = sorted(set(ids))
    if not s:
        return 0, []
    top, best = s[-1], len(s) - 1
    for k in range(len(s) - 1, -1, -1):
        if top - s[k] + 1 <= 2 * (len(s) - k):
            best = k
    if best > _MAX_OUTLIERS:
        return s[0], []
    return s[best], s[:best]


def _bounds(ids: Sequence[int] | None) -> list[tuple[str, list[int]]]:
    """The rowid conditions (SQL, parameters) that together cover `ids`; None: all rows."""
    if ids is None:
        return [("", [])]
    lo, outliers = id_bounds(ids)
    parts = [(" AND rowid >= ?", [lo])]
    if outliers:
        parts.append((f" AND rowid IN ({_marks(len(outliers))})", outliers))
    return parts


_MATCH = "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?"


def _matches(
    db: sqlite_utils.Database, query: str, bounds: list[tuple[str, list[int]]]
) -> list[int]:
    return [
        r[0]
        for condition, params in bounds
        for r in db.execute(_MATCH + condition, [query, *params])
    ]


def fts_matches(
    db: sqlite_utils.Database, query: str, ids: Sequence[int] | None = None
) -> list[int]:
    """Ids of the entries matching an FTS5 query (built by papertrail.reading.rank); with
    `ids`, those among them (and perhaps a few more: see `id_bounds`)."""
    return _matches(db, query, _bounds(ids))


def weighted_matches(
    db: sqlite_utils.Database,
    queries: Sequence[tuple[str, float]],
    ids: Sequence[int] | None = None,
) -> list[tuple[int, float]]:
    """(id, summed weight of the FTS5 queries it matches) for every entry matching any;
    with `ids`, for those among them (and perhaps a few more: see `id_bounds`)."""
    out: dict[int, float] = {}
    bounds = _bounds(ids)
    for query, weight in queries:
        for entry_id in _matches(db, query, bounds):
            out[entry_id] = out.get(entry_id, 0.0) + weight
    return list(out.items())


def matching_queries(db: sqlite_utils.Database, queries: Sequence[str], entry_id: int) -> list[str]:
    """The FTS5 queries (of `queries`) that one entry matches."""
    return [
        query
        for query in queries
        if db.execute(
            "SELECT 1 FROM entries_fts WHERE entries_fts MATCH ? AND rowid = ?", [query, entry_id]
        ).fetchone()
    ]


def positive_texts(
    db: sqlite_utils.Database, read_limit: int
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(starred, read) entries as (id, title + summary): what the reader has shown interest in.
    Read entries are the `read_limit` most recently read ones that are not starred."""
    starred = list(
        db.execute(
            "SELECT id, title || ' ' || summary FROM entries WHERE starred_at IS NOT NULL "
            "ORDER BY starred_at DESC, id"
        )
    )
    read: list[tuple[int, str]] = []
    if read_limit > 0:
        read = list(
            db.execute(
                "SELECT id, title || ' ' || summary FROM entries "
                "WHERE read_at IS NOT NULL AND +starred_at IS NULL ORDER BY read_at DESC, id LIMIT ?",
                [read_limit],
            )
        )
    return starred, read


# word -> its index term: the tokenizer ('porter unicode61') is a pure function of the
# word, so what one call learnt serves every later one in this process (a refit asks for
# the ~20,000 words of the labelled and sampled entries each time).
_STEMS: dict[str, str | None] = {}
_STEMS_MAX = 500_000


def stems(db: sqlite_utils.Database, words: Sequence[str]) -> dict[str, str]:
    """word -> the term the full-text index stores for it (porter unicode61), by running
    the words through a temporary FTS5 table with the same tokenizer (remembered)."""
    new = [w for w in dict.fromkeys(words) if w not in _STEMS]
    if new:
        found = _tokenize(db, new)
        if len(_STEMS) + len(new) > _STEMS_MAX:
            _STEMS.clear()
        _STEMS.update({w: found.get(w) for w in new})
    out: dict[str, str] = {}
    for w in words:
        term = _STEMS.get(w)
        if term is not None:
            out[w] = term
    return out


def _tokenize(db: sqlite_utils.Database, words: Sequence[str]) -> dict[str, str]:
    conn = db.conn
    conn.execute("DROP TABLE IF EXISTS temp.pt_rank_words")
    conn.execute(
        "CREATE VIRTUAL TABLE temp.pt_rank_words USING fts5(word, tokenize='porter unicode61')"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.pt_rank_words_terms "
        "USING fts5vocab(temp, pt_rank_words, instance)"
    )
    try:
        with conn:
            conn.executemany(
                "INSERT INTO temp.pt_rank_words (rowid, word) VALUES (?, ?)",
                list(enumerate(words)),
            )
        out: dict[str, str] = {}
        for term, doc in conn.execute(
            "SELECT term, doc FROM temp.pt_rank_words_terms ORDER BY doc, offset DESC"
        ):
            out[words[doc]] = term  # the first token of the word wins (offset DESC)
        return out
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.pt_rank_words_terms")
        conn.execute("DROP TABLE IF EXISTS temp.pt_rank_words")


def document_frequencies(
    db: sqlite_utils.Database, terms: Iterable[str]
) -> tuple[int, dict[str, int]]:
    """(N, term -> how many of N entries contain it in their indexed text).

    N is the whole list, or on a very large list its newest entries: FTS5 counts
    a term by walking its whole doclist, and the index of recent entries
    (db/recent_fts.py) has doclists 27x shorter at 2.7 M entries."""
    floor = recent_fts.floor(db)
    table = "entries_fts" if floor is None else recent_fts.TABLE
    if floor is None:
        n = count_all(db)
    else:
        (n,) = db.execute("SELECT COUNT(*) FROM entries WHERE id >= ?", [floor]).fetchone()
    vocab = f"pt_rank_vocab_{table}"
    conn = db.conn
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{vocab} USING fts5vocab(main, {table}, row)"
    )
    out: dict[str, int] = {}
    for term in dict.fromkeys(terms):
        row = conn.execute(f"SELECT doc FROM temp.{vocab} WHERE term = ?", [term]).fetchone()
        if row:
            out[term] = int(row[0])
    return int(n), out


def recent_ids(db: sqlite_utils.Database, days: float) -> list[int]:
    """Entries dated (published, else first seen) within `days` of the newest first_seen,
    and every starred entry (on the date index)."""
    rows = db.execute(
        """SELECT id FROM entries WHERE COALESCE(published, first_seen) >=
               (SELECT datetime(MAX(first_seen), ?) FROM entries)
           UNION SELECT id FROM entries WHERE starred_at IS NOT NULL""",
        [f"-{days} days"],
    )
    return [r[0] for r in rows]


def count_all(db: sqlite_utils.Database) -> int:
    (n,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
    return int(n)


def write_scores(db: sqlite_utils.Database, rows: Sequence[tuple[float, str | None, int]]) -> None:
    """Store (score, hidden_by, id) rows in one transaction."""
    with db.atomic():
        db.conn.executemany("UPDATE entries SET score = ?, hidden_by = ? WHERE id = ?", rows)


def scores_of(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, tuple[float, str | None]]:
    """id -> (stored score, stored hidden_by)."""
    out: dict[int, tuple[float, str | None]] = {}
    for part in _chunks(ids):
        for entry_id, score, hidden_by in db.execute(
            f"SELECT id, score, hidden_by FROM entries WHERE id IN ({_marks(len(part))})", part
        ):
            out[entry_id] = (score, hidden_by)
    return out


def ranking_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many entries there are, are hidden by a block rule, are starred and are read."""
    row = db.execute(
        "SELECT COUNT(*), COUNT(hidden_by), COUNT(starred_at), COUNT(read_at) FROM entries"
    ).fetchone()
    return dict(zip(("entries", "hidden", "starred", "read"), (int(v) for v in row), strict=True))


def entry_title(db: sqlite_utils.Database, entry_id: int) -> str | None:
    row = db.execute("SELECT title FROM entries WHERE id = ?", [entry_id]).fetchone()
    return row[0] if row else None


def index_version(db: sqlite_utils.Database) -> str:
    """A key that changes whenever the full-text index or the entries change: FTS5's
    structure record (rewritten by every insert, update or merge of `entries_fts`), the
    newest entry and first_seen, and the provenance and mention counts (the mentions
    part). In-process caches of postings and scores are keyed by it."""
    row = db.execute("SELECT block FROM entries_fts_data WHERE id = 10").fetchone()
    structure = bytes(row[0]).hex() if row and row[0] is not None else ""
    # Two queries: SQLite answers a lone MAX() from an index, two in one query by a full scan
    # (40 ms at 200,000 entries, and this runs several times per ranked read and star).
    (top,) = db.execute("SELECT MAX(id) FROM entries").fetchone()
    (newest,) = db.execute("SELECT MAX(first_seen) FROM entries").fetchone()
    (prov,) = db.execute("SELECT MAX(rowid) FROM provenance").fetchone()
    (ment,) = db.execute("SELECT MAX(rowid) FROM mentions").fetchone()
    return f"{structure}|{top}|{newest}|{prov}|{ment}"


def postings(db: sqlite_utils.Database, query: str) -> list[int]:
    """Ids of every entry matching one FTS5 query, in id order."""
    return [r[0] for r in db.execute(_MATCH, [query])]


def ranked_scores(db: sqlite_utils.Database) -> Iterator[tuple[int, float]]:
    """(id, stored score) of every entry, read from the score index alone."""
    yield from db.execute("SELECT id, score FROM entries INDEXED BY idx_entries_score")


def id_range(db: sqlite_utils.Database, lo: int, hi: int) -> list[int]:
    """The entry ids in lo..hi (inclusive)."""
    return [r[0] for r in db.execute("SELECT id FROM entries WHERE id BETWEEN ? AND ?", [lo, hi])]


@contextmanager
def _immediate(db: sqlite_utils.Database) -> Iterator[None]:
    """A write transaction taken at once (a check then a write, with no other writer
    in between: a deferred one could not upgrade after another program's commit)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def write_scores_claimed(
    db: sqlite_utils.Database,
    rows: Sequence[tuple[float, str | None, int]],
    token: str,
    *,
    exact_above: str | None = None,
) -> bool:
    """Store (score, hidden_by, id) rows in one transaction, only while
    `ranking_state.pending` is `token` (checked inside it: a rescore that claimed the
    scores since wins), and set `exact_above` with them when given. False when the
    claim had moved (nothing written)."""
    with _immediate(db):
        if get_state(db, "pending") != token:
            return False
        db.conn.executemany("UPDATE entries SET score = ?, hidden_by = ? WHERE id = ?", rows)
        if exact_above is not None:
            _put(db, "exact_above", exact_above)
        return True


def release(db: sqlite_utils.Database, token: str, scores_key: str) -> None:
    """Clear the pending marks and record what the scores were computed with, if the
    claim is still `token`."""
    with _immediate(db):
        if get_state(db, "pending") == token:
            db.execute("DELETE FROM ranking_state WHERE key IN ('pending', 'exact_above')")
            _put(db, "scores_key", scores_key)


def _put(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO ranking_state (key, value) VALUES (?, ?)", [key, value])


def get_state(db: sqlite_utils.Database, key: str) -> str | None:
    """A value of `ranking_state` (the stored scores' freshness), if set."""
    row = db.execute("SELECT value FROM ranking_state WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row else None


def set_state(db: sqlite_utils.Database, values: dict[str, str | None]) -> None:
    """Set (None: clear) values of `ranking_state`, in one transaction."""
    with db.atomic():
        for key, value in values.items():
            if value is None:
                db.execute("DELETE FROM ranking_state WHERE key = ?", [key])
            else:
                _put(db, key, value)


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def all_authors(db: sqlite_utils.Database) -> Iterator[tuple[int, str]]:
    """(id, authors JSON) of every entry with authors."""
    yield from db.execute("SELECT id, authors FROM entries WHERE authors IS NOT NULL")


def starred_ids(db: sqlite_utils.Database) -> set[int]:
    return {r[0] for r in db.execute("SELECT id FROM entries WHERE starred_at IS NOT NULL")}


def hidden_rows(db: sqlite_utils.Database) -> Iterator[tuple[int, str]]:
    """(id, stored hidden_by) of the entries a block rule hides."""
    yield from db.execute("SELECT id, hidden_by FROM entries WHERE hidden_by IS NOT NULL")


def ids_scoring_at_least(db: sqlite_utils.Database, floor: float) -> list[int]:
    """Ids whose stored score is at least `floor` (on the score index)."""
    return [r[0] for r in db.execute("SELECT id FROM entries WHERE score >= ?", [floor])]
