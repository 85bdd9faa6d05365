"""After a star, a dismissal or a tag: the action is recorded at once, the new order
follows in the background, and nothing reads an order older than the labels (issue 17).

A new label refits the learned model, and a new model moves the similarity part of
nearly every entry's score, so a star used to refit and rewrite every stored score
(200,000 wide rows: seconds) before it answered. Now `after_feedback` only

1. claims the stored scores: `ranking_state.pending` = a new token and `exact_above` =
   infinity (no stored score is known to be current); a writer still at work for an
   older label set, in this process or another, stops at its next chunk;
2. starts a thread (`_refresh`) that refits the model (phase `fitted`), scores every
   entry of the routine scope in memory (rankfast: exact, and cheap in a process that
   did it before), writes at once the rows that make the top of the ranked list —
   every changed entry whose new score, or stored one, is at least T, the `TOP`-th best
   new score — and the entries just labelled, and records `exact_above` = T (phase
   `top`: every stored score >= T is now exact and every stale one is below T); then
   the other changed rows, in chunks, each only while the claim is still its own; then
   clears the marks (phase `done`).

Readers wait for what they need: a live score (the digest, Today, `show --why`) waits
for `fitted` (rank._gather); a ranked read (`api.list_entries(sort="rank")`) waits for
`top`, and when its answer reaches below T, for `done` — or, when the writer is not in
this process (or died), does the rescore itself (`settle`). A CLI command's thread is
not a daemon: `papertrail star` finishes the work before the process exits; a process
killed meanwhile leaves the marks, and the next ranked read, fetch or `papertrail rank`
completes it.

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail.config import Config
from papertrail.models import Entry
from papertrail.reading import fitworker, learn, rank, rankcache, rankfast
from papertrail.store import ranking as q
from papertrail.store.schema import connected

if TYPE_CHECKING:
    import sqlite_utils

TOP = 1000  # the stored order is exact at once down to the TOP-th best new score
_CHUNK = 2_500  # rows per transaction: a star waiting for the lock waits for one
_PAUSE_S = 0.12  # between them: longer than the busy handler's longest sleep
INFINITY = "inf"


def after_feedback(db: sqlite_utils.Database, config: Config, ids: Sequence[int]) -> None:
    """Entries were starred, dismissed or tagged: claim the stored scores and refresh
    them in a thread (see the module docstring). A database without a file (in memory)
    is refreshed here and now."""
    path = rankcache.db_file(db)
    token = uuid.uuid4().hex
    q.set_state(db, {"pending": token, "exact_above": INFINITY})
    if not path:
        rank.rescore(db, config, rank.recent_scope(db))
        q.set_state(db, {"pending": None, "exact_above": None})
        return
    thread = threading.Thread(
        target=_refresh, args=(path, config, list(ids), token), name="papertrail-rescore"
    )  # not a daemon: a CLI command finishes writing before the process exits
    job = rankcache.Job(token, thread)
    older = rankcache.set_job(path, job)
    if older is not None:
        older.cancel.set()
    thread.start()


def _refresh(path: str, config: Config, ids: list[int], token: str) -> None:
    job = rankcache.job(path)
    try:
        if fitworker.enabled() and _elsewhere(path, config, ids, token, job):
            return
        with connected(Path(path), create=False) as db:
            _run(db, config, ids, token, job)
    finally:
        if job is not None:
            job.finish()


def _elsewhere(
    path: str, config: Config, ids: list[int], token: str, job: rankcache.Job | None
) -> bool:
    """A server's refresh, in its worker process (papertrail.reading.fitworker): the
    fit, then the rescore; False when the worker failed (the thread does the rest)."""
    r = config.ranking
    if r.weights.similarity > 0 and not fitworker.run(fitworker.fit_here, path, r):
        return False
    if job is not None:
        with connected(Path(path), create=False) as db:
            rank.warm(db, config)  # this process's pages: the new model ready to score
        job.fitted.set()
        if job.cancel.is_set():
            return True
    return fitworker.run(_in_worker, path, config, ids, token)


def _in_worker(path: str, config: Config, ids: list[int], token: str) -> None:
    """The rescore after a fit, in the worker: as the thread does it (`_run`)."""
    with connected(Path(path), create=False) as db:
        _run(db, config, ids, token, None)


def _run(
    db: sqlite_utils.Database,
    config: Config,
    ids: list[int],
    token: str,
    job: rankcache.Job | None,
) -> None:
    r = config.ranking
    learned = None
    if r.weights.similarity > 0:
        learned = learn.current(db, r)
    model = learned.model if learned is not None else None
    if job is not None:
        job.fitted.set()
        if job.cancel.is_set():
            return
    labelled = set(ids)
    rankcache.yield_to_pages()
    top = rankfast.top_rows(db, config, model, TOP)
    if top is not None:  # the top from kept parts at once; every row exactly after
        if not _write_top(db, top.rows, top.floor, labelled, token, job):
            return
        rows = rankfast.rows(db, config, model) or []  # the stored ones read after the top
    else:
        rows = rank._scores(db, config, rank.recent_scope(db))[0]
        best = heapq.nlargest(TOP, (row[1] for row in rows))
        floor = best[-1] if len(best) >= TOP else float("-inf")
        if not _write_top(db, rows, floor, labelled, token, job):
            return
    later = [(s, h, i) for i, s, h, old, old_h in rows if (s, h) != (old, old_h)]
    for start in range(0, len(later), _CHUNK):
        if job is not None and job.cancel.is_set():
            return
        if start:
            # Let a waiting writer in (the next star, a note): SQLite's busy handler polls
            # at most every 100 ms, and back-to-back transactions would starve it.
            time.sleep(_PAUSE_S)
        rankcache.yield_to_pages()
        if not q.write_scores_claimed(db, later[start : start + _CHUNK], token):
            return
    q.release(db, token, rank.scores_key(config, model))


def _write_top(
    db: sqlite_utils.Database,
    rows: list[rank.Row],
    floor: float,
    labelled: set[int],
    token: str,
    job: rankcache.Job | None,
) -> bool:
    """Write the changed rows scoring (new or stored) at least `floor`, and the labelled
    entries, with `exact_above` = floor; False when another rescore claimed the scores."""
    now = [
        (score, hidden, entry_id)
        for entry_id, score, hidden, old, old_hidden in rows
        if (score, hidden) != (old, old_hidden)
        and (score >= floor or old >= floor or entry_id in labelled)
    ]
    for start in range(0, max(len(now), 1), _CHUNK):
        last = start + _CHUNK >= len(now)
        if start:
            time.sleep(_PAUSE_S)  # see `_run`
        chunk = now[start : start + _CHUNK]
        if not q.write_scores_claimed(db, chunk, token, exact_above=repr(floor) if last else None):
            return False  # another rescore claimed the scores: its answer wins
    if job is not None:
        job.top.set()
    return True


def exact(floor: float | None, scores: Sequence[float | None], limit: int | None) -> bool:
    """Whether a ranked answer (its scores, best first, at most `limit`), read when
    `pending_floor` gave `floor`, is the order the current labels give: nothing was
    pending, or all of it is at or above the floor."""
    if floor is None:
        return True
    if limit is None or len(scores) < limit:
        return False
    return all(s is not None and s >= floor for s in scores)


def ranked_read(db: sqlite_utils.Database) -> None:
    """Before a ranked read: wait for this process's refresh to write the top."""
    rankcache.wait(rankcache.db_file(db), "top")


def settle(db: sqlite_utils.Database, config: Config) -> None:
    """Make every stored score of the routine scope current: wait for this process's
    writer, else rescore here (a writer of another process stops: the claim moves)."""
    if q.get_state(db, "pending") is None or rankcache.previous_allowed() is not None:
        return
    if rankcache.wait(rankcache.db_file(db), "done") and q.get_state(db, "pending") is None:
        return
    rank.claim(db)
    rank.rescore(db, config, rank.recent_scope(db))
    rank.mark_fresh(db, config)


def pending_floor(db: sqlite_utils.Database) -> float | None:
    """None when no refresh of the stored scores is under way, else the score down to
    which the stored order is exact (infinity: not yet). Read it before the scores."""
    if q.get_state(db, "pending") is None:
        return None
    return float(q.get_state(db, "exact_above") or INFINITY)


def live_while_pending(
    db: sqlite_utils.Database, config: Config, entries: list[Entry], floor: float | None
) -> None:
    """When a refresh was pending as the entries were read (`pending_floor` gave `floor`),
    give the ones below the floor (the only ones it may not have reached) their current
    score and block state, computed now (cheap for a page of entries)."""
    if floor is None:
        return
    stale = [e["id"] for e in entries if e.get("id") is not None and e.get("score", 0) < floor]
    if not stale:
        return
    live = rank.live_scores(db, config, stale)
    for entry in entries:
        if entry.get("id") in live:
            entry["score"], entry["hidden_by"] = live[entry["id"]]
