"""`papertrail import oai`: harvest arXiv's OAI-PMH interface into the reading list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from papertrail import api
from papertrail.cli._base import EXIT_FAILED, Locked, guard, paths_of, stacked
from papertrail.cli.importing import import_group

if TYPE_CHECKING:
    from papertrail.ingest.oai import HarvestProgress, HarvestResult


_OPTIONS = [
    click.option(
        "--set", "set_spec", metavar="SET", help="Only this OAI set, e.g. cs, math, physics:hep-ex."
    ),
    click.option(
        "--from",
        "from_",
        metavar="YYYY-MM-DD",
        help="Records changed on or after this day (default: where the last harvest of the same "
        "endpoint and set ended; the first harvest takes everything).",
    ),
    click.option("--until", metavar="YYYY-MM-DD", help="Records changed on or before this day."),
    click.option(
        "--endpoint",
        metavar="URL",
        help="OAI-PMH base URL (default: $PAPERTRAIL_OAI_ENDPOINT, else https://oaipmh.arxiv.org/oai).",
    ),
    click.option(
        "--delay",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        default=3.0,
        show_default=True,
        help="Seconds between requests (never less than 3 for arxiv.org).",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Print only the summary, not each page."),
]


@import_group.command("oai")
@stacked(_OPTIONS)
@click.pass_context
def import_oai(
    ctx: click.Context,
    set_spec: str | None,
    from_: str | None,
    until: str | None,
    endpoint: str | None,
    delay: float,
    quiet: bool,
) -> None:
    """Harvest arXiv's metadata over OAI-PMH into the reading list.

    Asks for every record changed in the window (metadataPrefix=arXiv), page
    by page, at least 3 s apart and waiting when arXiv answers 503 with
    Retry-After. Each page is saved with the harvest's position, so an
    interrupted harvest goes on where it stopped when run again (restarting
    from the last day it saved if arXiv has forgotten its resumption token).
    Without --from, a harvest takes what changed since the last one of the
    same endpoint and set. Papers are saved with the source name arxiv-oai.
    Exit code 1 when the harvest stopped (what it saved stays saved), 2 for a
    bad option, 75 when another harvest is running on the same database.

    \b
    Example:
        papertrail import oai --set cs --from 2026-01-01
        papertrail import oai --set physics:hep-ex     # what changed since the last run
        papertrail import oai --set cs:cs:LG --until 2026-06-30
    """
    try:
        api.check_oai_options(endpoint=endpoint, set_spec=set_spec, from_=from_, until=until)
    except ValueError as e:
        raise click.UsageError(str(e)) from e

    def on_progress(p: HarvestProgress) -> None:
        if not quiet or p.event != "page":
            click.echo(p.line(), err=True)

    try:
        result = guard(
            api.import_oai,
            paths_of(ctx),
            set_spec=set_spec,
            from_=from_,
            until=until,
            endpoint=endpoint,
            interval=delay,
            on_progress=on_progress,
        )
    except api.HarvestLocked as e:
        raise Locked(str(e)) from e
    except api.OaiError as e:
        click.echo(f"Error: the harvest stopped: {e}", err=True)
        ctx.exit(EXIT_FAILED)
        return
    _print_result(result)


def _print_result(result: HarvestResult) -> None:
    """The first 20 warnings (and how many more) on stderr, the summary on stdout."""
    for warning in result.warnings[:20]:
        click.echo(f"warning: {warning}", err=True)
    if len(result.warnings) > 20:
        click.echo(f"warning: … and {len(result.warnings) - 20} more", err=True)
    click.echo(result.summary())
