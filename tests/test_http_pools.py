"""papertrail.sources.http_pools: one small connection pool per host, against real
loopback HTTP servers (127.0.0.2, 127.0.0.3, ... are distinct hosts on Linux)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from papertrail.sources.http import FetchRequest, fetch_all_sync
from papertrail.sources.http_pools import PerHostTransport


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    lock = threading.Lock()


@pytest.fixture
def servers() -> Iterator[list[_Server]]:
    """Four hosts, 127.0.0.2 ... 127.0.0.5, each its own server."""
    started = []
    for i in range(4):
        server = _Server((f"127.0.0.{i + 2}", 0), _Handler)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        started.append(server)
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def _url(server: _Server, path: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"


def test_connections_are_kept_alive_per_host(servers: list[_Server]) -> None:
    """Eight feeds on one host, two at a time: two connections, each reused."""
    server = servers[0]
    reqs = [FetchRequest(str(i), _url(server, f"/{i}")) for i in range(8)]
    results = fetch_all_sync(reqs, per_host_limit=2, timeout=5)
    assert [r.body for r in results] == [f"/{i}".encode() for i in range(8)]
    assert server.connections == 2


def test_every_host_gets_its_own_pool_and_answers(servers: list[_Server]) -> None:
    reqs = [FetchRequest(f"{h}-{i}", _url(s, f"/{h}/{i}")) for h, s in enumerate(servers)
            for i in range(3)]  # fmt: skip
    results = fetch_all_sync(reqs, per_host_limit=1, timeout=5)
    assert all(r.error is None for r in results)
    assert [r.body for r in results] == [f"/{h}/{i}".encode() for h in range(4) for i in range(3)]
    assert [s.connections for s in servers] == [1, 1, 1, 1]


def test_idle_pools_beyond_the_limit_are_closed(servers: list[_Server]) -> None:
    """With room for two pools, asking four hosts in turn keeps the two most recent:
    the first host's connection was closed, so asking it again opens a new one."""

    async def go() -> tuple[list[str], int]:
        transport = PerHostTransport(verify=False, per_host_limit=1, max_pools=2)
        async with httpx.AsyncClient(transport=transport) as client:  # type: ignore[arg-type]
            bodies = [(await client.get(_url(s, "/a"))).text for s in servers]
            bodies.append((await client.get(_url(servers[0], "/b"))).text)
            return bodies, len(transport._pools)

    bodies, pools = asyncio.run(go())
    assert bodies == ["/a"] * 4 + ["/b"]
    assert pools == 2
    assert [s.connections for s in servers] == [2, 1, 1, 1]


def test_a_pool_with_a_request_in_flight_is_not_closed(servers: list[_Server]) -> None:
    """A response still being read keeps its host's pool open even when it is the
    least recently used one."""

    async def go() -> list[str]:
        transport = PerHostTransport(verify=False, per_host_limit=1, max_pools=1)
        async with httpx.AsyncClient(transport=transport) as client:  # type: ignore[arg-type]
            async with client.stream("GET", _url(servers[0], "/open")) as first:
                other = (await client.get(_url(servers[1], "/x"))).text
                body = (await first.aread()).decode()
            return [body, other]

    assert asyncio.run(go()) == ["/open", "/x"]
