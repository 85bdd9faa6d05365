"""feeds.yml's sources in and out of feed readers: OPML (`papertrail sources export / import`)."""

from __future__ import annotations

from pathlib import Path

from papertrail.config import Paths
from papertrail.config.opml import ImportResult, export_opml, import_opml


def export_sources(paths: Paths) -> str:
    """`papertrail sources export --opml`: the sources in feeds.yml as an OPML 2.0 document."""
    return export_opml(paths.config())


def import_sources(
    paths: Paths, opml: Path, *, into: Path | None = None, dry_run: bool = False
) -> ImportResult:
    """`papertrail sources import FILE`: append an OPML file's feeds to feeds.yml (or `into`),
    skipping those already there; nothing is written if the result would not validate."""
    return import_opml(opml, paths.feeds, into=into, dry_run=dry_run)
