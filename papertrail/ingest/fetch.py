"""One fetch run: every enabled source fetched, parsed and saved.

Shape of a run:

    lock the database (a second fetch exits with store.FetchLocked)
    thread A: asyncio fetch of every feed / arxiv-rss source (papertrail.sources.http),
              started at once from the stored validators read with plain sqlite3
              (papertrail.ingest.http_lane); while its first requests are in flight:
    open the database for writing (migrations), import the writer's modules
    (papertrail.ingest.fetch_writer), sync `sources` with feeds.yml, start a
    `fetch_runs` row
    thread B: the arXiv API lane, one query at a time, >= 3 s apart
    thread C: the mailbox lane, local mbox / Maildir sources (no network);
              messages already stored (by Message-ID) are not parsed again
    parse pool: feed documents parsed and domain-tagged in worker processes
                (papertrail.ingest.pool; in this process for a small run); a
                parse that crashes or hangs its worker fails that source only;
                started with the early lane when many sources are new
    main thread: the only writer; as each parsed result arrives it is saved
                 with its source state and log row atomically (results that
                 arrive together share a commit, one savepoint each)
    then: the mentions backfill (papertrail.ingest.add) fetches the arXiv papers
          that posts mention but the reading list lacks (provenance
          "mentioned"); a failure there is a warning, never a failed run

A run killed at any point leaves each source fully saved or untouched: the
next run re-fetches the untouched ones (their ETag was not stored either) and
upserts on natural keys, so nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.config import Config
from papertrail.ingest.http_lane import HttpLane, start_early
from papertrail.ingest.report import EventHandler, FetchEvent, FetchReport, SourceReport

if TYPE_CHECKING:
    from papertrail.ingest.pool import ParsePool

__all__ = ["EventHandler", "FetchEvent", "FetchReport", "SourceReport", "run_fetch"]


def run_fetch(
    db_path: Path,
    config: Config,
    *,
    only: list[str] | None = None,
    on_event: EventHandler | None = None,
    when_idle: Callable[[], None] | None = None,
) -> FetchReport:
    """Fetch every enabled source of `config` (or `only` these) into the database at
    `db_path`. Raises store.FetchLocked when another fetch or import holds it,
    store.BadInput (naming the closest) for a name in `only` that feeds.yml does not have.
    `when_idle` is called once, the first time the writer waits for a result."""
    names = [s.name for s in config.sources]
    unknown = [n for n in dict.fromkeys(only or ()) if n not in names]
    if unknown:
        raise store.BadInput(
            "\n".join(
                f"{config.path}: " + store.unknown_name_message("source", n, names) for n in unknown
            )
        )
    with store.database_lock(db_path, "fetch"):
        early = start_early(db_path, config, only)
        pool = _start_pool(config, early)
        try:
            if early is not None:
                early.wait_first_wave()  # then the CPU work below holds no request back
            # imported after the HTTP lane starts: the writer and the other lanes (~60 ms)
            from papertrail.ingest.fetch_writer import write_run

            handler = on_event or (lambda event: None)
            return write_run(
                db_path, config, only, handler, early=early, pool=pool, when_idle=when_idle
            )
        finally:
            if pool is not None:
                pool.close()  # the writer closed it already, unless it never adopted it


def _start_pool(config: Config, early: HttpLane | None) -> ParsePool | None:
    """Many new feeds: the parse pool starts now, its processes busy on the other core
    while this one opens the database (the writer adopts it with the early lane)."""
    if early is None or not early.never_fetched:
        return None  # (a re-fetch of known feeds does not import the parser here)
    # imported after the HTTP lane starts: the parse pool (~25 ms)
    from papertrail.ingest.pool import start_pool

    return start_pool(config.domains, early.results.put, early.never_fetched)
