"""Commands that move data out of and into papertrail: export, sources export / import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from papertrail import api
from papertrail.cli._base import cli, emit, filter_options, guard, make_filter, paths_of
from papertrail.cli.fetching import sources

EXPORT_FORMATS = (
    "bibtex",
    "ris",
    "markdown",
    "json",
    "csv",
)  # reading.export.FORMATS (a test checks)


@cli.command("export")
@click.argument("entries", nargs=-1)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="bibtex",
    show_default=True,
    help="bibtex and ris for reference managers; json and csv for tools; markdown to read.",
)
@filter_options(default_limit=None)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of stdout.",
)
@click.pass_context
def export_cmd(
    ctx: click.Context,
    entries: tuple[str, ...],
    fmt: str,
    limit: int | None,
    output: Path | None,
    **opts: Any,
) -> None:
    """Export entries as BibTeX, RIS, Markdown, JSON or CSV.

    ENTRIES are optional arXiv ids (any form), URLs or short ids; without
    them every entry the filters select is exported, newest first. Filters
    combine with AND; a repeated filter matches any of its values. If an id
    names no entry, nothing is exported.

    \b
    Example:
        papertrail export --starred -o reading.bib
        papertrail export 1508.06576 arXiv:1603.08155v1 --format ris -o style.ris
        papertrail export --domain generative --since 7d --format csv -o week.csv
    """
    found = guard(api.select, paths_of(ctx), entries, make_filter(opts), limit=limit)
    if not found:
        click.echo("No entries match; the export is empty.", err=True)
    text = api.render_export(found, fmt)
    if output:
        emit(text, output)
        click.echo(f"{len(found)} entries exported.", err=True)
    else:
        click.echo(text, nl=False)


@sources.command("export")
@click.option(
    "--opml",
    is_flag=True,
    default=True,
    help="OPML 2.0, what feed readers import (the only format, and the default).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of stdout.",
)
@click.pass_context
def sources_export(ctx: click.Context, opml: bool, output: Path | None) -> None:
    """Export the sources in feeds.yml as OPML for a feed reader.

    Feeds are grouped in folders by their first tag (untagged ones by kind);
    every tag is kept in the outline's `category`. arXiv API searches are
    exported as their API query URL, which is an Atom feed too.

    \b
    Example:
        papertrail sources export --opml -o papertrail.opml
    """
    emit(guard(api.export_sources, paths_of(ctx)), output)


@sources.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Add the sources to this file (created if missing) instead of the feeds.yml in use.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@click.pass_context
def sources_import(ctx: click.Context, file: Path, into: Path | None, dry_run: bool) -> None:
    """Add the feeds of an OPML file (from a feed reader) to feeds.yml.

    Every outline with an xmlUrl becomes a `feed` source (arXiv RSS and API
    URLs become `arxiv-rss` / `arxiv` sources); the folders it sits in become
    its tags. Feeds already in feeds.yml (same URL) are skipped and listed.
    Your comments and layout are kept: new sources are appended to the
    `sources:` list. If the result would not pass `papertrail config`, nothing
    is written.

    \b
    Example:
        papertrail sources import subscriptions.opml --dry-run
        papertrail sources import subscriptions.opml
        papertrail sources import subscriptions.opml --into imported.yml
    """
    result = guard(api.import_sources, paths_of(ctx), file, into=into, dry_run=dry_run)
    for line in result.report_lines():
        click.echo(line)
