"""The click group, global options and the helpers every command module shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from papertrail import __version__, api

if TYPE_CHECKING:
    from papertrail.config import Paths
    from papertrail.store import EntryFilter

P = ParamSpec("P")
R = TypeVar("R")

# Exit codes (documented in the README).
EXIT_FAILED = 1  # the run completed but every source failed, or a command failed
EXIT_CONFIG = 2  # bad feeds.yml or bad usage: nothing was fetched, the database is untouched
EXIT_LOCKED = (
    75  # another fetch, or another program, holds the database (EX_TEMPFAIL): try again later
)

FORMATS = ("text", "markdown", "html", "json", "atom")
SQLITE_MAX_INT = 2**63 - 1  # ids and limits beyond it are bad usage, not an OverflowError


class ConfigProblem(click.ClickException):
    exit_code = EXIT_CONFIG


class Locked(click.ClickException):
    exit_code = EXIT_LOCKED


class BadUsage(click.ClickException):
    """What was typed can never work (an unknown name, an unreadable --since): exit 2."""

    exit_code = EXIT_CONFIG


def paths_of(ctx: click.Context) -> Paths:
    return api.Paths.resolve(ctx.obj["db"], ctx.obj["feeds"])


def guard(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call a library function, mapping its exceptions to CLI errors."""
    try:
        return fn(*args, **kwargs)
    except api.DatabaseLocked as e:
        raise Locked(str(e)) from e
    except api.BadInput as e:
        raise BadUsage(str(e)) from e
    except api.DatabaseError as e:
        raise click.ClickException(str(e)) from e
    except api.ConfigError as e:
        raise ConfigProblem(f"{e}\nNothing was fetched; fix the file and run again.") from e
    except KeyError as e:
        raise click.ClickException(str(e.args[0]) if e.args else str(e)) from e
    except ValueError as e:
        raise click.ClickException(str(e)) from e


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="papertrail")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PAPERTRAIL_DB",
    help="Reading-list database (default: papertrail.db in the user data dir). Env: PAPERTRAIL_DB.",
)
@click.option(
    "--feeds",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PAPERTRAIL_FEEDS",
    help="Sources file (default: ./feeds.yml, else the user config dir, else the packaged default). Env: PAPERTRAIL_FEEDS.",
)
@click.pass_context
def cli(ctx: click.Context, db: Path | None, feeds: Path | None) -> None:
    """Follow machine-learning research from one local reading list.

    Exit codes: 0 done; 1 a command failed (or every source did); 2 bad usage
    or feeds.yml (unknown --domain/--tag/--source, bad --since); 75 the
    database is busy (another fetch, or another program's write lock).

    \b
    Example:
        papertrail fetch                  # pull every source, print what is new
        papertrail digest --since 7d --format markdown -o week.md
    """
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, feeds=feeds)


def emit(text: str, output: Path | None) -> None:
    """Print to stdout, or write the file atomically and say so on stderr."""
    if output:
        api.write_atomic(output, text if text.endswith("\n") else text + "\n")
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text.rstrip("\n"))


def filter_options(default_limit: int | None = 50) -> Callable[..., Any]:
    """The entry filters shared by list, search and export (each repeatable
    value-list filter is ORed, different filters ANDed)."""
    options = [
        click.option("--domain", "domains", multiple=True, help="Only this domain (repeatable)."),
        click.option(
            "--tag", "tags", multiple=True, help="Only entries with this tag (repeatable)."
        ),
        click.option(
            "--source", "sources", multiple=True, help="Only entries from this source (repeatable)."
        ),
        click.option("--kind", type=click.Choice(("paper", "post")), help="Only papers or posts."),
        click.option("--unread", is_flag=True, help="Only entries not marked read."),
        click.option("--starred", is_flag=True, help="Only starred entries."),
        click.option("--since", help="First seen since: 24h, 7d, 2w or YYYY-MM-DD."),
        click.option(
            "--has-code", is_flag=True, help="Only papers with a code or model/data link."
        ),
        click.option(
            "--limit",
            "-n",
            type=click.IntRange(min=1, max=SQLITE_MAX_INT),
            default=default_limit,
            show_default=default_limit is not None,
            help="At most N entries.",
        ),
    ]

    return stacked(options)


def stacked(options: list[Callable[[Any], Any]]) -> Callable[[Callable[..., Any]], Any]:
    """One decorator for a list of click options, in the order they are written."""

    def decorate(fn: Callable[..., Any]) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--csv", "as_csv", is_flag=True, help="CSV (same fields as --json).")(fn)
    return click.option(
        "--json", "as_json", is_flag=True, help="A JSON array of entries (the digest's fields)."
    )(fn)


def make_filter(opts: dict[str, Any]) -> EntryFilter:
    return guard(
        api.make_filter,
        domains=opts["domains"],
        tags=opts["tags"],
        sources=opts["sources"],
        kind=opts["kind"],
        unread=opts["unread"],
        starred=opts["starred"],
        since=opts["since"],
        has_code=opts.get("has_code", False),
    )
