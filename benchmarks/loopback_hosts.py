"""Many fake feed hosts on loopback, for benchmarks and load tests.

On Linux all of 127.0.0.0/8 is loopback, so binding 127.0.0.2, 127.0.0.3, ...
gives distinct hosts (distinct per-host limits in papertrail.sources.http) without any
network. Each host runs a ThreadingHTTPServer that answers any path with the
same feed body after `latency` seconds, with ETag / Last-Modified and 304s for
matching conditional requests.

    with LoopbackHosts(n_hosts=50, body=feed_bytes, latency=0.2) as hosts:
        urls = hosts.urls(n_feeds=200)
        ...
        print(hosts.stats)

Run it directly to serve until Ctrl-C:  python benchmarks/loopback_hosts.py
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Stats:
    requests: int = 0
    bodies_sent: int = 0
    not_modified_sent: int = 0
    body_bytes_sent: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # never wait for handler threads on shutdown
    request_queue_size = 1024  # listen() backlog: hundreds of connects at once
    harness: LoopbackHosts


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real feed servers do
    # TCP_NODELAY, as nginx sets on keep-alive connections: without it a reused
    # connection stalls on Nagle + delayed ACK (~40 ms on loopback).
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        h = self.server.harness
        time.sleep(h.latency)  # 304s are delayed too: latency is the network, not the work
        body, etag = h.body_for(self.path)
        if self._not_modified(h, etag):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", h.last_modified)
            self.end_headers()
            h._count(not_modified=True)
            return
        self.send_response(200)
        self.send_header("Content-Type", h.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", h.last_modified)
        self.end_headers()
        self.wfile.write(body)
        h._count(body_bytes=len(body))

    def _not_modified(self, h: LoopbackHosts, etag: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110)
            return etag in [tag.strip() for tag in inm.split(",")] or inm.strip() == "*"
        return self.headers.get("If-Modified-Since") == h.last_modified

    def log_message(self, format: str, *args: object) -> None:
        pass


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


class LoopbackHosts:
    """`n_hosts` HTTP servers on 127.0.0.2 ... 127.0.0.(n_hosts+1), all on one port."""

    def __init__(
        self,
        n_hosts: int = 50,
        body: bytes = b"<rss version='2.0'><channel><title>t</title></channel></rss>",
        latency: float = 0.2,
        content_type: str = "application/rss+xml; charset=utf-8",
        port: int = 0,
        bodies: list[bytes] | None = None,
    ) -> None:
        """`bodies`: serve a mix of documents instead of one: the feed at path
        /feed/N.xml gets bodies[N % len(bodies)] (each with its own ETag)."""
        if not 1 <= n_hosts <= 250:
            raise ValueError("n_hosts must be between 1 and 250")
        self.n_hosts = n_hosts
        self.body = body
        self.latency = latency
        self.content_type = content_type
        self.etag = _etag(body)
        self.bodies = [(b, _etag(b)) for b in bodies] if bodies else None
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)
        self.port = port
        self.hosts = [f"127.0.0.{i + 2}" for i in range(n_hosts)]
        self.stats = Stats()
        self._lock = threading.Lock()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle

    def start(self) -> LoopbackHosts:
        for attempt in range(5):
            try:
                self._bind_all()
                break
            except OSError:
                # The port picked on the first address was taken on another.
                self._close_all()
                if self.port or attempt == 4:
                    raise
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _bind_all(self) -> None:
        port = self.port
        for host in self.hosts:
            server = _Server((host, port), _Handler)
            server.harness = self
            port = server.server_address[1]  # first bind picks it, the rest reuse it
            self._servers.append(server)
        self.bound_port = port

    def _close_all(self) -> None:
        for server in self._servers:
            server.server_close()
        self._servers.clear()

    def stop(self) -> None:
        # shutdown() blocks until that server's loop notices; do them in parallel.
        with ThreadPoolExecutor(max_workers=len(self._servers) or 1) as pool:
            list(pool.map(lambda s: s.shutdown(), self._servers))
        self._close_all()
        self._threads.clear()

    def __enter__(self) -> LoopbackHosts:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use

    def urls(self, n_feeds: int) -> list[str]:
        """`n_feeds` distinct feed URLs spread round-robin over the hosts."""
        return [
            f"http://{self.hosts[i % self.n_hosts]}:{self.bound_port}/feed/{i}.xml"
            for i in range(n_feeds)
        ]

    def body_for(self, path: str) -> tuple[bytes, str]:
        if self.bodies:
            digits = "".join(ch for ch in path.rsplit("/", 1)[-1] if ch.isdigit())
            return self.bodies[int(digits or 0) % len(self.bodies)]
        return self.body, self.etag

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = Stats()

    def _count(self, *, not_modified: bool = False, body_bytes: int = 0) -> None:
        with self._lock:
            self.stats.requests += 1
            if not_modified:
                self.stats.not_modified_sent += 1
            else:
                self.stats.bodies_sent += 1
                self.stats.body_bytes_sent += body_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with LoopbackHosts(n_hosts=args.hosts, latency=args.latency, port=args.port) as hosts:
        print(f"serving {hosts.hosts[0]} .. {hosts.hosts[-1]} on port {hosts.bound_port}")
        print("example:", hosts.urls(1)[0])
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        print(hosts.stats)


if __name__ == "__main__":
    main()


class HostsProcess:
    """LoopbackHosts in a child process, so the servers' Python work does not
    share the measured process's GIL (a real feed server is another machine).

        with HostsProcess(n_hosts=50, bodies=[...], latency=0.2) as hosts:
            hosts.urls(200); hosts.stats; hosts.reset_stats()
    """

    def __init__(self, **kwargs: object) -> None:
        self.kwargs = kwargs

    def __enter__(self) -> HostsProcess:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_child, args=(child, self.kwargs), daemon=True)
        self._proc.start()
        self.hosts, self.bound_port, self.n_hosts = self._conn.recv()
        return self

    def urls(self, n_feeds: int) -> list[str]:
        return [
            f"http://{self.hosts[i % self.n_hosts]}:{self.bound_port}/feed/{i}.xml"
            for i in range(n_feeds)
        ]

    @property
    def stats(self) -> Stats:
        self._conn.send("stats")
        return self._conn.recv()

    def reset_stats(self) -> None:
        self._conn.send("reset")
        self._conn.recv()

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(timeout=10)


def _serve_child(conn: object, kwargs: dict) -> None:
    with LoopbackHosts(**kwargs) as hosts:
        conn.send((hosts.hosts, hosts.bound_port, hosts.n_hosts))
        while True:
            cmd = conn.recv()
            if cmd == "stats":
                conn.send(hosts.stats)
            elif cmd == "reset":
                hosts.reset_stats()
                conn.send(True)
            else:
                return
