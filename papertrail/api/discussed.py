"""`papertrail trending`: the papers the feeds discuss, most distinct sources first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.config import Config, Paths
from papertrail.reading.trending import Trending, attach_posts, rank, source_weight
from papertrail.store import trending as sql

if TYPE_CHECKING:
    import sqlite_utils

DEFAULT_LIMIT = 20


def build_trending(
    db: sqlite_utils.Database,
    config: Config | None,
    *,
    since: str,
    until: str | None = None,
    domains: Sequence[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> Trending:
    """The trending view over [since, until) (ISO dates), on an open database."""
    pairs = sql.source_pairs(db, since, until, domains)
    weights = {name: source_weight(config, name) for name in {p.source for p in pairs}}
    papers = rank(pairs, weights, limit)
    attach_posts(papers, sql.posts_citing(db, [p.arxiv_id for p in papers], since, until))
    ids = sql.entry_ids_by_arxiv_id(db, [p.arxiv_id for p in papers])
    entries = {e["id"]: e for e in store.entries_by_ids(db, list(ids.values()))}
    for paper in papers:
        entry_id = ids.get(paper.arxiv_id)
        paper.entry = entries.get(entry_id) if entry_id is not None else None
    return Trending(since, until, list(domains), papers, weights)


def trending(
    paths: Paths,
    *,
    since: str = "7d",
    until: str | None = None,
    domains: Sequence[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> Trending:
    """`papertrail trending`: papers ranked by the distinct sources (weighted by kind:
    papertrail.reading.trending) whose posts cited them since `since` (24h, 7d, 2w or
    a date), with those posts. The reading page shows the same `Trending`."""
    if limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    config = paths.config()
    with store.connected(paths.db, create=False) as db:
        return build_trending(
            db,
            config,
            since=store.parse_since(since),
            until=store.parse_since(until) if until else None,
            domains=domains,
            limit=limit,
        )
