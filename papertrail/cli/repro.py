"""`papertrail repro`: list, show and run the paper reproductions in `reproductions/`.

Each reproduction's command is built from its `Args` dataclass (one option per
field, help from the field's metadata), so a new reproduction needs no code
here. torch is imported only when a reproduction runs.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from papertrail import api
from papertrail.cli._base import ConfigProblem, Locked, cli, guard, paths_of

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from papertrail.repro import ReproArgs, Reproduction


def _say_refresh(refresh: api.Refresh) -> None:
    """What a --refresh from arXiv did, on stderr."""
    if not refresh.asked:
        return
    if refresh.error:
        click.echo(
            f"arXiv refresh failed, the reading list keeps what it had: {refresh.error}", err=True
        )
    else:
        click.echo("Papers refreshed from arXiv.", err=True)


def _call(fn: typing.Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`guard`, plus --refresh's need for feeds.yml as a bad-configuration error (exit 2)."""
    try:
        return guard(fn, *args, **kwargs)
    except api.RefreshNeedsConfig as e:
        raise ConfigProblem(str(e)) from e


class ReproGroup(click.Group):
    """`list` and `show`, plus one command per reproduction, built when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(self.commands), *api.discover_reproductions()]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        found = api.discover_reproductions()
        return build_command(found[name]) if name in found else None


@cli.group(cls=ReproGroup)
def repro() -> None:
    """Reproductions of classic papers, each linked to its paper in the reading list.

    `papertrail repro NAME --help` shows a reproduction's options (their
    defaults are the paper's); --dry-run checks one end to end in seconds on
    CPU. Runs are recorded in the database with their config and metrics.
    Needs PyTorch: pip install 'papertrail[repro]'.

    \b
    Example:
        papertrail repro list
        papertrail repro show style-transfer
        papertrail repro style-transfer --demo
    """


@repro.command("list")
@click.option("--refresh", is_flag=True, help="Update the papers' entries from the arXiv API.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def repro_list(ctx: click.Context, refresh: bool, as_json: bool) -> None:
    """List the reproductions: paper, smoke test (last --dry-run), last run and its headline.

    \b
    Example:
        papertrail repro list
        papertrail repro list --json | jq '.[].last_run.headline_metric'
    """
    listing: api.ReproListing = _call(api.list_reproductions, paths_of(ctx), refresh=refresh)
    _say_refresh(listing.refresh)
    rows = listing.rows
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    if not rows:
        click.echo("No reproductions found.")
        return
    for r in rows:
        papers = "; ".join(f"{p['cite']}, arXiv:{p['arxiv_id']}" for p in r["papers"])
        click.echo(f"{r['name']}  —  {r['title']}")
        click.echo(f"  papers:     {papers}")
        smoke = r["smoke_test"]
        click.echo(
            "  smoke test: "
            + (f"{smoke['status']} ({_when(smoke)})" if smoke else "never run (papertrail repro "
               f"{r['name']} --dry-run)")
        )  # fmt: skip
        last = r["last_run"]
        if last:
            headline = last["headline_metric"] or last["error"] or ""
            click.echo(f"  last run:   #{last['id']} {last['status']} ({_when(last)}): {headline}")
        else:
            click.echo("  last run:   none yet")


def _when(run: typing.Mapping[str, Any]) -> str:
    return (run.get("started_at") or "")[:16].replace("T", " ")


@repro.command("show")
@click.argument("name")
@click.option("--runs", default=10, show_default=True, help="How many recent runs to list.")
@click.option("--refresh", is_flag=True, help="Update the papers' entries from the arXiv API.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def repro_show(ctx: click.Context, name: str, runs: int, refresh: bool, as_json: bool) -> None:
    """Show a reproduction: its papers, the paper's hyperparameters it uses, its recent runs.

    \b
    Example:
        papertrail repro show style-transfer
    """
    shown: api.ReproShown = _call(
        api.show_reproduction, paths_of(ctx), name, runs=runs, refresh=refresh
    )
    _say_refresh(shown.refresh)
    info = shown.details
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"{info['name']}  —  {info['title']}")
    click.echo(f"  code:   {info['folder']}")
    if info["readme"]:
        click.echo(f"  README: {info['readme']}")
    for p in info["papers"]:
        entry = f"reading list #{p['entry_id']}" if p["entry_id"] else "not in the reading list"
        click.echo(f"  paper:  {p['title']} ({', '.join(p['authors'])}, {p['year']})")
        click.echo(f"          {p['url']}  [{entry}]")
    for cfg in info["configs"]:
        click.echo(f"\n{cfg['name']}: {cfg['doc']}")
        width = max(len(f[0]) for f in cfg["fields"])
        for field_name, default, help_text, paper in cfg["fields"]:
            click.echo(f"  {field_name.ljust(width)}  {_fmt(default)}")
            click.echo(f"  {' ' * width}    {help_text}" + (f"  [{paper}]" if paper else ""))
    click.echo("\nruns:" if info["runs"] else "\nruns: none yet")
    for r in info["runs"]:
        tag = " dry-run" if r["config"].get("dry_run") else ""
        what = r["headline_metric"] or r["error"] or ""
        click.echo(
            f"  #{r['id']} {_when(r)} {r['status']}{tag} arXiv:{r['arxiv_id']} {r['device'] or ''}: {what}"
        )


def _fmt(value: object) -> str:
    if isinstance(value, float) and (abs(value) >= 1e4 or 0 < abs(value) < 1e-3):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    return str(value)


# ---------------------------------------------------------------- one command per reproduction


def _param(f: dataclasses.Field[Any], hint: Any) -> click.Parameter:
    """A click option (or argument) for one field of a reproduction's Args."""
    meta = f.metadata
    name = f.name.replace("_", "-")
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = True, inner[0]
        origin = typing.get_origin(hint)
    help_text = meta.get("help", "")
    if meta.get("argument"):
        return click.Argument(
            [f.name], nargs=-1, type=click.Path(path_type=Path), metavar=meta.get("metavar")
        )
    decls = [f"--{name}", f.name] + ([meta["short"]] if meta.get("short") else [])
    if hint is bool:
        return click.Option(decls, is_flag=True, default=f.default, help=help_text)
    if origin is Literal:
        kind: Any = click.Choice([str(c) for c in typing.get_args(hint)])
    elif hint is Path:
        kind = click.Path(path_type=Path)
    elif hint in (int, float, str):
        kind = hint
    else:
        raise TypeError(f"Args.{f.name}: unsupported option type {hint!r}")
    return click.Option(
        decls, type=kind, default=f.default, show_default=not optional and f.default is not None,
        help=help_text, metavar=meta.get("metavar"),
    )  # fmt: skip


def build_command(found: Reproduction) -> click.Command:
    """`papertrail repro NAME`: the reproduction's Args as options, plus --dry-run, --device, --seed."""
    entry = found.entry()
    args_cls = entry.Args
    hints = typing.get_type_hints(args_cls)
    fields = dataclasses.fields(args_cls)
    params = [_param(f, hints[f.name]) for f in fields]
    params += [
        click.Option(["--dry-run"], is_flag=True, help="A tiny run in seconds on CPU (no downloads): checks the whole path."),
        click.Option(["--device"], default="auto", show_default=True, help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps."),
        click.Option(["--seed"], type=int, default=0, show_default=True, help="Random seed."),
    ]  # fmt: skip
    if hasattr(entry, "check_from_run"):
        params.append(click.Option(
            ["--from-run"], type=int, default=None, metavar="N",
            help=getattr(entry, "FROM_RUN_HELP", "Start from the weights of run N."),
        ))  # fmt: skip

    def callback(**values: Any) -> None:
        ctx = click.get_current_context()
        dry_run, device, seed = values.pop("dry_run"), values.pop("device"), values.pop("seed")
        from_run = values.pop("from_run", None)
        _run(
            ctx, found, args_cls(**values), dry_run=dry_run, device=device, seed=seed,
            from_run=from_run,
        )  # fmt: skip

    return click.Command(
        found.name,
        params=params,
        callback=callback,
        help=args_cls.__doc__,
        short_help=found.title,
    )


def _run(
    ctx: click.Context,
    found: Reproduction,
    args: ReproArgs,
    *,
    dry_run: bool,
    device: str,
    seed: int,
    from_run: int | None = None,
) -> None:
    progress = _Progress()
    try:
        outcome = api.run_reproduction(
            paths_of(ctx), found, args, device=device, seed=seed, dry_run=dry_run,
            from_run=from_run, on_progress=progress, on_log=progress.log,
        )  # fmt: skip
    except api.ReproError as e:  # torch missing, or the run failed (recorded)
        raise click.ClickException(str(e)) from e
    except api.DatabaseLocked as e:  # another program holds the database (exit 75)
        raise Locked(str(e)) from e
    except ValueError as e:
        raise ConfigProblem(
            f"{e}\nNothing was run. See: papertrail repro {found.name} --help"
        ) from e
    finally:
        progress.close()
    result = outcome.result
    click.echo(f"{found.name} run #{outcome.run_id}: {result.headline}")
    for path in result.outputs:
        click.echo(f"  output: {path}")
    if result.weights is not None:
        click.echo(f"  weights: {result.weights}")
    click.echo(f"  run folder: {outcome.artifacts}")


class _Progress:
    """Progress of a run on stderr: a rich bar on a terminal, a line per 10 % otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.shown: dict[str, int] = {}

    def log(self, message: str) -> None:
        if self.bar is not None:
            self.bar.console.print(message, markup=False, highlight=False)
        else:
            click.echo(message, err=True)

    def __call__(self, task: str, done: int, total: int, metrics: dict[str, object]) -> None:
        info = " ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()
        )
        if not self.tty:
            decile = 10 * done // total if total else 0
            if total and (decile > self.shown.get(task, 0) or done == total) and done <= total:
                if self.shown.get(task) != 10:
                    click.echo(f"{task}: {done}/{total} {info}".rstrip(), err=True)
                self.shown[task] = decile
            return
        if self.bar is None:
            from rich.console import Console  # heavy (~45 ms): only a terminal shows a bar
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )  # fmt: skip
            self.bar.start()
        if task not in self.tasks:
            self.tasks[task] = self.bar.add_task(task, total=total or None, info="")
        self.bar.update(self.tasks[task], completed=done, info=info)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
