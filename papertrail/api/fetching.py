"""Filling the reading list and reporting on it: fetch, digest, sources, retag, rank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, cast

from papertrail import store
from papertrail.config import Config, Paths
from papertrail.ingest.fetch import EventHandler, FetchReport, run_fetch
from papertrail.reading.digest import Digest, FetchSummary
from papertrail.reading.rank import (
    RankReport,
    rank_all,
    rank_digest_entries,
    rescore,
    rescore_recent,
)
from papertrail.sources.domains import DomainTagger
from papertrail.store.queries import SourceState

if TYPE_CHECKING:
    import sqlite_utils


@dataclass(frozen=True)
class FetchOutcome:
    """What `fetch` did (per source) and the digest of what is new since the previous fetch."""

    report: FetchReport
    digest: Digest


def fetch(
    paths: Paths, *, only: list[str] | None = None, on_event: EventHandler | None = None
) -> FetchOutcome:
    """`papertrail fetch`: fetch every enabled source (or `only` these), rescore, and
    build the digest of what is new since the previous fetch."""
    config = paths.config()
    report = run_fetch(paths.db, config, only=only, on_event=on_event)
    with store.connected(paths.db) as db:
        rescore_recent(db, config)  # new entries, new mentions, recency from the newest entry
        store.maintain_search_index(db)
        digest = build_digest(
            db, config, after_run=report.previous_run, summary=fetch_summary(report)
        )
    return FetchOutcome(report, digest)


def fetch_summary(report: FetchReport) -> FetchSummary:
    """The digest's closing summary of a fetch run."""
    totals = report.totals
    return FetchSummary(
        sources_ok=totals["sources_ok"],
        sources_failed=totals["sources_failed"],
        sources_not_modified=totals["sources_not_modified"],
        sources_skipped=totals["sources_skipped"],
        new_papers=totals["new_papers"],
        new_posts=totals["new_posts"],
        updated_versions=totals["updated_versions"],
        failures=[
            (s.name, s.error or "") for s in report.sources if s.status in ("error", "skipped")
        ],
        warnings=[(s.name, w) for s in report.sources for w in s.warnings],
        moved=[(s.name, s.moved_to) for s in report.sources if s.moved_to],
    )


def build_digest(
    db: sqlite_utils.Database,
    config: Config,
    *,
    since: str | None = None,
    until: str | None = None,
    after_run: int | None = None,
    summary: FetchSummary | None = None,
) -> Digest:
    """The digest for a time window (`since`/`until`, ISO) or for runs after `after_run`."""
    if since is not None:
        entries = store.entries_between(db, since, until)
        updates = store.starred_updates_between(db, since, until)
    else:
        entries = store.entries_since_run(db, after_run or 0)
        updates = store.starred_updates_since_run(db, after_run or 0)
    # Best score first within each domain (digest.group_by_domain keeps this order);
    # entries hidden by a block rule in feeds.yml are left out (still in the database).
    entries, hidden = rank_digest_entries(db, config, entries)
    today = datetime.now(timezone.utc)
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
    )


def digest(paths: Paths, *, since: str, until: str | None = None) -> Digest:
    """`papertrail digest`: the entries first seen in a window (24h, 7d, 2w or a date)."""
    config = paths.config()
    with store.connected(paths.db) as db:
        return build_digest(
            db,
            config,
            since=store.parse_since(since),
            until=store.parse_since(until) if until else None,
        )


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
