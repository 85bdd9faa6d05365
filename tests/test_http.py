"""papertrail.sources.http against real HTTP servers on loopback.

Two kinds of server: pytest-httpserver (werkzeug) for ordinary request /
response exchanges, and a small threaded http.server (`raw_server`) for what
werkzeug cannot do: slow, trickling or endless responses, and counting
simultaneous requests.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from werkzeug import Request, Response

from papertrail import __version__
from papertrail.sources import http as ptx
from papertrail.sources.http import FetchRequest, FetchResult, fetch_all, fetch_all_sync

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>t</title>'
    b"<item><title>a post</title><link>https://example.org/a</link></item></channel></rss>\n"
)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ptx, "BACKOFF_BASE", 0.01)


def fetch_one(url: str, **kwargs) -> FetchResult:
    etag = kwargs.pop("etag", None)
    last_modified = kwargs.pop("last_modified", None)
    kwargs.setdefault("timeout", 5.0)
    req = FetchRequest("src", url, etag=etag, last_modified=last_modified)
    [result] = fetch_all_sync([req], **kwargs)
    return result


# --------------------------------------------------------------------------
# a threaded raw server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RawServer

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up on us: expected

    def log_message(self, format: str, *args: object) -> None:
        pass


class RawServer(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Callable[[_Handler], None]]
    stop: threading.Event

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_port}{path}"


def send_body(h: _Handler, body: bytes = FEED, status: int = 200) -> None:
    h.send_response(status)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture
def raw_server():
    server = RawServer(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.stop.set()  # release handlers that are waiting or streaming
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------
# plain responses and request headers


def test_200_body_headers_and_request_headers(httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        FEED,
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 27 Apr 2026 00:00:00 GMT"},
    )
    url = httpserver.url_for("/feed")
    r = fetch_one(url)
    assert r.error is None
    assert (r.status, r.body, r.not_modified) == (200, FEED, False)
    assert (r.url, r.final_url, r.permanent_url) == (url, url, None)
    assert r.headers["content-type"].startswith("application/rss+xml")
    assert all(k == k.lower() for k in r.headers)
    assert (r.etag, r.last_modified) == ('"v1"', "Mon, 27 Apr 2026 00:00:00 GMT")
    assert (r.bytes_read, r.attempts, r.retry_after_s) == (len(FEED), 1, None)

    [(request, _)] = httpserver.log
    assert f"papertrail/{__version__}" in request.headers["User-Agent"]
    assert "application/rss+xml" in request.headers["Accept"]
    assert "gzip" in request.headers["Accept-Encoding"]
    assert "If-None-Match" not in request.headers


def test_304_sends_conditional_headers(httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"", status=304)
    lm = "Mon, 27 Apr 2026 00:00:00 GMT"
    r = fetch_one(httpserver.url_for("/feed"), etag='"abc"', last_modified=lm)
    [(request, _)] = httpserver.log
    assert request.headers["If-None-Match"] == '"abc"'
    assert request.headers["If-Modified-Since"] == lm
    assert r.not_modified and r.status == 304
    assert r.body is None and r.error is None
    # The 304 carried no validators: the request's stay current.
    assert (r.etag, r.last_modified) == ('"abc"', lm)


def test_404_is_a_clear_error_and_not_retried(httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"nope", status=404)
    url = httpserver.url_for("/feed")
    r = fetch_one(url)
    assert r.status == 404 and r.body is None and not r.not_modified
    assert r.error == f"HTTP 404 Not Found from {url} — check the url in feeds.yml"
    assert r.attempts == 1


def test_invalid_url_is_an_error_not_an_exception() -> None:
    r = fetch_one("not a url")
    assert r.status is None and "invalid URL" in r.error


# --------------------------------------------------------------------------
# retries and Retry-After


def _utc_in(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def sequence_handler(*responses: Response) -> Callable[[Request], Response]:
    """A handler answering with `responses` in turn (then repeating the last)."""
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        return responses[min(len(calls), len(responses)) - 1]

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


def test_429_retry_after_seconds_is_honoured(httpserver) -> None:
    handler = sequence_handler(
        Response(b"", status=429, headers={"Retry-After": "1"}), Response(FEED, status=200)
    )
    httpserver.expect_request("/feed").respond_with_handler(handler)
    r = fetch_one(httpserver.url_for("/feed"))
    assert r.error is None and r.body == FEED and r.attempts == 2
    first, second = handler.calls
    assert second - first >= 0.9  # it waited as asked, not the 10 ms test backoff


def test_503_retry_after_http_date(httpserver) -> None:
    # HTTP-dates have 1 s resolution: +2 s means a wait of 1..2 s.
    when = email.utils.format_datetime(_utc_in(2), usegmt=True)
    handler = sequence_handler(
        Response(b"", status=503, headers={"Retry-After": when}), Response(FEED, status=200)
    )
    httpserver.expect_request("/feed").respond_with_handler(handler)
    r = fetch_one(httpserver.url_for("/feed"))
    assert r.error is None and r.status == 200 and r.attempts == 2
    first, second = handler.calls
    assert second - first >= 0.5


def test_retry_after_longer_than_allowed_gives_up_at_once(httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        b"", status=429, headers={"Retry-After": "3600"}
    )
    started = time.monotonic()
    r = fetch_one(httpserver.url_for("/feed"), max_retry_after=120)
    assert time.monotonic() - started < 30  # nowhere near the hour asked for
    assert r.attempts == 1 and r.status == 429 and r.body is None
    assert r.retry_after_s == 3600
    assert "max_retry_after" in r.error and "try again after" in r.error


def test_429_without_retry_after_backs_off_then_gives_up(httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"", status=429)
    r = fetch_one(httpserver.url_for("/feed"), max_retries=2)
    assert r.attempts == 3 and len(httpserver.log) == 3
    assert r.error.startswith("HTTP 429 Too Many Requests from ")
    assert "gave up after 3 attempts" in r.error
    assert r.retry_after_s is None


def test_other_5xx_is_retried(httpserver) -> None:
    handler = sequence_handler(Response(b"", status=502), Response(FEED, status=200))
    httpserver.expect_request("/feed").respond_with_handler(handler)
    r = fetch_one(httpserver.url_for("/feed"))
    assert r.error is None and r.body == FEED and r.attempts == 2


def test_parse_retry_after() -> None:
    now = datetime(2026, 4, 27, 12, 0, 0, tzinfo=timezone.utc)
    assert ptx.parse_retry_after("120", now=now) == 120
    assert ptx.parse_retry_after("Mon, 27 Apr 2026 12:01:00 GMT", now=now) == 60
    assert ptx.parse_retry_after("Mon, 27 Apr 2026 11:00:00 GMT", now=now) == 0
    assert ptx.parse_retry_after("soon", now=now) is None
    assert ptx.parse_retry_after(None) is None


def test_polite_interval() -> None:
    assert ptx.polite_interval("arxiv.org") == 3.0
    assert ptx.polite_interval("export.arXiv.org") == 3.0
    assert ptx.polite_interval("notarxiv.org") == 0.0
    assert ptx.polite_interval("127.0.0.1") == 0.0


# --------------------------------------------------------------------------
# redirects


def redirect(httpserver, path: str, status: int, to: str) -> None:
    httpserver.expect_request(path).respond_with_data(b"", status=status, headers={"Location": to})


def test_permanent_redirect_chain_sets_permanent_url(httpserver) -> None:
    redirect(httpserver, "/a", 301, "/b")
    redirect(httpserver, "/b", 308, httpserver.url_for("/c"))  # relative and absolute
    httpserver.expect_request("/c").respond_with_data(FEED)
    r = fetch_one(httpserver.url_for("/a"))
    assert r.error is None and r.body == FEED
    assert r.final_url == r.permanent_url == httpserver.url_for("/c")
    assert r.url == httpserver.url_for("/a")


@pytest.mark.parametrize("statuses", [(302, 302), (301, 302), (307, 308)])
def test_temporary_hop_means_no_permanent_url(httpserver, statuses) -> None:
    redirect(httpserver, "/a", statuses[0], "/b")
    redirect(httpserver, "/b", statuses[1], "/c")
    httpserver.expect_request("/c").respond_with_data(FEED)
    r = fetch_one(httpserver.url_for("/a"))
    assert r.error is None and r.final_url == httpserver.url_for("/c")
    assert r.permanent_url is None


def test_permanent_redirect_to_a_broken_url_is_not_stored(httpserver) -> None:
    redirect(httpserver, "/a", 301, "/gone")
    httpserver.expect_request("/gone").respond_with_data(b"", status=404)
    r = fetch_one(httpserver.url_for("/a"))
    assert r.status == 404 and r.permanent_url is None
    assert httpserver.url_for("/gone") in r.error


def test_redirect_loop_is_an_error(httpserver) -> None:
    redirect(httpserver, "/x", 302, "/y")
    redirect(httpserver, "/y", 302, "/x")
    r = fetch_one(httpserver.url_for("/x"))
    assert r.error.startswith("redirect loop: ") and r.body is None
    assert len(httpserver.log) == 2


def test_too_many_redirects(httpserver) -> None:
    for i in range(12):
        redirect(httpserver, f"/r{i}", 302, f"/r{i + 1}")
    r = fetch_one(httpserver.url_for("/r0"))
    assert "too many redirects (more than 10)" in r.error
    assert len(httpserver.log) == 11


# --------------------------------------------------------------------------
# body size cap and decoding


def test_oversize_content_length_is_refused_unread(httpserver) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    url = httpserver.url_for("/big")
    r = fetch_one(url, max_body_bytes=1000)
    assert r.body is None and r.bytes_read == 0 and r.status == 200
    assert r.error.startswith(f"response body from {url} exceeds 1000 bytes (max_body_bytes")


def test_endless_chunked_body_is_cut_off(raw_server) -> None:
    def endless(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"x" * 16384
        while not h.server.stop.is_set():
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    raw_server.routes["/endless"] = endless
    cap = 1_000_000
    r = fetch_one(raw_server.url("/endless"), max_body_bytes=cap)
    assert r.body is None and "exceeds 1000000 bytes" in r.error
    assert cap < r.bytes_read <= cap + 64 * 1024


def test_gzip_body_is_decoded(httpserver) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(FEED), headers={"Content-Encoding": "gzip"}
    )
    httpserver.expect_request("/gzgz").respond_with_data(
        gzip.compress(gzip.compress(FEED)), headers={"Content-Encoding": "gzip, gzip"}
    )
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    httpserver.expect_request("/raw-deflate").respond_with_data(
        raw.compress(FEED) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    httpserver.expect_request("/deflate").respond_with_data(
        zlib.compress(FEED), headers={"Content-Encoding": "deflate"}
    )
    for path in ("/gz", "/gzgz", "/raw-deflate", "/deflate"):
        r = fetch_one(httpserver.url_for(path))
        assert (r.error, r.body, r.bytes_read) == (None, FEED, len(FEED)), path


def test_gzip_bomb_is_cut_off(httpserver) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB that inflates to 50 MB
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    cap = 1_000_000
    r = fetch_one(httpserver.url_for("/bomb"), max_body_bytes=cap)
    assert r.body is None and "exceeds 1000000 bytes" in r.error
    assert cap < r.bytes_read <= cap + ptx.DECODE_CHUNK


def test_nested_gzip_bomb_is_cut_off_without_inflating_it(httpserver) -> None:
    # 200 MB of zeros, gzipped twice: ~1 KB on the wire. Decoding a whole
    # network chunk at once (as httpx's aiter_bytes does) would inflate it
    # all; we must stop right after the cap.
    inner = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    block = b"\0" * 1_000_000
    payload = b"".join(inner.compress(block) for _ in range(200)) + inner.flush()
    bomb = gzip.compress(payload)
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip, gzip"}
    )
    cap = 1_000_000
    r = fetch_one(httpserver.url_for("/bomb"), max_body_bytes=cap)
    assert r.body is None and "exceeds" in r.error
    assert cap < r.bytes_read <= cap + ptx.DECODE_CHUNK


def test_corrupt_gzip_is_an_error(httpserver) -> None:
    httpserver.expect_request("/bad").respond_with_data(
        b"this is not gzip", headers={"Content-Encoding": "gzip"}
    )
    r = fetch_one(httpserver.url_for("/bad"))
    assert r.body is None and "could not decompress" in r.error


# --------------------------------------------------------------------------
# network failures


def test_connection_refused(monkeypatch) -> None:
    with socket.socket() as s:  # find a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    r = fetch_one(url, max_retries=1)
    assert r.status is None and r.body is None and r.attempts == 2
    assert r.error.startswith("could not connect to host 127.0.0.1: ")
    assert url in r.error


def test_timeout(raw_server) -> None:
    raw_server.routes["/slow"] = lambda h: h.server.stop.wait(10) or send_body(h)
    url = raw_server.url("/slow")
    r = fetch_one(url, timeout=0.5, max_retries=0)
    assert r.status is None and r.attempts == 1
    assert r.error.startswith(f"timed out after 0.5 s fetching {url}")


def test_trickling_server_hits_the_overall_deadline(raw_server) -> None:
    def trickle(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        while not h.server.stop.wait(0.05):  # a byte well within each read timeout
            h.wfile.write(b"x")

    raw_server.routes["/trickle"] = trickle
    started = time.monotonic()
    r = fetch_one(raw_server.url("/trickle"), timeout=0.5)
    assert time.monotonic() - started >= 0.9  # deadline is 2 x timeout
    assert r.body is None and r.attempts == 1
    assert r.error.startswith("gave up after 1 s fetching ")


# --------------------------------------------------------------------------
# concurrency, politeness, incremental delivery, order


def counting_route(server: RawServer, delays: dict[str, float] | None = None):
    """Routes /0../n answering after a delay while counting simultaneous requests."""
    state = {"in_flight": 0, "max": 0, "starts": []}
    lock = threading.Lock()

    def route(h: _Handler) -> None:
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
            state["starts"].append(time.monotonic())
        h.server.stop.wait((delays or {}).get(h.path, 0.2))
        with lock:
            state["in_flight"] -= 1
        send_body(h, h.path.encode())

    for i in range(10):
        server.routes[f"/{i}"] = route
    return state


def test_per_host_limit(raw_server) -> None:
    state = counting_route(raw_server)
    reqs = [FetchRequest(str(i), raw_server.url(f"/{i}")) for i in range(6)]
    results = fetch_all_sync(reqs, per_host_limit=2, concurrency=32)
    assert all(r.error is None for r in results)
    assert state["max"] == 2


def test_global_concurrency_limit(raw_server) -> None:
    state = counting_route(raw_server)
    reqs = [FetchRequest(str(i), raw_server.url(f"/{i}")) for i in range(8)]
    results = fetch_all_sync(reqs, per_host_limit=10, concurrency=3)
    assert all(r.error is None for r in results)
    assert state["max"] == 3


def test_min_interval_between_starts_to_one_host(raw_server) -> None:
    state = counting_route(raw_server, delays={f"/{i}": 0.0 for i in range(10)})
    asked: list[str] = []

    def interval(host: str) -> float:
        asked.append(host)
        return 0.3

    reqs = [FetchRequest(str(i), raw_server.url(f"/{i}")) for i in range(3)]
    fetch_all_sync(reqs, per_host_limit=3, min_interval=interval)
    starts = state["starts"]
    assert len(starts) == 3
    assert all(b - a >= 0.25 for a, b in zip(starts[:-1], starts[1:], strict=True))
    assert set(asked) == {"127.0.0.1"}


def test_results_in_request_order_and_delivered_incrementally(raw_server) -> None:
    fast_done = threading.Event()
    seen_by_slow: list[bool] = []

    def slow(h: _Handler) -> None:
        # Only answers once the fast result has been handed to on_result.
        seen_by_slow.append(fast_done.wait(5))
        send_body(h, b"slow")

    raw_server.routes["/slow"] = slow
    raw_server.routes["/fast"] = lambda h: send_body(h, b"fast")
    delivered: list[str] = []

    def on_result(result: FetchResult) -> None:
        delivered.append(result.key)
        if result.key == "fast":
            fast_done.set()

    reqs = [
        FetchRequest("slow", raw_server.url("/slow")),
        FetchRequest("fast", raw_server.url("/fast")),
    ]
    results = asyncio.run(fetch_all(reqs, on_result=on_result))
    assert [r.key for r in results] == ["slow", "fast"]
    assert [r.body for r in results] == [b"slow", b"fast"]
    assert delivered == ["fast", "slow"]
    assert seen_by_slow == [True]


def test_empty_request_list() -> None:
    assert fetch_all_sync([]) == []
