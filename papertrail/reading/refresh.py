"""After a star, a dismissal or a tag: the new order at once, the rest of the stored
scores after (issue 17).

A new label refits the learned model, and a new model moves the similarity part of
nearly every entry's score, so a star used to rewrite every stored score (200,000 wide
rows: seconds) before it answered. Now `after_feedback`:

1. claims the stored scores (`ranking_state.pending` = a new token: a thread still
   writing for an older label set stops, in this process or another);
2. refits the model and scores every entry of the routine scope in memory (exact: the
   same `rank._score_rows` a full rescore uses);
3. writes at once the rows that make the top of the ranked list — every changed entry
   whose new score, or stored one, is at least T, the `TOP`-th best new score — and the
   entries just labelled, and records `exact_above` = T: every stored score >= T is now
   exact and every stale one is below T;
4. leaves the other changed rows to a background thread, written in chunks, each chunk
   only while the claim is still its own; when all are written the marks are cleared.

A ranked read (`api.list_entries(sort="rank")`) checks its answer: when it reaches
below T while rows are pending, it waits for the thread (this process) or finishes the
rescore itself (`settle`), then reads again. Nothing shows an order older than the
labels. A CLI command's thread is not a daemon: `papertrail star` writes the rest
before the process exits; a process killed meanwhile leaves the marks, and the next
ranked read, fetch or `papertrail rank` completes the work.

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import heapq
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail.config import Config
from papertrail.reading import learn, rank, rankcache
from papertrail.store import ranking as q
from papertrail.store.schema import connected

if TYPE_CHECKING:
    import sqlite_utils

TOP = 1000  # the stored order is exact at once down to the TOP-th best new score
_CHUNK = 5_000  # rows per background transaction (a superseding star waits at most one)


@dataclass
class _Job:
    token: str
    thread: threading.Thread
    cancel: threading.Event


_JOBS: dict[str, _Job] = {}
_JOBS_LOCK = threading.Lock()


def after_feedback(db: sqlite_utils.Database, config: Config, ids: Sequence[int]) -> int:
    """Entries were starred, dismissed or tagged: refit, rescore, write the top of the
    ranked list now and the rest in the background (see the module docstring).
    Returns how many entries were scored."""
    path = rankcache.db_file(db)
    _stop(path)
    token = uuid.uuid4().hex
    q.set_state(db, {"pending": token})
    rows, inputs = rank._scores(db, config, rank.recent_scope(db))
    key = rank.scores_key(config, inputs.model)
    labelled = set(ids)
    changed = [
        (score, hidden, entry_id, old)
        for entry_id, score, hidden, old, old_hidden in rows
        if score != old or hidden != old_hidden
    ]
    best = heapq.nlargest(TOP, (row[1] for row in rows))
    floor = best[-1] if len(best) >= TOP else float("-inf")
    now = [c for c in changed if c[0] >= floor or _at_least(c[3], floor) or c[2] in labelled]
    q.write_scores(db, [(score, hidden, entry_id) for score, hidden, entry_id, _ in now])
    later = [c[:3] for c in changed if not (c[0] >= floor or _at_least(c[3], floor))]
    later = [c for c in later if c[2] not in labelled]
    if not later or not path:
        if later:
            q.write_scores(db, later)
        q.set_state(db, {"scores_key": key, "exact_above": None, "pending": None})
        return len(rows)
    q.set_state(db, {"scores_key": key, "exact_above": repr(floor)})
    _start(path, token, later)
    return len(rows)


def _at_least(old: float | None, floor: float) -> bool:
    return old is not None and old >= floor


def _start(path: str, token: str, rows: list[tuple[float, str | None, int]]) -> None:
    cancel = threading.Event()
    # Not a daemon: a CLI command finishes writing before the process exits.
    thread = threading.Thread(
        target=_finish, args=(path, token, rows, cancel), name="papertrail-rescore"
    )
    with _JOBS_LOCK:
        _JOBS[path] = _Job(token, thread, cancel)
    thread.start()


def _finish(
    path: str, token: str, rows: list[tuple[float, str | None, int]], cancel: threading.Event
) -> None:
    """Write the rest of a refresh, chunk by chunk, while the claim is still `token`."""
    with connected(Path(path), create=False) as db:
        for start in range(0, len(rows), _CHUNK):
            if cancel.is_set():
                return
            if not q.write_scores_claimed(db, rows[start : start + _CHUNK], token):
                return  # another rescore claimed the scores: its answer wins
        q.release(db, token)


def _stop(path: str) -> None:
    """Stop this process's background writer for `path`, waiting for its current chunk."""
    with _JOBS_LOCK:
        job = _JOBS.pop(path, None)
    if job is not None:
        job.cancel.set()
        job.thread.join()


def wait(path: str) -> bool:
    """Wait for this process's background writer for `path`; False when there is none."""
    with _JOBS_LOCK:
        job = _JOBS.get(path)
    if job is None:
        return False
    job.thread.join()
    return True


def exact(db: sqlite_utils.Database, scores: Sequence[float | None], limit: int | None) -> bool:
    """Whether a ranked answer (its scores, best first, at most `limit`) is the order
    the current labels give: no rows pending, or all of it at or above `exact_above`."""
    floor = q.get_state(db, "exact_above")
    if floor is None or q.get_state(db, "pending") is None:
        return True
    if limit is None or len(scores) < limit:
        return False
    return all(s is not None and s >= float(floor) for s in scores)


def settle(db: sqlite_utils.Database, config: Config) -> None:
    """Make every stored score of the routine scope current: wait for this process's
    writer, else rescore here (a writer of another process stops: the claim moves)."""
    if q.get_state(db, "pending") is None:
        return
    if wait(rankcache.db_file(db)) and q.get_state(db, "pending") is None:
        return
    q.set_state(db, {"pending": uuid.uuid4().hex})
    rank.rescore(db, config, rank.recent_scope(db))
    model = None
    if config.ranking.weights.similarity > 0:
        model = learn.current(db, config.ranking).model
    q.set_state(
        db, {"scores_key": rank.scores_key(config, model), "exact_above": None, "pending": None}
    )
