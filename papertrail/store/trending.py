"""The SQL behind `papertrail trending`: the posts that cited papers in a time window.

Read on `idx_mentions_first_seen` (migration 010): a week of mentions is a few
hundred rows however large the reading list is. The ranking itself is
papertrail.reading.trending's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from papertrail.models import BULK_SOURCES, PSEUDO_SOURCES

if TYPE_CHECKING:
    import sqlite_utils

_NOT_SOURCES = ", ".join(f"'{s}'" for s in PSEUDO_SOURCES + BULK_SOURCES)


class MentionRow(NamedTuple):
    """One post citing one paper: the paper's arXiv id, the post, its source, when seen."""

    arxiv_id: str
    post_id: int
    source: str
    title: str
    url: str | None
    published: str | None
    first_seen: str


def mentions_between(
    db: sqlite_utils.Database,
    since: str,
    until: str | None = None,
    domains: Sequence[str] = (),
) -> list[MentionRow]:
    """Mentions first seen in [since, until) by posts of real sources (never papertrail's
    own provenance names nor archive imports); with `domains`, only of papers in the
    reading list tagged with one of them."""
    sql = f"""
        SELECT m.arxiv_id, p.id, p.source, p.title, p.url, p.published, m.first_seen
        FROM mentions m JOIN entries p ON p.id = m.post_id
        WHERE m.first_seen >= ? {"AND m.first_seen < ?" if until else ""}
          AND p.source IS NOT NULL AND p.source NOT IN ({_NOT_SOURCES})"""
    params: list[object] = [since, *([until] if until else [])]
    if domains:
        sql += f"""
          AND m.arxiv_id IN (SELECT e.arxiv_id FROM entries e JOIN entry_domains d
                             ON d.entry_id = e.id WHERE e.arxiv_id = m.arxiv_id
                             AND d.domain IN ({", ".join("?" * len(domains))}))"""
        params += list(domains)
    return [MentionRow(*r) for r in db.execute(sql, params)]


def entry_ids_by_arxiv_id(db: sqlite_utils.Database, arxiv_ids: Sequence[str]) -> dict[str, int]:
    """{arXiv id: entry id} for the ids that are in the reading list."""
    out: dict[str, int] = {}
    for i in range(0, len(arxiv_ids), 500):
        chunk = list(arxiv_ids[i : i + 500])
        sql = f"SELECT arxiv_id, id FROM entries WHERE arxiv_id IN ({', '.join('?' * len(chunk))})"
        out.update({a: int(n) for a, n in db.execute(sql, chunk)})
    return out
