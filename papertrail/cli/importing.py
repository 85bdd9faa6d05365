"""`papertrail import …`: bulk sources of papers (the arXiv metadata snapshot, OAI-PMH)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from papertrail import api
from papertrail.cli._base import EXIT_FAILED, Locked, cli, guard, paths_of

if TYPE_CHECKING:
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from papertrail.ingest.snapshot import ImportReport, Progress


@cli.group("import")
def import_group() -> None:
    """Bring in papers in bulk: the whole arXiv snapshot, or an OAI-PMH harvest.

    \b
    Example:
        papertrail import arxiv-snapshot arxiv-metadata-oai-snapshot.json
        papertrail import oai --set cs
    """


@import_group.command("arxiv-snapshot")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--restart",
    is_flag=True,
    help="Read from the first line even if an earlier import of this file was interrupted.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 16),
    default=2,
    show_default=True,
    help="Reader processes that parse and tag (0: all in this process).",
)
@click.pass_context
def arxiv_snapshot(ctx: click.Context, file: Path, restart: bool, workers: int) -> None:
    """Import arXiv's metadata snapshot: every paper, searchable locally.

    FILE is the JSON-lines snapshot (arxiv-metadata-oai-snapshot.json, about
    2.7 million papers), as .json, .gz or the .zip it is downloaded as. It is
    read as a stream. Importing a newer snapshot adds the new papers and
    updates the changed ones. An interrupted import resumes where it stopped
    when run again on the same file. Bad lines are counted and listed with
    their line numbers; they never stop the import.

    \b
    Example:
        papertrail import arxiv-snapshot ~/Downloads/arxiv.zip
        papertrail import arxiv-snapshot arxiv-metadata-oai-snapshot.json --restart
    """
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        report = guard(
            api.import_snapshot,
            paths_of(ctx),
            file,
            restart=restart,
            workers=workers,
            on_progress=progress,
        )
    except api.FetchLocked as e:
        raise Locked(str(e)) from e
    except api.SnapshotError as e:
        raise click.ClickException(str(e)) from e
    except KeyboardInterrupt:
        click.echo(
            "\ninterrupted: what was committed is kept; run the same command again to resume",
            err=True,
        )
        ctx.exit(130)
    finally:
        if progress:
            progress.close()
    _print_report(report, file)
    if report.lines and report.bad_lines == report.lines:
        ctx.exit(EXIT_FAILED)  # not one readable line: probably not a snapshot at all


def _print_report(report: ImportReport, file: Path) -> None:
    """The summary on stdout; the bad lines (the first few, then a count) on stderr."""
    click.echo(report.summary())
    for line_no, message in report.bad_examples:
        click.echo(f"  {file}:{line_no}: {message}", err=True)
    if report.bad_lines > len(report.bad_examples):
        click.echo(
            f"  … and {report.bad_lines - len(report.bad_examples):,} more bad lines", err=True
        )


class _Progress:
    """Bytes read with rate and ETA, and the papers so far, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console  # heavy (~45 ms): only a terminal shows progress
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.progress: Bar = Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task: TaskID | None = None

    def __call__(self, p: Progress) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("", total=p.bytes_total or None)
        s = p.stats
        rate = ""
        elapsed = self.progress.tasks[0].elapsed or 0
        if elapsed > 1:
            rate = f" ({(s.new + s.updated + s.unchanged) / elapsed:,.0f}/s)"
        self.progress.update(
            self.task,
            completed=p.bytes_done,
            description=f"{p.lines:,} lines{rate}, {s.new:,} new, {s.updated:,} updated"
            + (f", {p.bad_lines:,} bad" if p.bad_lines else ""),
        )

    def close(self) -> None:
        self.progress.stop()
