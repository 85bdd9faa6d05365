"""`papertrail browse`: the reading page and the reading list in Datasette."""

from __future__ import annotations

import click

from papertrail import browse as browsing
from papertrail.cli._base import cli, guard, paths_of


@cli.command()
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=browsing.DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--host",
    default=browsing.DEFAULT_HOST,
    show_default=True,
    help="Address to listen on. Triage (mark read, star, tag) is offered on loopback only.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the reading list in a browser.")
@click.pass_context
def browse(ctx: click.Context, port: int, host: str, open_browser: bool) -> None:
    """Read and triage the reading list in a browser: the reading page, and Datasette.

    Opens on the reading page: today's papers as cards, grouped by domain and
    ranked as the digest is; Unread, Starred, tags, search and a page per paper.
    Star, read, tag and note by click or key (j/k s r t n o u), through the same
    code as the commands. Datasette's tables, facets and SQL are one click away.
    Serves until Ctrl-C, on 127.0.0.1 (this computer only) by default; with
    --host set to a non-loopback address it warns and is read-only. A fetch may
    run meanwhile: reload the page to see what it added.

    \b
    Example:
        papertrail fetch && papertrail browse --open
        papertrail browse --port 8080
    """
    paths = paths_of(ctx)

    def ready(url: str, info: browsing.ReadyInfo) -> None:
        click.echo(f"Serving {info.entries:,} entries at {url}", err=True)
        if not info.triage:
            click.echo(
                f"Warning: {host} is not a loopback address, so other computers can read your "
                "list; the reading page is read-only there (no star, read, tag or note).",
                err=True,
            )
        click.echo("Press Ctrl-C to stop.", err=True)
        if open_browser:
            import webbrowser  # ~6 ms (it imports subprocess): only --open needs it

            webbrowser.open(url)

    try:
        guard(browsing.serve, paths.db, host=host, port=port, on_ready=ready, feeds=paths.feeds)
    except browsing.BrowseError as e:
        raise click.ClickException(str(e)) from e
    except KeyboardInterrupt:
        pass
