"""The reading page: the reading list as paper cards you act on, served by the same
Datasette (papertrail.browse.plugin registers these routes), one click from its tables.

Views (GET): Today (the digest's window, grouped by domain, ranked as the digest
is: api.digest), Unread, Starred, a tag, a domain (api.list_entries), Search
(api.search: the engine and relevance order of `papertrail search`, with its
filters) and a paper page (api.show, api.explain_entry). Actions (POST /-/papers/act)
run papertrail.browse.actions: the API calls the CLI makes. They are refused unless
the server writes (loopback, papertrail.browse.guard), the form carries Datasette's
CSRF token matching its cookie, and the browser says the request is same-origin.

Rendering is plain Jinja (papertrail.reading.cards' environment, autoescaped) over
page/ and the card templates; page.css, cards.css and page.js are served from the
package by `static`, so the page makes no request elsewhere (a strict CSP says so).
Imports no Datasette: the plugin wraps these functions in its Response objects.

May import: as the browse package (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urlencode

from papertrail import api
from papertrail.browse.actions import ACTIONS, ActionError, Done, offered, run_action
from papertrail.models import Entry
from papertrail.reading import cards
from papertrail.reading.digest import group_by_domain

if TYPE_CHECKING:
    import jinja2

T = TypeVar("T")
PAGE_DIR = Path(__file__).parent / "page"
BASE = "/-/papers"
ACT_URL = BASE + "/act"
TODAY_SINCE = "24h"  # the digest's default window (`papertrail digest --since`)
PER_DOMAIN = 25  # cards per domain on Today; the rest one click away ("N more in …")
LIST_LIMIT = 60  # cards per page of a list, a search or one domain of Today
# The arguments a view's URL keeps from one page to the next (paging adds its own:
# `after` — the last card's id — for lists in date order, `start` for the others).
VIEW_ARGS = ("q", "domain", "tag", "kind", "since", "sort", "unread", "starred")
# Seconds spent explaining scores before a list page shows: none. One explanation
# rebuilds the similarity profile (ms on a small list, seconds with thousands of stars
# or millions of entries), so the page shows at once and page.js asks for the whys
# afterwards (`whys`); without JavaScript each card links to its paper page's full why.
WHY_BUDGET_S = 0.0
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)
CSP_HEADER = CSP + "; frame-ancestors 'none'"  # (frame-ancestors only counts as a header)
STATIC = {
    "page.css": (PAGE_DIR / "page.css", "text/css; charset=utf-8"),
    "page.js": (PAGE_DIR / "page.js", "text/javascript; charset=utf-8"),
    "cards.css": (cards.CARD_CSS, "text/css; charset=utf-8"),
    "datasette.css": (PAGE_DIR / "datasette.css", "text/css; charset=utf-8"),
}
_ENV: list[jinja2.Environment] = []


def environment() -> jinja2.Environment:
    if not _ENV:
        _ENV.append(cards.environment(PAGE_DIR))
    return _ENV[0]


@dataclass(frozen=True)
class Button:
    name: str
    key: str
    label: str
    title: str
    pressed: bool


@dataclass
class UI:
    """What the templates need of the page: URLs, the CSRF token, the actions."""

    writable: bool
    csrftoken: str
    next: str
    tables_url: str
    act_url: str = ACT_URL
    flash: Mapping[str, str] = field(default_factory=dict)

    def paper_url(self, entry_id: int) -> str:
        return f"{BASE}/{entry_id}"

    def tag_url(self, tag: str) -> str:
        return f"{BASE}/tag/{quote(tag, safe='')}"

    def list_url(self, **filters: str) -> str:
        return f"{BASE}/unread?" + urlencode(filters)

    def buttons(self, c: cards.Card) -> list[Button]:
        out = [
            Button("unstar" if c.starred else "star", "s", "★ Starred" if c.starred else "☆ Star",
                   "unstar" if c.starred else "star", c.starred),
            Button("unread" if c.read else "read", "r", "✓ Read" if c.read else "Mark read",
                   "mark unread" if c.read else "mark read", c.read),
        ]  # fmt: skip
        if offered("dismiss"):
            out.append(
                Button("undismiss" if c.dismissed else "dismiss", "x",
                       "✕ Not relevant" if c.dismissed else "Not relevant",
                       "relevant after all" if c.dismissed else "not relevant", c.dismissed)
            )  # fmt: skip
        return out

    @property
    def keys(self) -> list[tuple[str, str]]:
        keys = [("j/k", "next/previous"), ("s", "star"), ("r", "read")]
        if offered("dismiss"):
            keys.append(("x", "not relevant"))
        return keys + [("t", "tag"), ("n", "note"), ("o", "open arXiv"), ("u", "undo")]


@dataclass
class Group:
    """Cards under one heading (a domain of Today; a list has one unnamed group)."""

    heading: str
    cards: list[cards.Card]
    total: int  # how many the group holds in all
    more_url: str = ""  # the next cards of this group (Today: "N more in cs.LG")


@dataclass
class View:
    """One page of cards: a title, groups of cards, and links to the pages around it."""

    name: str  # today | unread | starred | all | tag | search
    title: str
    groups: list[Group]
    note: str = ""
    query: str = ""
    tags: list[api.TagCount] = field(default_factory=list)
    older_url: str = ""  # the next page
    older_label: str = "Next →"
    newer_url: str = ""  # the page before, or back to the first one
    newer_label: str = ""
    grouped: bool = False  # headings and an index of the groups (Today, all domains)
    reranking: bool = False  # scored by the model from before a refit under way (no_wait)


def view_url(path: str, filters: Mapping[str, str], **paging: str) -> str:
    """`path` with the view's own filters and the paging arguments given (flash
    messages and stale paging dropped)."""
    args = {k: filters[k] for k in VIEW_ARGS if filters.get(k)}
    args.update({k: v for k, v in paging.items() if v})
    return path + ("?" + urlencode(args) if args else "")


def _start(filters: Mapping[str, str]) -> int:
    text = filters.get("start") or "0"
    if not text.isdigit() or int(text) > 100_000:
        raise ValueError(f"start={text!r} is not a position: give a number of cards, e.g. 60")
    return int(text)


def _by_offset(view: View, path: str, filters: Mapping[str, str], start: int, more: bool) -> None:
    """Links to the pages around `start` (a search, a rank order, a domain of Today)."""
    if more:
        view.older_url = view_url(path, filters, start=str(start + LIST_LIMIT))
    if start:
        before = max(0, start - LIST_LIMIT)
        view.newer_url = view_url(path, filters, start=str(before) if before else "")
        view.newer_label = "← Previous" if before else "← First page"


def _cards(paths: api.Paths, entries: Sequence[Entry], budget_s: float) -> list[cards.Card]:
    extras = api.card_extras(paths, entries, budget_s=budget_s)
    now = datetime.now(timezone.utc)
    out = []
    for e in entries:
        c = cards.make_card(e, now=now, why=extras.why.get(e["id"], ""),
                            posts=extras.posts.get(e["id"], []))  # fmt: skip
        if e.get("snippet"):
            c.extra["snippet"] = str(e.get("snippet"))
        out.append(c)
    return out


def today(
    paths: api.Paths,
    since: str = TODAY_SINCE,
    why_budget_s: float = WHY_BUDGET_S,
    filters: Mapping[str, str] | None = None,
) -> View:
    """The digest's entries, grouped by domain in its order, the best PER_DOMAIN of each
    with a link to the rest; `filters` domain=… (and start=…) shows one domain whole,
    LIST_LIMIT cards a page, in the digest's order."""
    filters = dict(filters or {}, since=since if since != TODAY_SINCE else "")
    d = api.digest(paths, since=since, why_budget_s=0)
    grouped = group_by_domain(d)
    total = sum(len(es) for _, es in grouped)
    domain, start = filters.get("domain", ""), _start(filters)
    if domain:
        grouped = [(dom, es) for dom, es in grouped if dom == domain]
    cut = (start, start + LIST_LIMIT) if domain else (0, PER_DOMAIN)
    shown = [e for _, es in grouped for e in es[cut[0] : cut[1]]]
    made = {c.id: c for c in _cards(paths, shown, why_budget_s)}
    groups = [
        Group(dom, [made[e["id"]] for e in es[cut[0] : cut[1]]], len(es)) for dom, es in grouped
    ]
    note = f"first seen in the last {since}" if since[:-1].isdigit() else f"since {since}"
    note = f"{total:,} {'entry' if total == 1 else 'entries'} {note}"
    if d.hidden:
        note += f" · {d.hidden} hidden by block rules in feeds.yml"
    view = View("today", f"Today in {domain}" if domain else "Today", groups, note=note)
    view.grouped = not domain
    if domain:
        more = bool(grouped) and len(grouped[0][1]) > cut[1]
        _by_offset(view, BASE, filters, start, more)
        if not start:  # the first page of one domain: back to all of Today
            view.newer_url, view.newer_label = (
                view_url(BASE, {"since": filters["since"]}),
                "← All of Today",
            )
        if grouped:
            g, end = groups[0], start + len(groups[0].cards)
            view.note += f" · {start + 1}–{end} of {g.total}"
            view.older_label = f"{g.total - end} more in {domain} →"
    for g in [] if domain else groups:
        if g.total > len(g.cards):
            g.more_url = view_url(BASE, filters, domain=g.heading, start=str(len(g.cards)))
    return view


def _list_path(name: str, filters: Mapping[str, str]) -> str:
    if name == "tag":
        return f"{BASE}/tag/{quote(filters['tag'], safe='')}"
    return f"{BASE}/{name}"


def _position(paths: api.Paths, after: str) -> tuple[str, int]:
    """(date, id) of the card a page of a date-ordered list continues after."""
    found = api.select(paths, [after]) if after.isdigit() else []
    if not found:
        raise ValueError(f"after={after!r} names no entry: start again from the first page")
    e = found[0]
    return str(e["published"] if e.get("published") is not None else e["first_seen"]), e["id"]


def listing(
    paths: api.Paths, name: str, filters: Mapping[str, str], why_budget_s: float = WHY_BUDGET_S
) -> View:
    """Unread / Starred / a tag / a domain: api.list_entries, newest first (or best first),
    LIST_LIMIT a page: in date order a page continues after the last card of the one
    before (`after`: marking cards read on Unread shifts nothing), else by `start`."""
    flt = api.make_filter(
        domains=[filters["domain"]] if filters.get("domain") else [],
        tags=[filters["tag"]] if filters.get("tag") else [],
        kind=filters.get("kind") or None,
        unread=name == "unread",
        starred=name == "starred",
        since=filters.get("since") or None,
    )
    sort = "rank" if filters.get("sort") == "rank" else "date"
    after, start = filters.get("after", ""), _start(filters)
    if sort == "date":
        flt = replace(flt, older_than=_position(paths, after)) if after else flt
        start = 0
    entries = api.list_entries(paths, flt, sort=sort, limit=start + LIST_LIMIT + 1)[start:]
    more, entries = len(entries) > LIST_LIMIT, entries[:LIST_LIMIT]
    title = {"unread": "Unread", "starred": "Starred", "all": "Everything"}.get(name, name)
    if filters.get("tag"):
        title = f"#{filters['tag']}"
    if filters.get("domain"):
        title += f" in {filters['domain']}"
    path = _list_path(name, filters)
    found = _cards(paths, entries, why_budget_s)
    view = View(name, title, [Group("", found, len(found))])
    view.note = ("Best first" if sort == "rank" else "Newest first") if found else ""
    if sort == "date":
        if more:
            view.older_url = view_url(path, filters, after=str(entries[-1]["id"]))
            view.older_label = "Older →"
        if after:
            view.newer_url, view.newer_label = view_url(path, filters), "← Newest"
            view.note = f"Older than #{after}, newest first"
    else:
        _by_offset(view, path, filters, start, more)
        view.note += f" · {start + 1}–{start + len(found)}" if found else ""
    return view


def search(
    paths: api.Paths, filters: Mapping[str, str], why_budget_s: float = WHY_BUDGET_S
) -> View:
    """`papertrail search`: api.search with its filters, best match first, LIST_LIMIT a page."""
    query = (filters.get("q") or "").strip()
    if not query:
        return View(
            "search", "Search", [], note="Type words to search titles, abstracts and your notes."
        )
    flt = api.make_filter(
        domains=[filters["domain"]] if filters.get("domain") else [],
        tags=[filters["tag"]] if filters.get("tag") else [],
        kind=filters.get("kind") or None,
        unread=bool(filters.get("unread")),
        starred=bool(filters.get("starred")),
        since=filters.get("since") or None,
    )
    start = _start(filters)
    try:
        result = api.search(paths, query, flt, limit=start + LIST_LIMIT + 1)
    except api.SearchSyntaxError as e:
        return View("search", "Search", [], note=str(e), query=query)
    hits = result.entries[start : start + LIST_LIMIT]
    more = len(result.entries) > start + LIST_LIMIT
    note = "Nothing matches" if not hits else f"{start + 1}–{start + len(hits)}, best match first"
    if result.window:
        note += f" (among the newest {result.window:,} matches)"
    found = _cards(paths, hits, why_budget_s)
    view = View(
        "search", f"Search: {query}", [Group("", found, len(found))], note=note, query=query
    )
    _by_offset(view, f"{BASE}/search", filters, start, more)
    view.older_label = "More results →"
    return view


def no_wait(paths: api.Paths, build: Callable[..., T], *args: object) -> T:
    """`build(paths, *args)` as the page renders everything: it never waits for the
    refit a star (a dismissal, a tag) started; meanwhile the model from before scores,
    and a View built so says it (`reranking`: the page offers the new order when the
    refit is over). The CLI and the digest wait instead: they print the new order."""
    with api.previous_order(paths) as ranking:
        out = build(paths, *args)
    if isinstance(out, View):
        out.reranking = ranking.previous
    return out


def render_view(view: View, ui: UI, paths: api.Paths) -> str:
    tags = api.tag_counts(paths)
    return environment().get_template("list.html").render(view=view, ui=ui, tags=tags, csp=CSP)


def render_paper(paths: api.Paths, entry_id: int, ui: UI) -> str:
    """The paper page: the card in full, its score explained, versions, notes,
    sources, posts, reproductions and their last runs."""
    detail = api.show(paths, str(entry_id))
    (card,) = _cards(paths, [detail], budget_s=1.0)
    try:
        explanation = api.explain_entry(paths, str(entry_id))
    except (KeyError, api.ConfigError):
        explanation = None
    return (
        environment()
        .get_template("paper.html")
        .render(c=card, d=detail, why=explanation, ui=ui, tags=api.tag_counts(paths), csp=CSP)
    )


def render_card(paths: api.Paths, entry_id: int, ui: UI, why_budget_s: float = WHY_BUDGET_S) -> str:
    """One card, as an action leaves it (the page swaps it in place)."""
    (card,) = _cards(paths, [api.show(paths, str(entry_id))], budget_s=why_budget_s)
    template = environment().from_string('{% from "_card.html" import card %}{{ card(c, ui) }}')
    return template.render(c=card, ui=ui)


def whys(paths: api.Paths, ids: Sequence[int], budget_s: float = 0.5) -> dict[int, str]:
    """The one-line whys the page did not have time for (page.js asks for them after
    the page shows), as many as `budget_s` allows; the rest on the next request."""
    extras = api.card_extras(paths, _entries_by_id(paths, ids), budget_s=budget_s)
    return extras.why


def _entries_by_id(paths: api.Paths, ids: Sequence[int]) -> list[Entry]:
    return api.select(paths, [str(i) for i in ids])


def act(paths: api.Paths, form: Mapping[str, str]) -> Done:
    """Run the action a form names; ActionError with a sentence when it cannot."""
    name = form.get("action", "")
    entry = form.get("entry", "")
    if name not in ACTIONS or not offered(name):
        raise ActionError(f"unknown action {name!r}")
    if not entry.isdigit():
        raise ActionError(f"which entry? {entry!r} is not a short id")
    try:
        return run_action(paths, name, int(entry), form.get("arg", ""))
    except (KeyError, ValueError) as e:
        raise ActionError(str(e).strip("'\"")) from e
