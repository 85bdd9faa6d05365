"""`papertrail rank`: rescore the reading list, e.g. after editing `ranking:` in feeds.yml."""

from __future__ import annotations

import click

from papertrail import api
from papertrail.cli._base import cli, guard, paths_of


@cli.command()
@click.option(
    "--evaluate",
    is_flag=True,
    help="Measure the ranking on your own feedback (time split) instead of rescoring.",
)
@click.option(
    "--before",
    metavar="DATE",
    help="With --evaluate: train on labels given before DATE (default: the first 70 %).",
)
@click.pass_context
def rank(ctx: click.Context, evaluate: bool, before: str | None) -> None:
    """Rescore every entry with the `ranking:` rules in feeds.yml.

    The score orders the digest within each domain and `papertrail list
    --sort rank`: mentions by other sources, followed authors, boosted
    keywords, recency, and likeness to what you starred. Block rules hide
    entries from the digest; they stay in the reading list. Every fetch
    rescores by itself: run this after editing `ranking:`.
    `papertrail show --why ID` explains one entry's score.

    With --evaluate nothing is rescored: your stars, tags and dismissals are
    split by time, each method is trained on the earlier ones and must find
    the later ones, and nDCG@10, P@10 and R@50 are printed for the learned
    ranking, the old term profile, recency alone and a random order.

    \b
    Example:
        papertrail rank
        papertrail --feeds my-feeds.yml rank
        papertrail rank --evaluate
        papertrail rank --evaluate --before 2026-11-01
    """
    if evaluate:
        click.echo(guard(api.evaluate, paths_of(ctx), before=before).render().rstrip("\n"))
        return
    if before:
        raise click.UsageError("--before goes with --evaluate")
    report = guard(api.rank, paths_of(ctx))
    click.echo(report.summary())
