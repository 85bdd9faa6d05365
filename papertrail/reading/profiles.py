"""Ranking by one learned profile: a tag's own (`list --sort rank --tag T`, the digest's
per-tag sections) — arxiv-sanity's per-tag view.

A profile's score of an entry is the learned similarity alone (-1 .. 1): the words
it has (through the full-text index) and, for entries with at least one of those
words, the authors the profile knows. Entries sharing none of its words score 0 and
are not listed; a digest's section per tag shows only entries scoring above 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.config import Config
from papertrail.models import Entry
from papertrail.reading import learn
from papertrail.reading.words import normalize_name
from papertrail.store import feedback as fb

if TYPE_CHECKING:
    import sqlite_utils

TAG_SECTION = 5  # entries in a digest's per-tag section


def profile_scores(
    db: sqlite_utils.Database, model: learn.Model, ids: Sequence[int] | None = None
) -> dict[int, float]:
    """id -> the profile's similarity (-1 .. 1) for the entries sharing a word with it
    (`ids`: among those)."""
    found = learn.evidence(db, model, ids)
    if ids is not None:
        wanted = set(ids)
        found = {i: v for i, v in found.items() if i in wanted}
    if model.authors and found:
        for doc in fb.docs(db, list(found)).values():
            names = {normalize_name(a) for a in doc.authors}
            found[doc.entry_id] = found[doc.entry_id].plus(model.author_evidence(names))
    return {i: e.raw for i, e in found.items()}


def ranked_by_tag(
    db: sqlite_utils.Database,
    config: Config,
    flt: store.EntryFilter,
    tag: str,
    limit: int | None,
) -> list[Entry] | None:
    """Every entry the filter picks (its tag filter aside), best match to `tag`'s profile
    first, dismissed ones left out, each with that match as its `score`; None when
    the tag has no profile (too few entries of yours carry it)."""
    learned = learn.current(db, config.ranking, tag=tag)
    if learned.model is None:
        return None
    scores = profile_scores(db, learned.model)
    # Every entry with some evidence, best first: most of a list leans a little away from
    # a profile (its words are mostly not yours), and `--sort` sorts, it does not filter.
    order = sorted(scores, key=lambda i: (-scores[i], -i))
    loose = replace(flt, tags=())
    out: list[Entry] = []
    for start in range(0, len(order), 500):
        chunk = order[start : start + 500]
        picked = {e["id"]: e for e in store.find_entries(db, replace(loose, ids=chunk))}
        for entry_id in chunk:
            entry = picked.get(entry_id)
            if entry is None or entry.get("dismissed"):
                continue
            entry["score"] = round(scores[entry_id], 3)
            out.append(entry)
            if limit is not None and len(out) >= limit:
                return out
    return out


def tag_sections(
    db: sqlite_utils.Database, config: Config, entries: Sequence[Entry]
) -> list[tuple[str, list[Entry]]]:
    """(tag, the entries most like its profile) for each tag in `ranking.follow_tags`
    that has a profile, among `entries` (the digest's)."""
    out: list[tuple[str, list[Entry]]] = []
    by_id = {e["id"]: e for e in entries if e.get("id") is not None}
    for tag in config.ranking.follow_tags:
        learned = learn.current(db, config.ranking, tag=tag)
        if learned.model is None or not by_id:
            continue
        scores = profile_scores(db, learned.model, list(by_id))
        best = sorted((i for i, v in scores.items() if v > 0), key=lambda i: (-scores[i], -i))
        if best:
            out.append((tag, [by_id[i] for i in best[:TAG_SECTION]]))
    return out
