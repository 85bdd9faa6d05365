"""Morning triage from the terminal: list, search, show, read/star, tag, note."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import click

from papertrail import api
from papertrail.cli import tables
from papertrail.cli._base import (
    EXIT_FAILED,
    SQLITE_MAX_INT,
    cli,
    filter_options,
    guard,
    make_filter,
    output_options,
    paths_of,
)

if TYPE_CHECKING:
    from papertrail.models import Entry

LIST_SORTS = ("date", "rank")
SEARCH_SORTS = ("relevance", "date", "rank")


def _print_entries(entries: list[Entry], as_json: bool, as_csv: bool, *, empty: str) -> None:
    tables.print_list(entries, as_json, as_csv, empty=empty, echo=click.echo)


@cli.command("list")
@filter_options()
@click.option("--sort", type=click.Choice(LIST_SORTS), default="date", show_default=True)
@output_options
@click.pass_context
def list_cmd(
    ctx: click.Context, sort: str, limit: int, as_json: bool, as_csv: bool, **opts: Any
) -> None:
    """List entries in the reading list, newest first (or by rank).

    The first column is the short id that show, read, star, tag and note accept.

    \b
    Example:
        papertrail list --unread --domain vision
        papertrail list --starred --sort rank --limit 20
        papertrail list --since 7d --kind paper --json | jq '.[].title'
        papertrail list --has-code --domain generative
    """
    flt = make_filter(opts)
    entries = guard(api.list_entries, paths_of(ctx), flt, sort=sort, limit=limit)
    _print_entries(
        entries, as_json, as_csv, empty="No entries match. Run `papertrail fetch` to collect some."
    )


@cli.command()
@click.argument("query")
@filter_options()
@click.option("--sort", type=click.Choice(SEARCH_SORTS), default="relevance", show_default=True)
@output_options
@click.pass_context
def search(
    ctx: click.Context, query: str, sort: str, limit: int, as_json: bool, as_csv: bool, **opts: Any
) -> None:
    """Full-text search over titles, abstracts, post text and your notes.

    Plain words must all match (any order; hyphenated words as a phrase).
    FTS5 syntax works too: "exact phrase", OR, NOT, prefix*, title:word,
    notes:word. Results are ranked by bm25 with title hits weighted most.
    When more than 1,000 entries match (a common word across all of arXiv),
    the newest 1,000 matches are ranked; a note says so.

    \b
    Example:
        papertrail search "style transfer"
        papertrail search 'diffus* NOT video' --domain generative --unread
        papertrail search 'notes:reimplement' --json
    """
    flt = make_filter(opts)
    found = guard(api.search, paths_of(ctx), query, flt, sort=sort, limit=limit)
    _print_entries(found.entries, as_json, as_csv, empty=f"Nothing matches {query!r}.")
    window = found.window
    if window:
        click.echo(
            f"More than {window:,} entries match: these are the best of the newest {window:,}. "
            'Add words or a "phrase" to reach older ones (filters apply before the cut).',
            err=True,
        )


@cli.command()
@click.argument("entry")
@click.option("--json", "as_json", is_flag=True, help="Everything as one JSON object.")
@click.option("--why", is_flag=True, help="Explain the entry's rank score.")
@click.pass_context
def show(ctx: click.Context, entry: str, as_json: bool, why: bool) -> None:
    """Show everything known about an entry.

    Versions, categories, domains, tags, the sources that surfaced it, posts
    that mention it, notes and linked reproductions. ENTRY is an arXiv id
    (any form), a URL, or a short id from `papertrail list`.

    \b
    Example:
        papertrail show 1508.06576
        papertrail show https://arxiv.org/abs/1701.07875v3 --json
        papertrail show 42 --why
    """
    paths = paths_of(ctx)
    detail = guard(api.show, paths, entry)
    explanation = guard(api.explain_entry, paths, str(detail["id"])) if why else None
    if as_json:
        if explanation is not None:
            parts = {**dataclasses.asdict(explanation), "stale": explanation.stale}
            click.echo(
                json.dumps({**detail, "why": parts}, indent=2, ensure_ascii=False, default=str)
            )
            return
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False, default=str))
        return
    tables.print_detail(detail)
    if explanation is not None:
        click.echo("")
        click.echo(api.render_explanation(explanation))


def _mark_command(name: str, flag: str, on: bool, verb: str, summary: str, example: str) -> None:
    def command(ctx: click.Context, entries: tuple[str, ...]) -> None:
        result = guard(api.mark, paths_of(ctx), entries, flag, on)
        for message in result.missing:
            click.echo(f"error: {message}", err=True)
        if result.ids:
            same = len(result.ids) - result.changed
            tail = f" ({same} already were)" if same else ""
            click.echo(f"{verb} {result.changed} of {len(result.ids)} entries{tail}.")
        if result.missing:
            ctx.exit(EXIT_FAILED)

    command.__doc__ = f"""{summary}

    ENTRY is an arXiv id (any form), a URL, or a short id from `papertrail list`.
    Entries that cannot be found are reported (exit 1); the others are still marked.

    \b
    Example:
        {example}
    """
    command.__name__ = name
    cli.command(name)(
        click.argument("entries", metavar="ENTRY...", nargs=-1, required=True)(
            click.pass_context(command)
        )
    )


_mark_command(
    "read", "read", True, "Marked read", "Mark entries read.", "papertrail read 1508.06576 42 43"
)
_mark_command(
    "unread", "read", False, "Marked unread", "Mark entries unread.", "papertrail unread 42"
)
_mark_command(
    "star", "starred", True, "Starred", "Star entries.", "papertrail star arXiv:1701.07875v3"
)
_mark_command(
    "unstar", "starred", False, "Unstarred", "Remove the star from entries.", "papertrail unstar 42"
)
_mark_command(
    "dismiss",
    "dismissed",
    True,
    "Dismissed",
    "Mark entries not relevant: never in a digest again, and the ranking learns from it.",
    "papertrail dismiss 42 2611.00103",
)
_mark_command(
    "undismiss",
    "dismissed",
    False,
    "Undismissed",
    "Take back a dismissal.",
    "papertrail undismiss 42",
)


@cli.command()
@click.argument("entry")
@click.argument("tags", metavar="TAG...", nargs=-1, required=True)
@click.pass_context
def tag(ctx: click.Context, entry: str, tags: tuple[str, ...]) -> None:
    """Add tags to an entry (spaces inside a tag become '-').

    \b
    Example:
        papertrail tag 1508.06576 to-reproduce style
    """
    added = guard(api.tag, paths_of(ctx), entry, tags)
    click.echo(
        f"Tagged {entry}: {', '.join(added)}." if added else f"{entry} already had those tags."
    )


@cli.command()
@click.argument("entry")
@click.argument("tags", metavar="TAG...", nargs=-1, required=True)
@click.pass_context
def untag(ctx: click.Context, entry: str, tags: tuple[str, ...]) -> None:
    """Remove tags from an entry (yours or a source's).

    \b
    Example:
        papertrail untag 1508.06576 to-reproduce
    """
    removed = guard(api.tag, paths_of(ctx), entry, tags, remove=True)
    if removed:
        click.echo(f"Removed from {entry}: {', '.join(removed)}.")
    else:
        click.echo(f"{entry} had none of those tags.", err=True)


@cli.command()
@click.argument("entry")
@click.argument("text", required=False)
@click.option(
    "--delete",
    "delete_id",
    type=click.IntRange(min=0, max=SQLITE_MAX_INT),
    metavar="NOTE_ID",
    help="Delete a note by its id.",
)
@click.pass_context
def note(ctx: click.Context, entry: str, text: str | None, delete_id: int | None) -> None:
    """Add a timestamped note to an entry, or list its notes.

    Notes are searched with the rest of the text (`papertrail search notes:WORD`).

    \b
    Example:
        papertrail note 1508.06576 "try avg pooling; L-BFGS converges in ~300 steps"
        papertrail note 1508.06576                 # list the notes
        papertrail note 1508.06576 --delete 3
    """
    paths = paths_of(ctx)
    if delete_id is not None:
        guard(api.delete_note, paths, entry, delete_id)
        click.echo(f"Deleted note {delete_id}.")
    elif text is not None:
        saved = guard(api.add_note, paths, entry, text)
        click.echo(f"Noted ({saved['id']}, {saved['created_at'][:16].replace('T', ' ')}).")
    else:
        shown = guard(api.notes, paths, entry)
        if not shown:
            click.echo(f"No notes on {entry}.", err=True)
        for n in shown:
            click.echo(f"[{n['id']}] {n['created_at'][:16].replace('T', ' ')}  {n['text']}")
