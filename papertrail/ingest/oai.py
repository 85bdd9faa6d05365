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
* `harvest` saves each page and the harvest state (`db.harvest`) in one
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
from pathlib import Path
from typing import Any

from papertrail.sources.oai_client import OaiClient, Wait, check_endpoint  # noqa: F401 (re-exported)
from papertrail.sources.oai_parse import (  # noqa: F401 (re-exported)
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
    from_oai,
    parse_oai_page,
)


class HarvestLocked(Exception):
    """Another harvest holds the database."""


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


def _list_params(from_: str | None, until: str | None, set_spec: str | None) -> dict[str, str]:
    params = {"verb": "ListRecords", "metadataPrefix": METADATA_PREFIX}
    if from_:
        params["from"] = from_
    if until:
        params["until"] = until
    if set_spec:
        params["set"] = set_spec
    return params


def _next_from(state: Any) -> str:
    """Where the harvest after a finished one starts: its `until`, or the day before it started."""
    if state.last_until:
        return state.last_until
    started = datetime.fromisoformat(state.started_at).astimezone(timezone.utc).date()
    return (started - timedelta(days=1)).isoformat()


def harvest(
    db: Any,
    tagger: Any,
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
    from papertrail import store
    from papertrail.store.bulk import BulkStats, save_papers

    set_spec = check_set_spec(set_spec)
    from_ = check_day(from_, "--from")
    until = check_day(until, "--until")
    if from_ and until and from_ > until:
        raise ValueError(f"--from {from_} is after --until {until}")
    report = on_progress or (lambda p: None)

    name = store.harvest_name(KIND, client.endpoint, set_spec)
    state = store.get_harvest_state(db, name)
    explicit = from_ is not None or until is not None
    warnings: list[str] = []
    resumed = bool(
        state
        and state.unfinished
        and (not explicit or (from_, until) == (state.last_from, state.last_until))
    )
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
            name=name,
            kind=KIND,
            endpoint=client.endpoint,
            set_spec=set_spec,
            last_from=from_,
            last_until=until,
            started_at=store.utcnow(),
            status="running",
        )
        token = None
    state.status, state.error, state.finished_at = "running", None, None
    with db.atomic():
        store.save_harvest_state(db, state)

    result = HarvestResult(
        endpoint=client.endpoint,
        set_spec=set_spec,
        from_=state.last_from,
        until=state.last_until,
        next_from=None,
        resumed=resumed,
        warnings=warnings,
    )
    totals = BulkStats()

    def restart_params() -> dict[str, str]:
        return _list_params(state.last_datestamp or state.last_from, state.last_until, set_spec)

    params = {"verb": "ListRecords", "resumptionToken": token} if token else restart_params()

    client_on_wait = client.on_wait

    def progress(event: str, message: str = "", page: OaiPage | None = None) -> None:
        report(
            HarvestProgress(
                event,
                result.pages,
                state.records,
                totals.new,
                totals.updated,
                totals.unchanged,
                page.complete_list_size if page else None,
                page.cursor if page else None,
                state.last_datestamp,
                message,
            )
        )

    def on_wait(wait: Wait) -> None:
        progress(
            "wait",
            f"waiting {wait.seconds:.0f} s ({wait.reason}; retry {wait.retry} of "
            f"{wait.max_retries})",
        )
        if client_on_wait:
            client_on_wait(wait)

    client.on_wait = on_wait
    rejected = 0  # resumption tokens rejected in a row
    try:
        while True:
            body = client.fetch(params)
            url = client.url_for(params)
            try:
                page = parse_oai_page(body, url=url)
            except OaiProtocolError as e:
                if e.code != "badResumptionToken" or "resumptionToken" not in params:
                    raise
                if rejected >= max_restarts:
                    state.resumption_token = None  # the next run restarts straight away
                    raise OaiError(
                        f"{client.endpoint} rejected the resumption token {rejected + 1} "
                        f"times in a row ({e}); run the command again later: the harvest "
                        f"restarts from {state.last_datestamp or state.last_from or 'the start'}",
                        code=e.code,
                        url=url,
                    ) from None
                rejected += 1
                result.restarts += 1
                params = restart_params()
                progress(
                    "restart",
                    "the resumption token has expired; restarting from "
                    f"{params.get('from', 'the start')}",
                )
                continue
            # The page and the position after it commit together; `state` (what
            # a failure records) only moves on once they have.
            saved = replace(
                state,
                records=state.records + len(page.records),
                last_datestamp=max(
                    filter(None, (state.last_datestamp, page.datestamp)), default=None
                ),
                resumption_token=page.token,
            )
            with db.atomic():
                stats = (
                    save_papers(db, page.records, source=SOURCE, tagger=tagger)
                    if page.records
                    else BulkStats()
                )
                store.save_harvest_state(db, saved)
            state = saved
            totals.add(stats)
            result.pages += 1
            result.records += len(page.records)
            result.deleted += len(page.deleted)
            result.skipped += len(page.warnings)
            result.warnings += page.warnings
            progress("page", page=page)
            if "resumptionToken" in params:
                rejected = 0  # tokens work again: only rejections in a row count
            if page.token is None:
                break
            params = {"verb": "ListRecords", "resumptionToken": page.token}
    except BaseException as e:
        state.status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        state.error = str(e) or type(e).__name__
        state.finished_at = store.utcnow()
        with db.atomic():
            store.save_harvest_state(db, state)
        raise
    finally:
        client.on_wait = client_on_wait

    state.status, state.error = "done", None
    state.finished_at = store.utcnow()
    state.resumption_token = None
    state.last_datestamp = _next_from(state)
    with db.atomic():
        store.save_harvest_state(db, state)
    result.new, result.updated, result.unchanged = totals.new, totals.updated, totals.unchanged
    result.next_from = state.last_datestamp
    return result


def oai_lock_path(db_path: Path) -> Path:
    return Path(f"{db_path}.oai.lock")


def import_oai(
    paths: Any,
    *,
    set_spec: str | None = None,
    from_: str | None = None,
    until: str | None = None,
    endpoint: str | None = None,
    interval: float = 3.0,
    on_progress: Callable[[HarvestProgress], None] | None = None,
    client_factory: Callable[..., OaiClient] = OaiClient,
) -> HarvestResult:
    """`papertrail import oai`: check the options, lock the database, harvest.

    Domains come from the feeds file's rules (as for every entry). Raises
    ValueError for a bad option (nothing is fetched), HarvestLocked when a
    harvest is already running on the database, OaiError when the harvest
    cannot go on (what was saved stays saved)."""
    from filelock import FileLock, Timeout

    from papertrail import store
    from papertrail.sources.domains import DomainTagger

    endpoint = resolve_endpoint(endpoint)
    check_set_spec(set_spec)
    check_day(from_, "--from")
    check_day(until, "--until")
    config = paths.config()
    lock = FileLock(str(oai_lock_path(paths.db)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise HarvestLocked(
            f"another OAI-PMH harvest is already running on {paths.db} (lock file "
            f"{oai_lock_path(paths.db)}); wait for it to finish"
        ) from None
    try:
        db = store.open_db(paths.db)
        try:
            with client_factory(endpoint, interval=interval) as client:
                result = harvest(
                    db,
                    DomainTagger(config.domains),
                    client,
                    set_spec=set_spec,
                    from_=from_,
                    until=until,
                    on_progress=on_progress,
                )
            store.maintain_search_index(db)
            return result
        finally:
            db.close()
    finally:
        lock.release()
