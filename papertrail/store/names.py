"""Names a user types into filters (`--domain`, `--tag`, `--source`) checked against
what the reading list (and feeds.yml) knows, with the closest known names suggested.

`BadInput` is what a command could never do with what was typed (an unknown
name, an unreadable `--since`, an id out of range): the CLI reports it as bad
usage (exit code 2), before anything is read or written.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import sqlite_utils

# The largest value an SQLite INTEGER (an entry id) can hold.
MAX_ID = 2**63 - 1

# filter kind -> (table, column) holding the names in use
_WHERE = {
    "domain": ("entry_domains", "domain"),
    "tag": ("entry_tags", "tag"),
    "source": ("provenance", "source"),
}
_SHOWN = 12  # known names listed in a message at most


class NamedFilter(Protocol):
    """What is checked of a `filters.EntryFilter` (named structurally: filters imports us)."""

    @property
    def domains(self) -> Sequence[str]: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def sources(self) -> Sequence[str]: ...


class BadInput(ValueError):
    """What was typed can never name anything (bad usage); str() is the message."""


Configured = Callable[[], Mapping[str, Collection[str]]]


def check_filter_names(
    db: sqlite_utils.Database, flt: NamedFilter, configured: Configured | None = None
) -> None:
    """Raise BadInput naming each domain, tag or source in `flt` that neither the
    reading list nor `configured()` (names from feeds.yml, asked only when needed)
    knows, with the closest known names."""
    problems: list[str] = []
    extra: Mapping[str, Collection[str]] | None = None
    for kind, values in (("domain", flt.domains), ("tag", flt.tags), ("source", flt.sources)):
        table, column = _WHERE[kind]
        for value in values:
            sql = f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1"
            if db.execute(sql, [value]).fetchone():
                continue
            if extra is None:
                extra = configured() if configured else {}
            if value in extra.get(kind, ()):
                continue  # configured, just nothing stored under it yet
            known = sorted(set(names_in_use(db, kind)) | set(extra.get(kind, ())))
            problems.append(unknown_name_message(kind, value, known))
    if problems:
        raise BadInput("\n".join(problems))


def names_in_use(db: sqlite_utils.Database, kind: str) -> list[str]:
    """Every distinct domain / tag / source stored: one index seek per name (a
    skip-scan), so it stays fast with millions of entries."""
    table, column = _WHERE[kind]
    sql = f"""
        WITH RECURSIVE names(v) AS (
            SELECT MIN({column}) FROM {table}
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > names.v)
            FROM names WHERE names.v IS NOT NULL
        )
        SELECT v FROM names WHERE v IS NOT NULL"""
    return [v for (v,) in db.execute(sql)]


def unknown_name_message(kind: str, value: str, known: Collection[str]) -> str:
    """ "no tag 'x' in the reading list — did you mean 'y'? (known: …)"."""
    what = {"tag": "no entry has the tag"}.get(kind, f"no {kind} named")
    message = f"{what} {value!r}"
    close = closest(value, known)
    if close:
        message += " — did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not known:
        return message + f" (the reading list has no {kind}s yet)"
    shown = sorted(known)[:_SHOWN]
    more = f", … ({len(known)} in all)" if len(known) > _SHOWN else ""
    return message + f" (known {kind}s: {', '.join(shown)}{more})"


def closest(value: str, known: Collection[str], n: int = 3) -> list[str]:
    """The known names nearest to `value` (difflib), ignoring case."""
    by_lower = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(value.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[h] for h in hits]
