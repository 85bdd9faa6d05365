"""cli/quick.py: a plain `papertrail search` runs without click and prints what the
click command prints, byte for byte (issue 19), on a real reading list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from papertrail.cli import cli, quick

REPO = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(REPO / "benchmarks"))
from bench_snapshot import SEARCH_QUERIES  # noqa: E402  (the 20 the benchmark times)

# benchmarks/bench_search_process.py's 20 typical searches, and the other forms read here.
QUERIES = [
    *SEARCH_QUERIES,
    ["learning", "--csv", "-n3"],
    ["--limit=2", "learning", "--sort=rank"],
    ["learning", "--domain", "vision", "--domain", "generative", "-n", "5"],
    ["network", "--starred"],
    ["zzzznothing"],
]


def _quick(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    capsys.readouterr()
    assert quick.search(argv), argv
    out = capsys.readouterr()
    return out.out, out.err


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: " ".join(q))
def test_the_quick_path_prints_what_the_click_command_prints(
    reading_list: tuple[Path, Path], capsys: pytest.CaptureFixture[str], query: list[str]
) -> None:
    db, feeds = reading_list
    argv = ["--db", str(db), "--feeds", str(feeds), "search", *query]
    fast_out, fast_err = _quick(argv, capsys)
    full = CliRunner().invoke(cli, argv)
    assert full.exit_code == 0, full.output
    assert fast_out == full.stdout
    assert fast_err == full.stderr


def test_something_is_found_and_compared(
    reading_list: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The comparison above is not between two empty outputs."""
    db, feeds = reading_list
    out, _ = _quick(
        ["--db", str(db), "--feeds", str(feeds), "search", "learning", "--json"], capsys
    )
    assert len(json.loads(out)) > 3


def test_environment_variables_name_the_files(
    reading_list: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, feeds = reading_list
    monkeypatch.setenv("PAPERTRAIL_DB", str(db))
    monkeypatch.setenv("PAPERTRAIL_FEEDS", str(feeds))
    out, _ = _quick(["search", "learning"], capsys)
    assert out == CliRunner().invoke(cli, ["search", "learning"]).stdout
    assert "learning" in out.lower()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["search", "--help"],
        ["search"],
        ["search", "a", "b"],
        ["search", "a", "--bogus"],
        ["search", "a", "-n", "0"],
        ["search", "a", "-n=5"],
        ["search", "a", "--limit", "x"],
        ["search", "a", "--kind", "book"],
        ["search", "a", "--sort", "best"],
        ["search", "a", "--unread=yes"],
        ["search", "a", "--domain"],
        ["search", "a", "--", "-b"],
        ["--db", "x.db", "list"],
        ["--version"],
        ["--db", "search", "q"],
    ],
    ids=lambda a: " ".join(a) or "(nothing)",
)
def test_anything_unusual_goes_to_click(argv: list[str]) -> None:
    assert quick.parse(argv) is None


def test_a_directory_as_database_goes_to_click(tmp_path: Path) -> None:
    assert quick.parse(["--db", str(tmp_path), "search", "a"]) is None
    assert quick.parse(["--db", str(tmp_path / "x.db"), "search", "a"]) is not None


def test_library_errors_are_explained_by_the_click_path(
    reading_list: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, feeds = reading_list
    for bad in (["a", "--domain", "no-such-domain"], ['"unclosed'], ["a", "--since", "soon"]):
        assert not quick.search(["--db", str(db), "--feeds", str(feeds), "search", *bad])
        assert capsys.readouterr().out == ""


def test_the_search_process_imports_neither_click_nor_the_other_commands(
    reading_list: tuple[Path, Path],
) -> None:
    db, feeds = reading_list
    code = (
        "import sys\nfrom papertrail.cli import main\n"
        f"sys.argv = ['papertrail', '--db', {str(db)!r}, '--feeds', {str(feeds)!r}, "
        "'search', 'learning']\nmain()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('click', 'sqlite_utils') or m.startswith('papertrail.cli.')), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert (
        result.stderr.strip().splitlines()[-1]
        == "['papertrail.cli.plaintext', 'papertrail.cli.quick', 'papertrail.cli.tables']"
    )
    assert "learning" in result.stdout.lower()
