"""The library API behind each CLI command: open things, call one function, return data.

Nothing here imports click; errors are the library's own exceptions
(ConfigError, FetchLocked, ValueError, KeyError) and the CLI turns them into
messages and exit codes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from papertrail.config import Config, default_feeds_path, load_config

APP_NAME = "papertrail"


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "papertrail.db"


@dataclass
class Paths:
    db: Path
    feeds: Path

    @classmethod
    def resolve(cls, db: str | os.PathLike | None, feeds: str | os.PathLike | None) -> Paths:
        """--db / PAPERTRAIL_DB, else the user data dir; --feeds / PAPERTRAIL_FEEDS, else
        ./feeds.yml, the user config dir, the packaged default (click fills env vars)."""
        return cls(
            db=Path(db).expanduser() if db else default_db_path(),
            feeds=Path(feeds).expanduser() if feeds else default_feeds_path(),
        )

    def config(self) -> Config:
        return load_config(self.feeds)


def fetch(paths: Paths, *, only: list[str] | None = None, on_event: Any = None):
    """Run a fetch and return (FetchReport, Digest of what is new since the previous fetch)."""
    from papertrail import store
    from papertrail.ingest.fetch import run_fetch

    config = paths.config()
    report = run_fetch(paths.db, config, only=only, on_event=on_event)
    db = store.open_db(paths.db)
    try:
        from papertrail.reading.rank import rescore_recent

        rescore_recent(db, config)  # new entries, new mentions, recency from the newest entry
        store.maintain_search_index(db)
        digest = build_digest(
            db, config, after_run=report.previous_run, summary=fetch_summary(report)
        )
    finally:
        db.close()
    return report, digest


def fetch_summary(report: Any):
    from papertrail.reading.digest import FetchSummary

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
    db: Any,
    config: Config,
    *,
    since: str | None = None,
    until: str | None = None,
    after_run: int | None = None,
    summary: Any = None,
):
    """The digest for a time window (`since`/`until`, ISO) or for runs after `after_run`."""
    from papertrail import store
    from papertrail.reading.digest import Digest

    if since is not None:
        entries = store.entries_between(db, since, until)
        updates = store.starred_updates_between(db, since, until)
    else:
        entries = store.entries_since_run(db, after_run or 0)
        updates = store.starred_updates_since_run(db, after_run or 0)
    from papertrail.reading.rank import rank_digest_entries

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


def digest(paths: Paths, *, since: str, until: str | None = None):
    from papertrail import store

    config = paths.config()
    db = store.open_db(paths.db)
    try:
        return build_digest(
            db,
            config,
            since=store.parse_since(since),
            until=store.parse_since(until) if until else None,
        )
    finally:
        db.close()


def retag(paths: Paths) -> int:
    from papertrail import store
    from papertrail.sources.domains import DomainTagger

    config = paths.config()
    db = store.open_db(paths.db)
    try:
        from papertrail.reading.rank import rescore

        count = store.retag_all(db, DomainTagger(config.domains))
        rescore(db, config)  # `retag` follows an edit of feeds.yml: `ranking:` too
        return count
    finally:
        db.close()


def sources(paths: Paths) -> list[dict[str, Any]]:
    """Sources from feeds.yml joined with their stored fetch state."""
    from papertrail import store

    config = paths.config()
    db = store.open_db(paths.db)
    try:
        store.sync_sources(db, config)
        rows = {r["name"]: r for r in store.list_sources(db)}
    finally:
        db.close()
    out = []
    for s in config.sources:
        row = rows.pop(s.name, {})
        out.append({**row, "name": s.name, "kind": s.kind, "enabled": s.enabled, "in_config": True})
    out += [{**r, "enabled": False, "in_config": False} for r in rows.values()]
    return out


def enable_source(paths: Paths, name: str) -> None:
    from papertrail import store

    config = paths.config()
    db = store.open_db(paths.db)
    try:
        store.sync_sources(db, config)
        if not store.enable_source(db, name):
            raise KeyError(f"no source named {name!r} in {paths.feeds}")
    finally:
        db.close()
    if not config.source(name).enabled:
        raise ValueError(
            f"{name!r} is no longer paused, but it has `enabled: false` in {paths.feeds} "
            "(line {}); set it to true to fetch it".format(config.source(name).line)
        )


def write_atomic(path: Path, text: str) -> None:
    """Write a file so a reader never sees half of it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def import_snapshot(
    paths: Paths,
    file: Path,
    *,
    restart: bool = False,
    workers: int = 2,
    on_progress: Any = None,
):
    """`papertrail import arxiv-snapshot`: stream the arXiv metadata snapshot into
    the reading list (under the writer lock fetch uses), then rescore what is recent."""
    from papertrail import store
    from papertrail.ingest.fetch import database_lock
    from papertrail.ingest.snapshot import import_snapshot as run_import
    from papertrail.reading.rank import rescore_recent

    config = paths.config()
    with database_lock(paths.db, "import"):
        db = store.open_db(paths.db)
        try:
            report = run_import(
                db, file, config.domains, restart=restart, workers=workers, on_progress=on_progress
            )
            rescore_recent(db, config)
            report.search_index = store.maintain_search_index(db)
        finally:
            db.close()
    return report
