"""Issue 18 item 11: one dead host must not stall the rest.

A real loopback server that accepts connections and never answers (127.0.0.2:
all of 127.0.0.0/8 is loopback on Linux, so it is a host of its own), next to a
real feed server on 127.0.0.1. Timeouts are small; nothing here asserts a
duration: the checks are on the order in which results arrive, on how many
connections the dead server was made to accept, and on the attempts.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator

import pytest

from papertrail.sources import http as ptx
from papertrail.sources.http import FetchRequest, FetchResult, fetch_all_sync

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>t</title>'
    b"<item><title>a post</title><link>https://example.org/a</link></item></channel></rss>\n"
)


class SilentServer:
    """Accepts every connection, reads nothing, answers nothing, until stopped."""

    def __init__(self, log: list[str], host: str = "127.0.0.2") -> None:
        self.log = log  # "dead-gave-up" when a client hangs up on us
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.sock.settimeout(0.05)
        self.host, self.port = self.sock.getsockname()
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self._notice_hang_ups()
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self.held.append(conn)  # kept open, never answered

    def _notice_hang_ups(self) -> None:
        open_ = [c for c in self.held if c.fileno() != -1]
        readable, _, _ = select.select(open_, [], [], 0) if open_ else ([], [], [])
        for conn in readable:
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:  # the client closed the connection: it gave up waiting
                self.log.append("dead-gave-up")
                conn.close()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def events() -> list[str]:
    return []


@pytest.fixture
def silent(events: list[str]) -> Iterator[SilentServer]:
    try:
        server = SilentServer(events)
    except OSError as e:  # pragma: no cover - a system without 127.0.0.2
        pytest.skip(f"cannot bind 127.0.0.2: {e}")
    yield server
    server.close()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ptx, "BACKOFF_BASE", 0.01)


def test_dead_host_neither_blocks_other_hosts_nor_is_retried(silent, events, httpserver) -> None:
    from werkzeug import Request, Response

    def answer(request: Request) -> Response:
        events.append("ok-served")
        return Response(FEED, content_type="application/rss+xml")

    for i in range(4):
        httpserver.expect_request(f"/ok{i}").respond_with_handler(answer)
    dead = [FetchRequest(f"dead{i}", silent.url(f"/feed{i}")) for i in range(4)]
    healthy = [FetchRequest(f"ok{i}", httpserver.url_for(f"/ok{i}")) for i in range(4)]
    order: list[str] = []

    def arrived(r: FetchResult) -> None:
        order.append(r.key)

    results = fetch_all_sync(
        dead + healthy,  # the dead host's sources first in the queue
        concurrency=3,
        per_host_limit=2,
        timeout=0.4,
        max_retries=2,
        on_result=arrived,
    )
    by_key = {r.key: r for r in results}
    # Healthy sources on other hosts never wait for the dead one: every one of them
    # is served before the first request to the dead host gives up.
    assert events[:4] == ["ok-served"] * 4, events
    assert order[:4] == [f"ok{i}" for i in range(4)], order
    assert all(by_key[f"ok{i}"].error is None for i in range(4))
    # A server that accepted and never answered is not asked again in this run:
    # no retries, and the dead host's other sources are not sent at all.
    assert silent.accepted <= 2, silent.accepted
    for i in range(4):
        r = by_key[f"dead{i}"]
        assert r.body is None and r.attempts == 1
        assert r.error is not None and silent.host in r.error
    timed_out = [r for r in (by_key[f"dead{i}"] for i in range(4)) if "timed out" in r.error]
    skipped = [r for r in (by_key[f"dead{i}"] for i in range(4)) if "did not answer" in r.error]
    assert len(timed_out) == silent.accepted and len(timed_out) + len(skipped) == 4
    assert all("try again later" in r.error for r in skipped)


def test_fast_failures_are_still_retried(httpserver) -> None:
    """The retry budget is about time: a quick 503 is retried as before."""
    httpserver.expect_ordered_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/flaky").respond_with_data(
        FEED, content_type="application/rss+xml"
    )
    [r] = fetch_all_sync([FetchRequest("s", httpserver.url_for("/flaky"))], timeout=2)
    assert (r.error, r.attempts, r.body) == (None, 2, FEED)
