"""`papertrail schedule install | status | remove`: a quiet fetch every morning."""

from __future__ import annotations

import click

from papertrail import api
from papertrail.cli._base import cli, guard, paths_of


@cli.group()
def schedule() -> None:
    """Fetch every morning by itself (systemd user timer, else crontab).

    \b
    Example:
        papertrail schedule install --at 07:30 --email
        papertrail schedule status
        papertrail schedule remove
    """


@schedule.command("install")
@click.option("--at", default="07:30", show_default=True, help="Time of day (HH:MM, local).")
@click.option("--email", is_flag=True, help="Also mail the digest (feeds.yml's email: section).")
@click.pass_context
def install(ctx: click.Context, at: str, email: bool) -> None:
    """Run `papertrail fetch --quiet` daily, with the current --db and --feeds.

    Writes papertrail-fetch.service and .timer to ~/.config/systemd/user and
    enables the timer (missed runs catch up after boot); without a systemd user
    instance, adds one line marked `# papertrail-fetch` to your crontab.
    Installing again replaces the earlier schedule.

    \b
    Example:
        papertrail schedule install --at 06:45
        papertrail --db ~/papers.db schedule install --email
    """
    try:
        done = guard(api.install_schedule, paths_of(ctx), at=at, email=email)
    except api.ScheduleError as e:
        raise click.ClickException(str(e)) from e
    where = ", ".join(str(f) for f in done.files) if done.files else "your crontab"
    click.echo(f"Scheduled ({done.kind}): daily at {done.at} — {where}")
    click.echo(
        "Check it with `papertrail schedule status`; undo with `papertrail schedule remove`."
    )


@schedule.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the schedule and how the last fetch ended (from the fetch log).

    \b
    Example:
        papertrail schedule status
    """
    st = guard(api.schedule_status, paths_of(ctx))
    if st.kind is None:
        click.echo("Not scheduled. `papertrail schedule install` sets it up.")
    else:
        click.echo(f"Scheduled ({st.kind}): daily at {st.at}")
        click.echo(f"  runs: {st.command}")
    run = st.last_run
    if run is None:
        click.echo("Last fetch: never (no fetch in the fetch log yet).")
        return
    ended = run.get("finished_at") or "—"
    click.echo(f"Last fetch: started {run['started_at']}, finished {ended}, {run['status']}")
    click.echo(
        f"  {run['sources_ok']} sources ok, {run['sources_failed']} failed · "
        f"{run['new_papers']} new papers, {run['new_posts']} new posts"
    )


@schedule.command("remove")
def remove() -> None:
    """Undo `schedule install` (units disabled and deleted, crontab line dropped).

    \b
    Example:
        papertrail schedule remove
    """
    try:
        removed = guard(api.remove_schedule)
    except api.ScheduleError as e:
        raise click.ClickException(str(e)) from e
    if not removed:
        click.echo("Nothing was scheduled.")
    for what in removed:
        click.echo(f"Removed {what}")
