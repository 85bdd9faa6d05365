"""In-process caches of the ranking (issue 17): what a long-running process (the reading
page's server) need not recompute on every view and every star.

- **Postings** (FTS5 query -> the ids matching it) and, per fitted model, the **summed
  word weights** of every entry as one dense array indexed by entry id: a refit keeps
  most of its words, so a new model's sums cost array additions, not index walks.
- **Learned authors**: per author needle, the entries whose author list holds it.

Everything cached is keyed by the database file and `store.ranking.index_version` (it
changes with every write to the full-text index, a new entry, source or mention), so
nothing stale is ever served: a changed list is a cache miss. A process that opens a
database for the first time (one CLI command) caches nothing: only the second look at
the same file in one process starts caching (a server, a benchmark).

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papertrail.reading.words import normalize_name
from papertrail.store import ranking as q

if TYPE_CHECKING:
    import numpy as np
    import sqlite_utils


_LOCK = threading.RLock()
_SEEN: dict[str, int] = {}  # database file -> how often this process asked about it
_POSTINGS: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
_POSTINGS_MAX = 6_000_000  # ids kept in all (24 MB as int32)
_SUMS: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
_SUMS_MAX = 3  # dense arrays kept (22 MB each at 2.7 M entries)


def db_file(db: sqlite_utils.Database) -> str:
    """The main database file's path ('' for an in-memory one)."""
    for _, name, path in db.execute("PRAGMA database_list"):
        if name == "main":
            return str(path or "")
    return ""


def warm(db: sqlite_utils.Database) -> bool:
    """Whether this process has looked at this database before (then caching pays)."""
    path = db_file(db)
    with _LOCK:
        _SEEN[path] = _SEEN.get(path, 0) + 1
        return bool(path) and _SEEN[path] > 1


def clear() -> None:
    """Forget everything (tests; a process that wants its memory back)."""
    with _LOCK:
        for cache in (_SEEN, _POSTINGS, _SUMS, _AUTHOR_INDEX, _NEEDLE_HITS):
            cache.clear()


def _postings(db: sqlite_utils.Database, path: str, version: str, query: str) -> np.ndarray:
    import numpy as np  # heavy: only scoring a whole list needs it

    key = (path, version, query)
    with _LOCK:
        hit = _POSTINGS.get(key)
        if hit is not None:
            _POSTINGS.move_to_end(key)
            return hit
    ids = np.fromiter(q.postings(db, query), dtype=np.int32)
    with _LOCK:
        _POSTINGS[key] = ids
        total = sum(len(v) for v in _POSTINGS.values())
        while total > _POSTINGS_MAX and len(_POSTINGS) > 1:
            _, old = _POSTINGS.popitem(last=False)
            total -= len(old)
    return ids


def term_sums(
    db: sqlite_utils.Database,
    queries: Sequence[tuple[str, float]],
    version: str | None = None,
    *,
    background: bool = False,
) -> np.ndarray:
    """Per entry id, the summed weights of the FTS5 queries it matches (a dense array of
    size max id + 1). The weights are multiples of 2**-20, so the sums are exact and
    equal to `store.ranking.weighted_matches`' in any order. `background`: a refresh
    warming the cache, which steps aside while this process renders a page."""
    import numpy as np  # heavy: only scoring a whole list needs it

    path = db_file(db)
    version = version or q.index_version(db)
    key = (path, version, hashlib.sha1(repr(list(queries)).encode()).hexdigest())
    with _LOCK:
        hit = _SUMS.get(key)
        if hit is not None:
            _SUMS.move_to_end(key)
            return hit
    (top,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()
    sums = np.zeros(int(top) + 1)
    for query, weight in queries:
        if background:
            yield_to_pages()
        ids = _postings(db, path, version, query)
        sums[ids[ids <= top]] += weight
    with _LOCK:
        _SUMS[key] = sums
        while len(_SUMS) > _SUMS_MAX:
            _SUMS.popitem(last=False)
    return sums


def has_sums(db: sqlite_utils.Database, queries: Sequence[tuple[str, float]]) -> bool:
    """Whether `term_sums` for these queries is cached for the list as it is now."""
    key = (db_file(db), q.index_version(db), hashlib.sha1(repr(list(queries)).encode()).hexdigest())
    with _LOCK:
        return key in _SUMS


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class _Authors:
    version: str
    by_name: dict[str, list[int]]  # normalized author name -> the entries with it
    raw: dict[int, str]  # entry id -> its authors JSON, ASCII letters lower-cased
    names: dict[int, frozenset[str]]  # entry id -> its normalized author names


_AUTHOR_INDEX: dict[str, _Authors] = {}


def _author_index(db: sqlite_utils.Database, path: str, version: str) -> _Authors:
    with _LOCK:
        hit = _AUTHOR_INDEX.get(path)
    if hit is not None and hit.version == version:
        return hit
    by_name: dict[str, list[int]] = {}
    raw: dict[int, str] = {}
    names: dict[int, frozenset[str]] = {}
    same: dict[frozenset[str], frozenset[str]] = {}  # one object per author set
    for entry_id, authors in q.all_authors(db):
        raw[entry_id] = authors.translate(_ASCII_LOWER)
        mine = frozenset(normalize_name(a) for a in json.loads(authors))
        names[entry_id] = same.setdefault(mine, mine)
        for name in mine:
            by_name.setdefault(name, []).append(entry_id)
    index = _Authors(version, by_name, raw, names)
    with _LOCK:
        _AUTHOR_INDEX[path] = index
    return index


def author_names(
    db: sqlite_utils.Database,
    needles: Sequence[str],
    wanted: Sequence[str],
    version: str | None = None,
) -> dict[int, frozenset[str]]:
    """id -> its normalized author names, for the entries that have one of the `wanted`
    names and whose author list contains one of `needles` the way SQLite's LIKE finds it
    (ASCII letters in any case): what `store.ranking.entry_rows`' prefilter lets through.
    From an index of every entry's authors, built once per `index_version`."""
    path = db_file(db)
    version = version or q.index_version(db)
    index = _author_index(db, path, version)
    lowered = [n.translate(_ASCII_LOWER) for n in dict.fromkeys(needles) if n]
    out: dict[int, frozenset[str]] = {}
    for name in wanted:
        hits = set().union(*(_needle_hits(index, path, name, n) for n in lowered))
        for entry_id in index.by_name.get(name, ()):
            if entry_id in hits and entry_id not in out:
                out[entry_id] = index.names[entry_id]
    return out


# A refit mostly keeps its authors and needles, and one of them can have tens of
# thousands of entries (~0.4 s to go through at 200,000): kept per name and needle.
_NEEDLE_HITS: dict[tuple[str, str, str, str], frozenset[int]] = {}
_PER_NAME_MAX = 256  # keys kept, then it starts again


def _needle_hits(index: _Authors, path: str, name: str, needle: str) -> frozenset[int]:
    """The entries having `name` whose (lower-cased) author list contains `needle`."""
    key = (path, index.version, name, needle)
    with _LOCK:
        hit = _NEEDLE_HITS.get(key)
    if hit is not None:
        return hit
    ids = frozenset(i for i in index.by_name.get(name, ()) if needle in index.raw[i])
    with _LOCK:
        if len(_NEEDLE_HITS) >= _PER_NAME_MAX:
            _NEEDLE_HITS.clear()
        _NEEDLE_HITS[key] = ids
    return ids


# ---------------------------------------------------------------- background refreshes


@dataclass
class Job:
    """A refresh of the stored scores running in a thread (papertrail.reading.refresh)."""

    token: str
    thread: threading.Thread
    cancel: threading.Event = field(default_factory=threading.Event)
    # set when the phase is over (or the job ended without reaching it)
    fitted: threading.Event = field(default_factory=threading.Event)
    top: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def finish(self) -> None:
        for event in (self.fitted, self.top, self.done):
            event.set()


_JOBS: dict[str, Job] = {}


def set_job(path: str, job: Job) -> Job | None:
    """Make `job` the latest for `path`; returns the one it replaces."""
    with _LOCK:
        old = _JOBS.get(path)
        _JOBS[path] = job
        return old


def job(path: str) -> Job | None:
    with _LOCK:
        return _JOBS.get(path)


def finish_all() -> None:
    """Wait for every refresh this process started (a command, before it exits: a
    thread still importing scikit-learn while the interpreter shuts down fails)."""
    with _LOCK:
        threads = [j.thread for j in _JOBS.values()]
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join()


def wait(path: str, phase: str) -> bool:
    """Wait until this process's latest refresh of `path` is past `phase` ('fitted',
    'top', 'done'); False when there is none, or inside `previous_order()`."""
    current = job(path)
    if current is None or threading.current_thread() is current.thread:
        return False
    if _PREVIOUS.get() is not None:
        return False
    getattr(current, phase).wait()
    return True


def settled(path: str) -> bool:
    """Whether this process has no refresh of `path` before its refit is over."""
    current = job(path)
    return current is None or current.fitted.is_set()


@dataclass
class Previous:
    """What happened inside `previous_order()`: `used` when a model older than the
    labels scored something."""

    used: bool = False


_PREVIOUS: ContextVar[Previous | None] = ContextVar("papertrail_previous_order", default=None)


@contextmanager
def previous_order() -> Iterator[Previous]:
    """Inside (this thread): nothing waits for a refresh, and a profile whose labels
    changed since its stored fit scores with that stored model instead of refitting
    here (learn.current). The reading page renders in this mode: a page never waits
    for the refit a star started; it shows the order from before, says so, and the
    refit lands in the background (issue 16). The CLI and the digest never use it."""
    seen = Previous()
    token = _PREVIOUS.set(seen)
    _count_pages(+1)
    try:
        yield seen
    finally:
        _PREVIOUS.reset(token)
        _count_pages(-1)


_PAGES = 0  # pages being rendered in this process now (inside previous_order)
_SHARED_PAGES: Any = None  # the same count, shared with the server's worker process


def _count_pages(step: int) -> None:
    global _PAGES
    with _LOCK:
        _PAGES += step
        if _SHARED_PAGES is not None:
            _SHARED_PAGES.value += step


def share_pages(shared: Any) -> None:
    """Count the pages being rendered in `shared` too (a multiprocessing.Value('i')):
    the server's worker process steps aside while they are (fitworker)."""
    global _SHARED_PAGES
    with _LOCK:
        if _SHARED_PAGES is None or shared is None:
            if shared is not None:
                shared.value = _PAGES
            _SHARED_PAGES = shared


def yield_to_pages(limit_s: float = 1.0) -> None:
    """A background refresh, between two steps: wait while this process (or, in the
    server's worker process, the server) renders a page, at most `limit_s`, so the
    page has the GIL, the cores and the disk to itself."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and (
        _PAGES > 0 or (_SHARED_PAGES is not None and _SHARED_PAGES.value > 0)
    ):
        time.sleep(0.005)


def previous_allowed() -> Previous | None:
    """The `previous_order()` block this runs in, if any."""
    return _PREVIOUS.get()
