"""One fetch run: every enabled source fetched, parsed and saved.

Shape of a run:

    lock the database (a second fetch exits with store.FetchLocked)
    sync `sources` with feeds.yml, start a `fetch_runs` row
    thread A: asyncio fetch of every feed / arxiv-rss source (papertrail.sources.http)
    thread B: the arXiv API lane, one query at a time, >= 3 s apart
    thread C: the mailbox lane, local mbox / Maildir sources (no network);
              messages already stored (by Message-ID) are not parsed again
    parse pool: feed documents parsed and domain-tagged in worker processes
                (papertrail.ingest.pool; in this process for a small run); a
                parse that crashes or hangs its worker fails that source only
    main thread: the only writer; as each parsed result arrives it is saved
                 with its source state and log row atomically (results that
                 arrive together share a commit, one savepoint each)
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from papertrail import store
from papertrail.config import Config, Settings, Source
from papertrail.ingest.add import (
    MENTIONED_SOURCE,
    BackfillResult,
    PaperFetcher,
    arxiv_api_client,
    backfill_mentions,
)
from papertrail.ingest.pool import ParseDone, ParseTask, Parsing
from papertrail.models import ParsedFeed, Record
from papertrail.sources.arxiv_api import ApiResult, ArxivApi
from papertrail.sources.domains import DomainTagger
from papertrail.sources.http import FetchRequest, FetchResult, fetch_all
from papertrail.sources.mailbox import MailboxError, MailboxResult, read_mailbox
from papertrail.store.queries import SourceState

if TYPE_CHECKING:
    import sqlite_utils

    from papertrail.models import Tagger


@dataclass(frozen=True)
class FetchEvent:
    """Progress of a run, for a progress bar (`run_fetch(on_event=...)`)."""

    kind: Literal["start", "skipped", "source", "backfill", "done"]
    source: str = ""  # the source's name ("mentioned" for the backfill)
    total: int = 0  # start: how many sources will be fetched
    status: str = ""  # source: ok | not-modified | error
    error: str | None = None
    new: int = 0  # source, backfill: new entries
    seconds: float = 0.0  # source: time to save it; backfill: time it took


EventHandler = Callable[[FetchEvent], None]


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


def run_fetch(
    db_path: Path,
    config: Config,
    *,
    only: list[str] | None = None,
    on_event: EventHandler | None = None,
) -> FetchReport:
    """Fetch every enabled source of `config` (or `only` these) into the database at
    `db_path`. Raises store.FetchLocked when another fetch or import holds it,
    store.BadInput (naming the closest) for a name in `only` that feeds.yml does not have."""
    names = [s.name for s in config.sources]
    unknown = [n for n in dict.fromkeys(only or ()) if n not in names]
    if unknown:
        raise store.BadInput(
            "\n".join(
                f"{config.path}: " + store.unknown_name_message("source", n, names) for n in unknown
            )
        )
    with store.database_lock(db_path, "fetch"), store.connected(db_path) as db:
        return _Run(db, config, on_event or (lambda event: None)).go(only)


# What the lanes hand the writer: a source's result, or a lane that died of a bug.
@dataclass(frozen=True)
class _Http:
    result: FetchResult


@dataclass(frozen=True)
class _Api:
    name: str
    result: ApiResult


@dataclass(frozen=True)
class _Mail:
    name: str
    result: MailboxResult | None
    error: str | None


@dataclass(frozen=True)
class _Parsed:
    done: ParseDone


@dataclass(frozen=True)
class _Crash:
    names: list[str]
    error: str


_Message = _Http | _Parsed | _Api | _Mail | _Crash
_Results = queue.Queue[_Message]


class _Run:
    """One run's state: the lanes feed `results`; this thread, the only writer, saves."""

    def __init__(self, db: sqlite_utils.Database, config: Config, on_event: EventHandler):
        self.db, self.config, self.on_event = db, config, on_event
        self.settings: Settings = config.settings
        self._tagger: DomainTagger | None = None  # built when first needed (not by a 304 run)
        self._parsing: Parsing | None = None
        self._waiting: dict[str, FetchResult] = {}  # fetched, parsing in the pool
        store.sync_sources(db, config)
        self.run_id = store.start_run(db)
        self.report = FetchReport(
            run_id=self.run_id, previous_run=store.previous_completed_run(db, self.run_id)
        )
        # One ArxivApi for the run: its client spaces the API lane and the backfill alike.
        self._api: ArxivApi | None = None

    def tagger(self) -> DomainTagger:
        if self._tagger is None:
            self._tagger = DomainTagger(self.config.domains)
        return self._tagger

    def api(self) -> ArxivApi:
        if self._api is None:
            self._api = arxiv_api_client(self.settings)
        return self._api

    def go(self, only: list[str] | None) -> FetchReport:
        wanted = [s for s in self.config.sources if s.enabled and (not only or s.name in only)]
        states = {s.name: store.source_state(self.db, s.name) or SourceState() for s in wanted}
        active = [s for s in wanted if not self._skip_paused(s, states[s.name])]
        self.on_event(FetchEvent("start", total=len(active)))
        results: _Results = queue.Queue()
        workers = self._start_lanes(active, states, results)
        deliver = lambda d: results.put(_Parsed(d))  # noqa: E731 - the pool's way back
        unknown = _never_fetched(active, states)
        self._parsing = Parsing(self.config.domains, self.tagger, deliver, unknown)
        try:
            self._save_results(active, results)
        finally:
            self._parsing.close()
        for w in workers:
            w.join(timeout=5)
        if self.settings.mentions_backfill:
            self._backfill()
        store.finish_run(self.db, self.run_id, self.report.totals)
        self.on_event(FetchEvent("done"))
        return self.report

    def _skip_paused(self, source: Source, state: SourceState) -> bool:
        """A source paused after repeated failures gets a 'skipped' log row, not a fetch."""
        if not state.get("paused"):
            return False
        error = (
            f"paused after {state.get('consecutive_failures')} consecutive failures "
            f"(last: {state.get('last_error')}); run `papertrail sources enable {source.name}`"
        )
        outcome = store.SourceOutcome(source=source.name, status="skipped", error=error)
        store.save_source_result(self.db, run_id=self.run_id, outcome=outcome)
        self.report.sources.append(SourceReport(source.name, "skipped", error=error))
        self.on_event(FetchEvent("skipped", source.name, error=error))
        return True

    def _start_lanes(
        self, active: list[Source], states: dict[str, SourceState], results: _Results
    ) -> list[threading.Thread]:
        http_sources = [s for s in active if s.kind in ("feed", "arxiv-rss")]
        api_sources = [s for s in active if s.kind == "arxiv"]
        mail_sources = [s for s in active if s.kind == "mailbox"]
        workers = []
        if http_sources:
            workers.append(
                _start(_http_lane, http_sources, results, states=states, settings=self.settings)
            )
        if api_sources:
            workers.append(_start(_api_lane, api_sources, results, api=self.api()))
        if mail_sources:
            # Read here: the main thread owns the connection (the lane gets plain sets).
            seen = {s.name: store.post_guids(self.db, s.name) for s in mail_sources}
            base = Path(self.config.path).parent
            workers.append(
                _start(_mailbox_lane, mail_sources, results, base=base, seen=seen, states=states)
            )
        return workers

    def _save_results(self, active: list[Source], results: _Results) -> None:
        """Save each source's result as it arrives, until every source has one."""
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
            with self.db.atomic():
                for message in batch:
                    pending -= self._save_message(message, by_name)

    def _save_message(self, message: _Message, by_name: dict[str, Source]) -> int:
        """Save one lane message; how many sources it settled."""
        if isinstance(message, _Crash):  # a lane died of a bug: fail its remaining sources
            done = {r.name for r in self.report.sources} | set(self._waiting)
            failed = [name for name in message.names if name not in done]
            for name in failed:
                outcome = store.SourceOutcome(source=name, status="error", error=message.error)
                self._save(by_name[name], outcome, None)
            return len(failed)
        if isinstance(message, _Http):
            return self._fetched(by_name[message.result.key], message.result)
        if isinstance(message, _Parsed):
            r = self._waiting.pop(message.done.key)
            self._save_parsed(by_name[r.key], r, message.done)
        elif isinstance(message, _Api):
            source = by_name[message.name]
            self._save(source, *_from_api(source, message.result))
        else:
            source = by_name[message.name]
            self._save(source, *_from_mailbox(source, message.result, message.error))
        return 1

    def _fetched(self, source: Source, r: FetchResult) -> int:
        """Save a fetch that needs no parse; parse a body here or hand it to the pool
        (then it is saved when its _Parsed arrives). How many sources it settled."""
        if r.error or r.not_modified:
            self._save(source, *_from_http(source, r, None))
            return 1
        task = ParseTask(r.key, r.body or b"", r.headers, r.final_url or r.url, source.kind)
        assert self._parsing is not None
        done = self._parsing.parse(task)
        if done is None:
            self._waiting[r.key] = r
            return 0
        self._save_parsed(source, r, done)
        return 1

    def _save_parsed(self, source: Source, r: FetchResult, done: ParseDone) -> None:
        outcome, parsed = _from_http(source, r, done)
        tagger = _Pretagged(self.tagger, parsed.records, done.domains) if parsed else None
        self._save(source, outcome, parsed, tagger)

    def _save(
        self,
        source: Source,
        outcome: store.SourceOutcome,
        parsed: ParsedFeed | None,
        tagger: Tagger | None = None,
    ) -> None:
        """A source's entries, state and log row, atomically; a failure to save is logged."""
        started = time.monotonic()
        db, run_id, max_failures = self.db, self.run_id, self.settings.max_failures
        try:
            stats = store.save_source_result(
                db, run_id=run_id, outcome=outcome, records=parsed.records if parsed else (),
                tagger=tagger or self.tagger(), source_tags=source.tags, max_failures=max_failures,
            )  # fmt: skip
        except Exception as e:  # noqa: BLE001 - the transaction rolled back; log the failure and go on
            outcome = store.SourceOutcome(
                source=source.name,
                status="error",
                url=outcome.url,
                http_status=outcome.http_status,
                error=f"could not save entries: {type(e).__name__}: {e}",
            )
            stats = store.save_source_result(
                db, run_id=run_id, outcome=outcome, max_failures=max_failures
            )
        report = SourceReport(
            name=source.name,
            status=outcome.status,
            error=outcome.error,
            warnings=list(outcome.warnings),
            new_papers=stats.new_papers,
            new_posts=stats.new_posts,
            updated_versions=stats.updated_versions,
            moved_to=outcome.permanent_url if outcome.status != "error" else None,
        )
        self.report.sources.append(report)
        self.on_event(
            FetchEvent(
                "source",
                source.name,
                status=report.status,
                error=report.error,
                new=stats.new,
                seconds=time.monotonic() - started,
            )  # fmt: skip
        )

    def _backfill(self) -> None:
        """Fetch the mentioned papers the reading list lacks; problems become warnings."""
        started = time.monotonic()
        get_api: Callable[[], PaperFetcher] = self.api
        try:
            res = backfill_mentions(self.db, get_api, _LazyTagger(self.tagger), run_id=self.run_id)
        except Exception as e:  # noqa: BLE001 - the sources are saved; never fail the run here
            res = BackfillResult(warnings=[f"mentions backfill failed: {type(e).__name__}: {e}"])
        if not res.missing and not res.warnings:
            return
        self.report.sources.append(
            SourceReport(
                name=MENTIONED_SOURCE,
                status="backfill",
                warnings=res.warnings,
                new_papers=res.new_papers,
            )
        )
        self.on_event(
            FetchEvent(
                "backfill",
                MENTIONED_SOURCE,
                new=res.new_papers,
                seconds=time.monotonic() - started,
            )  # fmt: skip
        )


def _never_fetched(active: list[Source], states: dict[str, SourceState]) -> int:
    """HTTP sources without stored validators: each will send a body."""
    return sum(
        1
        for s in active
        if s.kind in ("feed", "arxiv-rss")
        and not (states[s.name].get("etag") or states[s.name].get("last_modified"))
    )


# ------------------------------------------------------------------ the lanes


def _start(
    target: Callable[..., None], sources: list[Source], results: _Results, **kwargs: object
) -> threading.Thread:
    """Run a lane in a thread; a lane that dies reports its sources as failed."""

    def guarded() -> None:
        try:
            target(sources, results, **kwargs)
        except BaseException as e:  # noqa: BLE001 - reported to the writer, which fails those sources
            results.put(_Crash([s.name for s in sources], f"internal error: {e!r}"))

    thread = threading.Thread(target=guarded, name=target.__name__, daemon=True)
    thread.start()
    return thread


def _http_lane(
    sources: list[Source],
    results: _Results,
    *,
    states: dict[str, SourceState],
    settings: Settings,
) -> None:
    """Feeds and arXiv RSS over HTTP, concurrently, with the stored validators."""
    requests = [
        FetchRequest(
            key=s.name,
            url=states[s.name].get("fetch_url") or s.fetch_url(settings) or "",
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
            on_result=lambda r: results.put(_Http(r)),
        )
    )


def _api_lane(sources: list[Source], results: _Results, *, api: ArxivApi) -> None:
    """arXiv API searches, one at a time (the client keeps them >= 3 s apart)."""
    for source in sources:
        query = source.api_query()
        results.put(_Api(source.name, api.search(source.name, query, source.max_results or 50)))


def _mailbox_lane(
    sources: list[Source],
    results: _Results,
    *,
    base: Path,
    seen: dict[str, set[str]],
    states: dict[str, SourceState],
) -> None:
    """Local mailboxes: only messages the reading list does not have are parsed."""
    for source in sources:
        try:
            res = read_mailbox(
                source.mailbox_path(base),
                seen=seen[source.name],
                previous_state=states[source.name].get("etag"),
            )
            results.put(_Mail(source.name, res, None))
        except MailboxError as e:
            results.put(_Mail(source.name, None, str(e)))
        except Exception as e:  # noqa: BLE001 - a reader bug on one mailbox must not stop the others
            error = f"could not read mailbox {source.path}: {type(e).__name__}: {e}"
            results.put(_Mail(source.name, None, error))


# ------------------------------------------------------------------ results -> outcomes


def _from_mailbox(
    source: Source, res: MailboxResult | None, error: str | None
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


def _from_http(
    source: Source, r: FetchResult, done: ParseDone | None
) -> tuple[store.SourceOutcome, ParsedFeed | None]:
    """The outcome of a fetch and, for a body, of its parse (`done`)."""
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
    if r.not_modified or done is None:
        outcome.status = "not-modified"
        return outcome, None
    if done.parsed is None:
        outcome.status = "error"
        outcome.error = f"{done.failure} ({outcome.url})" if done.not_a_feed else done.failure
        # Do not remember validators of a body we could not use: re-fetch it next time.
        outcome.etag = outcome.last_modified = None
        return outcome, None
    outcome.warnings = list(done.parsed.warnings)
    return outcome, done.parsed


class _Pretagged:
    """The domains a parse worker found for each record (`Tagger` for the store);
    anything else goes to the run's own tagger."""

    def __init__(
        self, tagger: Callable[[], DomainTagger], records: list[Record], domains: list[list[str]]
    ) -> None:
        self._tagger = tagger
        self._domains = {id(r): d for r, d in zip(records, domains, strict=False)}

    def tag(self, record: Record) -> list[str]:
        found = self._domains.get(id(record))
        return list(found) if found is not None else self._tagger().tag(record)

    def tag_archive(self, record: Record) -> list[str]:
        return self._tagger().tag_archive(record)

    def __getattr__(self, name: str) -> object:  # anything else a tagger offers
        return getattr(self._tagger(), name)


class _LazyTagger(_Pretagged):
    """The run's tagger, built only if something is tagged."""

    def __init__(self, tagger: Callable[[], DomainTagger]) -> None:
        super().__init__(tagger, [], [])


def _from_api(source: Source, res: ApiResult) -> tuple[store.SourceOutcome, ParsedFeed | None]:
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
