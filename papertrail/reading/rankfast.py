"""Scoring a whole reading list again after a star, in a process that did it before
(issue 17): only the similarity part depends on what you star, so every other part of
every entry's score (`rank._parts_rows`: mentions, followed authors, boosts, recency,
block rules) is kept in memory, keyed by `store.ranking.index_version` and the ranking
rules; a new model then costs its dense word sums (rankcache) and one pass of
arithmetic. The scores are the exact ones `rank._score_rows` gives, row for row.

Lists above `rank.LARGE_LIST` (rescored over recent entries only) and the term profile
(too few labels) take the ordinary path.

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail.config import Config
from papertrail.reading import learn, rank, rankcache
from papertrail.store import ranking as q
from papertrail.store.schema import max_entry_id

if TYPE_CHECKING:
    import numpy as np
    import sqlite_utils


@dataclass(frozen=True)
class _Static:
    key: str
    ids: list[int]
    base: list[float]  # every part but similarity, added in explain's order
    hidden: dict[int, str]  # the block rule hiding it (starred entries are never hidden)
    dense: np.ndarray  # base by entry id (NaN: no such entry)


_LOCK = threading.Lock()
_STATIC: dict[str, _Static] = {}  # database file -> its static parts


def _static(db: sqlite_utils.Database, config: Config) -> _Static:
    path = rankcache.db_file(db)
    key = f"{q.index_version(db)}|{config.ranking!r}"
    with _LOCK:
        hit = _STATIC.get(path)
    if hit is not None and hit.key == key:
        return hit
    inputs = rank.gather_static(db, config, None)
    ids: list[int] = []
    base: list[float] = []
    hidden: dict[int, str] = {}
    rows = q.entry_rows(db, None, rank._author_needles(config))
    for entry_id, value, rule, *_ in rank._parts_rows(config, inputs, rows):
        ids.append(entry_id)
        base.append(value)
        if rule is not None:
            hidden[entry_id] = rule
    import numpy as np  # heavy: only scoring a whole list needs it

    dense = np.full(max(ids, default=0) + 1, np.nan)
    dense[ids] = base
    static = _Static(key, ids, base, hidden, dense)
    with _LOCK:
        _STATIC[path] = static
    return static


def rows(
    db: sqlite_utils.Database, config: Config, model: learn.Model | None
) -> list[rank.Row] | None:
    """(id, score, hidden_by, stored score, stored hidden_by) of every entry, or None when
    this process should take the ordinary path (first look, a large list, no model)."""
    if not _worth_it(db, model):
        return None
    assert model is not None
    static = _static(db, config)
    up = rankcache.term_sums(db, model.queries(+1)).tolist()
    down = rankcache.term_sums(db, model.queries(-1)).tolist()
    names = _learned_authors(db, config, model)
    starred = q.starred_ids(db)
    stored = dict(q.ranked_scores(db))
    stored_hidden = dict(q.hidden_rows(db))
    w_sim = config.ranking.weights.similarity
    evidence, none, authors = learn.Evidence, learn.NO_EVIDENCE, model.authors
    top = min(len(up), len(down))
    out: list[rank.Row] = []
    for entry_id, base in zip(static.ids, static.base, strict=True):
        e = evidence(up[entry_id], down[entry_id]) if entry_id < top else none
        mine = names.get(entry_id)
        if mine is not None and not mine.isdisjoint(authors):
            e = e.plus(model.author_evidence(mine))
        score = round(base + w_sim * e.raw, rank.DECIMALS)
        hidden = None if entry_id in starred else static.hidden.get(entry_id)
        out.append(
            (entry_id, score, hidden, stored.get(entry_id, 0.0), stored_hidden.get(entry_id))
        )
    return out


def _worth_it(db: sqlite_utils.Database, model: learn.Model | None) -> bool:
    """A model, a list rescored whole, and a process that keeps (or will keep) the parts."""
    if model is None or max_entry_id(db) > rank.LARGE_LIST:
        return False
    with _LOCK:
        known = rankcache.db_file(db) in _STATIC
    return known or rankcache.warm(db)


def _learned_authors(
    db: sqlite_utils.Database, config: Config, model: learn.Model
) -> dict[int, frozenset[str]]:
    if not model.authors:
        return {}
    needles = rank._author_needles(config, model)  # what entry_rows' prefilter would use
    return rankcache.author_names(db, needles, list(model.authors))


@dataclass(frozen=True)
class Top:
    """The exact rows of the entries that can be in the top of the new order."""

    rows: list[rank.Row]
    floor: float  # every entry scoring (new or stored) at least this is among `rows`


def top_rows(
    db: sqlite_utils.Database, config: Config, model: learn.Model | None, size: int
) -> Top | None:
    """The rows that make the top `size` of the new order, and the floor below which
    none of the others is (new score or stored). The new scores of every entry are
    estimated at once with numpy (equal to the exact ones but perhaps for the last bit);
    the candidates within a margin of the `size`-th best are then scored exactly."""
    import numpy as np  # heavy: only scoring a whole list needs it

    if not _worth_it(db, model):
        return None
    assert model is not None
    static = _static(db, config)
    up = rankcache.term_sums(db, model.queries(+1))
    down = rankcache.term_sums(db, model.queries(-1))
    n = min(len(up), len(down), len(static.dense))
    up, down = up[:n].copy(), down[:n].copy()
    # The learned authors' evidence, once per combination of them (a handful) and added
    # to the entries having it at once (tens of thousands at 200,000: a loop cost 0.1 s).
    by_combo: dict[frozenset[str], list[int]] = {}
    for entry_id, mine in _learned_authors(db, config, model).items():
        combo = mine & model.authors.keys()
        if entry_id < n and combo:
            by_combo.setdefault(frozenset(combo), []).append(entry_id)
    for combo, ids in by_combo.items():
        extra, at = model.author_evidence(combo), np.array(ids, dtype=np.int64)
        up[at] += extra.up
        down[at] += extra.down
    w_sim = config.ranking.weights.similarity
    total = up + down
    # learn.Evidence.raw for every entry at once
    raw = np.where(total != 0, (up - down) / (total + learn.EVIDENCE_FLOOR), 0.0)
    est = static.dense[:n] + w_sim * raw
    known = est[~np.isnan(est)]
    if len(known) <= size:
        return None
    best = float(np.partition(np.round(known, rank.DECIMALS), -size)[-size])
    margin = 10.0**-rank.DECIMALS
    wanted = {int(i) for i in np.nonzero(est >= best - margin)[0]}
    wanted.update(q.ids_scoring_at_least(db, best - margin))
    starred = q.starred_ids(db)
    stored = q.scores_of(db, sorted(wanted))
    out: list[rank.Row] = []
    for entry_id in sorted(wanted):
        if entry_id >= n or np.isnan(static.dense[entry_id]) or entry_id not in stored:
            continue
        e = learn.Evidence(float(up[entry_id]), float(down[entry_id]))
        score = round(float(static.dense[entry_id]) + w_sim * e.raw, rank.DECIMALS)
        hidden = None if entry_id in starred else static.hidden.get(entry_id)
        out.append((entry_id, score, hidden, *stored[entry_id]))
    return Top(out, best - margin / 2)
