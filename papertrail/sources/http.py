"""Async HTTP fetcher: many feeds at once, politely and defensively.

`fetch_all` downloads every `FetchRequest` with one `httpx.AsyncClient` and
returns one `FetchResult` per request, in request order. It never raises for
a problem with one request (DNS, refused connection, timeout, HTTP error,
oversize body, redirect loop...): the problem is described in
`FetchResult.error` as a sentence saying what went wrong and what to do.

What it takes care of:

* bounded concurrency overall and per host (host:port), plus a minimum
  interval between request starts to the same host (arXiv asks for 3 s);
* conditional GET (If-None-Match / If-Modified-Since) -> `not_modified`;
* redirects followed here, hop by hop, so we can cap them, detect loops and
  tell whether the whole chain was permanent (`permanent_url`);
* 429/503 Retry-After (seconds or HTTP-date), bounded retries with
  exponential backoff and jitter for 5xx and network errors;
* a body cap enforced while streaming, on *decoded* bytes, with our own
  bounded decompression so a gzip bomb cannot balloon memory;
* an overall deadline per attempt, because httpx's read timeout applies to
  each read and a server trickling one byte at a time never trips it;
* one dead host never stalls the rest (issue 18): a source waits for its
  host's slot *before* it takes one of the global slots, so sources queued
  behind a hung host never hold slots other hosts need; a retry is started
  only while the source is within `timeout` seconds of its first request
  (a request that timed out has used that up: it is not retried in this run;
  the next run tries again), and a host that accepted a connection and never
  answered is not asked again in this run: its other sources fail at once.
  Retries wait outside every slot and queue behind the sources already waiting.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, cast

import certifi  # light: where httpx's CA bundle is (see _LazyTls)

from papertrail import __version__, optional
from papertrail.sources.http_pools import PerHostTransport

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"papertrail/{__version__} (+https://github.com/papertrail/papertrail)"

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
# Only what we decode ourselves (see _Decoder). httpx would add br/zstd when
# those packages happen to be installed.
ACCEPT_ENCODING = "gzip, deflate"

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})

# Backoff between retries: BACKOFF_BASE * 2**n seconds (n = retries so far),
# capped at BACKOFF_MAX, times a jitter factor in [0.5, 1). Module constants
# so tests can monkeypatch them down to milliseconds.
BACKOFF_BASE = 1.0
BACKOFF_MAX = 10.0

# An attempt (including its redirect hops) may take at most this many times
# `timeout` in total.
DEADLINE_FACTOR = 2.0

# Largest piece the decompressor may produce at once: bounds memory per step
# no matter how well the payload compresses.
DECODE_CHUNK = 64 * 1024

ARXIV_INTERVAL = 3.0


@dataclass
class FetchRequest:
    key: str  # source name
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    key: str
    url: str  # requested URL
    final_url: str  # after redirects
    permanent_url: str | None  # final URL when every redirect hop was 301/308, else None
    status: int | None  # final HTTP status; None when there was no response
    headers: dict[str, str]  # final response headers, lower-case keys
    body: bytes | None  # decoded body; None on error or 304
    not_modified: bool  # True on 304
    error: str | None  # human sentence: what went wrong + what to do
    bytes_read: int  # decoded body bytes read (on the last attempt)
    attempts: int
    duration_s: float
    etag: str | None
    last_modified: str | None
    retry_after_s: float | None = None  # set when the server asked us to wait too long


def polite_interval(host: str) -> float:
    """Seconds to leave between request starts to `host`.

    arXiv's terms of use ask for no more than one request every 3 seconds.
    """
    host = host.lower().rstrip(".")
    if host == "arxiv.org" or host.endswith(".arxiv.org"):
        return ARXIV_INTERVAL
    return 0.0


# --------------------------------------------------------------------------
# helpers


def _backoff(retry: int) -> float:
    """Delay before retry number `retry` (0-based): exponential, capped, jittered."""
    delay = min(BACKOFF_MAX, BACKOFF_BASE * (2**retry))
    # Jitter so many feeds failing at once don't retry in lockstep.
    return delay * random.uniform(0.5, 1.0)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: integer seconds or an HTTP-date. None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; a naive result means "-0000"
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _within_budget(first_sent: float | None, delay: float, timeout: float) -> bool:
    """Whether a retry after `delay` s still starts within `timeout` s of the source's
    first request: the retry budget that keeps one bad source from outlasting the run."""
    if first_sent is None:  # never sent (e.g. an invalid URL): nothing was spent
        return True
    return time.monotonic() - first_sent + delay < timeout


def _host_key(url: httpx.URL) -> str:
    """Key for the per-host semaphore: lower-cased host:port (default port filled in)."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme, 0)
    return f"{url.host.lower()}:{port}"


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status ("Not Found"); "" for an unknown status."""
    import httpx  # heavy (~150 ms): only reporting an answer needs it, not `papertrail --help`

    return httpx.codes.get_reason_phrase(status)


def _reason(status: int) -> str:
    return reason_phrase(status) or "Unknown Status"


def _when(seconds: float) -> str:
    at = datetime.now(timezone.utc).timestamp() + seconds
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class _Decoder:
    """Incremental, bounded decoder for one Content-Encoding layer.

    We decode ourselves instead of using httpx's aiter_bytes(): httpx inflates
    each network chunk in one go, so a 64 KiB chunk of a gzip bomb becomes
    ~64 MB at once (and "Content-Encoding: gzip, gzip" squares that). Here
    every step yields at most DECODE_CHUNK bytes, so the size cap is checked
    before memory grows.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate_fallback = encoding == "deflate"
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        tail = data
        while True:
            try:
                out = self._z.decompress(tail, DECODE_CHUNK)
            except zlib.error:
                # "deflate" is often sent as a raw deflate stream without the
                # zlib header (httpx does the same fallback).
                if not self._raw_deflate_fallback:
                    raise
                self._raw_deflate_fallback = False
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._raw_deflate_fallback = False
            tail = self._z.unconsumed_tail
            if out:
                yield out
            # A full output piece may leave pending output even with no input
            # left, so go round once more with empty input in that case.
            if not tail and len(out) < DECODE_CHUNK:
                return


def _decoders(content_encoding: str | None) -> list[_Decoder]:
    """Decoders in the order to apply them (reverse of the header's order)."""
    if not content_encoding:
        return []
    names = [e.strip().lower() for e in content_encoding.split(",")]
    # Unknown codings (and "identity") pass through, as httpx does: servers
    # send odd values like "utf-8" for plain bodies.
    return [_Decoder(n) for n in reversed(names) if n in ("gzip", "x-gzip", "deflate")]


def _decode(chunk: bytes, decoders: list[_Decoder]) -> Iterator[bytes]:
    """Run `chunk` through every layer lazily: pieces flow one at a time."""
    if not decoders:
        yield chunk
        return
    first, rest = decoders[0], decoders[1:]
    for piece in first.feed(chunk):
        yield from _decode(piece, rest)


# --------------------------------------------------------------------------
# one attempt


@dataclass
class _Attempt:
    """What one attempt (with its redirect hops) produced."""

    final_url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None  # parsed Retry-After of a 429/503
    started: float | None = None  # monotonic time the request was sent (after its slots)
    host_dead: bool = False  # the host accepted (or not) and never answered: a timeout
    bytes_read: int = 0
    all_permanent: bool = False
    hops: int = 0


class _LazyTls:
    """httpx's default TLS verification (as `httpx.create_ssl_context` builds it: the CA
    bundle named by SSL_CERT_FILE, else the folder SSL_CERT_DIR, else certifi's) with the
    bundle loaded before the first https request instead of when the client is made:
    ~30-40 ms that a run of http:// feeds never needs. One context for every host's pool."""

    def __init__(self) -> None:
        # What ssl.create_default_context() makes before it loads the CAs: hostname
        # checks on, certificates required.
        self.verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._pending = True

    def ready(self) -> None:
        """Load the CA bundle (once), before the context's first handshake."""
        if not self._pending:
            return
        self._pending = False
        if os.environ.get("SSL_CERT_FILE"):
            self.verify.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
        elif os.environ.get("SSL_CERT_DIR"):
            self.verify.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
        else:
            self.verify.load_verify_locations(cafile=certifi.where())
        keylog = os.environ.get("SSLKEYLOGFILE")  # as ssl.create_default_context does
        if keylog and not sys.flags.ignore_environment:
            self.verify.keylog_filename = keylog


class _Politeness:
    """Enforces min_interval(host) seconds between request starts to one host."""

    def __init__(self, min_interval: Callable[[str], float]) -> None:
        self._min_interval = min_interval
        self._next_start: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def interval(self, host: str) -> float:
        return self._min_interval(host.lower())

    async def wait_turn(self, host: str) -> None:
        host = host.lower()
        interval = self._min_interval(host)
        if interval <= 0:
            return
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:  # queue up: each start books the next free slot
            loop = asyncio.get_running_loop()
            delay = self._next_start.get(host, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next_start[host] = loop.time() + interval


class _Fetcher:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        concurrency: int,
        per_host_limit: int,
        timeout: float,
        max_body_bytes: int,
        max_retries: int,
        max_retry_after: float,
        min_interval: Callable[[str], float],
        tls: _LazyTls | None = None,
    ) -> None:
        self.client = client
        self.tls = tls
        self.concurrency = concurrency
        self.global_slots = asyncio.Semaphore(concurrency)
        self.per_host_limit = per_host_limit
        self.host_slots: dict[str, asyncio.Semaphore] = {}
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.politeness = _Politeness(min_interval)
        # host:port -> the error of the request that found it not answering (this run)
        self.dead_hosts: dict[str, str] = {}
        self.sent = 0  # requests that took a global slot (their first attempt or a retry)

    def at_once(self, requests: Sequence[FetchRequest]) -> int:
        """How many of `requests` may be in flight at once: the global limit, each host's
        limit (one at a time where it asks for a pause between requests)."""
        import httpx  # heavy (~150 ms): already loaded by fetch_all; kept off `papertrail --help`

        per_host: dict[str, int] = {}
        for req in requests:
            try:
                url = httpx.URL(req.url)
                key = _host_key(url)
            except (httpx.InvalidURL, TypeError, AttributeError):
                continue  # fails before it takes a slot
            limit = 1 if self.politeness.interval(url.host) > 0 else self.per_host_limit
            per_host[key] = min(limit, per_host.get(key, 0) + 1)
        return min(self.concurrency, sum(per_host.values()))

    async def fetch(self, req: FetchRequest) -> FetchResult:
        started = time.monotonic()
        headers = {}
        if req.etag:
            headers["If-None-Match"] = req.etag
        if req.last_modified:
            headers["If-Modified-Since"] = req.last_modified

        attempts = 0
        first_sent: float | None = None
        while True:
            attempts += 1
            att = await self._attempt(req.url, headers)
            first_sent = first_sent if first_sent is not None else att.started
            if not att.retryable:
                break
            retries_left = self.max_retries - (attempts - 1)
            if att.retry_after is not None and att.retry_after > self.max_retry_after:
                # Waiting that long would stall the whole run; report it so
                # the caller can skip this source until then.
                att.error = (
                    f"HTTP {att.status} {_reason(att.status or 0)} from {att.final_url}: the server "
                    f"asked us to wait {att.retry_after:.0f} s, more than max_retry_after "
                    f"({self.max_retry_after:g} s in feeds.yml settings) — try again after "
                    f"{_when(att.retry_after)}"
                )
                return self._result(req, att, attempts, started, retry_after_s=att.retry_after)
            if retries_left <= 0:
                break
            delay = att.retry_after if att.retry_after is not None else _backoff(attempts - 1)
            if att.retry_after is None and not _within_budget(first_sent, delay, self.timeout):
                # Retrying now would keep this source going past one timeout: the
                # next run tries again (a timed-out request always ends up here).
                break
            await asyncio.sleep(delay)  # outside every slot: waiting sources go first

        if att.error and att.retryable and attempts > 1:
            att.error += f" (gave up after {attempts} attempts)"
        return self._result(req, att, attempts, started)

    def _result(
        self,
        req: FetchRequest,
        att: _Attempt,
        attempts: int,
        started: float,
        retry_after_s: float | None = None,
    ) -> FetchResult:
        not_modified = att.status == 304 and att.error is None
        ok = att.error is None
        etag = att.headers.get("etag")
        last_modified = att.headers.get("last-modified")
        if not_modified:
            # A 304 may omit validators; the ones we sent are still current.
            etag = etag or req.etag
            last_modified = last_modified or req.last_modified
        return FetchResult(
            key=req.key,
            url=req.url,
            final_url=att.final_url,
            # Only worth storing when the new location actually worked.
            permanent_url=att.final_url if ok and att.hops and att.all_permanent else None,
            status=att.status,
            headers=att.headers,
            body=att.body if ok and not not_modified else None,
            not_modified=not_modified,
            error=att.error,
            bytes_read=att.bytes_read,
            attempts=attempts,
            duration_s=time.monotonic() - started,
            etag=etag,
            last_modified=last_modified,
            retry_after_s=retry_after_s,
        )

    async def _attempt(self, url: str, headers: dict[str, str]) -> _Attempt:
        import httpx  # heavy (~150 ms): already loaded by fetch_all; kept off `papertrail --help`

        att = _Attempt(final_url=url)
        try:
            first = httpx.URL(url)
            if first.scheme not in ("http", "https") or not first.host:
                raise httpx.InvalidURL("need an http:// or https:// URL with a host")
        except httpx.InvalidURL as exc:
            att.error = f"invalid URL {url!r}: {exc} — check the url in feeds.yml"
            return att

        host_key = _host_key(first)
        slots = self.host_slots.setdefault(host_key, asyncio.Semaphore(self.per_host_limit))
        deadline = self.timeout * DEADLINE_FACTOR
        # The host's slot first, the global one after: a source queued behind a slow
        # or dead host must not sit on a global slot that other hosts could use.
        async with slots:
            if host_key in self.dead_hosts:
                att.error = f"skipped {url}: {self.dead_hosts[host_key]}"
                return att
            # The first politeness wait happens before the deadline starts:
            # queueing behind our own rate limit is not the server's fault.
            await self.politeness.wait_turn(first.host)
            async with self.global_slots:
                att.started = time.monotonic()
                self.sent += 1
                await self._request(first, url, headers, att, deadline)
            if att.host_dead and host_key not in self.dead_hosts:
                self.dead_hosts[host_key] = (
                    f"host {first.host} did not answer another request in this run within "
                    f"{self.timeout:g} s — the server may be down; try again later"
                )
        return att

    async def _request(
        self, first: httpx.URL, url: str, headers: dict[str, str], att: _Attempt, deadline: float
    ) -> None:
        """One attempt's request, its redirect hops and its body; failures become `att.error`."""
        import httpx  # heavy (~150 ms): already loaded by fetch_all; kept off `papertrail --help`

        try:
            await asyncio.wait_for(self._hops(first, headers, att), deadline)
        except asyncio.TimeoutError:
            att.error = (
                f"gave up after {deadline:g} s fetching {att.final_url}: the server is sending "
                f"the response too slowly — try again later or raise timeout in feeds.yml settings"
            )
        except httpx.TimeoutException:
            att.error = f"timed out after {self.timeout:g} s fetching {att.final_url} — the server may be down or slow; try again later or raise timeout in feeds.yml settings"
            att.retryable = True  # in principle; in practice past the retry budget
            # No answer at all from the first host: do not queue more requests there.
            att.host_dead = att.status is None and not att.hops
        except httpx.ConnectError as exc:
            host = httpx.URL(att.final_url).host
            cause = str(exc) or type(exc).__name__
            att.error = f"could not connect to host {host}: {cause} (fetching {att.final_url}) — check the url and your network connection"
            att.retryable = True
        except httpx.TransportError as exc:
            # Dropped connection, protocol violation, bad TLS...
            att.error = f"network error fetching {att.final_url}: {type(exc).__name__}: {exc} — try again later"
            att.retryable = True
        except httpx.InvalidURL as exc:  # e.g. a redirect to a malformed Location
            att.error = f"invalid URL while fetching {url}: {exc} — check the url in feeds.yml"
        except zlib.error as exc:
            att.error = f"could not decompress the response body from {att.final_url}: {exc} — the server sent a corrupt {att.headers.get('content-encoding', '')} body"

    async def _hops(self, url: httpx.URL, headers: dict[str, str], att: _Attempt) -> None:
        """Follow redirects from `url` by hand and read the final body into `att`."""
        seen = [str(url)]
        att.all_permanent = True
        while True:
            att.final_url = str(url)
            if att.hops:  # redirect hops may go to another host: be polite there too
                await self.politeness.wait_turn(url.host)
            if url.scheme == "https" and self.tls is not None:
                self.tls.ready()  # the CA bundle, before any TLS handshake
            async with self.client.stream("GET", url, headers=headers) as resp:
                att.status = resp.status_code
                att.headers = {k.lower(): v for k, v in resp.headers.items()}
                status = resp.status_code

                if status in REDIRECT_STATUSES:
                    location = resp.headers.get("location")
                    if not location:
                        att.error = f"HTTP {status} redirect without a Location header from {url} — check the url in feeds.yml"
                        return
                    att.all_permanent = att.all_permanent and status in PERMANENT_REDIRECTS
                    att.hops += 1
                    url = url.join(location)
                    if str(url) in seen:
                        chain = " → ".join([*seen, str(url)])
                        att.error = f"redirect loop: {chain} — check the url in feeds.yml"
                        return
                    if att.hops > MAX_REDIRECTS:
                        att.error = f"too many redirects (more than {MAX_REDIRECTS}) starting at {seen[0]} — check the url in feeds.yml"
                        return
                    if url.scheme not in ("http", "https"):
                        att.error = f"{seen[-1]} redirects to unsupported URL {url} — check the url in feeds.yml"
                        return
                    seen.append(str(url))
                    continue  # leaving the `with` closes this response

                if status == 304:
                    return
                if status in RETRY_AFTER_STATUSES:
                    att.retry_after = parse_retry_after(resp.headers.get("retry-after"))
                if status >= 400 or status < 200:
                    att.error = f"HTTP {status} {_reason(status)} from {url}"
                    if status >= 500 or status in RETRY_AFTER_STATUSES:
                        att.retryable = True
                        att.error += " — the server is having trouble or is rate-limiting us; try again later"
                    else:
                        att.error += " — check the url in feeds.yml"
                    return
                await self._read_body(resp, att)
                return

    async def _read_body(self, resp: httpx.Response, att: _Attempt) -> None:
        cap = self.max_body_bytes
        too_big = (
            f"response body from {resp.url} exceeds {cap} bytes (max_body_bytes in feeds.yml "
            f"settings); raise the limit if this feed really is that large, or check the url"
        )
        length = resp.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            att.error = too_big
            return
        decoders = _decoders(resp.headers.get("content-encoding"))
        parts: list[bytes] = []
        async for raw in resp.aiter_raw():  # raw: we decode (bounded) ourselves
            for piece in _decode(raw, decoders):
                att.bytes_read += len(piece)
                if att.bytes_read > cap:
                    att.error = too_big
                    return  # closing the stream drops the connection
                parts.append(piece)
        att.body = b"".join(parts)


# --------------------------------------------------------------------------
# public entry points


def _import_httpx() -> None:
    """Import httpx without what a fetch never uses: httpcore's probe for trio (~65 ms of
    its ~85 ms when trio is installed, as a test dependency may install it: a fetch runs
    under asyncio only) and httpx's own command-line tool (`httpx._main`, ~45 ms: it loads
    rich and pygments when they are installed, as rich is here; `httpx.main` then says the
    tool is not installed). The probes find None while httpx loads; afterwards
    `import trio` works as before."""
    if "httpx" in sys.modules:
        return
    with optional.without("trio", "httpx._main"):
        import httpcore  # noqa: F401  # heavy (~85 ms): what probes for trio; httpx uses it
        import httpx  # noqa: F401  # heavy: see above


async def fetch_all(
    requests: Sequence[FetchRequest],
    *,
    concurrency: int = 64,
    per_host_limit: int = 2,
    timeout: float = 30.0,
    max_body_bytes: int = 20_000_000,
    max_retries: int = 2,
    max_retry_after: float = 120.0,
    user_agent: str = USER_AGENT,
    on_result: Callable[[FetchResult], None] | None = None,
    min_interval: Callable[[str], float] = polite_interval,
    transport: httpx.AsyncBaseTransport | None = None,
    on_first_wave: Callable[[], None] | None = None,
) -> list[FetchResult]:
    """Fetch every request concurrently; return results in request order.

    `on_result` is called with each result as soon as it is complete, so the
    caller can save sources one by one while the slow ones are still running.
    `on_first_wave` is called once the first requests (as many as may run at
    once) are out and this loop waits for answers: a caller in another thread
    can then use the CPU without holding these requests back.
    """
    _import_httpx()
    import httpx  # heavy (~150 ms): only a fetch needs it, not `papertrail --help`

    if concurrency < 1 or per_host_limit < 1:
        raise ValueError("concurrency and per_host_limit must be at least 1")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    tls = _LazyTls()
    if transport is None:  # one small pool per host: see papertrail.sources.http_pools
        per_host = PerHostTransport(
            verify=tls.verify, per_host_limit=per_host_limit, max_pools=concurrency
        )
        transport = cast("httpx.AsyncBaseTransport", per_host)
    async with httpx.AsyncClient(
        verify=tls.verify,
        headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,  # _hops follows them, see module docstring
        limits=limits,
        transport=transport,
    ) as client:
        fetcher = _Fetcher(
            client,
            concurrency=concurrency,
            per_host_limit=per_host_limit,
            timeout=timeout,
            max_body_bytes=max_body_bytes,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            min_interval=min_interval,
            tls=tls,
        )
        return await _gather(fetcher, requests, on_result, on_first_wave)


async def _gather(
    fetcher: _Fetcher,
    requests: Sequence[FetchRequest],
    on_result: Callable[[FetchResult], None] | None,
    on_first_wave: Callable[[], None] | None,
) -> list[FetchResult]:
    """Every request at once (the fetcher's slots bound them); results in request order."""

    async def one(req: FetchRequest) -> FetchResult:
        result = await fetcher.fetch(req)
        if on_result is not None:
            on_result(result)
        return result

    tasks = [asyncio.ensure_future(one(req)) for req in requests]
    watch = None
    if on_first_wave is not None:
        first_wave = fetcher.at_once(requests)
        watch = asyncio.ensure_future(_first_wave(lambda: fetcher.sent, first_wave))
        watch.add_done_callback(lambda _: on_first_wave())  # called once, even if cancelled
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        # A programming error (or on_result raising): stop the rest
        # instead of leaving them running against a closed client.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        if watch is not None:
            watch.cancel()


async def _first_wave(sent: Callable[[], int], want: int, tick: float = 0.002) -> None:
    """Return once `want` requests are sent and the loop is idle (a short sleep wakes on
    time: every request is waiting for its answer)."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(tick)
        if sent() >= want and loop.time() - before < 2 * tick:
            return


def fetch_all_sync(requests: Sequence[FetchRequest], **kwargs: Any) -> list[FetchResult]:
    """`fetch_all` for synchronous callers (runs its own event loop); `kwargs` are its
    keyword arguments."""
    return asyncio.run(fetch_all(requests, **kwargs))
