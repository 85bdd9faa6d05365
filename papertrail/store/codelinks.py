"""Code and artifact links of papers: saving them, the scan mark, and reading them back.

`code_links` rows are keyed by arXiv id (like `mentions`), with the entry each
link was found in: the paper itself (`found_in` abstract / comment) or a post
citing it (`found_in` post). Extraction is papertrail.sources.codelinks'; the
paper scan that calls it runs in papertrail.ingest.codelinks after each fetch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from papertrail.models import CodeLink, CodeLinkRef
from papertrail.store.schema import utcnow

if TYPE_CHECKING:
    import sqlite_utils

_INSERT = """INSERT OR IGNORE INTO code_links (arxiv_id, url, kind, found_in, entry_id, first_seen)
VALUES (?, ?, ?, ?, ?, ?)"""
# Only rows that could hold a link are read when scanning a whole archive import.
_HINTS = ("://", "github.com/", "gitlab.com/", "codeberg.org/", "huggingface.co/")
_MAYBE_LINK = " OR ".join(
    f"instr({col}, '{hint}') > 0" for col in ("summary", "comment") for hint in _HINTS
)
# The JSON array `query_entries` reads as `code_links`: the paper's own text first.
ENTRY_CODE_LINKS_SQL = """(SELECT json_group_array(json_array(url, kind, found_in)) FROM
    (SELECT url, kind, found_in FROM code_links c WHERE e.arxiv_id IS NOT NULL
     AND c.arxiv_id = e.arxiv_id
     ORDER BY CASE found_in WHEN 'comment' THEN 0 WHEN 'abstract' THEN 1 ELSE 2 END,
              first_seen, url)) AS code_links"""
HAS_CODE_SQL = "e.arxiv_id IN (SELECT arxiv_id FROM code_links)"


class PaperText(NamedTuple):
    id: int
    arxiv_id: str
    summary: str
    comment: str | None


def post_rows(post_id: int, links: Sequence[CodeLink], now: str) -> list[tuple[object, ...]]:
    """Rows for the code links a post attributes to the papers it cites."""
    return [
        (link.arxiv_id, link.url, link.kind, "post", post_id, now)
        for link in links
        if link.arxiv_id
    ]


def save_post_rows(db: sqlite_utils.Database, rows: Sequence[tuple[object, ...]]) -> None:
    if rows:
        db.conn.executemany(_INSERT, rows)


def save_paper_links(
    db: sqlite_utils.Database, papers: Iterable[tuple[PaperText, Sequence[CodeLink]]]
) -> int:
    """Replace each paper's own links (abstract, comment) with `links`; returns the rows added."""
    now = utcnow()
    added = 0
    for paper, links in papers:
        db.conn.execute(
            "DELETE FROM code_links WHERE entry_id = ? AND found_in != 'post'", [paper.id]
        )
        rows = [(paper.arxiv_id, k.url, k.kind, k.found_in, paper.id, now) for k in links]
        db.conn.executemany(_INSERT, rows)
        added += len(rows)
    return added


def scan_mark(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """(last entry id scanned for code links, when the last scan ran)."""
    row = db.execute(
        "SELECT last_entry_id, scanned_at FROM code_link_scan WHERE name = 'papers'"
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def set_scan_mark(db: sqlite_utils.Database, last_entry_id: int, scanned_at: str) -> None:
    db.execute(
        "INSERT INTO code_link_scan (name, last_entry_id, scanned_at) VALUES ('papers', ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET last_entry_id = excluded.last_entry_id, "
        "scanned_at = excluded.scanned_at",
        [last_entry_id, scanned_at],
    )


def papers_after(db: sqlite_utils.Database, after_id: int, limit: int) -> list[PaperText]:
    """Papers with an id above `after_id` whose abstract or comment may hold a link."""
    rows = db.execute(
        f"""SELECT id, arxiv_id, summary, comment FROM entries
            WHERE id > ? AND kind = 'paper' AND arxiv_id IS NOT NULL AND ({_MAYBE_LINK})
            ORDER BY id LIMIT ?""",
        [after_id, limit],
    )
    return [PaperText(*r) for r in rows]


def papers_updated_since(db: sqlite_utils.Database, since: str, upto_id: int) -> list[PaperText]:
    """Papers (up to `upto_id`) that moved to a new version since `since`: their
    comment may now name the code."""
    rows = db.execute(
        """SELECT id, arxiv_id, summary, comment FROM entries
           WHERE version_updated_at IS NOT NULL AND version_updated_at >= ? AND id <= ?
             AND arxiv_id IS NOT NULL""",
        [since, upto_id],
    )
    return [PaperText(*r) for r in rows]


def decode_entry_links(value: str | None) -> list[CodeLinkRef]:
    """`ENTRY_CODE_LINKS_SQL`'s JSON as a list, one item per URL (its best place)."""
    out: dict[str, CodeLinkRef] = {}
    for url, kind, found_in in json.loads(value) if value else []:
        out.setdefault(url, {"url": url, "kind": kind, "found_in": found_in})
    return list(out.values())


def count_code_links(db: sqlite_utils.Database) -> dict[str, int]:
    """Links stored by kind (for tests and the README's figures)."""
    return {k: n for k, n in db.execute("SELECT kind, COUNT(*) FROM code_links GROUP BY kind")}
