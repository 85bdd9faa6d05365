"""The reading page's routes on Datasette (papertrail.browse.page renders them).

Imports Datasette at its top, like papertrail.browse.plugin, which registers
`ROUTES` through its `register_routes` hook; nothing else imports it.

May import: as the browse package (see its docstring).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode

from datasette.utils.asgi import Response

from papertrail import api
from papertrail.browse import page
from papertrail.browse.actions import ActionError, Done
from papertrail.browse.config import PLUGIN

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

Handler = Callable[["Datasette", "Request"], Awaitable[Response]]
HEADERS = {
    "Content-Security-Policy": page.CSP_HEADER,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_SAFE_NEXT = re.compile(r"^/-/papers(/[\w./%+-]*)?(\?[^#\s]*)?(#e\d+)?$")


def _config(datasette: Datasette) -> Mapping[str, Any]:
    return datasette.plugin_config(PLUGIN) or {}


def _paths(datasette: Datasette) -> api.Paths:
    cfg = _config(datasette)
    return api.Paths(db=Path(cfg["db_path"]), feeds=Path(cfg["feeds"]))


def _ui(datasette: Datasette, request: Request) -> page.UI:
    cfg = _config(datasette)
    writable = bool(cfg.get("triage"))
    token = request.scope["csrftoken"]() if writable and "csrftoken" in request.scope else ""
    here = request.path + (f"?{request.query_string}" if request.query_string else "")
    flash = {k: request.args.get(k, "") for k in ("done", "undo", "undo_entry", "undo_arg")}
    return page.UI(
        writable=writable,
        csrftoken=token,
        next=_strip_flash(here),
        tables_url=datasette.urls.database(cfg.get("database", "")),
        flash={k: v for k, v in flash.items() if v},
    )


def _strip_flash(url: str) -> str:
    path, _, query = url.partition("?")
    args = [(k, v) for k, v in _pairs(query) if k not in ("done", "undo", "undo_entry", "undo_arg")]
    return path + ("?" + urlencode(args) if args else "")


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=False)


def _html(body: str, status: int = 200) -> Response:
    return Response.html(body, status=status, headers=dict(HEADERS))


def _text(body: str, status: int) -> Response:
    return Response.text(body + "\n", status=status, headers=dict(HEADERS))


async def _off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """The API is synchronous SQLite: run it off the event loop."""
    return await asyncio.to_thread(fn, *args)


def _why_budget(datasette: Datasette) -> float:
    """Time to explain scores before a page shows (see page.WHY_BUDGET_S)."""
    return page.WHY_BUDGET_S


def _args(request: Request) -> dict[str, str]:
    return {k: request.args.get(k, "") for k in request.args.keys()}  # noqa: SIM118 (MultiParams)


async def today(datasette: Datasette, request: Request) -> Response:
    paths, ui = _paths(datasette), _ui(datasette, request)
    since = request.args.get("since") or page.TODAY_SINCE
    try:
        view = await _off_loop(
            page.no_wait, paths, page.today, since, _why_budget(datasette), _args(request)
        )
    except ValueError as e:
        return _text(f"Cannot show that window: {e}", 400)
    return _html(await _off_loop(page.render_view, view, ui, paths))


def _listing(name: str) -> Handler:
    async def handler(datasette: Datasette, request: Request) -> Response:
        paths, ui = _paths(datasette), _ui(datasette, request)
        filters = _args(request)
        if name == "tag":
            filters["tag"] = unquote(request.url_vars["tag"])
        try:
            view = await _off_loop(
                page.no_wait, paths, page.listing, name, filters, _why_budget(datasette)
            )
        except ValueError as e:
            return _text(f"Cannot list that: {e}", 400)
        return _html(await _off_loop(page.render_view, view, ui, paths))

    return handler


async def search(datasette: Datasette, request: Request) -> Response:
    paths, ui = _paths(datasette), _ui(datasette, request)
    try:
        view = await _off_loop(
            page.no_wait, paths, page.search, _args(request), _why_budget(datasette)
        )
    except ValueError as e:
        return _text(f"Cannot search: {e}", 400)
    return _html(await _off_loop(page.render_view, view, ui, paths))


async def paper(datasette: Datasette, request: Request) -> Response:
    paths, ui = _paths(datasette), _ui(datasette, request)
    entry_id = int(request.url_vars["id"])
    try:
        body = await _off_loop(page.no_wait, paths, page.render_paper, entry_id, ui)
    except (KeyError, ValueError):
        return _text(f"No entry #{entry_id} — the reading page lists the ids.", 404)
    return _html(body)


async def why(datasette: Datasette, request: Request) -> Response:
    """JSON {id: why} for the cards shown without one (page.js fills them in)."""
    ids = [int(i) for i in request.args.get("ids", "").split(",") if i.isdigit()][:100]
    try:
        paths = _paths(datasette)
        found = await _off_loop(page.no_wait, paths, page.whys, ids) if ids else {}
    except ValueError:  # an id that names nothing (deleted meanwhile)
        found = {}
    return Response.json({str(k): v for k, v in found.items()})


async def ranking(datasette: Datasette, request: Request) -> Response:
    """JSON {"busy": bool}: whether a refit is still under way (a page showing the
    order from before it asks, then offers the new one)."""
    busy = await _off_loop(api.ranking_busy, _paths(datasette))
    return Response.json({"busy": busy}, headers={"Cache-Control": "no-store"})


async def static(datasette: Datasette, request: Request) -> Response:
    found = page.STATIC.get(request.url_vars["name"])
    if found is None:
        return _text("Not found", 404)
    path, content_type = found
    return Response(
        path.read_text(encoding="utf-8"),
        content_type=content_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def _refusal(datasette: Datasette, request: Request, form: Mapping[str, str]) -> str | None:
    """Why a POST must not write: read-only server, missing token, another site."""
    if not _config(datasette).get("triage"):
        return "this server is read-only (it listens beyond this computer)"
    cookie = request.cookies.get("ds_csrftoken", "")
    sent = form.get("csrftoken") or request.headers.get("x-csrftoken", "")
    if not cookie or not sent:
        return "the form carries no token: reload the page and try again"
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"a write from another site ({site})"
    return None


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def act(datasette: Datasette, request: Request) -> Response:
    if request.method != "POST":
        return _text("Actions are POSTs: use the buttons of the reading page.", 405)
    form = {k: str(v) for k, v in (await request.post_vars()).items()}
    why = _refusal(datasette, request, form)
    if why:
        return _text(f"Refused: {why}.", 403)
    paths = _paths(datasette)
    try:
        done: Done = await _off_loop(page.act, paths, form)
    except ActionError as e:
        if _wants_json(request):
            return Response.json({"ok": False, "error": str(e)}, status=400)
        return _text(f"Could not do that: {e}", 400)
    if _wants_json(request):
        return await _json_answer(datasette, request, paths, form, done)
    return Response.redirect(_next_url(form, done), status=303)


async def _json_answer(
    datasette: Datasette, request: Request, paths: api.Paths, form: Mapping[str, str], done: Done
) -> Response:
    ui = _ui(datasette, request)
    ui.next = _safe_next(form.get("next", ""))
    entry_id = int(form["entry"])
    budget = _why_budget(datasette)
    card = await _off_loop(page.no_wait, paths, page.render_card, entry_id, ui, budget)
    undo = None if done.undo is None else vars(done.undo)
    body = {"ok": True, "message": done.message, "undo": undo, "card": card}
    return Response(json.dumps(body), content_type="application/json; charset=utf-8")


def _safe_next(url: str) -> str:
    url = url.split("#", 1)[0]
    return url if _SAFE_NEXT.match(url) else page.BASE


def _next_url(form: Mapping[str, str], done: Done) -> str:
    """Back where the form was, with the message and the undo for the page to show."""
    base = _safe_next(form.get("next", ""))
    flash = {"done": done.message}
    if done.undo is not None:
        flash.update(undo=done.undo.action, undo_entry=str(done.undo.entry), undo_arg=done.undo.arg)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{urlencode(flash)}#e{form.get('entry', '')}"


async def home(datasette: Datasette, request: Request) -> Response:
    return Response.redirect(page.BASE, status=302)


ROUTES: list[tuple[str, Handler]] = [
    (r"^/$", home),
    (r"^/-/papers/?$", today),
    (r"^/-/papers/unread$", _listing("unread")),
    (r"^/-/papers/starred$", _listing("starred")),
    (r"^/-/papers/all$", _listing("all")),
    (r"^/-/papers/tag/(?P<tag>[^/]+)$", _listing("tag")),
    (r"^/-/papers/search$", search),
    (r"^/-/papers/act$", act),
    (r"^/-/papers/why$", why),
    (r"^/-/papers/ranking$", ranking),
    (r"^/-/papers/static/(?P<name>[a-z.]+)$", static),
    (r"^/-/papers/(?P<id>\d+)$", paper),
]
