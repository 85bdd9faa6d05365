"""The reading list as a library: list, search, show and the reader's marks.

Each function opens the database named by `Paths`, does one thing and returns
plain data; the CLI (papertrail/cli/triage.py) only formats it. Entries are
named the way users type them: arXiv ids in any form, URLs, or short ids
(`papertrail.store.resolve_entry`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from papertrail import store
from papertrail.store import triage

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.app import Paths

DEFAULT_LIMIT = 50


@contextmanager
def _open(paths: Paths) -> Iterator[sqlite_utils.Database]:
    db = store.open_db(paths.db)
    try:
        yield db
    finally:
        db.close()


def make_filter(
    *,
    domains: Sequence[str] = (),
    tags: Sequence[str] = (),
    sources: Sequence[str] = (),
    kind: str | None = None,
    unread: bool = False,
    starred: bool = False,
    since: str | None = None,
    until: str | None = None,
    include_hidden: bool = True,
) -> store.EntryFilter:
    """An EntryFilter from what a user typed (`since`/`until` as 24h, 7d, 2w or a date)."""
    return store.EntryFilter(
        domains=tuple(domains),
        tags=tuple(tags),
        sources=tuple(sources),
        kind=kind,
        unread=unread,
        starred=starred,
        since=store.parse_since(since) if since else None,
        until=store.parse_since(until) if until else None,
        include_hidden=include_hidden,
    )


def list_entries(
    paths: Paths,
    flt: store.EntryFilter | None = None,
    *,
    sort: str = "date",
    limit: int | None = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    with _open(paths) as db:
        return store.find_entries(db, flt or store.EntryFilter(), sort=sort, limit=limit)


def select(
    paths: Paths,
    tokens: Sequence[str],
    flt: store.EntryFilter | None = None,
    *,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """What `export` writes: the entries `tokens` name (arXiv ids, URLs, short ids), in
    the order typed and narrowed by `flt`; without tokens, every entry `flt` picks,
    newest first. Raises ValueError naming every token that names nothing."""
    flt = flt or store.EntryFilter()
    with _open(paths) as db:
        if not tokens:
            return store.find_entries(db, flt, limit=limit)
        resolved = store.resolve_entries(db, tokens)
        if resolved.missing:
            raise ValueError("nothing was exported:\n  " + "\n  ".join(resolved.missing))
        picked = {e["id"] for e in store.find_entries(db, replace(flt, ids=resolved.ids))}
        return store.entries_by_ids(db, [i for i in resolved.ids if i in picked][:limit])


def search(
    paths: Paths,
    query: str,
    flt: store.EntryFilter | None = None,
    *,
    sort: str = "relevance",
    limit: int | None = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """FTS5 search; raises triage.SearchSyntaxError (a ValueError) with advice."""
    with _open(paths) as db:
        return triage.search(db, query, flt or store.EntryFilter(), sort=sort, limit=limit)


def show(paths: Paths, token: str) -> dict[str, Any]:
    """Everything known about one entry (see db.triage.entry_detail)."""
    with _open(paths) as db:
        return triage.entry_detail(db, store.resolve_entry(db, token))


@dataclass
class MarkResult:
    changed: int = 0
    ids: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # one message per token naming nothing


def mark(paths: Paths, tokens: Sequence[str], flag: str, on: bool) -> MarkResult:
    """read/unread (flag 'read') or star/unstar (flag 'starred') every entry named;
    tokens that name nothing are reported in `missing`, the rest are still marked."""
    with _open(paths) as db:
        resolved = store.resolve_entries(db, tokens)
        changed = triage.set_flag(db, resolved.ids, flag, on) if resolved.ids else 0
        if resolved.ids and flag == "starred":
            _rescore_after_feedback(paths, db, resolved.ids)
    return MarkResult(changed=changed, ids=resolved.ids, missing=resolved.missing)


def _rescore_after_feedback(paths: Paths, db: sqlite_utils.Database, ids: list[int]) -> None:
    """Starring changes what "like what you starred" means; let the ranker catch up."""
    from papertrail.reading import rank

    rank.after_feedback(db, paths.config(), ids)


def clean_tags(tags: Sequence[str]) -> list[str]:
    """Tags as stored: surrounding space trimmed, inner whitespace as '-', no duplicates."""
    out: list[str] = []
    for raw in tags:
        tag = "-".join(raw.split())
        if not tag:
            raise ValueError("a tag cannot be empty")
        if tag not in out:
            out.append(tag)
    return out


def tag(paths: Paths, token: str, tags: Sequence[str], *, remove: bool = False) -> list[str]:
    """Add (or remove) tags on one entry; returns the tags that changed."""
    clean = clean_tags(tags)
    with _open(paths) as db:
        entry_id = store.resolve_entry(db, token)
        if remove:
            return triage.remove_tags(db, entry_id, clean)
        return triage.add_tags(db, entry_id, clean)


def add_note(paths: Paths, token: str, text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        raise ValueError('the note is empty: papertrail note ID "what you want to remember"')
    with _open(paths) as db:
        return triage.add_note(db, store.resolve_entry(db, token), text)


def delete_note(paths: Paths, token: str, note_id: int) -> None:
    with _open(paths) as db:
        entry_id = store.resolve_entry(db, token)
        if not triage.delete_note(db, entry_id, note_id):
            raise KeyError(
                f"entry {entry_id} has no note {note_id} — `papertrail show {token}` lists them"
            )


def notes(paths: Paths, token: str) -> list[dict[str, Any]]:
    return show(paths, token)["notes"]
