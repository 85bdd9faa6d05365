"""OAI-PMH requests to one endpoint: paced (>= 3 s), retried (Retry-After), bounded.

Part of `papertrail.ingest.oai` (see its docstring); parsing is `oai_parse`.
httpx is imported where it is used, not here: `papertrail --help` must not load it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail.sources.http import USER_AGENT, parse_retry_after, polite_interval, reason_phrase
from papertrail.sources.oai_parse import (
    DEFAULT_ENDPOINT,
    OaiError,
    OaiProtocolError,
    parse_oai_page,
)

if TYPE_CHECKING:
    import httpx

ACCEPT = "text/xml, application/xml;q=0.9, */*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"  # what httpx decodes without optional packages

# Backoff before retry n (1-based) when the server gave no Retry-After:
# BACKOFF_BASE * 2**(n-1) seconds, at least the request interval, capped.
BACKOFF_BASE = 5.0
BACKOFF_MAX = 300.0
DEADLINE_FACTOR = 2.0  # an attempt may take at most this many times `timeout` in all


def check_endpoint(endpoint: str) -> str:
    """`endpoint` without surrounding blanks; ValueError when it is not an OAI-PMH base URL."""
    endpoint = endpoint.strip()
    _endpoint_url(endpoint)
    return endpoint


def _endpoint_url(endpoint: str) -> httpx.URL:
    import httpx  # heavy (~150 ms): only a harvest needs it, not `papertrail --help`

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
    return url


# ----------------------------------------------------------------- network


@dataclass
class Wait:
    """The client is about to sleep before retrying (for progress output)."""

    seconds: float
    reason: str  # e.g. "HTTP 503, Retry-After 10"
    retry: int
    max_retries: int


@dataclass
class _Answer:
    """An HTTP answer read in full."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


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
        import httpx  # heavy (~150 ms): only a harvest needs it, not `papertrail --help`

        self.endpoint = endpoint.strip()
        self._base_url = _endpoint_url(self.endpoint)
        self.interval = max(interval, polite_interval(self._base_url.host))
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

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, params: Mapping[str, str]) -> str:
        return str(self._base_url.copy_with(params=dict(params)))

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
            answer = self._get(params, url)
            if isinstance(answer, str):  # no answer: a network problem
                attempt += 1
                self._retry_or_raise(attempt, None, answer, url)
                continue
            status, headers, body = answer.status, answer.headers, answer.body
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
            return self._client_error(status, body, url)

    def _client_error(self, status: int, body: bytes, url: str) -> bytes:
        """A 4xx answer: its body when it is a readable OAI-PMH answer, else OaiError.

        Some OAI-PMH servers send their <error> (noRecordsMatch too) with a 4xx
        status; the OAI answer says more than the status does."""
        if b"OAI-PMH" in body[:4096]:
            try:
                parse_oai_page(body, url=url)
            except OaiProtocolError:
                raise
            except OaiError:
                pass  # not readable OAI-PMH after all: report the status
            else:
                return body
        phrase = reason_phrase(status) or "error"
        raise OaiError(
            f"{url} answered HTTP {status} {phrase}; check --endpoint (arXiv's is "
            f"{DEFAULT_ENDPOINT})",
            url=url,
        )

    def _get(self, params: Mapping[str, str], url: str) -> _Answer | str:
        """The answer to `params`, or why there was none (worth retrying)."""
        import httpx  # heavy: loaded by __init__ already; its errors are caught here

        deadline = time.monotonic() + self.timeout * DEADLINE_FACTOR
        try:
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
                return _Answer(resp.status_code, headers, b"".join(chunks))
        except httpx.TimeoutException:
            return f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as e:
            return f"{type(e).__name__}: {e}"
