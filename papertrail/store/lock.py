"""The writer locks on a reading list: one fetch or import at a time, one OAI harvest at a time.

SQLite serialises writers itself; these lock files turn "someone else is
writing" into a clear message (exit code 75) instead of a long wait, and keep
two runs from interleaving their fetch_runs / harvest state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FetchLocked(Exception):
    """Another fetch or import holds the database."""


class HarvestLocked(Exception):
    """Another OAI-PMH harvest holds the database."""


def lock_path(db_path: Path) -> Path:
    return Path(f"{db_path}.lock")


def oai_lock_path(db_path: Path) -> Path:
    return Path(f"{db_path}.oai.lock")


@contextmanager
def database_lock(db_path: Path, what: str = "fetch") -> Iterator[None]:
    """Hold the reading list's writer lock (fetch, import); FetchLocked if taken."""
    message = (
        f"another papertrail fetch or import is already running on {db_path} "
        f"(lock file {lock_path(db_path)}); wait for it to finish, then run the {what} again"
    )
    with _held(lock_path(db_path), FetchLocked(message)):
        yield


@contextmanager
def harvest_lock(db_path: Path) -> Iterator[None]:
    """Hold the OAI-PMH harvest lock; HarvestLocked if taken."""
    message = (
        f"another OAI-PMH harvest is already running on {db_path} (lock file "
        f"{oai_lock_path(db_path)}); wait for it to finish"
    )
    with _held(oai_lock_path(db_path), HarvestLocked(message)):
        yield


@contextmanager
def _held(path: Path, taken: Exception) -> Iterator[None]:
    from filelock import FileLock, Timeout  # heavy (~35 ms): only writers need it

    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise taken from None
    try:
        yield
    finally:
        lock.release()
