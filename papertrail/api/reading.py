"""The reading list as a library: list, search, show, export; read/star, tag, note; explain.

Each function opens the database named by `Paths`, does one thing and returns
data; the CLI (papertrail/cli/triage.py) only formats it, and the browser calls
the same functions, so an action has one write path (starring always rescores).
Entries are named the way users type them: arXiv ids in any form, URLs, or
short ids (`papertrail.store.resolve_entry`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.api.searching import DEFAULT_LIMIT, configured_names
from papertrail.config import Paths
from papertrail.models import Entry, EntryDetail, Note
from papertrail.reading import profiles
from papertrail.reading.explain import Explanation, explain
from papertrail.reading.refresh import (
    after_feedback,
    exact,
    live_while_pending,
    pending_floor,
    ranked_read,
    settle,
)
from papertrail.store import triage

if TYPE_CHECKING:
    import sqlite_utils


def list_entries(
    paths: Paths,
    flt: store.EntryFilter | None = None,
    *,
    sort: str = "date",
    limit: int | None = DEFAULT_LIMIT,
) -> list[Entry]:
    """`papertrail list`: entries `flt` picks, newest first (`sort="rank"`: best score first).
    `sort="rank"` with exactly one tag that has a learned profile of its own ranks every
    entry the other filters pick by that profile (arxiv-sanity's per-tag view), each with
    its match (-1 .. 1) as `score`."""
    flt = flt or store.EntryFilter()
    with store.connected(paths.db, create=False) as db:
        store.check_filter_names(db, flt, configured_names(paths))
        if sort == "rank" and len(flt.tags) == 1:
            ranked = profiles.ranked_by_tag(db, paths.config(), flt, flt.tags[0], limit)
            if ranked is not None:
                return ranked
        if sort == "rank":
            ranked_read(db)  # a star's refresh in this process: its top written first
        floor = pending_floor(db)
        found = store.find_entries(db, flt, sort=sort, limit=limit)
        if sort == "rank" and not exact(floor, [e.get("score") for e in found], limit):
            # A star's rescore is still writing the lower part of the order: finish it.
            settle(db, paths.config())
            found = store.find_entries(db, flt, sort=sort, limit=limit)
        live_while_pending(db, paths.config(), found, floor)
        return found


def select(
    paths: Paths,
    tokens: Sequence[str],
    flt: store.EntryFilter | None = None,
    *,
    limit: int | None = None,
) -> list[Entry]:
    """What `export` writes: the entries `tokens` name (arXiv ids, URLs, short ids), in
    the order typed and narrowed by `flt`; without tokens, every entry `flt` picks,
    newest first. Raises ValueError naming every token that names nothing."""
    flt = flt or store.EntryFilter()
    with store.connected(paths.db, create=False) as db:
        store.check_filter_names(db, flt, configured_names(paths))
        if not tokens:
            return store.find_entries(db, flt, limit=limit)
        resolved = store.resolve_entries(db, tokens)
        if resolved.missing:
            raise ValueError("nothing was exported:\n  " + "\n  ".join(resolved.missing))
        picked = {e["id"] for e in store.find_entries(db, replace(flt, ids=resolved.ids))}
        return store.entries_by_ids(db, [i for i in resolved.ids if i in picked][:limit])


def show(paths: Paths, token: str) -> EntryDetail:
    """`papertrail show`: everything known about one entry (see store.triage.entry_detail)."""
    with store.connected(paths.db, create=False) as db:
        return triage.entry_detail(db, store.resolve_entry(db, token))


def explain_entry(paths: Paths, token: str) -> Explanation:
    """`papertrail show --why`: the parts of an entry's rank score, in numbers and words."""
    config = paths.config()
    with store.connected(paths.db, create=False) as db:
        return explain(db, config, store.resolve_entry(db, token))


@dataclass
class MarkResult:
    changed: int = 0  # entries whose mark changed
    ids: list[int] = field(default_factory=list)  # every entry named
    missing: list[str] = field(default_factory=list)  # one message per token naming nothing


# Starring and dismissing say opposite things: setting one clears the other.
_OPPOSITE = {"starred": "dismissed", "dismissed": "starred"}


def mark(paths: Paths, tokens: Sequence[str], flag: str, on: bool) -> MarkResult:
    """read/unread (flag 'read'), star/unstar ('starred') or dismiss/undismiss
    ('dismissed': "not relevant", never in a digest again) every entry named;
    tokens that name nothing are reported in `missing`, the rest are still marked.
    Starring an entry clears its dismissal and dismissing clears its star; both
    retrain the learned ranking and rescore."""
    if flag not in triage.FLAGS:
        raise ValueError(f"unknown mark {flag!r}: use one of {', '.join(triage.FLAGS)}")
    with store.connected(paths.db, create=False) as db:
        resolved = store.resolve_entries(db, tokens)
        changed = triage.set_flag(db, resolved.ids, flag, on) if resolved.ids else 0
        cleared = 0
        if resolved.ids and on and flag in _OPPOSITE:
            cleared = triage.set_flag(db, resolved.ids, _OPPOSITE[flag], False)
        if flag in _OPPOSITE and changed + cleared:  # the labels changed
            _rescore_after_feedback(paths, db, resolved.ids)
    return MarkResult(changed=changed, ids=resolved.ids, missing=resolved.missing)


def _rescore_after_feedback(paths: Paths, db: sqlite_utils.Database, ids: list[int]) -> None:
    """Starring and dismissing change what "like what you starred" means; let the ranker
    catch up (it refits the learned model: papertrail.reading.learn)."""
    after_feedback(db, paths.config(), ids)


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
    """`papertrail tag` / `untag`: add (or remove) tags on one entry; the tags that changed."""
    clean = clean_tags(tags)
    with store.connected(paths.db, create=False) as db:
        entry_id = store.resolve_entry(db, token)
        if remove:
            changed = triage.remove_tags(db, entry_id, clean)
        else:
            changed = triage.add_tags(db, entry_id, clean)
        if changed:  # your tags are labels of the learned ranking, as stars are
            _rescore_after_feedback(paths, db, [entry_id])
        return changed


def add_note(paths: Paths, token: str, text: str) -> Note:
    """`papertrail note ENTRY TEXT`: a timestamped note, searchable with the entry."""
    text = text.strip()
    if not text:
        raise ValueError('the note is empty: papertrail note ID "what you want to remember"')
    with store.connected(paths.db, create=False) as db:
        return triage.add_note(db, store.resolve_entry(db, token), text)


def delete_note(paths: Paths, token: str, note_id: int) -> None:
    """`papertrail note ENTRY --delete N`; KeyError when the entry has no such note."""
    with store.connected(paths.db, create=False) as db:
        entry_id = store.resolve_entry(db, token)
        if not triage.delete_note(db, entry_id, note_id):
            raise KeyError(
                f"entry {entry_id} has no note {note_id} — `papertrail show {token}` lists them"
            )


def notes(paths: Paths, token: str) -> list[Note]:
    """`papertrail note ENTRY`: the entry's notes, oldest first."""
    return show(paths, token).get("notes", [])
