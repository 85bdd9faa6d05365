"""The learned ranking from the terminal: `similar`, and `import bibtex|ris|csl-json`.

(`dismiss` / `undismiss` sit with star and read in cli/triage.py; `rank --evaluate`
in cli/ranking.py.)
"""

from __future__ import annotations

from pathlib import Path

import click

from papertrail import api
from papertrail.cli._base import EXIT_FAILED, cli, guard, paths_of
from papertrail.cli.importing import import_group


@cli.command()
@click.argument("entry")
@click.option("--limit", "-n", type=click.IntRange(1, 500), default=10, show_default=True)
@click.pass_context
def similar(ctx: click.Context, entry: str, limit: int) -> None:
    """Entries in the reading list most like ENTRY, and the words they share.

    Likeness is the summed rarity of the distinctive words two entries share
    (the full-text index's words: "stylization" counts more than "network").
    ENTRY is an arXiv id (any form), a URL, or a short id from `papertrail list`.

    \b
    Example:
        papertrail similar 1508.06576
        papertrail similar 42 --limit 20
    """
    found = guard(api.similar, paths_of(ctx), entry, limit=limit)
    click.echo(f"Like #{found.entry_id} {found.title}:")
    if not found.neighbours:
        click.echo("  nothing in the reading list shares its distinctive words", err=True)
    for nb in found.neighbours:
        click.echo(f"  #{nb.entry_id:<7} {nb.score:>6.2f}  {nb.title}")
        click.echo(f"  {'':<8} {'':>6}  {nb.why}")


def _library_command(fmt: str, what: str, example: str) -> None:
    def command(ctx: click.Context, file: Path) -> None:
        result = guard(api.import_library_file, paths_of(ctx), file, fmt)
        added = result.added
        for p in added.added:
            click.echo(f"added    #{p['id']}  {p['arxiv_id']}  {p['title']}")
        for p in added.already:
            click.echo(f"had      #{p['id']}  {p['arxiv_id']}  {p['title']}")
        for item in result.without_id:
            click.echo(f"no arXiv id  {item.where}  {item.title[:70]}", err=True)
        for arxiv_id in added.unknown:
            click.echo(f"unknown  {arxiv_id}  (arXiv has no paper with this id)", err=True)
        if added.failed:
            reason = added.errors[0] if added.errors else ""
            click.echo(f"not fetched: {', '.join(added.failed)} — {reason}", err=True)
        click.echo(
            f"{result.entries} entries in {file.name}: {len(added.added)} added, "
            f"{len(added.already)} already there, {result.starred} newly starred as seeds, "
            f"{len(result.without_id)} without an arXiv id (listed above, not imported)"
            + (f", {len(added.failed)} not fetched: run again later" if added.failed else "")
            + "."
        )
        if not result.ok:
            ctx.exit(EXIT_FAILED)

    command.__doc__ = f"""Add the arXiv papers of a {what} library as starred seeds.

    The ranking then learns from them at once. arXiv ids are read from eprint,
    arXiv URLs and DOIs 10.48550/arXiv.*; entries without one are listed, not
    imported. A file that cannot be parsed adds nothing (exit 1, with the line).
    Metadata comes from the arXiv API, as for `papertrail add`.

    \b
    Example:
        {example}
    """
    import_group.command(fmt)(
        click.argument("file", type=click.Path(path_type=Path))(click.pass_context(command))
    )


_library_command("bibtex", "BibTeX (.bib)", "papertrail import bibtex ~/zotero-export.bib")
_library_command("ris", "RIS (.ris)", "papertrail import ris library.ris")
_library_command("csl-json", "CSL-JSON (.json)", "papertrail import csl-json library.json")
