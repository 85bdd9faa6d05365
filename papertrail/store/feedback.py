"""The SQL behind the learned ranking (papertrail.reading.learn): the reader's labels,
the text of labelled and sampled entries, and the fitted models (`ranking_models`).

Labels are what the reader did: starred, tagged (their own tags), read, dismissed,
each with when. Nothing here decides what a label means; learn.py weighs them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail.store.schema import utcnow

if TYPE_CHECKING:
    import sqlite_utils

_CHUNK = 500


@dataclass(frozen=True)
class Label:
    entry_id: int
    kind: str  # starred | tagged | read | dismissed
    at: str  # when (ISO 8601 UTC)


def labels(db: sqlite_utils.Database, *, read_limit: int, tag: str | None = None) -> list[Label]:
    """The reader's labels. For the main profile: starred, user-tagged, the `read_limit`
    most recently read entries, dismissed. For a tag's profile: the entries you gave
    that tag (as 'tagged') and the dismissed ones. An entry appears once, strongest
    label first (dismissed > starred > tagged > read)."""
    rows: list[tuple[int, str, str]] = list(
        db.execute(
            "SELECT id, 'dismissed', dismissed_at FROM entries WHERE dismissed_at IS NOT NULL"
        )
    )
    if tag is None:
        rows += db.execute(
            "SELECT id, 'starred', starred_at FROM entries WHERE starred_at IS NOT NULL"
        ).fetchall()
        rows += db.execute(
            "SELECT entry_id, 'tagged', MIN(created_at) FROM entry_tags WHERE origin = 'user' "
            "GROUP BY entry_id"
        ).fetchall()
        if read_limit > 0:
            rows += db.execute(
                "SELECT id, 'read', read_at FROM entries WHERE read_at IS NOT NULL "
                "ORDER BY read_at DESC, id DESC LIMIT ?",  # the read_at index, backwards
                [read_limit],
            ).fetchall()
    else:
        rows += db.execute(
            "SELECT entry_id, 'tagged', created_at FROM entry_tags "
            "WHERE origin = 'user' AND tag = ?",
            [tag],
        ).fetchall()
    seen: dict[int, Label] = {}
    for entry_id, kind, at in rows:
        if entry_id not in seen:
            seen[entry_id] = Label(int(entry_id), str(kind), str(at or ""))
    return sorted(seen.values(), key=lambda label: (label.at, label.entry_id))


def user_tags(db: sqlite_utils.Database) -> dict[str, int]:
    """Your own tags -> how many entries carry each."""
    return {
        str(t): int(n)
        for t, n in db.execute(
            "SELECT tag, COUNT(*) FROM entry_tags WHERE origin = 'user' GROUP BY tag ORDER BY tag"
        )
    }


@dataclass(frozen=True)
class Doc:
    entry_id: int
    text: str  # title and summary
    authors: list[str]
    day: float | None  # Julian day of its date (published, else first seen)


def docs(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, Doc]:
    """Title + summary, authors and date of each entry in `ids`."""
    out: dict[int, Doc] = {}
    for i in range(0, len(ids), _CHUNK):
        part = list(ids[i : i + _CHUNK])
        for entry_id, text, authors, day in db.execute(
            "SELECT id, title || ' ' || summary, authors, "
            "COALESCE(julianday(published), julianday(first_seen)) "
            f"FROM entries WHERE id IN ({', '.join('?' * len(part))})",
            part,
        ):
            out[entry_id] = Doc(entry_id, text, json.loads(authors or "[]"), day)
    return out


def sample_ids(
    db: sqlite_utils.Database, n: int, exclude: set[int], seed: int, *, kind: str = "paper"
) -> list[int]:
    """About `n` random entries of `kind` not in `exclude`: random ids up to the largest
    id, kept when they exist (cheap on a list of millions: no ORDER BY random())."""
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()
    if not top:
        return []
    rng = random.Random(seed)
    (count,) = db.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM entries LIMIT ?)", [4 * n]
    ).fetchone()
    if count < 4 * n:  # a small list: take them all
        ids = [r[0] for r in db.execute("SELECT id FROM entries WHERE kind = ?", [kind])]
        rng.shuffle(ids)
        return [i for i in ids if i not in exclude][:n]
    wanted = list(dict.fromkeys(rng.randint(1, int(top)) for _ in range(3 * n)))
    found: list[int] = []
    for i in range(0, len(wanted), _CHUNK):
        part = wanted[i : i + _CHUNK]
        found += [
            r[0]
            for r in db.execute(
                f"SELECT id FROM entries WHERE id IN ({', '.join('?' * len(part))}) AND +kind = ?",
                [*part, kind],
            )
        ]
    return [i for i in found if i not in exclude][:n]


def load_model(db: sqlite_utils.Database, profile: str) -> tuple[str, str, str] | None:
    """(fingerprint, fitted_at, model JSON) stored for a profile, if any."""
    row = db.execute(
        "SELECT fingerprint, fitted_at, model FROM ranking_models WHERE profile = ?", [profile]
    ).fetchone()
    return (str(row[0]), str(row[1]), str(row[2])) if row else None


def label_stamp(db: sqlite_utils.Database) -> int:
    """A number every change of a label moves (schema: `_m015_label_stamp`'s triggers)."""
    return int(db.execute("SELECT n FROM label_stamp").fetchone()[0])


def model_stamp(db: sqlite_utils.Database, profile: str) -> tuple[str, str] | None:
    """(fingerprint, fitted_at) stored for a profile, if any, without the model itself."""
    row = db.execute(
        "SELECT fingerprint, fitted_at FROM ranking_models WHERE profile = ?", [profile]
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def save_model(db: sqlite_utils.Database, profile: str, fingerprint: str, model: str) -> str:
    """Store a fitted model (replacing the profile's previous one); returns fitted_at."""
    now = utcnow()
    with db.atomic():
        db.execute(
            "INSERT OR REPLACE INTO ranking_models (profile, fingerprint, fitted_at, model) "
            "VALUES (?, ?, ?, ?)",
            [profile, fingerprint, now, model],
        )
    return now


def drop_models(db: sqlite_utils.Database, keep: Sequence[str]) -> None:
    """Forget the models of profiles no longer in use (a tag with too few entries left)."""
    with db.atomic():
        db.execute(
            f"DELETE FROM ranking_models WHERE profile NOT IN ({', '.join('?' * len(keep))})",
            list(keep),
        )


def term_frequencies(db: sqlite_utils.Database, terms: Sequence[str]) -> dict[str, int]:
    """term -> in how many entries' indexed text it occurs (entries_fts)."""
    conn = db.conn
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.pt_learn_vocab "
        "USING fts5vocab(main, entries_fts, row)"
    )
    out: dict[str, int] = {}
    for term in dict.fromkeys(terms):
        row = conn.execute("SELECT doc FROM temp.pt_learn_vocab WHERE term = ?", [term]).fetchone()
        if row:
            out[term] = int(row[0])
    return out


def term_postings(db: sqlite_utils.Database, term_query: str, limit: int) -> list[int]:
    """Ids of entries matching one FTS5 query, newest first, at most `limit`."""
    return [
        r[0]
        for r in db.execute(
            "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            [term_query, limit],
        )
    ]
