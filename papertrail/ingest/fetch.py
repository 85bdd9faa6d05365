"""One fetch run: every enabled source fetched, parsed and saved.

Shape of a run:

    lock the database (a second fetch exits with FetchLocked)
    sync `sources` with feeds.yml, start a `fetch_runs` row
    thread A: asyncio fetch of every feed / arxiv-rss source (papertrail.sources.http)
    thread B: the arXiv API lane, one query at a time, >= 3 s apart
    thread C: the mailbox lane, local mbox / Maildir sources (no network);
              messages already stored (by Message-ID) are not parsed again
    main thread: the only writer; as each result arrives it is parsed and
                 saved with its source state and log row atomically (results
                 that arrive together share a commit, one savepoint each)
    then: the mentions backfill (papertrail.ingest.add) fetches the arXiv papers
          that posts mention but the reading list lacks (provenance
          "mentioned"); a failure there is a warning, never a failed run

A run killed at any point leaves each source fully saved or untouched: the
next run re-fetches the untouched ones (their ETag was not stored either) and
upserts on natural keys, so nothing is duplicated.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from papertrail import store
from papertrail.config import Config, Source
from papertrail.models import ParsedFeed
from papertrail.sources.domains import DomainTagger

EventHandler = Callable[[str, str, dict[str, Any]], None]


class FetchLocked(Exception):
    """Another fetch holds the database."""


@dataclass
class SourceReport:
    name: str
    status: str  # ok | not-modified | error | skipped; "backfill" for the mentions backfill
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    new_papers: int = 0
    new_posts: int = 0
    updated_versions: int = 0
    moved_to: str | None = None


@dataclass
class FetchReport:
    run_id: int
    previous_run: int
    sources: list[SourceReport] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.sources if s.status in statuses)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "sources_ok": self.count("ok", "not-modified"),
            "sources_failed": self.count("error"),
            "sources_not_modified": self.count("not-modified"),
            "sources_skipped": self.count("skipped"),
            "new_papers": sum(s.new_papers for s in self.sources),
            "new_posts": sum(s.new_posts for s in self.sources),
            "updated_versions": sum(s.updated_versions for s in self.sources),
        }


def lock_path(db_path: Path) -> Path:
    return Path(f"{db_path}.lock")


@contextmanager
def database_lock(db_path: Path, what: str = "fetch") -> Iterator[None]:
    """Hold the reading list's writer lock (fetch, import, harvest); FetchLocked if taken."""
    lock = FileLock(str(lock_path(db_path)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise FetchLocked(
            f"another papertrail fetch or import is already running on {db_path} "
            f"(lock file {lock_path(db_path)}); wait for it to finish, then run the {what} again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def run_fetch(
    db_path: Path,
    config: Config,
    *,
    only: list[str] | None = None,
    on_event: EventHandler | None = None,
) -> FetchReport:
    """Fetch every enabled source of `config` into the database at `db_path`."""
    with database_lock(db_path, "fetch"):
        db = store.open_db(db_path)
        try:
            return _run(db, config, only=only, on_event=on_event or (lambda *a: None))
        finally:
            db.close()


def _run(db: Any, config: Config, *, only: list[str] | None, on_event: EventHandler) -> FetchReport:
    if only:
        unknown = sorted(set(only) - {s.name for s in config.sources})
        if unknown:
            raise KeyError(f"no source named {', '.join(unknown)} in {config.path}")
    store.sync_sources(db, config)
    run_id = store.start_run(db)
    report = FetchReport(run_id=run_id, previous_run=store.previous_completed_run(db, run_id))
    tagger = DomainTagger(config.domains)
    settings = config.settings

    wanted = [s for s in config.sources if s.enabled and (not only or s.name in only)]
    states = {s.name: store.source_state(db, s.name) or {} for s in wanted}
    active: list[Source] = []
    for source in wanted:
        state = states[source.name]
        if state.get("paused"):
            outcome = store.SourceOutcome(
                source=source.name,
                status="skipped",
                error=(
                    f"paused after {state.get('consecutive_failures')} consecutive failures "
                    f"(last: {state.get('last_error')}); run `papertrail sources enable {source.name}`"
                ),
            )
            store.save_source_result(db, run_id=run_id, outcome=outcome)
            report.sources.append(SourceReport(source.name, "skipped", error=outcome.error))
            on_event("skipped", source.name, {"error": outcome.error})
        else:
            active.append(source)

    on_event("start", "", {"total": len(active)})
    results: queue.Queue[tuple[str, Any]] = queue.Queue()
    http_sources = [s for s in active if s.kind in ("feed", "arxiv-rss")]
    api_sources = [s for s in active if s.kind == "arxiv"]
    mail_sources = [s for s in active if s.kind == "mailbox"]
    # One ArxivApi for the run: its client spaces the API lane and the backfill alike.
    api: list[Any] = []
    workers = []
    if http_sources:
        workers.append(_start(_http_lane, http_sources, states, settings, results))
    if api_sources:
        api.append(_arxiv_api(settings))
        workers.append(_start(_api_lane, api_sources, api[0], results))
    if mail_sources:
        # Read here: the main thread owns the connection (the lane gets plain sets).
        seen = {s.name: store.post_guids(db, s.name) for s in mail_sources}
        base = Path(config.path).parent
        workers.append(_start(_mailbox_lane, mail_sources, base, seen, states, results))

    by_name = {s.name: s for s in active}
    pending = len(active)
    while pending:
        batch = [results.get()]
        while len(batch) < 64:
            try:
                batch.append(results.get_nowait())
            except queue.Empty:
                break
        # Results that arrived together share one commit (a run of 304s costs one
        # fsync-free WAL commit instead of hundreds); each source still gets its
        # own savepoint, so a failure rolls back that source alone.
        with db.atomic():
            for kind, item in batch:
                if kind == "crash":  # a lane died of a bug: fail its remaining sources
                    for name in item["names"]:
                        if not any(r.name == name for r in report.sources):
                            pending -= 1
                            failed = store.SourceOutcome(
                                source=name, status="error", error=item["error"]
                            )
                            _save(
                                db,
                                run_id,
                                by_name[name],
                                tagger,
                                settings,
                                report,
                                on_event,
                                failed,
                                None,
                            )
                    continue
                pending -= 1
                if kind == "http":
                    source = by_name[item.key]
                    outcome, parsed = _from_http(source, item)
                elif kind == "api":
                    source = by_name[item[0]]
                    outcome, parsed = _from_api(source, item[1])
                else:
                    source = by_name[item[0]]
                    outcome, parsed = _from_mailbox(source, item[1], item[2])
                _save(db, run_id, source, tagger, settings, report, on_event, outcome, parsed)
    for w in workers:
        w.join(timeout=5)
    _backfill(db, run_id, tagger, settings, api, report, on_event)
    store.finish_run(db, run_id, report.totals)
    on_event("done", "", report.totals)
    return report


def _start(target: Callable[..., None], sources: list[Source], *args: Any) -> threading.Thread:
    results = args[-1]

    def guarded() -> None:
        try:
            target(sources, *args)
        except BaseException as e:  # noqa: BLE001 - reported to the writer, which fails those sources
            results.put(
                ("crash", {"names": [s.name for s in sources], "error": f"internal error: {e!r}"})
            )

    thread = threading.Thread(target=guarded, name=target.__name__, daemon=True)
    thread.start()
    return thread


def _http_lane(
    sources: list[Source], states: dict[str, dict], settings: Any, results: queue.Queue
) -> None:
    from papertrail.sources.http import FetchRequest, fetch_all

    requests = [
        FetchRequest(
            key=s.name,
            url=states[s.name].get("fetch_url") or s.fetch_url(settings),
            etag=states[s.name].get("etag"),
            last_modified=states[s.name].get("last_modified"),
        )
        for s in sources
    ]
    asyncio.run(
        fetch_all(
            requests,
            concurrency=settings.concurrency,
            per_host_limit=settings.per_host_limit,
            timeout=settings.timeout,
            max_body_bytes=settings.max_body_bytes,
            max_retries=settings.max_retries,
            max_retry_after=settings.max_retry_after,
            on_result=lambda r: results.put(("http", r)),
        )
    )


def _arxiv_api(settings: Any) -> Any:
    from papertrail.ingest.add import arxiv_api_client

    return arxiv_api_client(settings)


def _api_lane(sources: list[Source], api: Any, results: queue.Queue) -> None:
    for source in sources:
        results.put(
            (
                "api",
                (
                    source.name,
                    api.search(source.name, source.api_query(), source.max_results or 50),
                ),
            )
        )


def _mailbox_lane(
    sources: list[Source],
    base: Path,
    seen: dict[str, set[str]],
    states: dict[str, dict],
    results: queue.Queue,
) -> None:
    from papertrail.sources.mailbox import MailboxError, read_mailbox

    for source in sources:
        try:
            res = read_mailbox(
                source.mailbox_path(base),
                seen=seen[source.name],
                previous_state=states[source.name].get("etag"),
            )
            results.put(("mailbox", (source.name, res, None)))
        except MailboxError as e:
            results.put(("mailbox", (source.name, None, str(e))))
        except Exception as e:  # noqa: BLE001 - a reader bug on one mailbox must not stop the others
            error = f"could not read mailbox {source.path}: {type(e).__name__}: {e}"
            results.put(("mailbox", (source.name, None, error)))


def _from_mailbox(
    source: Source, res: Any, error: str | None
) -> tuple[store.SourceOutcome, ParsedFeed | None]:
    outcome = store.SourceOutcome(source=source.name, status="ok", url=source.path, error=error)
    if error is not None or res is None:
        outcome.status = "error"
        return outcome, None
    outcome.url = str(res.path)
    outcome.bytes = res.bytes_read
    outcome.duration_ms = int(res.duration_s * 1000)
    # The mailbox's size/mtime marker rides in the etag column: unchanged -> not read again.
    outcome.etag = res.state
    if res.not_modified:
        outcome.status = "not-modified"
        return outcome, None
    outcome.warnings = list(res.parsed.warnings)
    return outcome, res.parsed


def _backfill(
    db: Any,
    run_id: int,
    tagger: DomainTagger,
    settings: Any,
    api: list[Any],
    report: FetchReport,
    on_event: EventHandler,
) -> None:
    """Fetch the mentioned papers the reading list lacks; problems become warnings."""
    from papertrail.ingest.add import MENTIONED_SOURCE, BackfillResult, backfill_mentions

    def get_api() -> Any:
        if not api:
            api.append(_arxiv_api(settings))
        return api[0]

    started = time.monotonic()
    try:
        res = backfill_mentions(db, get_api, tagger, run_id=run_id)
    except Exception as e:  # noqa: BLE001 - the sources are saved; never fail the run here
        res = BackfillResult(warnings=[f"mentions backfill failed: {type(e).__name__}: {e}"])
    if not res.missing and not res.warnings:
        return
    report.sources.append(
        SourceReport(
            name=MENTIONED_SOURCE,
            status="backfill",
            warnings=res.warnings,
            new_papers=res.new_papers,
        )
    )
    on_event(
        "backfill",
        MENTIONED_SOURCE,
        {
            "missing": res.missing,
            "new": res.new_papers,
            "unknown": len(res.unknown),
            "calls": res.calls,
            "duration_s": time.monotonic() - started,
        },
    )


def _from_http(source: Source, r: Any) -> tuple[store.SourceOutcome, ParsedFeed | None]:
    from papertrail.sources.parse import FeedParseError, parse_feed

    outcome = store.SourceOutcome(
        source=source.name,
        status="ok",
        url=r.final_url or r.url,
        http_status=r.status,
        bytes=r.bytes_read,
        duration_ms=int(r.duration_s * 1000),
        etag=r.etag,
        last_modified=r.last_modified,
        permanent_url=r.permanent_url,
    )
    if r.error:
        outcome.status, outcome.error = "error", r.error
        outcome.etag = outcome.last_modified = outcome.permanent_url = None
        return outcome, None
    if r.not_modified:
        outcome.status = "not-modified"
        return outcome, None
    try:
        parsed = parse_feed(
            r.body or b"", r.headers, base_url=r.final_url or r.url, source_kind=source.kind
        )
    except FeedParseError as e:
        outcome.status, outcome.error = "error", f"{e} ({outcome.url})"
        # Do not remember validators of a body we could not use: re-fetch it next time.
        outcome.etag = outcome.last_modified = None
        return outcome, None
    except Exception as e:  # noqa: BLE001 - a parser bug on one feed must not stop the others
        outcome.status, outcome.error = (
            "error",
            f"could not parse {outcome.url}: {type(e).__name__}: {e}",
        )
        outcome.etag = outcome.last_modified = None
        return outcome, None
    outcome.warnings = list(parsed.warnings)
    return outcome, parsed


def _from_api(source: Source, res: Any) -> tuple[store.SourceOutcome, ParsedFeed | None]:
    outcome = store.SourceOutcome(
        source=source.name,
        status="error" if res.error else "ok",
        url=res.url,
        http_status=res.http_status,
        bytes=res.bytes,
        duration_ms=int(res.duration_s * 1000),
        error=res.error,
        warnings=list(res.warnings),
    )
    # Results fetched before a mid-query error are still good papers: keep them.
    return outcome, ParsedFeed(records=res.records, warnings=list(res.warnings))


def _save(
    db: Any,
    run_id: int,
    source: Source,
    tagger: DomainTagger,
    settings: Any,
    report: FetchReport,
    on_event: EventHandler,
    outcome: store.SourceOutcome,
    parsed: ParsedFeed | None,
) -> None:
    started = time.monotonic()
    try:
        stats = store.save_source_result(
            db,
            run_id=run_id,
            outcome=outcome,
            records=parsed.records if parsed else (),
            tagger=tagger,
            source_tags=source.tags,
            max_failures=settings.max_failures,
        )
    except Exception as e:  # noqa: BLE001 - the transaction rolled back; log the failure and go on
        outcome = store.SourceOutcome(
            source=source.name,
            status="error",
            url=outcome.url,
            http_status=outcome.http_status,
            error=f"could not save entries: {type(e).__name__}: {e}",
        )
        stats = store.save_source_result(
            db, run_id=run_id, outcome=outcome, max_failures=settings.max_failures
        )
    sr = SourceReport(
        name=source.name,
        status=outcome.status,
        error=outcome.error,
        warnings=list(outcome.warnings),
        new_papers=stats.new_papers,
        new_posts=stats.new_posts,
        updated_versions=stats.updated_versions,
        moved_to=outcome.permanent_url if outcome.status != "error" else None,
    )
    report.sources.append(sr)
    on_event(
        "source",
        source.name,
        {
            "status": sr.status,
            "new": stats.new,
            "error": sr.error,
            "save_s": time.monotonic() - started,
        },
    )
