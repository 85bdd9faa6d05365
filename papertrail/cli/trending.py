"""`papertrail trending`: what the feeds are discussing."""

from __future__ import annotations

import json

import click

from papertrail import api
from papertrail.cli._base import cli, guard, paths_of


@cli.command()
@click.option(
    "--since", default="7d", show_default=True, help="Window start: 24h, 7d, 2w or YYYY-MM-DD."
)
@click.option("--until", default=None, help="Window end (same forms); default now.")
@click.option("--domain", "domains", multiple=True, help="Only papers of this domain (repeatable).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The view as one JSON object.")
@click.pass_context
def trending(
    ctx: click.Context,
    since: str,
    until: str | None,
    domains: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """Papers the feeds discuss: ranked by how many distinct sources mentioned them.

    Each source counts once however often it repeats a paper; community sources
    (tag `community`: Reddit, Hacker News) and newsletters (tag `newsletter`,
    mailboxes) weigh 2, other feeds 1, arXiv listings and archive imports 0.
    The posts that mention each paper are listed under it.

    \b
    Example:
        papertrail trending
        papertrail trending --since 24h --domain vision --limit 5
        papertrail trending --json | jq '.papers[].title'
    """
    view = guard(
        api.trending, paths_of(ctx), since=since, until=until, domains=domains, limit=limit
    )
    if as_json:
        data = api.trending_json(view)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(api.render_trending(view).rstrip("\n"))
