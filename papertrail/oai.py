"""Harvesting arXiv's OAI-PMH interface into the reading list.

``papertrail import oai`` asks arXiv's OAI-PMH endpoint for every record of a
set (or of all arXiv) whose datestamp falls in a window, page by page
(``ListRecords``, ``metadataPrefix=arXiv``), and saves each page's papers with
`papertrail.db.bulk.save_papers` under the provenance name ``arxiv-oai``.

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
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from papertrail.arxiv_meta import ArxivMeta, MetaError, author_name, paper_record, squash
from papertrail.http import USER_AGENT, parse_retry_after, polite_interval
from papertrail.ids import parse_arxiv_id

# arXiv's OAI-PMH base URL since 2025 (the legacy http://export.arxiv.org/oai2 redirects here).
DEFAULT_ENDPOINT = "https://oaipmh.arxiv.org/oai"
ENDPOINT_ENV = "PAPERTRAIL_OAI_ENDPOINT"
METADATA_PREFIX = "arXiv"
SOURCE = "arxiv-oai"  # provenance name of harvested papers
KIND = "arxiv-oai"  # harvest_state.kind

OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV_NS = "{http://arxiv.org/OAI/arXiv/}"

ACCEPT = "text/xml, application/xml;q=0.9, */*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"  # what httpx decodes without optional packages

# Backoff before retry n (1-based) when the server gave no Retry-After:
# BACKOFF_BASE * 2**(n-1) seconds, at least the request interval, capped.
BACKOFF_BASE = 5.0
BACKOFF_MAX = 300.0
DEADLINE_FACTOR = 2.0  # an attempt may take at most this many times `timeout` in all

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# OAI-PMH 2.0 §2.7.1 setSpec: unreserved URI characters, ':' separating levels.
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")


class OaiError(Exception):
    """A harvest could not go on: what was wrong, where, and what to do.

    Whatever was saved before stays saved, and so does the harvest state: the
    next run resumes."""

    def __init__(self, message: str, *, code: str | None = None, url: str | None = None):
        super().__init__(message)
        self.code = code
        self.url = url


class OaiProtocolError(OaiError):
    """The endpoint answered with an OAI-PMH ``<error code="...">``."""


class HarvestLocked(Exception):
    """Another harvest holds the database."""


# ----------------------------------------------------------------- parsing


@dataclass
class OaiPage:
    """One ``ListRecords`` (or ``GetRecord``) answer."""

    records: list[ArxivMeta] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # OAI identifiers of deleted records
    datestamp: str | None = None  # the newest record datestamp on the page (YYYY-MM-DD)
    token: str | None = None  # the next page's resumption token; None on the last page
    complete_list_size: int | None = None
    cursor: int | None = None
    response_date: str | None = None
    warnings: list[str] = field(default_factory=list)


def _iso_day(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _DATE.fullmatch(value):
        raise MetaError(f"<{what}> {value!r} is not a YYYY-MM-DD date")
    return f"{value}T00:00:00+00:00"


def from_oai(element: ET.Element) -> ArxivMeta:
    """One ``<arXiv>`` metadata element (``metadataPrefix=arXiv``) as a paper.

    The format carries no version numbers: `created` is the first version's
    date and `updated` the latest version's, both days without a time, so the
    record's `version` is None and `versions` is empty (a time-less v1 date
    would overwrite the exact one a snapshot import stored). Raises MetaError
    naming the field."""

    def text(name: str) -> str | None:
        found = element.find(ARXIV_NS + name)
        return found.text if found is not None and found.text is not None else None

    raw_id = (text("id") or "").strip()
    if not raw_id:
        raise MetaError("no <id>")
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise MetaError(f"<id> {raw_id!r} is not an arXiv identifier")
    arxiv_id = parsed[0]

    authors: list[str] = []
    for author in element.iterfind(f"{ARXIV_NS}authors/{ARXIV_NS}author"):
        parts = [author.findtext(ARXIV_NS + n) or "" for n in ("keyname", "forenames", "suffix")]
        name = author_name(*(squash(p) for p in parts))
        if name:
            authors.append(name)

    published = _iso_day(text("created"), "created")
    updated = _iso_day(text("updated"), "updated") or published
    record = paper_record(
        arxiv_id,
        None,
        title=text("title"),
        authors=authors,
        abstract=text("abstract"),
        categories=(text("categories") or "").split(),
        published=published,
        updated=updated,
        doi=text("doi"),
        journal_ref=text("journal-ref"),
        comment=text("comments"),
    )
    return ArxivMeta(
        record,
        [],
        license=squash(text("license")) or None,
        submitter=None,  # only arXivRaw names the submitter
        report_no=squash(text("report-no")) or None,
    )


_ERROR_ADVICE = {
    "badArgument": "check --from/--until (YYYY-MM-DD) and --set (the endpoint lists its sets at "
    "?verb=ListSets)",
    "badResumptionToken": "resumption tokens expire; run the command again and the harvest "
    "restarts from the last datestamp it saved",
    "cannotDisseminateFormat": f"the endpoint does not offer metadataPrefix={METADATA_PREFIX}; "
    "is --endpoint arXiv's OAI-PMH interface (or a mirror of it)?",
    "noSetHierarchy": "the endpoint has no sets; leave out --set",
    "badVerb": "is --endpoint an OAI-PMH base URL?",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_oai_page(body: bytes, *, url: str = "the OAI-PMH endpoint") -> OaiPage:
    """The papers in one OAI-PMH answer (pure).

    Raises OaiError when the body is not well-formed XML or not OAI-PMH, and
    OaiProtocolError for an OAI ``<error>`` other than ``noRecordsMatch``
    (which gives an empty page). A record whose metadata cannot be read is
    skipped with a warning naming it."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(body)
    except DefusedXmlException as e:
        raise OaiError(
            f"the answer from {url} was refused: it declares XML entities or external "
            f"references ({type(e).__name__}), which OAI-PMH never needs",
            url=url,
        ) from None
    except ET.ParseError as e:
        line, column = getattr(e, "position", (None, None))
        where = f" at line {line}, column {column + 1}" if line else ""
        raise OaiError(
            f"the answer from {url} is not well-formed XML{where} ({e}); nothing of that page "
            "was saved and the harvest state still points at it: run the command again to "
            "retry it",
            url=url,
        ) from None
    if root.tag != OAI_NS + "OAI-PMH":
        raise OaiError(
            f"{url} did not answer with OAI-PMH (its root element is <{_local(root.tag)}>); "
            f"is --endpoint an OAI-PMH base URL such as {DEFAULT_ENDPOINT}?",
            url=url,
        )
    page = OaiPage(response_date=(root.findtext(OAI_NS + "responseDate") or "").strip() or None)
    errors = root.findall(OAI_NS + "error")
    for error in errors:
        code = error.get("code") or "unknown"
        if code == "noRecordsMatch":
            continue
        message = squash(error.text) or "no message"
        advice = _ERROR_ADVICE.get(code, "")
        raise OaiProtocolError(
            f"{url} answered with the OAI-PMH error {code}: {message}"
            + (f" — {advice}" if advice else ""),
            code=code,
            url=url,
        )
    if errors:
        return page  # noRecordsMatch: nothing in this window
    body_el = root.find(OAI_NS + "ListRecords")
    if body_el is None:
        body_el = root.find(OAI_NS + "GetRecord")
    if body_el is None:
        verbs = ", ".join(f"<{_local(c.tag)}>" for c in root) or "nothing"
        raise OaiError(
            f"{url} answered OAI-PMH without <ListRecords> or <GetRecord> (it holds {verbs})",
            url=url,
        )
    for rec in body_el.iterfind(OAI_NS + "record"):
        header = rec.find(OAI_NS + "header")
        identifier = (header.findtext(OAI_NS + "identifier") if header is not None else None) or "?"
        identifier = identifier.strip()
        stamp = (header.findtext(OAI_NS + "datestamp") if header is not None else None) or ""
        stamp = stamp.strip()[:10]
        if _DATE.fullmatch(stamp) and (page.datestamp is None or stamp > page.datestamp):
            page.datestamp = stamp
        if header is not None and header.get("status") == "deleted":
            page.deleted.append(identifier)
            continue
        meta = rec.find(f"{OAI_NS}metadata/{ARXIV_NS}arXiv")
        if meta is None:
            page.warnings.append(
                f"{identifier}: no <arXiv> metadata (the endpoint must be asked for "
                f"metadataPrefix={METADATA_PREFIX}); skipped"
            )
            continue
        try:
            page.records.append(from_oai(meta))
        except MetaError as e:
            page.warnings.append(f"{identifier}: {e}; skipped")
    token = body_el.find(OAI_NS + "resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        page.complete_list_size = _int(token.get("completeListSize"))
        page.cursor = _int(token.get("cursor"))
    return page


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ----------------------------------------------------------------- network


@dataclass
class Wait:
    """The client is about to sleep before retrying (for progress output)."""

    seconds: float
    reason: str  # e.g. "HTTP 503, Retry-After 10"
    retry: int
    max_retries: int


class OaiClient:
    """OAI-PMH requests to one endpoint: paced, retried, bounded.

    `sleep` and `clock` are injectable so tests can check the pacing without
    waiting; `interval` is the least time between request starts (never less
    than 3 s for arxiv.org hosts, whatever is asked)."""

    def __init__(
        self,
        endpoint: str,
        *,
        interval: float = 3.0,
        timeout: float = 120.0,
        max_retries: int = 5,
        max_retry_after: float = 600.0,
        max_body_bytes: int = 200_000_000,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_wait: Callable[[Wait], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.endpoint = check_endpoint(endpoint)
        host = httpx.URL(self.endpoint).host
        self.interval = max(interval, polite_interval(host))
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.max_body_bytes = max_body_bytes
        self.sleep = sleep
        self.clock = clock
        self.on_wait = on_wait
        self.requests = 0
        self._last_start: float | None = None
        self._not_before: float | None = None
        self._client = httpx.Client(
            headers={
                "User-Agent": user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,  # export.arxiv.org/oai2 -> oaipmh.arxiv.org/oai
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OaiClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def url_for(self, params: Mapping[str, str]) -> str:
        return str(httpx.URL(self.endpoint, params=dict(params)))

    def _pace(self) -> None:
        """Sleep until `interval` after the last request start (and past any Retry-After)."""
        now = self.clock()
        due = now
        if self._last_start is not None:
            due = max(due, self._last_start + self.interval)
        if self._not_before is not None:
            due = max(due, self._not_before)
        if due > now:
            self.sleep(due - now)
        self._last_start = self.clock()
        self._not_before = None

    def _retry_or_raise(self, attempt: int, wait: float | None, reason: str, url: str) -> None:
        if attempt > self.max_retries:
            raise OaiError(
                f"{url} failed {attempt} times ({reason}); what was harvested is saved: "
                "run the command again later to go on",
                url=url,
            )
        if wait is None:
            wait = min(BACKOFF_MAX, max(self.interval, BACKOFF_BASE) * 2 ** (attempt - 1))
        if self.on_wait:
            self.on_wait(Wait(wait, reason, attempt, self.max_retries))
        self._not_before = self.clock() + wait

    def fetch(self, params: Mapping[str, str]) -> bytes:
        """The body of a 200 answer to `params`; raises OaiError when it gives up."""
        url = self.url_for(params)
        attempt = 0
        while True:
            self._pace()
            self.requests += 1
            try:
                status, headers, body = self._get(params, url)
            except OaiError:
                raise
            except httpx.TimeoutException:
                attempt += 1
                self._retry_or_raise(attempt, None, f"no answer within {self.timeout:g} s", url)
                continue
            except httpx.HTTPError as e:
                attempt += 1
                self._retry_or_raise(attempt, None, f"{type(e).__name__}: {e}", url)
                continue
            if status == 200:
                return body
            if status in (429, 503):
                attempt += 1
                after = parse_retry_after(headers.get("retry-after"))
                if after is not None and after > self.max_retry_after:
                    raise OaiError(
                        f"{url} answered HTTP {status} and asked us to wait {after:.0f} s, more "
                        f"than the {self.max_retry_after:.0f} s we wait at most; what was "
                        "harvested is saved: run the command again later to go on",
                        url=url,
                    )
                reason = f"HTTP {status}" + (
                    f", Retry-After {headers['retry-after']}" if after is not None else ""
                )
                self._retry_or_raise(attempt, after, reason, url)
                continue
            if status >= 500:
                attempt += 1
                self._retry_or_raise(attempt, None, f"HTTP {status}", url)
                continue
            # 4xx: some OAI-PMH servers send their <error> (noRecordsMatch too) with a
            # 4xx status; the OAI answer says more than the status does.
            if b"OAI-PMH" in body[:4096]:
                try:
                    parse_oai_page(body, url=url)
                except OaiProtocolError:
                    raise
                except OaiError:
                    pass  # not readable OAI-PMH after all: report the status
                else:
                    return body
            phrase = httpx.codes.get_reason_phrase(status) or "error"
            raise OaiError(
                f"{url} answered HTTP {status} {phrase}; check --endpoint (arXiv's is "
                f"{DEFAULT_ENDPOINT})",
                url=url,
            )

    def _get(self, params: Mapping[str, str], url: str) -> tuple[int, dict[str, str], bytes]:
        deadline = time.monotonic() + self.timeout * DEADLINE_FACTOR
        with self._client.stream("GET", self.endpoint, params=dict(params)) as resp:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise OaiError(
                        f"{url} sent more than {self.max_body_bytes:,} bytes for one page; "
                        "is --endpoint an OAI-PMH interface?",
                        url=url,
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(
                        f"the answer took longer than {self.timeout * DEADLINE_FACTOR:g} s"
                    )
                chunks.append(chunk)
            headers = {k.lower(): v for k, v in resp.headers.items()}
            return resp.status_code, headers, b"".join(chunks)


# ----------------------------------------------------------------- checks


def resolve_endpoint(endpoint: str | None = None) -> str:
    """--endpoint, else $PAPERTRAIL_OAI_ENDPOINT, else arXiv's."""
    return check_endpoint(endpoint or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT)


def check_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip()
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"--endpoint {endpoint!r} is not an http(s) URL; arXiv's OAI-PMH base URL is "
            f"{DEFAULT_ENDPOINT}"
        )
    if url.query:
        raise ValueError(
            f"--endpoint {endpoint!r} has a query string; give the OAI-PMH base URL only "
            f"(e.g. {DEFAULT_ENDPOINT}), papertrail adds verb=ListRecords itself"
        )
    return endpoint


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
    from papertrail import db as dbm
    from papertrail.db.bulk import BulkStats, save_papers

    set_spec = check_set_spec(set_spec)
    from_ = check_day(from_, "--from")
    until = check_day(until, "--until")
    if from_ and until and from_ > until:
        raise ValueError(f"--from {from_} is after --until {until}")
    report = on_progress or (lambda p: None)

    name = dbm.harvest_name(KIND, client.endpoint, set_spec)
    state = dbm.get_harvest_state(db, name)
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
        state = dbm.HarvestState(
            name=name,
            kind=KIND,
            endpoint=client.endpoint,
            set_spec=set_spec,
            last_from=from_,
            last_until=until,
            started_at=dbm.utcnow(),
            status="running",
        )
        token = None
    state.status, state.error, state.finished_at = "running", None, None
    with db.atomic():
        dbm.save_harvest_state(db, state)

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

    def on_wait(wait: Wait) -> None:
        report(
            HarvestProgress(
                "wait",
                result.pages,
                state.records,
                totals.new,
                totals.updated,
                totals.unchanged,
                datestamp=state.last_datestamp,
                message=f"waiting {wait.seconds:.0f} s ({wait.reason}; retry {wait.retry} of "
                f"{wait.max_retries})",
            )
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
                report(
                    HarvestProgress(
                        "restart",
                        result.pages,
                        state.records,
                        totals.new,
                        totals.updated,
                        totals.unchanged,
                        datestamp=state.last_datestamp,
                        message=f"the resumption token has expired; restarting from "
                        f"{params.get('from', 'the start')}",
                    )
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
                dbm.save_harvest_state(db, saved)
            state = saved
            totals.add(stats)
            result.pages += 1
            result.records += len(page.records)
            result.deleted += len(page.deleted)
            result.skipped += len(page.warnings)
            result.warnings += page.warnings
            report(
                HarvestProgress(
                    "page",
                    result.pages,
                    state.records,
                    totals.new,
                    totals.updated,
                    totals.unchanged,
                    page.complete_list_size,
                    page.cursor,
                    state.last_datestamp,
                )
            )
            if "resumptionToken" in params:
                rejected = 0  # tokens work again: only rejections in a row count
            if page.token is None:
                break
            params = {"verb": "ListRecords", "resumptionToken": page.token}
    except BaseException as e:
        state.status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        state.error = str(e) or type(e).__name__
        state.finished_at = dbm.utcnow()
        with db.atomic():
            dbm.save_harvest_state(db, state)
        raise
    finally:
        client.on_wait = client_on_wait

    state.status, state.error = "done", None
    state.finished_at = dbm.utcnow()
    state.resumption_token = None
    state.last_datestamp = _next_from(state)
    with db.atomic():
        dbm.save_harvest_state(db, state)
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

    from papertrail import db as dbm
    from papertrail.domains import DomainTagger

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
        db = dbm.open_db(paths.db)
        try:
            with client_factory(endpoint, interval=interval) as client:
                return harvest(
                    db,
                    DomainTagger(config.domains),
                    client,
                    set_spec=set_spec,
                    from_=from_,
                    until=until,
                    on_progress=on_progress,
                )
        finally:
            db.close()
    finally:
        lock.release()
