"""`papertrail schedule install | status | remove` (issue 20) under a temporary HOME
(conftest's `isolated`): the real user's systemd units and crontab are never touched —
PAPERTRAIL_SYSTEMCTL and PAPERTRAIL_CRONTAB point at small fake programs that log their
arguments and keep the crontab in a file of the fake home. The unit files are checked
with the real `systemd-analyze verify` where it is installed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from papertrail.cli import cli

FAKE_SYSTEMCTL = """#!/bin/sh
echo "$@" >> "{log}"
if [ "$2" = "show-environment" ]; then exit {systemd_rc}; fi
exit 0
"""
FAKE_CRONTAB = """#!/bin/sh
if [ "$1" = "-l" ]; then
  if [ -f "{tab}" ]; then cat "{tab}"; exit 0; fi
  echo "no crontab for tester" >&2; exit 1
fi
if [ "$1" = "-" ]; then cat > "{tab}"; exit 0; fi
exit 2
"""


def fake(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Fakes under the temporary HOME; `systemd(True/False)` says whether a user instance answers."""
    home = Path(os.environ["HOME"])
    log, tab = home / "systemctl.log", home / "crontab.txt"

    def setup(systemd: bool) -> tuple[Path, Path]:
        rc = 0 if systemd else 1
        monkeypatch.setenv(
            "PAPERTRAIL_SYSTEMCTL",
            str(fake(home / "systemctl", FAKE_SYSTEMCTL.format(log=log, systemd_rc=rc))),
        )
        monkeypatch.setenv(
            "PAPERTRAIL_CRONTAB", str(fake(home / "crontab", FAKE_CRONTAB.format(tab=tab)))
        )
        return log, tab

    return setup


def cmd(tmp_path: Path, *args: str) -> Any:
    db = tmp_path / "my papers" / "reading 100%.db"  # a space and a % in the path
    feeds = tmp_path / "feeds.yml"
    if not feeds.exists():
        feeds.write_text("sources: []\n", encoding="utf-8")
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])


def unit_dir() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user"


def test_systemd_install_status_remove(tmp_path: Path, tools: Any) -> None:
    log, tab = tools(True)
    result = cmd(tmp_path, "schedule", "install", "--at", "6:45")
    assert result.exit_code == 0, result.output
    assert "Scheduled (systemd): daily at 06:45" in result.output
    service = (unit_dir() / "papertrail-fetch.service").read_text(encoding="utf-8")
    timer = (unit_dir() / "papertrail-fetch.timer").read_text(encoding="utf-8")
    db = str((tmp_path / "my papers" / "reading 100%.db").resolve()).replace("%", "%%")
    assert f'--db "{db}"' in service
    assert f"--feeds {(tmp_path / 'feeds.yml').resolve()} fetch --quiet" in service
    assert "OnCalendar=*-*-* 06:45:00" in timer and "Persistent=true" in timer
    calls = log.read_text(encoding="utf-8").splitlines()
    assert "--user daemon-reload" in calls and "--user enable --now papertrail-fetch.timer" in calls
    assert not tab.exists()  # systemd answered: the crontab is left alone

    status = cmd(tmp_path, "schedule", "status")
    assert "Scheduled (systemd): daily at 06:45" in status.output
    assert "Last fetch: never" in status.output
    assert cmd(tmp_path, "fetch", "-q").exit_code == 0  # an (empty) fetch goes in the fetch log
    status = cmd(tmp_path, "schedule", "status")
    assert "Last fetch: started" in status.output and ", done" in status.output

    removed = cmd(tmp_path, "schedule", "remove")
    assert removed.exit_code == 0 and "papertrail-fetch.timer" in removed.output
    assert not list(unit_dir().glob("papertrail-fetch.*"))
    assert "--user disable --now papertrail-fetch.timer" in log.read_text(encoding="utf-8")
    assert "Not scheduled" in cmd(tmp_path, "schedule", "status").output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path, tools: Any) -> None:
    tools(True)
    assert cmd(tmp_path, "schedule", "install", "--email").exit_code != 0  # no email: section
    assert cmd(tmp_path, "schedule", "install").exit_code == 0
    files = [str(unit_dir() / f"papertrail-fetch.{s}") for s in ("service", "timer")]
    done = subprocess.run(
        ["systemd-analyze", "verify", *files], capture_output=True, text=True, timeout=60
    )
    if "Failed to initialize manager" in done.stderr or "RuntimeDirectory" in done.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


def test_crontab_when_there_is_no_systemd_user_instance(tmp_path: Path, tools: Any) -> None:
    _, tab = tools(False)
    tab.write_text("MAILTO=me\n15 3 * * * backup.sh\n", encoding="utf-8")
    assert cmd(tmp_path, "schedule", "install", "--at", "07:30").exit_code == 0
    assert cmd(tmp_path, "schedule", "install", "--at", "08:05").exit_code == 0  # replaces
    lines = tab.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["MAILTO=me", "15 3 * * * backup.sh"]
    (ours,) = [ln for ln in lines if ln.endswith("# papertrail-fetch")]
    assert ours.startswith("5 8 * * * ")
    assert "'" + str((tmp_path / "my papers").resolve()) in ours  # quoted for the shell
    assert "\\%" in ours and "fetch --quiet" in ours  # cron would end the command at a bare %
    assert not unit_dir().exists()
    assert "Scheduled (cron): daily at 08:05" in cmd(tmp_path, "schedule", "status").output
    assert cmd(tmp_path, "schedule", "remove").exit_code == 0
    assert tab.read_text(encoding="utf-8").splitlines() == lines[:2]


def test_a_bad_time_is_refused(tmp_path: Path, tools: Any) -> None:
    tools(False)
    result = cmd(tmp_path, "schedule", "install", "--at", "25:00")
    assert result.exit_code == 1 and "HH:MM" in result.output
