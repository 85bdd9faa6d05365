"""`papertrail browse`: the reading list in Datasette."""

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
    """Browse the reading list in Datasette: facets, search, saved queries.

    Serves the database until Ctrl-C, on 127.0.0.1 (this computer only) by
    default. There you can also mark entries read, star and tag them; with
    --host set to a non-loopback address the list is read-only. A fetch may run
    meanwhile: reload the page to see what it added.

    \b
    Example:
        papertrail fetch && papertrail browse --open
        papertrail browse --port 8080
    """
    paths = paths_of(ctx)

    def ready(url: str, info: browsing.ReadyInfo) -> None:
        click.echo(f"Serving {info.entries:,} entries at {url}", err=True)
        if not info.triage:
            click.echo(f"{host} is not a loopback address: read-only, no triage queries.", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        if open_browser:
            import webbrowser  # ~6 ms (it imports subprocess): only --open needs it

            webbrowser.open(url)

    try:
        guard(browsing.serve, paths.db, host=host, port=port, on_ready=ready)
    except browsing.BrowseError as e:
        raise click.ClickException(str(e)) from e
    except KeyboardInterrupt:
        pass
