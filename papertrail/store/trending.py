"""The SQL behind `papertrail trending`: who cited which paper in a time window.

Two steps, both on indexes: the (paper, source) pairs of the window with their post
counts come from the covering index `idx_mentions_window` (first_seen, arxiv_id,
source; migration 010 copies each post's source onto its mentions), so a window is
read without touching a single post; then the posts of the few papers shown are read
by arXiv id. The ranking itself is papertrail.reading.trending's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from papertrail.models import BULK_SOURCES, PSEUDO_SOURCES

if TYPE_CHECKING:
    import sqlite_utils

_NOT_SOURCES = ", ".join(f"'{s}'" for s in PSEUDO_SOURCES + BULK_SOURCES)


class SourcePair(NamedTuple):
    """A paper cited by a source in the window: how many of its posts, the last when."""

    arxiv_id: str
    source: str
    posts: int
    last_seen: str


class MentionRow(NamedTuple):
    """One post citing one paper: the paper's arXiv id, the post, its source, when seen."""

    arxiv_id: str
    post_id: int
    source: str
    title: str
    url: str | None
    first_seen: str


def _window(since: str, until: str | None, alias: str = "") -> tuple[str, list[object]]:
    a = f"{alias}." if alias else ""
    sql = f"{a}first_seen >= ?" + (f" AND {a}first_seen < ?" if until else "")
    sql += f" AND {a}source IS NOT NULL AND {a}source NOT IN ({_NOT_SOURCES})"
    return sql, [since, *([until] if until else [])]


def source_pairs(
    db: sqlite_utils.Database,
    since: str,
    until: str | None = None,
    domains: Sequence[str] = (),
) -> list[SourcePair]:
    """(paper, source, posts, last seen) for mentions first seen in [since, until) by
    posts of real sources (never papertrail's own provenance names nor archive imports);
    with `domains`, only papers of the reading list tagged with one of them."""
    where, params = _window(since, until, "m")
    # Every source that listed the citing post counts: one article in two feeds is one
    # entry (issue 18) with both sources in its provenance. `+m.arxiv_id`: group in a
    # temporary b-tree rather than walk the arxiv_id index.
    sql = f"""SELECT m.arxiv_id, pv.source, COUNT(*) AS posts, MAX(m.first_seen) AS last_seen
              FROM mentions m JOIN provenance pv ON pv.entry_id = m.post_id
              WHERE {where} AND pv.source NOT IN ({_NOT_SOURCES})
              GROUP BY +m.arxiv_id, pv.source"""
    if domains:
        marks = ", ".join("?" * len(domains))
        sql = f"""SELECT a.* FROM ({sql}) a WHERE EXISTS (
                    SELECT 1 FROM entries e JOIN entry_domains d ON d.entry_id = e.id
                    WHERE e.arxiv_id = a.arxiv_id AND d.domain IN ({marks}))"""
        params += list(domains)
    return [SourcePair(*r) for r in db.execute(sql, params)]


def posts_citing(
    db: sqlite_utils.Database, arxiv_ids: Sequence[str], since: str, until: str | None = None
) -> list[MentionRow]:
    """The posts that cited these papers in the window, newest first."""
    out: list[MentionRow] = []
    where, params = _window(since, until, "m")
    for i in range(0, len(arxiv_ids), 500):
        chunk = list(arxiv_ids[i : i + 500])
        sql = f"""SELECT m.arxiv_id, p.id, m.source, p.title, p.url, m.first_seen
                  FROM mentions m JOIN entries p ON p.id = m.post_id
                  WHERE m.arxiv_id IN ({", ".join("?" * len(chunk))}) AND {where}
                  ORDER BY m.first_seen DESC, p.id DESC"""
        out += [MentionRow(*r) for r in db.execute(sql, [*chunk, *params])]
    return out


def entry_ids_by_arxiv_id(db: sqlite_utils.Database, arxiv_ids: Sequence[str]) -> dict[str, int]:
    """{arXiv id: entry id} for the ids that are in the reading list."""
    out: dict[str, int] = {}
    for i in range(0, len(arxiv_ids), 500):
        chunk = list(arxiv_ids[i : i + 500])
        sql = f"SELECT arxiv_id, id FROM entries WHERE arxiv_id IN ({', '.join('?' * len(chunk))})"
        out.update({a: int(n) for a, n in db.execute(sql, chunk)})
    return out
