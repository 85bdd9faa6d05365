"""Harvesting arXiv's OAI-PMH interface into the reading list.

``papertrail import oai`` asks arXiv's OAI-PMH endpoint for every record of a
set (or of all arXiv) whose datestamp falls in a window, page by page
(``ListRecords``, ``metadataPrefix=arXiv``), and saves each page's papers with
`papertrail.store.bulk.save_papers` under the provenance name ``arxiv-oai``.

Fetch -> parse -> save, as everywhere else:

* `OaiClient.fetch` does the network: one request at a time, at least 3 s
  apart (arXiv's terms of use), honouring ``503`` + ``Retry-After`` (seconds
  or an HTTP date; a wait longer than `max_retry_after` gives up instead,
  with the state saved), bounded retries with backoff for other 5xx and
  network errors, a body cap and an overall deadline per attempt.
* `parse_oai_page` is pure: bytes in, an `OaiPage` out. OAI ``<error>``
  answers become `OaiProtocolError`; ``noRecordsMatch`` is not an error for
  us, just a page with no records.
* `harvest` saves each page and the harvest state (`store.harvest`) in one
  transaction, so a killed harvest resumes from the last saved resumption
  token. When the endpoint no longer knows that token (tokens expire:
  ``badResumptionToken``) the harvest restarts from the newest datestamp it
  had saved; records seen twice are upserted, not duplicated.

Incremental: without ``--from`` a harvest of an endpoint + set starts where
the last finished one of the same endpoint + set left off — its ``--until``,
or the day before it started (one day of overlap: arXiv stamps records with
its own, US Eastern, day and our clock is not arXiv's).

Records arrive in datestamp order on both arXiv endpoints (the new one's
tokens even carry the advancing ``from``), which is what makes "restart from
the newest datestamp saved" lose nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.models import Tagger
from papertrail.sources.oai_client import OaiClient, Wait, check_endpoint
from papertrail.sources.oai_parse import (
    _DATE,
    _SET_SPEC,
    DEFAULT_ENDPOINT,
    ENDPOINT_ENV,
    KIND,
    METADATA_PREFIX,
    SOURCE,
    OaiError,
    OaiPage,
    OaiProtocolError,
    parse_oai_page,
)
from papertrail.store.bulk import BulkStats, save_papers

if TYPE_CHECKING:
    import sqlite_utils

__all__ = [
    "HarvestProgress",
    "HarvestResult",
    "OaiClient",
    "OaiError",
    "check_day",
    "check_set_spec",
    "harvest",
    "resolve_endpoint",
]


# ----------------------------------------------------------------- checks


def resolve_endpoint(endpoint: str | None = None) -> str:
    """--endpoint, else $PAPERTRAIL_OAI_ENDPOINT, else arXiv's."""
    return check_endpoint(endpoint or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT)


def check_set_spec(set_spec: str | None) -> str | None:
    """An OAI setSpec, or a ValueError saying how arXiv's sets are written."""
    if set_spec is None or not set_spec.strip():
        return None
    set_spec = set_spec.strip()
    looks_like_category = re.fullmatch(r"[a-z\-]+\.[A-Za-z\-]+", set_spec)
    if looks_like_category or not _SET_SPEC.fullmatch(set_spec):
        hint = ""
        if looks_like_category:
            group, _, sub = set_spec.partition(".")
            hint = (
                f" ({set_spec} is a category: arXiv's sets are archives such as {group} or "
                f"physics:hep-ex, and at {DEFAULT_ENDPOINT} categories too, written "
                f"{group}:{group}:{sub})"
            )
        raise ValueError(f"--set {set_spec!r} is not an OAI-PMH set{hint}")
    return set_spec


def check_day(value: str | None, option: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{option} {value!r} is not a date: OAI-PMH harvests by day, YYYY-MM-DD"
        ) from None
    return value


# ----------------------------------------------------------------- harvest


@dataclass
class HarvestProgress:
    """Reported after each saved page, each wait and each restart."""

    event: str  # "page" | "wait" | "restart"
    page: int  # pages saved by this run
    records: int  # records saved by this harvest (a resumed one counts its earlier runs)
    new: int = 0  # this run's totals
    updated: int = 0
    unchanged: int = 0
    complete_list_size: int | None = None
    cursor: int | None = None
    datestamp: str | None = None  # newest record datestamp saved
    message: str = ""

    def line(self) -> str:
        """One line for the terminal: a page's counts, or the wait / restart message."""
        if self.event != "page":
            return f"  {self.message}"
        of = f" of {self.complete_list_size:,}" if self.complete_list_size else ""
        through = f", through {self.datestamp}" if self.datestamp else ""
        return (
            f"  page {self.page}: {self.records:,}{of} records ({self.new:,} new, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged{through})"
        )


@dataclass
class HarvestResult:
    endpoint: str
    set_spec: str | None
    from_: str | None  # the window harvested
    until: str | None
    next_from: str | None  # where the next incremental harvest starts
    pages: int = 0
    records: int = 0  # saved by this run
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # deleted records listed (nothing is removed from the reading list)
    skipped: int = 0  # records whose metadata could not be read
    resumed: bool = False  # went on with an unfinished harvest
    restarts: int = 0  # expired tokens restarted from the last datestamp
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What the harvest did, in one sentence (`papertrail import oai` prints it)."""
        window = f"{self.from_ or 'the start'} to {self.until or 'today'}"
        what = f"set {self.set_spec}" if self.set_spec else "all sets"
        parts = [
            f"{self.new:,} new",
            f"{self.updated:,} updated",
            f"{self.unchanged:,} unchanged",
        ]
        if self.deleted:
            parts.append(f"{self.deleted:,} deleted at arXiv (kept here)")
        if self.skipped:
            parts.append(f"{self.skipped:,} unreadable (skipped)")
        resumed = " (resumed)" if self.resumed else ""
        return (
            f"Harvested {self.records:,} records in {self.pages} pages from {self.endpoint}, "
            f"{what}, {window}{resumed}: {', '.join(parts)}. Next harvest starts from "
            f"{self.next_from}."
        )


def _list_params(from_: str | None, until: str | None, set_spec: str | None) -> dict[str, str]:
    params = {"verb": "ListRecords", "metadataPrefix": METADATA_PREFIX}
    if from_:
        params["from"] = from_
    if until:
        params["until"] = until
    if set_spec:
        params["set"] = set_spec
    return params


def _next_from(state: store.HarvestState) -> str:
    """Where the harvest after a finished one starts: its `until`, or the day before it started."""
    if state.last_until:
        return state.last_until
    assert state.started_at is not None
    started = datetime.fromisoformat(state.started_at).astimezone(timezone.utc).date()
    return (started - timedelta(days=1)).isoformat()


def harvest(
    db: sqlite_utils.Database,
    tagger: Tagger,
    client: OaiClient,
    *,
    set_spec: str | None = None,
    from_: str | None = None,
    until: str | None = None,
    on_progress: Callable[[HarvestProgress], None] | None = None,
    max_restarts: int = 3,
) -> HarvestResult:
    """Harvest `client.endpoint` into the reading list; see the module docstring.

    An unfinished harvest of the same endpoint and set is resumed unless
    `from_`/`until` ask for another window. Raises OaiError (the state is
    saved first, marked failed, so the next run goes on from there)."""
    set_spec = check_set_spec(set_spec)
    from_ = check_day(from_, "--from")
    until = check_day(until, "--until")
    if from_ and until and from_ > until:
        raise ValueError(f"--from {from_} is after --until {until}")
    start = _begin(db, client.endpoint, set_spec, from_, until)
    result = HarvestResult(
        endpoint=client.endpoint,
        set_spec=set_spec,
        from_=start.state.last_from,
        until=start.state.last_until,
        next_from=None,
        resumed=start.resumed,
        warnings=start.warnings,
    )
    run = _Harvest(db, tagger, client, start.state, result, on_progress, max_restarts)
    return run.go(start.token)


@dataclass
class _Start:
    """Where a harvest begins: its state row (saved as running), and the token to resume from."""

    state: store.HarvestState
    token: str | None
    resumed: bool
    warnings: list[str]


def _begin(
    db: sqlite_utils.Database,
    endpoint: str,
    set_spec: str | None,
    from_: str | None,
    until: str | None,
) -> _Start:
    """Resume the unfinished harvest of this endpoint and set, or start a new one (from
    where the last finished one ended when no --from is given); the state is saved."""
    name = store.harvest_name(KIND, endpoint, set_spec)
    state = store.get_harvest_state(db, name)
    explicit = from_ is not None or until is not None
    warnings: list[str] = []
    resumed = bool(
        state
        and state.unfinished
        and (not explicit or (from_, until) == (state.last_from, state.last_until))
    )
    token = None
    if state is not None and resumed:
        token = state.resumption_token
    else:
        if state is not None and state.unfinished:
            warnings.append(
                f"an unfinished harvest (from {state.last_from or 'the start'}) was set aside "
                "for the window asked for"
            )
        if from_ is None and state is not None and state.status == "done":
            from_ = state.last_datestamp
            if from_ and until and from_ > until:
                raise ValueError(
                    f"the last harvest of this endpoint and set went up to {from_}, after "
                    f"--until {until}; pass --from as well to harvest an earlier window"
                )
        state = store.HarvestState(
            name=name, kind=KIND, endpoint=endpoint, set_spec=set_spec, last_from=from_,
            last_until=until, started_at=store.utcnow(), status="running",
        )  # fmt: skip
    state.status, state.error, state.finished_at = "running", None, None
    with db.atomic():
        store.save_harvest_state(db, state)
    return _Start(state, token, resumed, warnings)


class _Harvest:
    """One harvest run: fetch a page, parse it, save it with the position after it."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        tagger: Tagger,
        client: OaiClient,
        state: store.HarvestState,
        result: HarvestResult,
        on_progress: Callable[[HarvestProgress], None] | None,
        max_restarts: int,
    ) -> None:
        self.db, self.tagger, self.client = db, tagger, client
        self.state, self.result = state, result
        self.report = on_progress or (lambda p: None)
        self.max_restarts = max_restarts
        self.totals = BulkStats()
        self.rejected = 0  # resumption tokens rejected in a row
        self._client_on_wait: Callable[[Wait], None] | None = None  # the caller's, kept

    def go(self, token: str | None) -> HarvestResult:
        """Every page, then the state marked done; on any failure the state records it."""
        self._client_on_wait = self.client.on_wait
        self.client.on_wait = self._on_wait
        try:
            self._pages(
                {"verb": "ListRecords", "resumptionToken": token}
                if token
                else self._restart_params()
            )
        except BaseException as e:
            self._record_failure(e)
            raise
        finally:
            self.client.on_wait = self._client_on_wait
        return self._finish()

    def _pages(self, params: dict[str, str]) -> None:
        while True:
            body = self.client.fetch(params)
            url = self.client.url_for(params)
            try:
                page = parse_oai_page(body, url=url)
            except OaiProtocolError as e:
                if e.code != "badResumptionToken" or "resumptionToken" not in params:
                    raise
                params = self._restart(e, url)
                continue
            self._save(page)
            if "resumptionToken" in params:
                self.rejected = 0  # tokens work again: only rejections in a row count
            if page.token is None:
                return
            params = {"verb": "ListRecords", "resumptionToken": page.token}

    def _restart_params(self) -> dict[str, str]:
        s = self.state
        return _list_params(s.last_datestamp or s.last_from, s.last_until, s.set_spec)

    def _restart(self, e: OaiProtocolError, url: str) -> dict[str, str]:
        """An expired resumption token: start again from the newest datestamp saved."""
        state = self.state
        if self.rejected >= self.max_restarts:
            state.resumption_token = None  # the next run restarts straight away
            raise OaiError(
                f"{self.client.endpoint} rejected the resumption token {self.rejected + 1} "
                f"times in a row ({e}); run the command again later: the harvest "
                f"restarts from {state.last_datestamp or state.last_from or 'the start'}",
                code=e.code,
                url=url,
            ) from None
        self.rejected += 1
        self.result.restarts += 1
        params = self._restart_params()
        self._progress(
            "restart",
            f"the resumption token has expired; restarting from {params.get('from', 'the start')}",
        )
        return params

    def _save(self, page: OaiPage) -> None:
        """The page and the position after it commit together; `state` (what a
        failure records) only moves on once they have."""
        state = self.state
        saved = replace(
            state,
            records=state.records + len(page.records),
            last_datestamp=max(filter(None, (state.last_datestamp, page.datestamp)), default=None),
            resumption_token=page.token,
        )
        with self.db.atomic():
            stats = (
                save_papers(self.db, page.records, source=SOURCE, tagger=self.tagger)
                if page.records
                else BulkStats()
            )
            store.save_harvest_state(self.db, saved)
        self.state = saved
        self.totals.add(stats)
        result = self.result
        result.pages += 1
        result.records += len(page.records)
        result.deleted += len(page.deleted)
        result.skipped += len(page.warnings)
        result.warnings += page.warnings
        self._progress("page", page=page)

    def _record_failure(self, e: BaseException) -> None:
        state = self.state
        state.status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        state.error = str(e) or type(e).__name__
        state.finished_at = store.utcnow()
        with self.db.atomic():
            store.save_harvest_state(self.db, state)

    def _finish(self) -> HarvestResult:
        state, result = self.state, self.result
        state.status, state.error = "done", None
        state.finished_at = store.utcnow()
        state.resumption_token = None
        state.last_datestamp = _next_from(state)
        with self.db.atomic():
            store.save_harvest_state(self.db, state)
        result.new, result.updated = self.totals.new, self.totals.updated
        result.unchanged = self.totals.unchanged
        result.next_from = state.last_datestamp
        return result

    def _progress(self, event: str, message: str = "", page: OaiPage | None = None) -> None:
        self.report(
            HarvestProgress(
                event,
                self.result.pages,
                self.state.records,
                self.totals.new,
                self.totals.updated,
                self.totals.unchanged,
                page.complete_list_size if page else None,
                page.cursor if page else None,
                self.state.last_datestamp,
                message,
            )
        )

    def _on_wait(self, wait: Wait) -> None:
        self._progress(
            "wait",
            f"waiting {wait.seconds:.0f} s ({wait.reason}; retry {wait.retry} of "
            f"{wait.max_retries})",
        )
        if self._client_on_wait:
            self._client_on_wait(wait)
