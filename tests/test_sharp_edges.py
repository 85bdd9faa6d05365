"""Issue 18, as a new user meets it: a locked database, out-of-range input, mistyped
names and paths get a clear message and a documented exit code, never a traceback
or an empty database; a new database file never exists without its schema."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import default_config

from papertrail import store
from papertrail.cli import EXIT_CONFIG, EXIT_LOCKED, cli

REPO = Path(__file__).resolve().parent.parent


def run(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


# ------------------------------------------------------------ 2. locked by another program


@pytest.fixture
def held(reading_list: tuple[Path, Path]) -> Any:
    """Another program (here: this test's own connection, like an open sqlite3 shell)
    holding the write lock on the reading list."""
    db, _ = reading_list
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE entries SET read_at = NULL WHERE id = 1")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def test_a_writer_waits_then_says_what_holds_the_file(
    reading_list: tuple[Path, Path], held: sqlite3.Connection
) -> None:
    db, feeds = reading_list
    cmd = [sys.executable, "-m", "papertrail", "--db", str(db), "--feeds", str(feeds)]
    proc = subprocess.run(
        [*cmd, "star", "1"],
        capture_output=True,
        text=True,
        env=_env(PAPERTRAIL_BUSY_TIMEOUT="0.3"),
        timeout=60,
    )
    assert proc.returncode == EXIT_LOCKED, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{db} is locked" in proc.stderr
    assert f"pid {os.getpid()}" in proc.stderr  # the process holding it, by pid
    assert "waits up to 0.3 s" in proc.stderr
    assert "run the command again" in proc.stderr
    held.execute("ROLLBACK")
    held.execute("BEGIN IMMEDIATE")  # the fixture rolls back again
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT starred_at FROM entries WHERE id = 1").fetchone() == (None,)


@pytest.mark.parametrize(
    "args",
    [["fetch", "-q"], ["star", "1"], ["tag", "1", "later"], ["note", "1", "x"], ["read", "1"]],
)
def test_every_writer_gives_the_locked_exit_code(
    reading_list: tuple[Path, Path],
    held: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    monkeypatch.setenv("PAPERTRAIL_BUSY_TIMEOUT", "0.2")
    db, feeds = reading_list
    result = run(db, feeds, *args)
    assert result.exit_code == EXIT_LOCKED, result.output
    assert not isinstance(result.exception, sqlite3.Error), result.exception
    assert "is locked" in result.output and "run the command again" in result.output


# ------------------------------------------------------------ 7. out-of-range input


@pytest.mark.parametrize(
    "args",
    [
        ["show", "9223372036854775808"],
        ["star", "9223372036854775808"],
        ["read", "1", "#99999999999999999999999"],
        ["note", "9223372036854775808", "text"],
        ["tag", "9223372036854775808", "x"],
    ],
)
def test_an_id_no_entry_can_have_is_bad_usage(
    reading_list: tuple[Path, Path], args: list[str]
) -> None:
    db, feeds = reading_list
    result = run(db, feeds, *args)
    assert result.exit_code == EXIT_CONFIG, result.output
    assert not isinstance(result.exception, OverflowError)
    assert "cannot be an entry id" in result.output
    with sqlite3.connect(db) as conn:  # `read 1 #999…` marked nothing
        assert (
            conn.execute("SELECT COUNT(*) FROM entries WHERE read_at IS NOT NULL").fetchone()[0]
            == 0
        )


@pytest.mark.parametrize("since", ["800000d", "999999999999d", "99999999999999w", "1e9d"])
@pytest.mark.parametrize("command", ["list", "search gan", "export", "digest"])
def test_a_since_out_of_range_is_bad_usage(
    reading_list: tuple[Path, Path], since: str, command: str
) -> None:
    db, feeds = reading_list
    result = run(db, feeds, *command.split(), "--since", since)
    assert result.exit_code == EXIT_CONFIG, result.output
    assert not isinstance(result.exception, OverflowError)
    assert "--since" in result.output and since in result.output


# ------------------------------------------------------------ 8. wrong names get help


def test_an_unknown_domain_is_named_with_the_closest(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    result = run(db, feeds, "list", "--domain", "visoin")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "no domain named 'visoin' — did you mean 'vision'?" in result.output
    # a domain feeds.yml defines but no entry has yet is an empty list, not an error
    with sqlite3.connect(db) as conn:
        used = {d for (d,) in conn.execute("SELECT DISTINCT domain FROM entry_domains")}
    unused = sorted(set(default_config()["domains"]) - used)
    assert unused, used
    assert run(db, feeds, "list", "--domain", unused[0]).exit_code == 0


def test_an_unknown_tag_or_source_is_named_with_the_closest(
    reading_list: tuple[Path, Path],
) -> None:
    db, feeds = reading_list
    assert run(db, feeds, "tag", "1", "to-reproduce").exit_code == 0
    result = run(db, feeds, "list", "--tag", "to-reproducee")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "no entry has the tag 'to-reproducee' — did you mean 'to-reproduce'?" in result.output
    assert run(db, feeds, "list", "--tag", "to-reproduce").exit_code == 0
    with sqlite3.connect(db) as conn:
        source = conn.execute("SELECT source FROM provenance LIMIT 1").fetchone()[0]
    typo = source[:-1] + "x" + source[-1]
    for command in (["list"], ["search", "the"], ["export", "-f", "json"]):
        result = run(db, feeds, *command, "--source", typo)
        assert result.exit_code == EXIT_CONFIG, result.output
        assert f"no source named {typo!r} — did you mean {source!r}" in result.output


def test_fetch_of_an_unknown_source_names_the_closest(
    make_feeds: Any, db_path: Path, feed_server: Any
) -> None:
    url = feed_server.serve_fixture("/f", "ml-blogs/jmamath-distill__bair_blog.xml")
    feeds = make_feeds([{"name": "arxiv-daily", "kind": "feed", "url": url}])
    result = run(db_path, feeds, "fetch", "--source", "arxiv-dialy")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "no source named 'arxiv-dialy' — did you mean 'arxiv-daily'?" in result.output
    assert not db_path.exists()  # nothing was fetched, nothing created


@pytest.mark.parametrize("command", ["list", "digest", "search gan", "export"])
def test_an_unreadable_since_is_bad_usage(reading_list: tuple[Path, Path], command: str) -> None:
    db, feeds = reading_list
    result = run(db, feeds, *command.split(), "--since", "yesterday")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "cannot read --since 'yesterday'" in result.output


@pytest.mark.parametrize(
    "command",
    [
        "list",
        "show 1",
        "search gan",
        "export",
        "digest",
        "star 1",
        "note 1",
        "trending",
        "similar 1",
        "dismiss 1",
    ],
)
def test_a_mistyped_db_is_not_created_by_a_reading_command(
    tmp_path: Path, make_feeds: Any, command: str
) -> None:
    feeds = make_feeds([])
    typo = tmp_path / "readnig.db"
    result = run(typo, feeds, *command.split())
    assert result.exit_code == 1, result.output
    assert f"no reading list at {typo}" in result.output
    assert not typo.exists()
    assert not list(tmp_path.glob("readnig.db*"))


# ------------------------------------------------------------ 14. atomic creation

_KILL_WHILE_CREATING = """
import os, signal, sqlite3, sys
import sqlite_utils.db
real_connect = sqlite3.connect
def killing_connect(*args, **kwargs):
    conn = real_connect(*args, **kwargs)
    def authorizer(action, arg1, *rest):
        if action == sqlite3.SQLITE_CREATE_TABLE and arg1 == "fetch_log":
            os.kill(os.getpid(), signal.SIGKILL)  # mid-schema, like a kill -9 would
        return sqlite3.SQLITE_OK
    conn.set_authorizer(authorizer)
    return conn
sqlite_utils.db.sqlite3.connect = killing_connect
from papertrail import store
store.open_db(sys.argv[1])
"""


def test_a_new_database_never_exists_without_its_schema(tmp_path: Path) -> None:
    db = tmp_path / "new" / "reading.db"
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_WHILE_CREATING, str(db)], env=_env(), timeout=60
    )
    assert proc.returncode == -9  # killed in the middle of creating the schema
    if db.exists():  # then it has all of it
        with sqlite3.connect(db) as conn:
            tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master")}
        assert {"sources", "entries", "fetch_log", "_migrations"} <= tables, tables
    reopened = store.open_db(db)  # the next run creates it whole
    assert store.migrate(reopened) == []
    assert reopened.execute("SELECT COUNT(*) FROM fetch_log").fetchone() == (0,)
    reopened.close()
    assert not list(db.parent.glob(".*creating*"))  # the killed run's temporary file is gone


# ------------------------------------------------------------ 9. a wrong arXiv API URL


@pytest.mark.parametrize("status", [404, 405, 410])
def test_a_wrong_arxiv_api_url_is_blamed_on_the_url(
    feed_server: Any, make_feeds: Any, db_path: Path, status: int
) -> None:
    """A URL that is not the API (a typo in its path) answers 404 with a web page, not
    arXiv's error feed: the message names the URL and `arxiv_api_url`, not the query."""
    from werkzeug import Response

    page = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
    wrong = feed_server.handle(
        "/api/querry",
        lambda req: Response(page, status=status, headers={"Content-Type": "text/html"}),
    )
    source = {"name": "gan-search", "kind": "arxiv", "query": "gan", "max_results": 5}
    feeds = make_feeds([source], {"arxiv_api_url": wrong})
    result = run(db_path, feeds, "fetch")
    assert result.exit_code == 1, result.output  # its only source failed
    text = " ".join(result.output.split())  # the digest wraps long lines
    assert f"{wrong} answered HTTP {status}" in text
    assert "check `arxiv_api_url` in feeds.yml" in text
    assert "check `query`" not in text and "rejected" not in text


def test_a_query_arxiv_rejects_is_still_blamed_on_the_query(
    feed_server: Any, make_feeds: Any, db_path: Path
) -> None:
    from test_fetch import serve_api

    api = serve_api(
        feed_server,
        "arxiv-api/arxiv.py-recorded-2026/id_abc_s0_m100_b79c8dcf6bc3.body.xml",
        status=400,
    )
    source = {"name": "gan-search", "kind": "arxiv", "query": "gan", "max_results": 5}
    result = run(db_path, make_feeds([source], {"arxiv_api_url": api}), "fetch")
    text = " ".join(result.output.split())  # the digest wraps long lines
    assert "arXiv rejected query 'all:\"gan\"' (HTTP 400: incorrect id format for abc)" in text
    assert "check `query` / `categories`" in text


# ------------------------------------------------------------ 12. fetch output stays readable


def _big_feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Diffusion models for image synthesis, part {i}</title>"
        f"<link>https://blog.example.org/posts/{i}</link><guid>post-{i}</guid>"
        f"<description>Vision and image generation with diffusion models, note {i}.</description>"
        f"<pubDate>Mon, 30 Nov 2026 10:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Big blog</title><link>https://blog.example.org/</link>{items}</channel></rss>"
    ).encode()


def test_a_big_first_fetch_prints_a_capped_digest_with_the_way_to_the_rest(
    feed_server: Any, make_feeds: Any, db_path: Path
) -> None:
    n = 600
    url = feed_server.serve("/big.xml", _big_feed(n))
    feeds = make_feeds([{"name": "big-blog", "kind": "feed", "url": url}])
    result = run(db_path, feeds, "fetch")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) < 120, len(lines)  # 600 entries used to print ~1,800 lines
    assert f"1 source ok, 0 failed · 0 new papers · {n} new posts" in result.output
    (more,) = [line for line in lines if "more — papertrail list" in line]
    shown = sum(1 for line in lines if line.lstrip().startswith("• [big-blog]"))
    assert f"and {n - shown} more — papertrail list" in more
    # the command it names lists every entry of that domain from this fetch
    command = more.split("— papertrail ", 1)[1].split()
    listed = run(db_path, feeds, *command, "--json")
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == n
    # everything when asked, and machine formats are never capped
    assert (
        run(db_path, feeds, "digest", "--since", "1d", "--per-domain", "0").output.count(
            "• [big-blog]"
        )
        == n
    )
    as_json = json.loads(run(db_path, feeds, "digest", "--since", "1d", "--format", "json").output)
    assert len(as_json["entries"]) == n


# ------------------------------------------------------------ 13. first-run impressions


def test_repro_list_adds_nothing_to_the_reading_list(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    result = run(db, feeds, "repro", "list")
    assert result.exit_code == 0, result.output
    assert "arXiv:1508.06576" in result.output  # the papers are listed…
    assert run(db, feeds, "repro", "show", "style-transfer").exit_code == 0
    with sqlite3.connect(db) as conn:  # …but not added as entries
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == before


def test_papers_linked_by_a_reproduction_carry_their_dates_and_are_not_new(
    reading_list: tuple[Path, Path],
) -> None:
    from papertrail import repro

    db, feeds = reading_list
    conn = store.open_db(db)
    added = repro.link_papers(conn, list(repro.discover().values()))  # what a run does
    conn.close()
    assert added >= 8
    shown = json.loads(run(db, feeds, "show", "1508.06576", "--json").output)
    assert shown["published"].startswith("2015-08-26")
    assert shown["first_seen"].startswith("2015-08-26")
    for window in (["digest", "--since", "24h"], ["list", "--since", "24h"]):
        out = run(db, feeds, *window).output
        assert "Artistic Style" not in out and "Wasserstein" not in out, out


def test_the_offline_demo_first_fetch_warns_of_nothing_untrue(tmp_path: Path) -> None:
    demo_feeds = tmp_path / "demo-feeds.yml"
    server = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "serve_fixtures.py"), "--port", "0",
         "--write", str(demo_feeds)],
        stdout=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert "serving" in server.stdout.readline()
        db = tmp_path / "demo.db"
        first = run(db, demo_feeds, "fetch")
        assert first.exit_code == 0, first.output
        assert "does not know" not in first.output
        summary = first.output[first.output.rindex("sources ok") :]
        assert "!" not in summary and "✗" not in summary, summary  # no warning, no failure
        assert "11 sources ok, 0 failed" in first.output
        assert "Nothing new since the last fetch" in run(db, demo_feeds, "fetch").output
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ["note", "1", "--delete", "9223372036854775808"],
        ["list", "--limit", "9223372036854775808"],
        ["export", "-n", "9223372036854775808"],
    ],
)
def test_a_number_beyond_sqlites_integers_is_bad_usage(
    reading_list: tuple[Path, Path], args: list[str]
) -> None:
    db, feeds = reading_list
    result = run(db, feeds, *args)
    assert result.exit_code == EXIT_CONFIG, result.output
    assert not isinstance(result.exception, OverflowError), result.exception
    assert "9223372036854775807" in result.output  # the range it must be in


# ------------------------------------------------------------ 1. README's two commands


def test_the_readme_commands_install_into_a_venv_as_ci_does() -> None:
    """A stock Debian/Ubuntu Python refuses `pip install` outside a virtual environment
    (PEP 668): both Quick start commands make one, and .ci/run runs the same one.
    (Tried for real in a fresh clone with Debian 12's /usr/bin/python3: see the README.)"""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, commands
    main, tests = commands
    for command in commands:
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e "), command
        assert "python3 -m pip install" not in command
    assert main.endswith(".venv/bin/papertrail fetch")
    assert tests.endswith(".venv/bin/python -m pytest")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci  # quoted in .ci/run, then run step by step:
    assert "python3 -m venv .venv\n" in ci and ".venv/bin/pip install --quiet -e '.[test]'" in ci
    assert "\n.venv/bin/python -m pytest  #" in ci  # the README's command as it stands
    assert ".venv/bin/python -m pytest -n 0 --run-integration -m integration" in ci
