"""A fetch run's lanes as threads, and the HTTP lane started before the database is open.

The HTTP lane (every feed and arXiv RSS source, concurrently, with the stored
ETag / Last-Modified) needs only feeds.yml and each source's stored state. So a
run takes its lock, reads that state with plain sqlite3 (`store.fetch_states`)
and starts the lane here; the database is opened for writing (sqlite-utils, the
migration check) and the modules that save, rescore and digest are imported while
the first requests are in flight. The writer then reads the state the ordinary
way and adopts the lane only if it asked for exactly what it would have asked
(`HttpLane.requests`); otherwise it starts a lane of its own.

This module stays light (no sqlite-utils, no parser, no digest): it is what a
fetch imports before its first request.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papertrail.config import Config, Settings, Source
from papertrail.sources.http import FetchRequest, FetchResult, fetch_all
from papertrail.store.fetch_states import read_fetch_states
from papertrail.store.queries import SourceState

HTTP_KINDS = ("feed", "arxiv-rss")

# What the lanes hand the writer (HttpDone, LaneCrash here; the writer adds its own kinds).
Results = queue.Queue[object]


@dataclass(frozen=True)
class HttpDone:
    """One HTTP source fetched (a body, a 304 or an error)."""

    result: FetchResult


@dataclass(frozen=True)
class LaneCrash:
    """A lane died of a bug: these sources (those without a result yet) fail."""

    names: list[str]
    error: str


# At most this long a run waits for the early lane's first requests to go out before it
# opens the database and imports the writer (CPU work that would hold those requests back).
FIRST_WAVE_WAIT_S = 1.0


@dataclass
class HttpLane:
    """An HTTP lane started from the cheap read, with what it asked for."""

    requests: list[FetchRequest]
    results: Results
    thread: threading.Thread
    first_wave: threading.Event  # set once its first requests are out (or it is done)

    @property
    def never_fetched(self) -> int:
        """Its requests without a stored validator: each will send a body."""
        return sum(1 for r in self.requests if not (r.etag or r.last_modified))

    def wait_first_wave(self, timeout: float = FIRST_WAVE_WAIT_S) -> None:
        """Wait until the first requests are out and the lane waits for answers."""
        self.first_wave.wait(timeout)


def wanted_sources(config: Config, only: list[str] | None) -> list[Source]:
    """The enabled sources of `config`, or only those named."""
    return [s for s in config.sources if s.enabled and (not only or s.name in only)]


def http_requests(
    sources: list[Source], states: dict[str, SourceState], settings: Settings
) -> list[FetchRequest]:
    """The conditional GETs of the HTTP sources among `sources`, with their validators."""
    return [
        FetchRequest(
            key=s.name,
            url=states[s.name].get("fetch_url") or s.fetch_url(settings) or "",
            etag=states[s.name].get("etag"),
            last_modified=states[s.name].get("last_modified"),
        )
        for s in sources
        if s.kind in HTTP_KINDS
    ]


def start_early(db_path: Path, config: Config, only: list[str] | None) -> HttpLane | None:
    """Start the HTTP lane from the stored state read with plain sqlite3 (the caller
    holds the run's lock); None when that read declines or there is nothing to fetch."""
    states = read_fetch_states(db_path, config)
    if states is None:
        return None
    active = [s for s in wanted_sources(config, only) if not states[s.name].get("paused")]
    requests = http_requests(active, states, config.settings)
    if not requests:
        return None
    results: Results = queue.Queue()
    first_wave = threading.Event()
    thread = start_http_lane(requests, results, config.settings, first_wave)
    return HttpLane(requests, results, thread, first_wave)


def start_http_lane(
    requests: list[FetchRequest],
    results: Results,
    settings: Settings,
    first_wave: threading.Event | None = None,
) -> threading.Thread:
    """The HTTP lane in a thread: each result goes to `results` as it completes;
    `first_wave` is set once its first requests are out."""
    names = [r.key for r in requests]
    return start_lane(
        _http_lane, names, results, requests=requests, settings=settings, first_wave=first_wave
    )


def start_lane(
    target: Callable[..., None], names: list[str], results: Results, **kwargs: object
) -> threading.Thread:
    """Run a lane (`target(results, **kwargs)`) in a thread; a lane that dies reports
    its sources (`names`) as failed."""

    def guarded() -> None:
        try:
            target(results, **kwargs)
        except BaseException as e:  # noqa: BLE001 - reported to the writer, which fails those sources
            results.put(LaneCrash(names, f"internal error: {e!r}"))

    thread = threading.Thread(target=guarded, name=target.__name__, daemon=True)
    thread.start()
    return thread


def _http_lane(
    results: Results,
    *,
    requests: list[FetchRequest],
    settings: Settings,
    first_wave: threading.Event | None,
) -> None:
    """Feeds and arXiv RSS over HTTP, concurrently, with the stored validators."""
    try:
        _fetch(results, requests, settings, first_wave.set if first_wave else None)
    finally:
        if first_wave is not None:
            first_wave.set()  # whatever happened, nobody waits for it any longer


def _fetch(
    results: Results,
    requests: list[FetchRequest],
    settings: Settings,
    on_first_wave: Callable[[], None] | None,
) -> None:
    asyncio.run(
        fetch_all(
            requests,
            concurrency=settings.concurrency,
            per_host_limit=settings.per_host_limit,
            timeout=settings.timeout,
            max_body_bytes=settings.max_body_bytes,
            max_retries=settings.max_retries,
            max_retry_after=settings.max_retry_after,
            on_result=lambda r: results.put(HttpDone(r)),
            on_first_wave=on_first_wave,
        )
    )
