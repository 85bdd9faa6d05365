"""Commands that fill the reading list and report on it: fetch, digest, retag, sources, config."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from papertrail import api
from papertrail.cli._base import (
    EXIT_FAILED,
    FORMATS,
    Locked,
    cli,
    emit,
    guard,
    paths_of,
)
from papertrail.cli.mailing import EMAIL_HELP, send

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from papertrail.ingest.fetch import FetchEvent
    from papertrail.reading.digest import Digest


# At most this many entries under each domain when a text digest is printed (the
# most discussed first); a line then gives the `papertrail list` command for the rest.
PER_DOMAIN = 10


def _per_domain_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--per-domain",
        type=click.IntRange(min=0),
        default=PER_DOMAIN,
        show_default=True,
        help="Printed text digest: at most N entries per domain, then the command that "
        "lists the rest (0: all; -o FILE and the other formats always get all).",
    )(fn)


def _render(digest: Digest, fmt: str, output: Path | None, per_domain: int = 0) -> str:
    color = fmt == "text" and output is None and sys.stdout.isatty()
    cap = per_domain if output is None else 0
    return api.render_digest(digest, fmt, color=color, per_domain=cap)


@cli.command()
@click.option("--source", "-s", "only", multiple=True, help="Fetch only this source (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the digest to a file.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only the summary (and failures), not the digest."
)
@click.option("--email", is_flag=True, help=EMAIL_HELP)
@_per_domain_option
@click.pass_context
def fetch(
    ctx: click.Context,
    only: tuple[str, ...],
    fmt: str,
    output: Path | None,
    quiet: bool,
    per_domain: int,
    email: bool = False,
) -> None:
    """Fetch every enabled source and print what is new since the previous fetch.

    Progress goes to stderr (on a terminal only); the digest, grouped by
    domain (the first --per-domain entries of each, then the command that lists
    the rest), goes to stdout and ends with one summary line. Exit code 1 when
    every source failed, 2 for a bad feeds.yml or an unknown --source, 75 when
    another fetch is running on the same database or another program holds its
    write lock (waited for up to PAPERTRAIL_BUSY_TIMEOUT seconds, default 10).

    \b
    Example:
        papertrail fetch
        papertrail fetch --source arxiv-daily --format markdown -o today.md
    """
    paths = paths_of(ctx)
    progress = _Progress() if sys.stderr.isatty() else None
    summary_only = quiet and fmt == "text" and not email  # then nothing else is printed
    try:
        outcome = guard(api.fetch, paths, only=list(only) or None, on_event=progress,
                        summary_only=summary_only)  # fmt: skip
    except api.FetchLocked as e:
        raise Locked(str(e)) from e
    finally:
        if progress:
            progress.close()
    digest = outcome.digest
    if email:
        send(ctx, paths, digest)  # the whole digest, even with --quiet
    _emit_fetched(digest, fmt, output, quiet, per_domain)
    totals = outcome.report.totals
    if totals["sources_failed"] and not totals["sources_ok"]:
        ctx.exit(EXIT_FAILED)


def _emit_fetched(
    digest: Digest, fmt: str, output: Path | None, quiet: bool, per_domain: int
) -> None:
    """The digest of a fetch; with --quiet the summary alone (text) or no entries."""
    if quiet and fmt == "text" and digest.summary is not None:
        emit(api.render_summary(digest.summary), output)
        return
    if quiet:  # machine formats keep their shape, minus the entries
        digest = replace(digest, entries=[], updates=[])
    emit(_render(digest, fmt, output, per_domain), output)


class _Progress:
    """A rich progress bar on stderr, fed by fetch events."""

    def __init__(self) -> None:
        from rich.console import Console  # heavy (~45 ms): only a terminal shows progress
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress: Progress = Progress(
            TextColumn("fetching"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task: TaskID | None = None

    def __call__(self, event: FetchEvent) -> None:
        if event.kind == "start":
            self.progress.start()
            self.task = self.progress.add_task("", total=event.total)
        elif event.kind == "source" and self.task is not None:
            mark = "✓" if event.status in ("ok", "not-modified") else "✗"
            self.progress.update(self.task, advance=1, description=f"{mark} {event.source}")

    def close(self) -> None:
        self.progress.stop()


HTML_WHY_BUDGET_S = 3.0  # seconds `digest --format html` spends on the why lines


@cli.command()
@click.option(
    "--since", default="24h", show_default=True, help="Window start: 24h, 7d, 2w or YYYY-MM-DD."
)
@click.option("--until", default=None, help="Window end (same forms); default now.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
@click.option("--email", is_flag=True, help=EMAIL_HELP)
@_per_domain_option
@click.pass_context
def digest(
    ctx: click.Context,
    since: str,
    until: str | None,
    fmt: str,
    output: Path | None,
    per_domain: int,
    email: bool = False,
) -> None:
    """Render the entries first seen in a time window, grouped by domain.

    HTML output is a standalone page with all feed text escaped and no
    scripts, safe to open in a browser.

    \b
    Example:
        papertrail digest --since 7d
        papertrail digest --since 2026-11-01 --format html -o digest.html
        papertrail digest --format json | jq '.entries[].title'
    """
    paths = paths_of(ctx)
    # The HTML digest shows each score's why (bounded: explaining is costly on huge lists).
    explain = HTML_WHY_BUDGET_S if fmt == "html" else 0.0
    d = guard(api.digest, paths, since=since, until=until, why_budget_s=explain)
    emit(_render(d, fmt, output, per_domain), output)
    if email:
        send(ctx, paths, d)


@cli.command()
@click.pass_context
def retag(ctx: click.Context) -> None:
    """Re-apply the domain rules in feeds.yml to every stored entry.

    Run it after editing `domains:`; tags you or a source added are kept.

    \b
    Example:
        papertrail retag
    """
    n = guard(api.retag, paths_of(ctx))
    click.echo(f"Re-tagged {n} entries.")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List sources with their last fetch status.

    \b
    Example:
        papertrail sources
        papertrail sources enable bair
    """
    if ctx.invoked_subcommand is not None:
        return
    rows = guard(api.sources, paths_of(ctx))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    _sources_table(rows)


def _sources_table(rows: list[api.SourceRow]) -> None:
    """One line per source, columns sized to their content; the note (last error
    or why a source is off) gets what is left of the terminal width."""
    lines = []
    for r in rows:
        if not r.get("in_config"):
            status, note = "removed", "no longer in feeds.yml"
        elif not r.get("enabled"):
            status, note = "disabled", "enabled: false in feeds.yml"
        elif r.get("paused"):
            status = "paused"
            note = f"{r.get('consecutive_failures')} failures in a row — papertrail sources enable {r['name']}"
        else:
            status = r.get("last_status") or "never fetched"
            note = r.get("last_error") or ""
        last = (r.get("last_fetch_at") or "—")[:16].replace("T", " ")
        lines.append(
            (r["name"], r.get("kind") or "", status, last, str(r.get("entries") or 0), note)
        )
    header = ("name", "kind", "status", "last fetch", "entries", "note")
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(5)]
    room = max(
        20,
        (shutil.get_terminal_size((200, 24)).columns if sys.stdout.isatty() else 200)
        - sum(widths)
        - 10,
    )
    for row in [header, *lines]:
        cells = [row[i].rjust(widths[i]) if i == 4 else row[i].ljust(widths[i]) for i in range(5)]
        note = row[5] if len(row[5]) <= room else row[5][: room - 1] + "…"
        click.echo("  ".join([*cells, note]).rstrip())


@sources.command("enable")
@click.argument("name")
@click.pass_context
def sources_enable(ctx: click.Context, name: str) -> None:
    """Re-enable a source paused after repeated failures.

    \b
    Example:
        papertrail sources enable openai-blog
    """
    guard(api.enable_source, paths_of(ctx), name)
    click.echo(f"{name} will be fetched again on the next run.")


@cli.command("config")
@click.pass_context
def config_cmd(ctx: click.Context) -> None:
    """Check feeds.yml and show which files papertrail uses.

    \b
    Example:
        papertrail config
        papertrail --feeds my-feeds.yml config
    """
    paths = paths_of(ctx)
    cfg = guard(paths.config)
    click.echo(f"feeds:    {paths.feeds}")
    click.echo(f"database: {paths.db}")
    enabled = sum(1 for s in cfg.sources if s.enabled)
    click.echo(f"{len(cfg.sources)} sources ({enabled} enabled), {len(cfg.domains)} domains — OK")
