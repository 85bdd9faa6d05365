"""One small connection pool per host for `papertrail.sources.http`.

httpx's default transport keeps one httpcore pool for every host. Each time a
request enters or leaves it, that pool walks all its connections, asks each idle
one whether its socket is readable (a poll and a getpeername through anyio), and
for each idle one counts all of them again: with 64 connections that is ~2,000
checks per request. A fetch of 200 feeds spent most of its HTTP lane's CPU there
(cProfile, issue 19: 2.0 s of the lane's 3.4 s, ~835,000 `is_idle` calls), and
with the GIL that CPU held back the parse, the writer and the next requests.

`PerHostTransport` gives each host (scheme, host, port) its own pool of
`per_host_limit` connections (the fetcher never sends more at once to one host),
so a pool's walk covers one or two connections, and keep-alive works as before.
Pools are made when a host is first asked; the open connections stay bounded: once
there are more than `max_pools` pools, the least recently used ones with no request
in flight are closed (their sockets with them).

May import: nothing of papertrail's (httpx at the edge).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import ssl

    import httpx

Origin = tuple[str, str, int]


class PerHostTransport:
    """An httpx async transport (duck-typed: httpx's base class is not imported at
    module level) that sends each request through its host's own pool."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool,
        per_host_limit: int,
        max_pools: int,
    ) -> None:
        self._verify = verify
        self._per_host = per_host_limit
        self._max_pools = max(1, max_pools)
        self._pools: OrderedDict[Origin, httpx.AsyncHTTPTransport] = OrderedDict()
        self._in_flight: dict[Origin, int] = {}

    def _pool(self, origin: Origin) -> httpx.AsyncHTTPTransport:
        import httpx  # heavy (~150 ms): already loaded by fetch_all; kept off `papertrail --help`

        pool = self._pools.get(origin)
        if pool is None:
            # Room for a redirect hop from another host (it holds no slot of this one).
            limits = httpx.Limits(
                max_connections=self._per_host + 2, max_keepalive_connections=self._per_host
            )
            pool = httpx.AsyncHTTPTransport(verify=self._verify, limits=limits)
            self._pools[origin] = pool
        self._pools.move_to_end(origin)
        return pool

    async def _evict(self) -> None:
        """Close the least recently used idle pools while there are too many."""
        for origin in list(self._pools):
            if len(self._pools) <= self._max_pools:
                return
            if self._in_flight.get(origin, 0) == 0:
                await self._pools.pop(origin).aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        pool = self._pool(origin)
        await self._evict()
        self._in_flight[origin] = self._in_flight.get(origin, 0) + 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(origin)
            raise
        stream = cast("httpx.AsyncByteStream", response.stream)  # an async transport's
        response.stream = _released(stream, lambda: self._release(origin))
        return response

    def _release(self, origin: Origin) -> None:
        self._in_flight[origin] -= 1

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> PerHostTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _released(stream: httpx.AsyncByteStream, done: Callable[[], None]) -> httpx.AsyncByteStream:
    """`stream` calling `done` once when it is closed (the request is no longer in flight)."""
    return _released_class()(stream, done)


@functools.cache
def _released_class() -> Callable[
    [httpx.AsyncByteStream, Callable[[], None]], httpx.AsyncByteStream
]:
    """The stream wrapper's class, made once (httpx checks a response stream's class)."""
    import httpx  # heavy (~150 ms): already loaded by fetch_all; kept off `papertrail --help`

    class Released(httpx.AsyncByteStream):
        def __init__(self, inner: httpx.AsyncByteStream, done: Callable[[], None]) -> None:
            self._inner, self._done = inner, done

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._inner:
                yield chunk

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                done, self._done = self._done, _nothing
                done()

    return Released


def _nothing() -> None:
    pass
