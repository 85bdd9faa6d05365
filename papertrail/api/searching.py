"""`papertrail search` as a library call, kept light to import (issue 19).

A search runs as a whole process many times a day, so what it imports is part of
its time: this module needs only the store's read path (store.read_only, the FTS5
search in store.triage). The ranking machinery (reading.refresh, which pulls in
the learned model) and feeds.yml are loaded only when a search needs them: a
star's rescore still under way, or a filter naming something the reading list
does not have. `make_filter` lives here for the same reason (list, export and
the reading page use it too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.models import GENERAL, Entry
from papertrail.store import read_only, triage
from papertrail.store.ranking import get_state

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.config import Paths

DEFAULT_LIMIT = 50


def make_filter(
    *,
    domains: Sequence[str] = (),
    tags: Sequence[str] = (),
    sources: Sequence[str] = (),
    kind: str | None = None,
    unread: bool = False,
    starred: bool = False,
    since: str | None = None,
    until: str | None = None,
    include_hidden: bool = True,
    has_code: bool = False,
) -> store.EntryFilter:
    """An EntryFilter from what a user typed (`since`/`until` as 24h, 7d, 2w or a date)."""
    return store.EntryFilter(
        domains=tuple(domains),
        tags=tuple(tags),
        sources=tuple(sources),
        kind=kind,
        unread=unread,
        starred=starred,
        since=store.parse_since(since) if since else None,
        until=store.parse_since(until) if until else None,
        include_hidden=include_hidden,
        has_code=has_code,
    )


def configured_names(paths: Paths) -> Callable[[], dict[str, list[str]]]:
    """The domain and source names feeds.yml defines (read only when a filter names
    something the reading list does not have; a broken feeds.yml counts as none)."""

    def names() -> dict[str, list[str]]:
        # imported only when needed: feeds.yml's checker is most of a search's imports
        from papertrail.config import ConfigError

        try:
            config = paths.config()
        except (ConfigError, OSError):
            return {}
        domains = [d.name for d in config.domains]
        return {"domain": [*domains, GENERAL], "source": [s.name for s in config.sources]}

    return names


@dataclass(frozen=True)
class SearchResult:
    """The entries a search found, best first (each with `relevance` and `snippet`)."""

    entries: list[Entry]
    window: int | None = None  # set when only the newest `window` matches were ranked


def search(
    paths: Paths,
    query: str,
    flt: store.EntryFilter | None = None,
    *,
    sort: str = "relevance",
    limit: int | None = DEFAULT_LIMIT,
) -> SearchResult:
    """`papertrail search`: FTS5 over titles, text and notes; raises
    `store.SearchSyntaxError` (a ValueError) with advice."""
    flt = flt or store.EntryFilter()
    with read_only.reading(paths.db) as db:  # no sqlite_utils: a search starts fast (issue 19)
        store.check_filter_names(db, flt, configured_names(paths))
        if get_state(db, "pending") is not None:  # a star's rescore is under way
            return _search_while_pending(paths, db, query, flt, sort, limit)
        hits = triage.search(db, query, flt, sort=sort, limit=limit)
    return SearchResult(list(hits), hits.window)


def _search_while_pending(
    paths: Paths,
    db: sqlite_utils.Database,
    query: str,
    flt: store.EntryFilter,
    sort: str,
    limit: int | None,
) -> SearchResult:
    """The search while a refresh of the stored scores is writing: the entries it may
    not have reached yet get their live score and block state (reading.refresh)."""
    # imported only when needed: the ranking machinery (the learned model) is heavy
    from papertrail.reading.refresh import live_while_pending, pending_floor

    floor = pending_floor(db)  # read before the scores
    hits = triage.search(db, query, flt, sort=sort, limit=limit)
    found = list(hits)
    live_while_pending(db, paths.config(), found, floor)
    return SearchResult(found, hits.window)
