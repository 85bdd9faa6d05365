"""What stands in front of Datasette, at the ASGI level: the guard that keeps the
triage queries to this computer, and the rename of the search box's argument on
a very large list. Plain ASGI: imports no Datasette (papertrail.browse.plugin
wraps Datasette's app with `guarded` through its `asgi_wrapper` hook).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from papertrail.browse.config import MAIN_VIEW

# ASGI's scope and messages are dicts of whatever the server puts in them.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

# On a very large list (config `search_window`) the search box's `_search` is
# renamed to this before Datasette sees it, so Datasette's own search clause
# (`id IN (every match)`: a million rows for a common word) is never built, and
# the plugin's `filters_from_request` answers it from the newest matches. (Not
# `_search_…`: Datasette reads every `_search*` argument as a column search.)
WINDOW_ARG = "_pt_search"
SEARCHABLE = (MAIN_VIEW, "entries")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8001
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refusal(scope: Scope) -> str | None:
    """Why a request must not reach a Datasette whose triage queries write, or None.

    Datasette's CSRF check lets through a POST that carries no cookie (a form on
    another site posting here), and a page on another host name can point that
    name at 127.0.0.1 (DNS rebinding). Loopback is the whole security model here,
    so: the Host must be a loopback name, and a POST must come from this origin."""
    host = _header(scope, b"host")
    if host is not None and _host_name(host) not in LOOPBACK_NAMES:
        return f"Host {host!r} is not this computer"
    if scope.get("method") == "POST":
        site = _header(scope, b"sec-fetch-site")
        if site is not None:  # every current browser sends it: trust it
            return (
                None if site in ("same-origin", "none") else f"a write from another site ({site})"
            )
        origin = _header(scope, b"origin")
        # Datasette sends Referrer-Policy: no-referrer, so a browser's own form
        # posts may say Origin: null; without Sec-Fetch-Site that cannot be told
        # apart from another site's form, so it is refused too.
        if origin is not None and (
            host is None or origin.split("://", 1)[-1].lower() != host.lower()
        ):
            return f"a write from another origin ({origin})"
    return None


def windowed_search_scope(scope: Scope, database: str) -> Scope:
    """`scope` with `_search` renamed to WINDOW_ARG on the searchable pages of `database`."""
    query = scope.get("query_string") or b""
    if b"_search=" not in query:
        return scope
    path = scope.get("path", "")
    page = path.rsplit("/", 1)[-1].split(".", 1)[0]
    if page not in SEARCHABLE or not path.startswith(f"/{database}/"):
        return scope
    args = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if not any(k == "_search" for k, _ in args):
        return scope
    # A new search replaces the one carried along in the form's hidden fields.
    args = [(WINDOW_ARG if k == "_search" else k, v) for k, v in args if k != WINDOW_ARG]
    return dict(scope, query_string=urlencode(args).encode("latin-1"))


async def _refuse(send: Send, why: str) -> None:
    body = f"Refused: {why}. papertrail browse only answers this computer.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


def guarded(app: ASGIApp, config: Callable[[], Mapping[str, Any]]) -> ASGIApp:
    """`app` behind the guard; `config()` is the plugin configuration at request
    time (database, triage, search_window: papertrail.browse.config)."""

    async def guarded_app(scope: Scope, receive: Receive, send: Send) -> None:
        cfg = config()
        if scope.get("type") == "http" and cfg.get("search_window"):
            scope = windowed_search_scope(scope, cfg.get("database", ""))
        if scope.get("type") == "http" and cfg.get("triage"):
            why = refusal(scope)
            if why:
                await _refuse(send, why)
                return
        await app(scope, receive, send)

    return guarded_app
