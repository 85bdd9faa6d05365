"""`papertrail add`: put arXiv papers in the reading list by hand."""

from __future__ import annotations

from pathlib import Path

import click

from papertrail import api
from papertrail.cli._base import EXIT_FAILED, cli, guard, paths_of


@cli.command()
@click.argument("ids", nargs=-1, metavar="ID_OR_URL...")
@click.option(
    "--file",
    "-f",
    "id_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read ids from a file, one per line (# starts a comment).",
)
@click.pass_context
def add(ctx: click.Context, ids: tuple[str, ...], id_file: Path | None) -> None:
    """Add arXiv papers to the reading list by id or URL.

    Metadata comes from the arXiv API (100 ids per request). Papers already
    in the reading list are marked as added by hand; ids arXiv does not know
    are listed and make the exit code 1. Input that is not an arXiv id adds
    nothing (exit code 2).

    \b
    Example:
        papertrail add 1508.06576 arXiv:1701.07875v3
        papertrail add https://arxiv.org/abs/1511.06434 math/0309136
        papertrail add --file to-read.txt
    """
    try:
        result = guard(api.add, paths_of(ctx), list(ids), id_file=id_file)
    except api.NotAnArxivId as e:
        raise click.UsageError(str(e)) from e  # exit code 2, like a bad feeds.yml
    for p in result.added:
        click.echo(f"added    #{p['id']}  {p['arxiv_id']}  {p['title']}")
    for p in result.already:
        click.echo(f"had      #{p['id']}  {p['arxiv_id']}  {p['title']}  (now marked manual)")
    for arxiv_id in result.unknown:
        click.echo(f"unknown  {arxiv_id}  (arXiv has no paper with this id)", err=True)
    if result.failed:
        click.echo(
            f"not fetched: {', '.join(result.failed)} — {result.errors[0] if result.errors else ''}",
            err=True,
        )
    parts = [f"{len(result.added)} added", f"{len(result.already)} already there"]
    if result.unknown:
        parts.append(f"{len(result.unknown)} unknown to arXiv")
    if result.failed:
        parts.append(f"{len(result.failed)} not fetched (try again later)")
    click.echo(", ".join(parts) + ".")
    if not result.ok:
        ctx.exit(EXIT_FAILED)
