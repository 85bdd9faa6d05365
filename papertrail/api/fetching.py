"""`papertrail fetch`: every source fetched, parsed and saved, then rescored and digested."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.config import Paths
from papertrail.ingest.fetch import EventHandler, FetchReport, run_fetch

if TYPE_CHECKING:
    from papertrail.reading.digest import Digest, FetchSummary

# What `fetch` needs once the sources are saved (~60 ms to import): loaded while the
# HTTP lane waits for its first answers (`run_fetch(when_idle=...)`), not before it starts.
AFTER_FETCH = (
    "papertrail.ingest.codelinks",
    "papertrail.reading.digest",
    "papertrail.reading.rank",
)
# ... and, unless only the summary is printed (`fetch --quiet`), the digest's entries
# (~25 ms more: why lines, trending).
AFTER_FETCH_DIGEST = ("papertrail.api.digests",)


@dataclass(frozen=True)
class FetchOutcome:
    """What `fetch` did (per source) and the digest of what is new since the previous fetch."""

    report: FetchReport
    digest: Digest


def fetch(
    paths: Paths,
    *,
    only: list[str] | None = None,
    on_event: EventHandler | None = None,
    summary_only: bool = False,
) -> FetchOutcome:
    """`papertrail fetch`: fetch every enabled source (or `only` these), rescore, and
    build the digest of what is new since the previous fetch (`summary_only`: a digest
    with the run's summary alone, for `fetch --quiet`, which prints nothing else)."""
    config = paths.config()
    after = AFTER_FETCH if summary_only else AFTER_FETCH + AFTER_FETCH_DIGEST
    report = run_fetch(
        paths.db, config, only=only, on_event=on_event, when_idle=lambda: _import_after(after)
    )
    # imported after the HTTP lane starts (already loaded by _import_after): see AFTER_FETCH
    from papertrail.ingest.codelinks import scan_papers
    from papertrail.reading.digest import Digest
    from papertrail.reading.rank import rescore_recent

    summary = fetch_summary(report)
    with store.connected(paths.db) as db:
        scan_papers(db)  # code links of the new (and, once, of every older) paper
        rescore_recent(db, config)  # new entries, new mentions, recency from the newest entry
        store.maintain_search_index(db)
        if summary_only:  # no entries, trending or sections: nobody would see them
            now = datetime.now(timezone.utc)
            title, order = f"papertrail digest — {now:%Y-%m-%d}", [d.name for d in config.domains]
            at = now.isoformat(timespec="seconds")
            digest = Digest(title, at, None, None, order, entries=[], summary=summary)
        else:
            # imported after the HTTP lane starts (already loaded by _import_after)
            from papertrail.api.digests import build_digest

            digest = build_digest(db, config, after_run=report.previous_run, summary=summary)
    return FetchOutcome(report, digest)


def fetch_summary(report: FetchReport) -> FetchSummary:
    """The digest's closing summary of a fetch run."""
    # imported after the HTTP lane starts: see AFTER_FETCH
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


def _import_after(names: tuple[str, ...]) -> None:
    """Load the modules `fetch` needs after the run (AFTER_FETCH...), while it waits."""
    for name in names:
        importlib.import_module(name)
