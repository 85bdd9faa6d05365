"""Feed documents parsed (and domain-tagged) in worker processes during a fetch.

`papertrail fetch` spends most of its CPU in the parser (feedparser, the HTML
to text and code-link passes), and one process has one GIL: the HTTP lane and
the writer waited for it. A `ParsePool` moves that work to worker processes:

    writer (main thread) --ParseTask--> dispatcher thread --pipe--> worker 1..N
    writer <--ParseDone (via the run's results queue)-- dispatcher <--pipe--

- One task per worker at a time, so the dispatcher always knows which source a
  worker holds: a worker that dies (a crash in C code, os._exit, the OOM killer)
  or outlives `parse_timeout()` (then it is killed) costs that one source,
  reported by name as an error with its validators dropped (the next fetch
  tries again); a new worker takes its place for the remaining sources.
- Workers are forked from a forkserver that has imported the parser once
  (papertrail.sources.parse, feedparser), so a replacement costs a fork, not
  an interpreter start; they never touch the database (the writer stays the
  only one), so a kill -9 of the run leaves nothing half-written there, and a
  worker whose parent dies sees its pipe close and exits.
- `parse_one` is the one parse of a document, used by the workers and by the
  in-process path alike, so both give the same records and domains.

`Parsing` decides where a run parses: in this process until the bodies that
arrived reach `POOL_MIN_BYTES` (a run of a handful of feeds, or an unchanged
re-fetch of 304s, never starts a pool), then in a pool of one worker per core
(none on a one-core machine), as soon as its workers are up: the writer goes on
parsing in this process while they start. PAPERTRAIL_PARSE_POOL=0 / 1 forces either path
(benchmarks, tests); PAPERTRAIL_PARSE_TIMEOUT sets the seconds a parse may take.

Test-only hooks (read from the environment by the run, passed to the workers):
PAPERTRAIL_TEST_PARSE_CRASH=MARK makes a worker os._exit on a document that
contains MARK, PAPERTRAIL_TEST_PARSE_HANG=MARK makes it sleep forever. They act
only inside a pool worker, never in the in-process path.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

from papertrail.config import DomainRule
from papertrail.models import ParsedFeed
from papertrail.sources.domains import DomainTagger
from papertrail.sources.parse import FeedParseError, parse_feed

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkServerContext, SpawnContext

    BaseContext = ForkServerContext | SpawnContext
    from multiprocessing.process import BaseProcess

__all__ = [
    "POOL_EARLY_SOURCES",
    "POOL_MIN_BYTES",
    "ParseDone",
    "ParsePool",
    "ParseTask",
    "Parsing",
    "parse_one",
    "parse_timeout",
    "start_pool",
]

# Bodies of a run reach this many bytes before a pool starts (measured: see
# docs/BENCHMARKS.md, "Issue 19 A"): below it the forkserver's start-up and
# the pickling cost more than the second core gives back.
POOL_MIN_BYTES = 2_000_000
# This many sources never fetched before (no ETag / Last-Modified: each will send a
# body; 32 blog feeds are ~2 MB) start the pool with the run.
POOL_EARLY_SOURCES = 32
# A body waits at most this long for the workers of a pool started with the run (a
# forkserver's interpreter and the parser's imports: ~0.3-0.5 s) before it is parsed here.
POOL_READY_WAIT_S = 1.5
PARSE_TIMEOUT_S = 60.0  # a 500 KB feed parses in ~0.2 s; a minute means it is stuck
_SEND_ATTEMPTS = 2  # a task whose worker died before taking it is sent once more


@dataclass(frozen=True)
class ParseTask:
    key: str  # the source's name
    body: bytes
    headers: dict[str, str]
    base_url: str
    source_kind: str


@dataclass
class ParseDone:
    """A document's records and their domains (domains[i] for records[i]), or why not."""

    key: str
    parsed: ParsedFeed | None = None
    domains: list[list[str]] = field(default_factory=list)
    # not-a-feed: FeedParseError (the message names the problem); error: anything else
    # (a parser bug, a crashed or stuck worker), the message already a sentence.
    failure: str | None = None
    not_a_feed: bool = False


@dataclass(frozen=True)
class TestHooks:
    __test__ = False  # not a pytest test class

    """Test-only: documents containing these bytes crash / hang a pool worker."""

    crash: bytes = b""
    hang: bytes = b""

    @classmethod
    def from_env(cls) -> TestHooks:
        crash = os.environ.get("PAPERTRAIL_TEST_PARSE_CRASH", "")
        hang = os.environ.get("PAPERTRAIL_TEST_PARSE_HANG", "")
        return cls(crash.encode(), hang.encode())


def parse_one(task: ParseTask, tagger: DomainTagger) -> ParseDone:
    """Parse and tag one document; a failure becomes a ParseDone naming it."""
    try:
        parsed = parse_feed(
            task.body, task.headers, base_url=task.base_url, source_kind=task.source_kind
        )
    except FeedParseError as e:
        return ParseDone(task.key, failure=str(e), not_a_feed=True)
    except Exception as e:  # noqa: BLE001 - a parser bug on one feed must not stop the others
        return ParseDone(
            task.key, failure=f"could not parse {task.base_url}: {type(e).__name__}: {e}"
        )
    return ParseDone(task.key, parsed, [tagger.tag(r) for r in parsed.records])


def parse_timeout() -> float:
    """Seconds one parse may take in a worker (PAPERTRAIL_PARSE_TIMEOUT)."""
    try:
        return float(os.environ.get("PAPERTRAIL_PARSE_TIMEOUT") or PARSE_TIMEOUT_S)
    except ValueError:
        return PARSE_TIMEOUT_S


def _worker(conn: Connection, rules: Sequence[DomainRule], hooks: TestHooks) -> None:
    """A pool worker: parse tasks from `conn` until it closes or sends None."""
    tagger = DomainTagger(rules)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the run ended or died: nothing left to do
            return
        if task is None:
            return
        if hooks.crash and hooks.crash in task.body:
            os._exit(70)  # test-only: a worker dying in the middle of a parse
        if hooks.hang and hooks.hang in task.body:
            time.sleep(3600)  # test-only: a parse that never ends
        conn.send(parse_one(task, tagger))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    task: ParseTask | None = None
    deadline: float = 0.0
    tries: int = 0


class ParsePool:
    """`workers` parse processes fed by a dispatcher thread; every submitted task
    comes back exactly once through `deliver` (parsed, failed, crashed or timed out)."""

    def __init__(
        self,
        workers: int,
        rules: Sequence[DomainRule],
        deliver: Callable[[ParseDone], None],
        *,
        timeout: float | None = None,
        hooks: TestHooks | None = None,
    ) -> None:
        self.size = max(1, workers)
        self.rules = list(rules)
        self.deliver = deliver
        self.timeout = parse_timeout() if timeout is None else timeout
        self.hooks = hooks or TestHooks()
        self._tasks: deque[tuple[ParseTask, int]] = deque()
        self._lock = threading.Lock()
        self._closing = False
        self._wake_r, self._wake_w = os.pipe()
        self._workers: list[_Worker] = []
        self.ready = threading.Event()  # set once the workers are started
        self._thread = threading.Thread(target=self._run, name="parse-pool", daemon=True)
        self._thread.start()

    # -- the writer's side

    def submit(self, task: ParseTask) -> None:
        with self._lock:
            self._tasks.append((task, 0))
        os.write(self._wake_w, b"x")

    def close(self, timeout: float = 5.0) -> None:
        """Stop now: after the last result (the run's end) or to abandon the rest (the
        writer failed); a worker still parsing is killed. Closing again does nothing."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._tasks.clear()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout)  # it stops the workers on its way out
        if not self._thread.is_alive():  # else it may still wait on the pipe: leave it open
            os.close(self._wake_r)
            os.close(self._wake_w)

    # -- the dispatcher thread

    def _run(self) -> None:
        try:
            ctx = _context()
            for _ in range(self.size):
                self._workers.append(self._spawn(ctx))
            self.ready.set()
            while self._step(ctx):
                pass
        except BaseException as e:  # noqa: BLE001 - fail what is left, never hang the writer
            self._fail_all(f"the parse pool failed: {type(e).__name__}: {e}")
        finally:  # also when close() stopped waiting for a slow start: no worker outlives us
            for w in self._workers:
                self._stop(w, kill=True)

    def _step(self, ctx: BaseContext) -> bool:
        """Hand out tasks, wait for one event, handle it; False when done."""
        with self._lock:
            if self._closing:
                return False
        self._assign(ctx)
        busy = [w for w in self._workers if w.task is not None]
        now = time.monotonic()
        limit = min((w.deadline for w in busy), default=now + 3600) - now
        ready = wait(
            [self._wake_r, *(w.conn for w in busy), *(w.process.sentinel for w in busy)],
            timeout=max(0.0, limit),
        )
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        for w in busy:
            self._check(ctx, w, ready)
        return True

    def _assign(self, ctx: BaseContext) -> None:
        for i, w in enumerate(self._workers):
            if w.task is not None:
                continue
            with self._lock:
                if not self._tasks:
                    return
                task, tries = self._tasks.popleft()
            try:
                w.conn.send(task)
            except (OSError, ValueError):  # it died idle: replace it, send the task again
                self._workers[i] = self._replace(ctx, w)
                self._retry(task, tries)
                continue
            w.task, w.tries, w.deadline = task, tries, time.monotonic() + self.timeout

    def _retry(self, task: ParseTask, tries: int) -> None:
        if tries + 1 >= _SEND_ATTEMPTS:
            self.deliver(ParseDone(task.key, failure="could not start a parse worker"))
            return
        with self._lock:
            self._tasks.appendleft((task, tries + 1))

    def _check(self, ctx: BaseContext, w: _Worker, ready: Sequence[object]) -> None:
        """Collect `w`'s result, or report its task lost when it died or is stuck."""
        task = w.task
        assert task is not None
        if w.conn in ready:
            try:
                done: ParseDone = w.conn.recv()
            except (EOFError, OSError):  # it died while answering: a crash
                w.process.join(1.0)
            else:
                w.task = None
                self.deliver(done)
                return
        elif w.process.sentinel not in ready and time.monotonic() < w.deadline:
            return  # still working
        hung = w.process.is_alive()
        i = self._workers.index(w)
        self._workers[i] = self._replace(ctx, w)
        self.deliver(ParseDone(task.key, failure=_lost(task, w, hung, self.timeout)))

    def _spawn(self, ctx: BaseContext) -> _Worker:
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=_worker, args=(child, self.rules, self.hooks), name="papertrail-parse",
            daemon=True,
        )  # fmt: skip
        process.start()
        child.close()
        return _Worker(process, parent)

    def _replace(self, ctx: BaseContext, w: _Worker) -> _Worker:
        self._stop(w, kill=True)
        return self._spawn(ctx)

    def _stop(self, w: _Worker, *, kill: bool) -> None:
        with contextlib.suppress(OSError, ValueError):  # already gone
            w.conn.send(None)
        w.process.join(0.5 if not kill or w.task is None else 0)
        if w.process.is_alive():
            w.process.kill()
            w.process.join(1.0)
        w.conn.close()

    def _fail_all(self, error: str) -> None:
        lost = [w.task for w in self._workers if w.task is not None]
        with self._lock:
            lost += [task for task, _ in self._tasks]
            self._tasks.clear()
        for task in lost:
            self.deliver(ParseDone(task.key, failure=error))


def _lost(task: ParseTask, w: _Worker, hung: bool, timeout: float) -> str:
    if hung:
        return (
            f"parsing {task.base_url} took over {timeout:g} s and was stopped; the next "
            "fetch tries again (PAPERTRAIL_PARSE_TIMEOUT sets the limit)"
        )
    code = w.process.exitcode
    return (
        f"the parser crashed on {task.base_url} (worker exit code {code}); the next fetch "
        "tries again; if it keeps failing, disable the source and report the feed"
    )


def _context() -> BaseContext:
    """Forkserver where there is one (workers are cheap forks of a process that has
    imported the parser once; forking this multi-threaded process would not be safe)."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["papertrail.ingest.pool", "feedparser", "lxml.etree"])
        return ctx
    return mp.get_context("spawn")


def pool_workers() -> int:
    """One worker per core this process may use; 0 (no pool) on one core or when
    PAPERTRAIL_PARSE_POOL=0."""
    setting = os.environ.get("PAPERTRAIL_PARSE_POOL", "auto")
    if setting == "0":
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    if setting == "1":
        return max(1, cores)
    return cores if cores >= 2 else 0


class Parsing:
    """Where one run parses: in the writer's process until the bodies reach
    `POOL_MIN_BYTES`, then in a `ParsePool` (results arrive through `deliver`).

    `unknown`: how many HTTP sources have no stored validators (new sources: a
    body is certain). From `POOL_EARLY_SOURCES` of them the pool starts at once,
    its start-up hidden behind the network's first round trips."""

    def __init__(
        self,
        rules: Sequence[DomainRule],
        tagger: Callable[[], DomainTagger],
        deliver: Callable[[ParseDone], None],
        unknown: int = 0,
        *,
        started: ParsePool | None = None,
    ) -> None:
        """`started`: a pool the run started before the database was open (`start_pool`,
        delivering the same way); then a body waits for its workers (at most
        `POOL_READY_WAIT_S`) rather than load the parser in this process as well."""
        self.rules, self.tagger, self.deliver = rules, tagger, deliver
        self.workers = pool_workers()
        self.forced = os.environ.get("PAPERTRAIL_PARSE_POOL") == "1"
        self.min_bytes = 0 if self.forced else POOL_MIN_BYTES
        self.seen_bytes = 0
        self.pool: ParsePool | None = started
        self._wait_ready = POOL_READY_WAIT_S if started is not None else 0.0
        if self.pool is None and self.workers and unknown >= POOL_EARLY_SOURCES:
            self._start()

    def _start(self) -> None:
        self.pool = ParsePool(self.workers, self.rules, self.deliver, hooks=TestHooks.from_env())

    def parse(self, task: ParseTask) -> ParseDone | None:
        """The result now (parsed here), or None: it will come through `deliver`."""
        self.seen_bytes += len(task.body)
        if self.pool is None and self.workers and self.seen_bytes >= self.min_bytes:
            self._start()
        if self.forced and self.pool is not None:  # every document through the pool
            self.pool.ready.wait(60)
        elif self._wait_ready and self.pool is not None:
            self.pool.ready.wait(self._wait_ready)
            self._wait_ready = 0.0  # once: if it is not up by then, parse here meanwhile
        # Until its workers are up (an interpreter start and the parser's imports), the
        # writer goes on parsing here: a run that ends meanwhile never waits for them.
        if self.pool is not None and self.pool.ready.is_set():
            self.pool.submit(task)
            return None
        return parse_one(task, self.tagger())

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def start_pool(
    rules: Sequence[DomainRule], deliver: Callable[[ParseDone], None], never_fetched: int
) -> ParsePool | None:
    """A pool for a run that will surely parse much (`never_fetched` sources without
    validators, from `POOL_EARLY_SOURCES`), started at once: its forkserver imports the
    parser in its own process while this one opens the database. None otherwise."""
    workers = pool_workers()
    if not workers or never_fetched < POOL_EARLY_SOURCES:
        return None
    return ParsePool(workers, rules, deliver, hooks=TestHooks.from_env())
