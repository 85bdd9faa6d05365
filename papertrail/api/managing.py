"""Looking after the reading list: its sources' state, re-tagging, re-ranking."""

from __future__ import annotations

from typing import cast

from papertrail import store
from papertrail.config import Paths
from papertrail.reading.rank import RankReport, rank_all, rescore
from papertrail.sources.domains import DomainTagger
from papertrail.store.queries import SourceState


def retag(paths: Paths) -> int:
    """`papertrail retag`: re-apply feeds.yml's domain rules to every entry; how many."""
    config = paths.config()
    with store.connected(paths.db) as db:
        count = store.retag_all(db, DomainTagger(config.domains))
        rescore(db, config)  # `retag` follows an edit of feeds.yml: `ranking:` too
        return count


def rank(paths: Paths) -> RankReport:
    """`papertrail rank`: rescore every entry with feeds.yml's `ranking:` rules."""
    config = paths.config()
    with store.connected(paths.db) as db:
        return rank_all(db, config)


class SourceRow(SourceState, total=False):
    """One source as `papertrail sources --json` prints it: feeds.yml joined with the
    stored fetch state (whose keys are there once the source was synced)."""

    enabled: bool


def sources(paths: Paths) -> list[SourceRow]:
    """Sources from feeds.yml joined with their stored fetch state; then sources
    only the database still knows (removed from feeds.yml)."""
    config = paths.config()
    with store.connected(paths.db) as db:
        store.sync_sources(db, config)
        rows = {r["name"]: r for r in store.list_sources(db)}
    out: list[SourceRow] = []
    for s in config.sources:
        row = cast(SourceRow, dict(rows.pop(s.name, {})))
        row["name"], row["kind"], row["enabled"], row["in_config"] = (
            s.name, s.kind, s.enabled, True,
        )  # fmt: skip
        out.append(row)
    for state in rows.values():
        row = cast(SourceRow, dict(state))
        row["enabled"], row["in_config"] = False, False
        out.append(row)
    return out


def enable_source(paths: Paths, name: str) -> None:
    """`papertrail sources enable NAME`: resume a source paused after repeated failures.
    KeyError for an unknown source; ValueError when feeds.yml itself disables it."""
    config = paths.config()
    with store.connected(paths.db) as db:
        store.sync_sources(db, config)
        if not store.enable_source(db, name):
            raise KeyError(f"no source named {name!r} in {paths.feeds}")
    if not config.source(name).enabled:
        raise ValueError(
            f"{name!r} is no longer paused, but it has `enabled: false` in {paths.feeds} "
            f"(line {config.source(name).line}); set it to true to fetch it"
        )
