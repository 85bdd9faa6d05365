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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from papertrail import api
from papertrail.browse.actions import ACTIONS, ActionError, Done, offered, run_action
from papertrail.models import Entry
from papertrail.reading import cards
from papertrail.reading.digest import group_by_domain

if TYPE_CHECKING:
    import jinja2

PAGE_DIR = Path(__file__).parent / "page"
BASE = "/-/papers"
ACT_URL = BASE + "/act"
TODAY_SINCE = "24h"  # the digest's default window (`papertrail digest --since`)
PER_DOMAIN = 25  # cards per domain on Today; the rest one click away
LIST_LIMIT = 60
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
class View:
    """One page of cards: a title, groups of cards (one unnamed group for a list)."""

    name: str  # today | unread | starred | tag | search | domain
    title: str
    groups: list[tuple[str, list[cards.Card], int]]  # (heading, cards, how many in all)
    note: str = ""
    query: str = ""
    tags: list[api.TagCount] = field(default_factory=list)


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


def today(paths: api.Paths, since: str = TODAY_SINCE, why_budget_s: float = WHY_BUDGET_S) -> View:
    """The digest's entries, grouped by domain in its order, the best PER_DOMAIN each."""
    d = api.digest(paths, since=since, why_budget_s=0)
    groups = []
    shown: list[Entry] = []
    for domain, entries in group_by_domain(d):
        shown += entries[:PER_DOMAIN]
        groups.append((domain, entries[:PER_DOMAIN], len(entries)))
    made = {c.id: c for c in _cards(paths, shown, why_budget_s)}
    view_groups = [(dom, [made[e["id"]] for e in es], n) for dom, es, n in groups]
    note = f"First seen in the last {since}" if since[:-1].isdigit() else f"Since {since}"
    if d.hidden:
        note += f" · {d.hidden} hidden by block rules in feeds.yml"
    return View("today", "Today", view_groups, note=note)


def listing(
    paths: api.Paths, name: str, filters: Mapping[str, str], why_budget_s: float = WHY_BUDGET_S
) -> View:
    """Unread / Starred / a tag / a domain: api.list_entries, newest first (or best first)."""
    flt = api.make_filter(
        domains=[filters["domain"]] if filters.get("domain") else [],
        tags=[filters["tag"]] if filters.get("tag") else [],
        kind=filters.get("kind") or None,
        unread=name == "unread",
        starred=name == "starred",
        since=filters.get("since") or None,
    )
    sort = "rank" if filters.get("sort") == "rank" else "date"
    entries = api.list_entries(paths, flt, sort=sort, limit=LIST_LIMIT)
    title = {"unread": "Unread", "starred": "Starred", "all": "Everything"}.get(name, name)
    if filters.get("tag"):
        title = f"#{filters['tag']}"
    if filters.get("domain"):
        title += f" in {filters['domain']}"
    order = "best first" if sort == "rank" else "newest first"
    note = f"{len(entries)} shown, {order}" + (
        " (the first {LIST_LIMIT})" if len(entries) == LIST_LIMIT else ""
    )
    return View(name, title, [("", _cards(paths, entries, why_budget_s), len(entries))], note=note)


def search(
    paths: api.Paths, filters: Mapping[str, str], why_budget_s: float = WHY_BUDGET_S
) -> View:
    """`papertrail search`: api.search with its filters, best match first."""
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
    try:
        result = api.search(paths, query, flt, limit=LIST_LIMIT)
    except api.SearchSyntaxError as e:
        return View("search", "Search", [], note=str(e), query=query)
    note = f"{len(result.entries)} found, best match first"
    if result.window:
        note += f" (among the newest {result.window:,} matches)"
    found = _cards(paths, result.entries, why_budget_s)
    return View("search", f"Search: {query}", [("", found, len(found))], note=note, query=query)


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


def render_card(
    paths: api.Paths, entry_id: int, ui: UI, why_budget_s: float = WHY_BUDGET_S
) -> str:
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
