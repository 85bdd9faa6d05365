"""The writer side of a fetch run (`papertrail.ingest.fetch`): the lanes' results saved.

The HTTP lane may already be running when this starts (`http_lane.start_early`);
the arXiv API and mailbox lanes start here, and the parse pool
(`papertrail.ingest.pool`) when bodies come. This thread is the only writer.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail import optional, store
from papertrail.config import Config, Settings, Source
from papertrail.ingest.add import (
    MENTIONED_SOURCE,
    BackfillResult,
    PaperFetcher,
    arxiv_api_client,
    backfill_mentions,
)
from papertrail.ingest.http_lane import (
    HTTP_KINDS,
    HttpDone,
    HttpLane,
    LaneCrash,
    Results,
    http_requests,
    start_http_lane,
    start_lane,
    wanted_sources,
)
from papertrail.ingest.pool import ParseDone, ParsePool, ParseTask, Parsing
from papertrail.ingest.report import EventHandler, FetchEvent, FetchReport, SourceReport
from papertrail.models import ParsedFeed, Record
from papertrail.sources.arxiv_api import ApiResult, ArxivApi
from papertrail.sources.domains import DomainTagger
from papertrail.sources.http import FetchResult
from papertrail.sources.mailbox import MailboxError, MailboxResult, read_mailbox
from papertrail.store.queries import SourceState

if TYPE_CHECKING:
    import threading

    import sqlite_utils

    from papertrail.models import Tagger


@dataclass(frozen=True)
class _Api:
    name: str
    result: ApiResult


@dataclass(frozen=True)
class _Mail:
    name: str
    result: MailboxResult | None
    error: str | None


def write_run(
    db_path: Path,
    config: Config,
    only: list[str] | None,
    on_event: EventHandler,
    *,
    early: HttpLane | None = None,
    pool: ParsePool | None = None,
    when_idle: Callable[[], None] | None = None,
) -> FetchReport:
    """Open the database (the caller holds the run's lock), save what the lanes fetch.
    `pool`: a parse pool started with `early`, delivering to its results (used with it)."""
    _import_sqlite_utils()
    with store.connected(db_path) as db:
        run = _Run(db, config, on_event, early=early, pool=pool, when_idle=when_idle)
        return run.go(only)


def _import_sqlite_utils() -> None:
    """Import sqlite-utils without its optional numpy and pandas column types (numpy is
    ~60 % of its import when installed, as torch installs it): a fetch saves Python values
    only, and the rescore and digest after it write with plain SQL. Like the trio probe
    in `sources.http`: the probe finds None while sqlite-utils loads, then works as before."""
    if "sqlite_utils" in sys.modules:
        return
    with optional.without("numpy", "pandas"):
        import sqlite_utils  # noqa: F401  # heavy (~100 ms without numpy): opening the database


class _Run:
    """One run's state: the lanes feed `results`; this thread, the only writer, saves."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        on_event: EventHandler,
        *,
        early: HttpLane | None = None,
        pool: ParsePool | None = None,
        when_idle: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.config, self.on_event = db, config, on_event
        self._early, self._early_pool, self._when_idle = early, pool, when_idle
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
        # The domain rules compile ~80 ms of regexes: not for a source that saves no entry
        # (a 304, an error).
        self._lazy_tagger = _LazyTagger(self.tagger)

    def tagger(self) -> DomainTagger:
        if self._tagger is None:
            self._tagger = DomainTagger(self.config.domains)
        return self._tagger

    def api(self) -> ArxivApi:
        if self._api is None:
            self._api = arxiv_api_client(self.settings)
        return self._api

    def go(self, only: list[str] | None) -> FetchReport:
        wanted = wanted_sources(self.config, only)
        states = {s.name: store.source_state(self.db, s.name) or SourceState() for s in wanted}
        active = [s for s in wanted if not self._skip_paused(s, states[s.name])]
        self.on_event(FetchEvent("start", total=len(active)))
        # The HTTP lane started before the database was open, if it asked for exactly
        # what this read of the state asks for (it always does, unless the read declined).
        requests = http_requests(active, states, self.settings)
        early = self._early if self._early and self._early.requests == requests else None
        results: Results = early.results if early else queue.Queue()
        workers = [early.thread] if early else []
        if requests and not early:
            workers.append(start_http_lane(requests, results, self.settings))
        workers += self._start_lanes(active, states, results)
        unknown = _never_fetched(active, states)
        started = self._early_pool if early else None  # it delivers to the early lane's queue
        self._parsing = Parsing(self.config.domains, self.tagger, results.put, unknown,
                                started=started)  # fmt: skip
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
        self, active: list[Source], states: dict[str, SourceState], results: Results
    ) -> list[threading.Thread]:
        """The arXiv API and mailbox lanes (the HTTP lane is started by `go`)."""
        api_sources = [s for s in active if s.kind == "arxiv"]
        mail_sources = [s for s in active if s.kind == "mailbox"]
        workers = []
        if api_sources:
            names = [s.name for s in api_sources]
            workers.append(
                start_lane(_api_lane, names, results, sources=api_sources, api=self.api())
            )
        if mail_sources:
            # Read here: the main thread owns the connection (the lane gets plain sets).
            seen = {s.name: store.post_guids(self.db, s.name) for s in mail_sources}
            base = Path(self.config.path).parent
            names = [s.name for s in mail_sources]
            workers.append(
                start_lane(
                    _mailbox_lane,
                    names,
                    results,
                    sources=mail_sources,
                    base=base,
                    seen=seen,
                    states=states,
                )  # fmt: skip
            )
        return workers

    def _save_results(self, active: list[Source], results: Results) -> None:
        """Save each source's result as it arrives, until every source has one."""
        by_name = {s.name: s for s in active}
        pending = len(active)
        while pending:
            if self._when_idle is not None and results.empty():
                self._idle()
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

    def _idle(self) -> None:
        """The first time nothing waits to be saved: the caller's work for that moment
        (`papertrail fetch` imports what it needs after the run)."""
        when_idle, self._when_idle = self._when_idle, None
        if when_idle is not None:
            when_idle()

    def _save_message(self, message: object, by_name: dict[str, Source]) -> int:
        """Save one lane message; how many sources it settled."""
        if isinstance(message, LaneCrash):  # a lane died of a bug: fail its remaining sources
            done = {r.name for r in self.report.sources} | set(self._waiting)
            failed = [name for name in message.names if name not in done]
            for name in failed:
                outcome = store.SourceOutcome(source=name, status="error", error=message.error)
                self._save(by_name[name], outcome, None)
            return len(failed)
        if isinstance(message, HttpDone):
            return self._fetched(by_name[message.result.key], message.result)
        if isinstance(message, ParseDone):  # from the pool
            r = self._waiting.pop(message.key)
            self._save_parsed(by_name[r.key], r, message)
        elif isinstance(message, _Api):
            source = by_name[message.name]
            self._save(source, *_from_api(source, message.result))
        elif isinstance(message, _Mail):
            source = by_name[message.name]
            self._save(source, *_from_mailbox(source, message.result, message.error))
        return 1

    def _fetched(self, source: Source, r: FetchResult) -> int:
        """Save a fetch that needs no parse; parse a body here or hand it to the pool
        (then it is saved when its ParseDone arrives). How many sources it settled."""
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
                tagger=tagger or self._lazy_tagger, source_tags=source.tags, max_failures=max_failures,
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
            res = backfill_mentions(self.db, get_api, self._lazy_tagger, run_id=self.run_id)
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
        if s.kind in HTTP_KINDS
        and not (states[s.name].get("etag") or states[s.name].get("last_modified"))
    )


def _api_lane(results: Results, *, sources: list[Source], api: ArxivApi) -> None:
    """arXiv API searches, one at a time (the client keeps them >= 3 s apart)."""
    for source in sources:
        query = source.api_query()
        results.put(_Api(source.name, api.search(source.name, query, source.max_results or 50)))


def _mailbox_lane(
    results: Results,
    *,
    sources: list[Source],
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
