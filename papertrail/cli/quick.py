"""`papertrail search` without click: the command most often run as a whole process.

A search's own work takes 10-40 ms on the whole of arXiv; importing click and
every command's module took about as long again (issue 19). `search` reads the
command line the way the click group would for the common forms (global --db and
--feeds, then `search QUERY` with its options, `--opt value` or `--opt=value`),
calls the same `api.search`, and prints the same bytes as `papertrail search`
(tests/test_quick_search.py compares the two on a real reading list).

Anything else returns False and the click group runs the command instead: another
command, --help, an unknown or malformed option, a value click would refuse, and
every error the library raises (the click path explains it; a search only reads,
so running it again changes nothing). The one error answered here is a locked
database, so the wait for the lock is not paid twice.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail import api
from papertrail.cli import tables

if TYPE_CHECKING:
    from papertrail.models import Entry

# What the click commands declare (cli/_base.py, cli/triage.py), for the forms read here.
_GLOBAL = {"--db": "PAPERTRAIL_DB", "--feeds": "PAPERTRAIL_FEEDS"}
_MULTIPLE = {"--domain": "domains", "--tag": "tags", "--source": "sources"}
_SINGLE = {
    "--kind": "kind",
    "--since": "since",
    "--sort": "sort",
    "--limit": "limit",
    "-n": "limit",
}
_FLAGS = {
    "--unread": "unread",
    "--starred": "starred",
    "--has-code": "has_code",
    "--json": "as_json",
    "--csv": "as_csv",
}
_CHOICES = {"kind": ("paper", "post"), "sort": ("relevance", "date", "rank")}
_LIMIT = re.compile(r"[0-9]{1,19}")
SQLITE_MAX_INT = 2**63 - 1
EXIT_LOCKED = 75  # as cli/_base.py
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # click.echo strips these when not a terminal


@dataclass
class Search:
    """A `papertrail search` command line, read."""

    db: str | None = None
    feeds: str | None = None
    query: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # --kind, --since, --sort, --limit
    lists: dict[str, list[str]] = field(default_factory=dict)  # --domain, --tag, --source
    flags: set[str] = field(default_factory=set)


def search(argv: list[str]) -> bool:
    """Run `argv` if it is a plain search; False when the click group should run it."""
    command = parse(argv)
    if command is None or not _plain_output():
        return False
    try:
        found = _run(command)
    except api.DatabaseLocked as e:
        _echo(f"Error: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    except (api.BadInput, api.DatabaseError, api.ConfigError, KeyError, ValueError):
        return False  # the click path explains it, with its exit code
    try:
        _print(command, found)
    except BrokenPipeError:  # as click does: the reader went away (`| head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (closed at exit)
        sys.exit(1)
    return True


def parse(argv: list[str]) -> Search | None:
    """The command line as the click group reads it, or None for anything unusual."""
    command = Search()
    i = _parse_globals(argv, command)
    if i is None or i >= len(argv) or argv[i] != "search":
        return None
    if not _parse_search(argv[i + 1 :], command) or command.query is None:
        return None
    return command if _paths_ok(command) else None


def _split(argv: list[str], i: int) -> tuple[str, str | None, int] | None:
    """(option, its value or None, next index) for `--opt value` / `--opt=value`;
    `value` is None for an option written alone. None when a value is missing."""
    arg = argv[i]
    name, eq, value = arg.partition("=")
    if eq and name.startswith("--"):
        return name, value, i + 1
    if arg == "-n" or arg in _GLOBAL or arg in _MULTIPLE or arg in _SINGLE:
        if i + 1 >= len(argv):
            return None
        return arg, argv[i + 1], i + 2
    if arg.startswith("-n") and len(arg) > 2:
        return "-n", arg[2:], i + 1
    return arg, None, i + 1


def _parse_globals(argv: list[str], command: Search) -> int | None:
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        split = _split(argv, i)
        if split is None or split[0] not in _GLOBAL or not _value_ok(split[1]):
            return None
        name, value, i = split
        setattr(command, name[2:], value)
    for name, env in _GLOBAL.items():
        if getattr(command, name[2:]) is None and os.environ.get(env):
            setattr(command, name[2:], os.environ[env])
    return i


def _parse_search(args: list[str], command: Search) -> bool:
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-"):
            if command.query is not None:
                return False  # a second argument: click says so
            command.query, i = arg, i + 1
            continue
        split = _split(args, i)
        if split is None:
            return False
        name, value, i = split
        if name in _FLAGS and value is None:
            command.flags.add(_FLAGS[name])
        elif name in _MULTIPLE and _value_ok(value):
            command.lists.setdefault(_MULTIPLE[name], []).append(str(value))
        elif name in _SINGLE and _value_ok(value):
            command.values[_SINGLE[name]] = str(value)
        else:
            return False
    return _values_ok(command.values)


def _value_ok(value: str | None) -> bool:
    return bool(value) and not str(value).startswith("-")


def _values_ok(values: dict[str, str]) -> bool:
    """The values click would accept as typed (anything else: click explains)."""
    for key, choices in _CHOICES.items():
        if key in values and values[key] not in choices:
            return False
    limit = values.get("limit")
    return limit is None or bool(_LIMIT.fullmatch(limit) and 1 <= int(limit) <= SQLITE_MAX_INT)


def _paths_ok(command: Search) -> bool:
    """click.Path(dir_okay=False) refuses a directory and an unreadable file."""
    for value in (command.db, command.feeds):
        exists = value is not None and os.path.exists(value)
        if exists and (os.path.isdir(str(value)) or not os.access(str(value), os.R_OK)):
            return False
    return True


def _plain_output() -> bool:
    """click.echo writes UTF-8 text as is; other encodings go through click's own path."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("_", "-")
    return encoding in ("utf-8", "utf8")


def _run(command: Search) -> api.SearchResult:
    values, lists = command.values, command.lists
    flt = api.make_filter(
        domains=lists.get("domains", []),
        tags=lists.get("tags", []),
        sources=lists.get("sources", []),
        kind=values.get("kind"),
        unread="unread" in command.flags,
        starred="starred" in command.flags,
        since=values.get("since"),
        has_code="has_code" in command.flags,
    )
    paths = api.Paths.resolve(
        Path(command.db) if command.db else None, Path(command.feeds) if command.feeds else None
    )
    limit = int(values.get("limit", 50))
    sort = values.get("sort", "relevance")
    return api.search(paths, str(command.query), flt, sort=sort, limit=limit)


def _print(command: Search, found: api.SearchResult) -> None:
    """What cli/triage.py's `search` prints, byte for byte."""
    as_json, as_csv = "as_json" in command.flags, "as_csv" in command.flags
    _print_entries(found.entries, as_json, as_csv, empty=f"Nothing matches {command.query!r}.")
    window = found.window
    if window:
        _echo(
            f"More than {window:,} entries match: these are the best of the newest {window:,}. "
            'Add words or a "phrase" to reach older ones (filters apply before the cut).',
            err=True,
        )


def _print_entries(entries: list[Entry], as_json: bool, as_csv: bool, *, empty: str) -> None:
    tables.print_list(entries, as_json, as_csv, empty=empty, echo=_echo)


def _echo(text: str, *, err: bool = False) -> None:
    """click.echo for a str: a newline added, ANSI codes stripped off a terminal, flushed."""
    stream = sys.stderr if err else sys.stdout
    if not _isatty(stream):
        text = _ANSI.sub("", text)
    stream.write(text + "\n")
    stream.flush()


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


__all__ = ["Search", "parse", "search"]
