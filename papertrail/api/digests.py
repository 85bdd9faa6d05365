"""`papertrail digest`: the entries of a time window, grouped by domain and ranked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.api.discussed import build_trending
from papertrail.api.page import why_lines
from papertrail.config import Config, Paths
from papertrail.reading import profiles
from papertrail.reading.digest import Digest, FetchSummary
from papertrail.reading.rank import rank_digest_entries

if TYPE_CHECKING:
    import sqlite_utils

TRENDING_IN_DIGEST = 5  # papers in the digest's opening "Discussed this week" section


def build_digest(
    db: sqlite_utils.Database,
    config: Config,
    *,
    since: str | None = None,
    until: str | None = None,
    after_run: int | None = None,
    summary: FetchSummary | None = None,
    why_budget_s: float = 0.0,
) -> Digest:
    """The digest for a time window (`since`/`until`, ISO) or for runs after `after_run`;
    with `why_budget_s`, each entry's one-line why, best first, until that many seconds
    are spent (one explanation costs ms on a small list, seconds on a huge one)."""
    if since is not None:
        entries = store.entries_between(db, since, until)
        updates = store.starred_updates_between(db, since, until)
    else:
        entries = store.entries_since_run(db, after_run or 0)
        updates = store.starred_updates_since_run(db, after_run or 0)
    # Best score first within each domain (digest.group_by_domain keeps this order);
    # entries hidden by a block rule in feeds.yml are left out (still in the database).
    entries, hidden = rank_digest_entries(db, config, entries)
    # ranking.follow_tags: a section per tag of yours, the entries most like it (issue 17)
    sections = profiles.tag_sections(db, config, entries) if config.ranking.follow_tags else []
    today = datetime.now(timezone.utc)
    # The digest opens with what the feeds discuss: over its window, or the past week.
    window = since or (today - timedelta(days=7)).isoformat(timespec="seconds")
    discussed = build_trending(db, config, since=window, until=until, limit=TRENDING_IN_DIGEST)
    return Digest(
        title=f"papertrail digest — {today:%Y-%m-%d}",
        generated_at=today.isoformat(timespec="seconds"),
        since=since,
        until=until,
        domain_order=[d.name for d in config.domains],
        entries=entries,
        updates=updates,
        summary=summary,
        hidden=hidden,
        trending=discussed.papers,
        tag_sections=sections,
        why=why_lines(db, config, [e["id"] for e in entries], why_budget_s)
        if why_budget_s > 0
        else {},
    )


def digest(
    paths: Paths, *, since: str, until: str | None = None, why_budget_s: float = 0.0
) -> Digest:
    """`papertrail digest` (and the reading page's Today): the entries first seen in a
    window (24h, 7d, 2w or a date); `why_budget_s` bounds the time spent explaining."""
    config = paths.config()
    with store.connected(paths.db, create=False) as db:
        return build_digest(
            db,
            config,
            since=store.parse_since(since),
            until=store.parse_since(until) if until else None,
            why_budget_s=why_budget_s,
        )
