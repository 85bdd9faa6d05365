"""The writer locks on a reading list: one fetch or import at a time, one OAI harvest at a time.

SQLite serialises writers itself; these lock files turn "someone else is
writing" into a clear message (exit code 75) instead of a long wait, and keep
two runs from interleaving their fetch_runs / harvest state.

Another program (an open `sqlite3` shell, a DB browser with unsaved changes)
can hold SQLite's own write lock: every connection waits for it a bounded time
(`schema.busy_timeout_s`), then raises DatabaseLocked naming the processes
that have the file open, so the user knows what to close.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FetchLocked(Exception):
    """Another fetch or import holds the database."""


class HarvestLocked(Exception):
    """Another OAI-PMH harvest holds the database."""


class DatabaseLocked(Exception):
    """Another program held SQLite's write lock on the file longer than we wait."""


def is_busy(error: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: someone else holds the lock we need."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and (
        "database is locked" in text or "database table is locked" in text or "busy" in text
    )


def locked_message(db_path: Path, waited_s: float) -> str:
    """What holds the file, and what to do."""
    holders = file_holders(db_path)
    held = (
        f"it is open in {', '.join(holders)}"
        if holders
        else "another program (an open `sqlite3` shell, a DB browser) holds its write lock"
    )
    return (
        f"the reading list {db_path} is locked: {held}. Commit or roll back the other "
        "program's transaction (or quit it), then run the command again; nothing more was "
        f"changed by this one (papertrail waits up to {waited_s:g} s for a lock; "
        "PAPERTRAIL_BUSY_TIMEOUT=SECONDS sets how long)"
    )


def file_holders(db_path: Path) -> list[str]:
    """Other processes with the database (or its -wal/-shm) open: 'sqlite3 (pid 123)'.
    Linux /proc only, and only processes we may look at; [] elsewhere."""
    base = os.path.realpath(db_path)
    targets = {base, f"{base}-wal", f"{base}-shm", f"{base}-journal"}
    me = str(os.getpid())
    found: list[str] = []
    try:
        pids = [d for d in os.listdir("/proc") if d.isdigit() and d != me]
    except OSError:
        return found
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in fds):
                with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
                    found.append(f"{f.read().strip()} (pid {pid})")
        except OSError:
            continue
    return found


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
