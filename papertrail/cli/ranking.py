"""`papertrail rank`: rescore the reading list, e.g. after editing `ranking:` in feeds.yml."""

from __future__ import annotations

import click

from papertrail import api
from papertrail.cli._base import cli, guard, paths_of


@cli.command()
@click.pass_context
def rank(ctx: click.Context) -> None:
    """Rescore every entry with the `ranking:` rules in feeds.yml.

    The score orders the digest within each domain and `papertrail list
    --sort rank`: mentions by other sources, followed authors, boosted
    keywords, recency, and likeness to what you starred. Block rules hide
    entries from the digest; they stay in the reading list. Every fetch
    rescores by itself: run this after editing `ranking:`.
    `papertrail show --why ID` explains one entry's score.

    \b
    Example:
        papertrail rank
        papertrail --feeds my-feeds.yml rank
    """
    report = guard(api.rank, paths_of(ctx))
    click.echo(report.summary())
