"""The refresh of a process that serves pages, in a worker process of its own (issue 16).

A star on the reading page starts a refit in a background thread
(papertrail.reading.refresh). A fit is seconds of pure-Python and scikit-learn work
on a list of 200,000, and in the server's process it holds the GIL: every page the
server renders meanwhile waits for it at each of its hundreds of SQLite calls (a
Today of 60 ms took a second), and so does the rescore of every entry after it. So a
server (`enable()`, called by papertrail.browse) runs both in one worker process,
started at its first star and kept for the next ones (scikit-learn imported once,
its caches warm): the worker fits and stores the model, the server's thread marks
the refit done (`fitted`: its pages now score with the stored model), then the
worker rescores and writes every score under the star's claim (a newer star's claim
stops it, as in the thread). The second core does the work; the server's GIL stays
free for pages.

Anything wrong with the worker (it could not start, died, raised) costs nothing but
time: `fit` answers False and the caller fits in its own thread, as the CLI always
does. PAPERTRAIL_FIT_WORKER=0 keeps every fit in the process.

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from papertrail.config import Ranking
from papertrail.reading import learn, rankcache
from papertrail.store.schema import connected

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None
_ENABLED = False


def enable() -> None:
    """This process serves pages: from now on its refits run in a worker process
    (where forkserver exists and PAPERTRAIL_FIT_WORKER is not 0)."""
    global _ENABLED
    _ENABLED = (
        os.environ.get("PAPERTRAIL_FIT_WORKER", "1") != "0"
        and "forkserver" in mp.get_all_start_methods()
    )


def disable() -> None:
    """Refits in this process again (the tests, between two servers)."""
    global _ENABLED
    _ENABLED = False


def enabled() -> bool:
    return _ENABLED


def run(fn: Callable[..., None], *args: object) -> bool:
    """`fn(*args)` in the worker, waited for; False when there is no worker or it
    failed (then the caller does it in this process). `fn` must be a module-level
    function (pickled by name) that opens the database itself."""
    if not _ENABLED:
        return False
    try:
        _pool().submit(fn, *args).result()
        return True
    except BrokenProcessPool:
        log.warning("the ranking's worker process died; refitting in the server instead")
        _drop_pool()
    except Exception as e:  # noqa: BLE001 (reported; the caller does it and raises it there)
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
        log.warning(
            "the ranking's worker process failed (%s: %s); refitting here", type(e).__name__, first
        )
    return False


def fit_here(path: str, ranking: Ranking) -> None:
    """The model of the labels as they are now, fitted and stored (in the worker)."""
    with connected(Path(path), create=False) as db:
        learn.current(db, ranking)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            # Forkserver: forking this multi-threaded server would not be safe.
            ctx = mp.get_context("forkserver")
            pages = ctx.Value("i", 0, lock=False)  # the pages this server renders now
            rankcache.share_pages(pages)
            _POOL = ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, initializer=rankcache.share_pages, initargs=(pages,)
            )
        return _POOL


def _drop_pool() -> None:
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
