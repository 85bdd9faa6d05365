"""Docs stay true by test: every command has help with an example and is in the
README; the reading-list commands start without importing heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from papertrail.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append(((*prefix, name), cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
    return out


COMMANDS = _commands(cli)


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path: tuple[str, ...], cmd: click.Command) -> None:
    assert cmd.help and "Example:" in cmd.help, (
        f"papertrail {' '.join(path)} needs help with an example"
    )
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_is_documented_in_the_readme(
    path: tuple[str, ...], cmd: click.Command
) -> None:
    assert f"papertrail {' '.join(path)}" in README


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, json; from papertrail.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in ('torch', 'httpx', 'feedparser', 'arxiv', 'requests', 'sqlite_utils') if m in sys.modules)), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []


def test_version() -> None:
    from papertrail import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert __version__ in result.output


def test_config_command_reports_files_and_validity(tmp_path: Path) -> None:
    repo_feeds = Path(__file__).resolve().parent.parent / "feeds.yml"
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "x.db"), "--feeds", str(repo_feeds), "config"]
    )
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and str(repo_feeds) in result.output


def test_packaged_default_is_used_without_any_feeds_file() -> None:
    # cwd is an empty tmp dir and the user config dir is empty (conftest)
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    assert "default_feeds.yml" in result.output


def test_a_database_that_is_not_sqlite_is_refused_with_a_message(tmp_path: Path) -> None:
    repo_feeds = Path(__file__).resolve().parent.parent / "feeds.yml"
    not_db = tmp_path / "x.db"
    not_db.write_text("hello")
    result = CliRunner().invoke(cli, ["--db", str(not_db), "--feeds", str(repo_feeds), "digest"])
    assert result.exit_code == 1
    assert "cannot open" in result.output and "--db" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not_db.read_text() == "hello"
