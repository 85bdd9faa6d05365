"""The reproductions from the reading list's side: list, show, run (`papertrail repro`).

Every call registers the reproductions found in `reproductions/`; a run also adds
its papers to the reading list when missing, dated by arXiv (a listing adds
nothing to read), and `--refresh` fetches them all from the arXiv API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail import repro, store
from papertrail.config import ConfigError, Paths
from papertrail.ingest.add import arxiv_api_client
from papertrail.models import Tagger
from papertrail.repro import (
    ProgressFn,
    ReproDetails,
    Reproduction,
    ReproError,
    ReproRow,
    RunOutcome,
)
from papertrail.sources.domains import DomainTagger

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.repro import ReproArgs


class RefreshNeedsConfig(ReproError):
    """--refresh asks arXiv, and the API settings live in feeds.yml, which cannot be read."""


@dataclass(frozen=True)
class Refresh:
    """How a --refresh from arXiv went (`asked` False: none was asked for)."""

    asked: bool = False
    error: str | None = None  # the API's error sentence; the reading list kept what it had


@dataclass(frozen=True)
class ReproListing:
    rows: list[ReproRow]
    refresh: Refresh


@dataclass(frozen=True)
class ReproShown:
    details: ReproDetails
    refresh: Refresh


def discover_reproductions() -> dict[str, Reproduction]:
    """Every reproduction in `reproductions/`, by name (imports no torch)."""
    return repro.discover()


def list_reproductions(paths: Paths, *, refresh: bool = False) -> ReproListing:
    """`papertrail repro list`: each reproduction with its papers, smoke test and last run."""
    repros = repro.discover()
    with store.connected(paths.db) as db:
        refreshed = _link(paths, db, list(repros.values()), refresh)
        return ReproListing(repro.overview(db, repros), refreshed)


def show_reproduction(
    paths: Paths, name: str, *, runs: int = 10, refresh: bool = False
) -> ReproShown:
    """`papertrail repro show NAME`; KeyError (listing the others) for an unknown name."""
    found = repro.get(name)
    repros = repro.discover()
    with store.connected(paths.db) as db:
        refreshed = _link(paths, db, list(repros.values()), refresh)
        return ReproShown(repro.details(db, found, runs=runs), refreshed)


def run_reproduction(
    paths: Paths,
    found: Reproduction,
    args: ReproArgs,
    *,
    device: str = "auto",
    seed: int = 0,
    dry_run: bool = False,
    from_run: int | None = None,
    on_progress: ProgressFn | None = None,
    on_log: Callable[[str], None] | None = None,
) -> RunOutcome:
    """`papertrail repro NAME [--from-run N]`: run it and record the run (see
    `repro.run_reproduction`); --from-run samples from, evaluates or continues run N."""
    return repro.run_reproduction(
        paths.db, found, args, device=device, seed=seed, dry_run=dry_run, from_run=from_run,
        tagger=_tagger(paths), on_progress=on_progress, on_log=on_log,
    )  # fmt: skip


def _link(
    paths: Paths, db: sqlite_utils.Database, repros: list[Reproduction], refresh: bool
) -> Refresh:
    """Register the reproductions (adding no entry); with `refresh`, fetch their papers
    from arXiv into the reading list."""
    repro.register(db, repros)
    if not refresh:
        return Refresh()
    tagger = _tagger(paths)
    try:
        settings = paths.config().settings
    except (ConfigError, OSError) as e:
        raise RefreshNeedsConfig(
            f"--refresh needs feeds.yml for the arXiv API settings: {e}"
        ) from e
    error = repro.refresh_papers(db, repros, arxiv_api_client(settings), tagger)
    return Refresh(asked=True, error=error)


def _tagger(paths: Paths) -> Tagger | None:
    """The domain rules of feeds.yml, or none when it cannot be read (linking still works)."""
    try:
        return DomainTagger(paths.config().domains)
    except (ConfigError, OSError):
        return None
