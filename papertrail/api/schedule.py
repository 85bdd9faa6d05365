"""`papertrail schedule`: a quiet fetch every morning, by systemd user timer or crontab.

`install` writes `papertrail-fetch.service` and `.timer` into the systemd user
unit folder (`$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`)
and enables the timer when a systemd user instance answers; otherwise it adds
one line, marked `# papertrail-fetch`, to the user's crontab. The command is
this Python running `papertrail fetch --quiet` with --db and --feeds resolved to
absolute paths (and `--email` when asked). `status` reads the fetch log
(`fetch_runs`); `remove` undoes what `install` did.

Which `systemctl` and `crontab` run can be set with PAPERTRAIL_SYSTEMCTL and
PAPERTRAIL_CRONTAB (the tests point them at fakes under a temporary HOME).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from papertrail import store
from papertrail.config import Paths, write_atomic

UNIT = "papertrail-fetch"
MARK = "# papertrail-fetch"
_AT = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)\Z")


class ScheduleError(Exception):
    """The schedule could not be installed or removed; str() says what to do."""


@dataclass(frozen=True)
class Scheduler:
    """Where the units go and which tools install them (found on PATH unless overridden)."""

    unit_dir: Path
    systemctl: str | None
    crontab: str | None

    @classmethod
    def here(cls) -> Scheduler:
        config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return cls(
            unit_dir=Path(config_home) / "systemd" / "user",
            systemctl=os.environ.get("PAPERTRAIL_SYSTEMCTL") or shutil.which("systemctl"),
            crontab=os.environ.get("PAPERTRAIL_CRONTAB") or shutil.which("crontab"),
        )

    def has_systemd(self) -> bool:
        """A systemd user instance answers (not so in most containers and over plain ssh)."""
        return self.systemctl is not None and _ok([self.systemctl, "--user", "show-environment"])


@dataclass(frozen=True)
class Installed:
    kind: str  # "systemd" | "cron"
    at: str  # HH:MM, local time
    command: list[str]
    files: list[Path]  # the unit files (systemd) or [] (cron)


@dataclass(frozen=True)
class ScheduleStatus:
    kind: str | None  # "systemd" | "cron" | None when not installed
    at: str | None
    command: str | None
    last_run: dict[str, object] | None  # the newest fetch_runs row: started/finished, status


def fetch_command(paths: Paths, email: bool) -> list[str]:
    cmd = [sys.executable, "-m", "papertrail", "--db", str(Path(paths.db).resolve())]
    cmd += ["--feeds", str(Path(paths.feeds).resolve()), "fetch", "--quiet"]
    return cmd + (["--email"] if email else [])


def _check_at(at: str) -> tuple[int, int]:
    m = _AT.match(at.strip())
    if not m:
        raise ValueError(f"cannot read --at {at!r}: give a time of day as HH:MM, e.g. 07:30")
    return int(m[1]), int(m[2])


def install(
    paths: Paths, *, at: str = "07:30", email: bool = False, scheduler: Scheduler | None = None
) -> Installed:
    """Run a quiet fetch every day at `at` (local time); replaces an earlier install."""
    hour, minute = _check_at(at)
    sched = scheduler or Scheduler.here()
    if email and paths.config().email is None:
        raise ValueError(f"--email: {paths.feeds} has no email: section (see README, 'E-mail')")
    cmd = fetch_command(paths, email)
    if sched.has_systemd():
        return _install_systemd(sched, cmd, hour, minute)
    if sched.crontab:
        lines = [ln for ln in _crontab_lines(sched) if not ln.endswith(MARK)]
        lines.append(f"{minute} {hour} * * * {_shell(cmd)} >/dev/null 2>&1 {MARK}")
        _write_crontab(sched, lines)
        return Installed("cron", f"{hour:02d}:{minute:02d}", cmd, [])
    raise ScheduleError(
        "neither a systemd user instance nor crontab is available: run "
        f"`{_shell(cmd)}` from your own scheduler"
    )


def unit_files(cmd: list[str], hour: int, minute: int) -> dict[str, str]:
    """The service and timer, by file name."""
    service = f"""[Unit]
Description=papertrail: fetch the reading list and build the digest
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart={" ".join(_systemd_quote(a) for a in cmd)}
"""
    timer = f"""[Unit]
Description=papertrail: daily fetch at {hour:02d}:{minute:02d}

[Timer]
OnCalendar=*-*-* {hour:02d}:{minute:02d}:00
Persistent=true

[Install]
WantedBy=timers.target
"""
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def _install_systemd(sched: Scheduler, cmd: list[str], hour: int, minute: int) -> Installed:
    sched.unit_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in unit_files(cmd, hour, minute).items():
        write_atomic(sched.unit_dir / name, text)
        files.append(sched.unit_dir / name)
    assert sched.systemctl is not None
    for args in (["daemon-reload"], ["enable", "--now", f"{UNIT}.timer"]):
        _run([sched.systemctl, "--user", *args])
    return Installed("systemd", f"{hour:02d}:{minute:02d}", cmd, files)


def remove(scheduler: Scheduler | None = None) -> list[str]:
    """Undo `install`: disable and delete the units, drop the crontab line. Returns what went."""
    sched = scheduler or Scheduler.here()
    removed = []
    timer = sched.unit_dir / f"{UNIT}.timer"
    if timer.exists() and sched.systemctl and sched.has_systemd():
        _ok([sched.systemctl, "--user", "disable", "--now", f"{UNIT}.timer"])
    for name in (f"{UNIT}.timer", f"{UNIT}.service"):
        if (sched.unit_dir / name).exists():
            (sched.unit_dir / name).unlink()
            removed.append(str(sched.unit_dir / name))
    if removed and sched.systemctl and sched.has_systemd():
        _ok([sched.systemctl, "--user", "daemon-reload"])
    if sched.crontab:
        lines = _crontab_lines(sched)
        kept = [ln for ln in lines if not ln.endswith(MARK)]
        if len(kept) != len(lines):
            _write_crontab(sched, kept)
            removed.append("the crontab line marked " + MARK)
    return removed


def status(paths: Paths, scheduler: Scheduler | None = None) -> ScheduleStatus:
    """What is installed, and how the last fetch (scheduled or not) ended, from the fetch log."""
    sched = scheduler or Scheduler.here()
    kind = at = command = None
    timer = sched.unit_dir / f"{UNIT}.timer"
    if timer.exists():
        kind = "systemd"
        m = re.search(r"OnCalendar=\S+ (\d\d:\d\d)", timer.read_text(encoding="utf-8"))
        at = m[1] if m else None
        service = (sched.unit_dir / f"{UNIT}.service").read_text(encoding="utf-8")
        command = next(
            (ln[10:] for ln in service.splitlines() if ln.startswith("ExecStart=")), None
        )
    elif sched.crontab:
        line = next((ln for ln in _crontab_lines(sched) if ln.endswith(MARK)), None)
        if line:
            minute, hour, *_ = line.split()
            kind, at, command = "cron", f"{int(hour):02d}:{int(minute):02d}", line
    last = None
    if Path(paths.db).exists():
        with store.connected(paths.db) as db:
            rows = list(db.query("SELECT * FROM fetch_runs ORDER BY id DESC LIMIT 1"))
            last = rows[0] if rows else None
    return ScheduleStatus(kind, at, command, last)


# ---------------------------------------------------------------- helpers


def _ok(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _run(cmd: list[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ScheduleError(f"`{' '.join(cmd)}` failed: {e}") from None
    if done.returncode != 0:
        raise ScheduleError(f"`{' '.join(cmd)}` failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _crontab_lines(sched: Scheduler) -> list[str]:
    assert sched.crontab is not None
    done = subprocess.run(
        [sched.crontab, "-l"], capture_output=True, text=True, timeout=30, check=False
    )
    # `crontab -l` exits 1 with "no crontab for USER" when there is none yet.
    return done.stdout.splitlines() if done.returncode == 0 else []


def _write_crontab(sched: Scheduler, lines: list[str]) -> None:
    assert sched.crontab is not None
    _run([sched.crontab, "-"], stdin="\n".join(lines) + "\n" if lines else "")


def _shell(cmd: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in cmd).replace("%", "\\%")  # cron: % ends the command


def _systemd_quote(arg: str) -> str:
    text = arg.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
