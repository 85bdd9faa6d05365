"""The paper card: one entry as a reader sees it, shared by the reading page
(papertrail.browse) and the static HTML digest (papertrail.reading.digest).

`Card` is the entry made ready to show: authors shortened, the date in words,
only http(s) links, the posts that mention it. The markup is Jinja templates in
templates/ (`_card.html`, `cards.css`), rendered with autoescaping on: every
feed string is escaped there, and titles and abstracts pass through the `math`
filter, which escapes the text itself and turns inline TeX into MathML
(papertrail.reading.texmath). Nothing here does I/O but reading the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from papertrail.models import Entry
from papertrail.reading.digest_extras import KIND_LABELS
from papertrail.reading.texmath import text_with_math
from papertrail.text import CONTROL, HIT_END, HIT_START, clean

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
CARD_CSS = TEMPLATES / "cards.css"
MAX_AUTHORS = 3
ARXIV_ABS, ARXIV_PDF = "https://arxiv.org/abs/", "https://arxiv.org/pdf/"
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def safe_url(url: object) -> str | None:
    """The URL when it is an absolute http(s) URL, else None (never link it)."""
    text = clean(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def human_date(iso: str | None, now: datetime) -> str:
    """ "today", "yesterday", "3 days ago" within a week, else "2 Nov 2026"."""
    moment = _parse(iso)
    if moment is None:
        return ""
    days = (now.date() - moment.astimezone(timezone.utc).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def human_moment(iso: str | None, now: datetime) -> str:
    """A moment as a reader says it: "today at 13:36 UTC", "yesterday at 09:05 UTC",
    "3 days ago", then "2 Nov 2026" (the ISO text when it is not a date)."""
    moment = _parse(iso)
    if moment is None:
        return clean(iso)
    words = human_date(iso, now)
    if words in ("today", "yesterday"):
        words += f" at {moment.astimezone(timezone.utc):%H:%M} UTC"
    return words


def short_authors(names: Sequence[str], n: int = MAX_AUTHORS) -> str:
    """The first `n` authors, then "et al." when there are more."""
    shown = [clean(a) for a in names if clean(a)]
    return ", ".join(shown[:n]) + (" et al." if len(shown) > n else "")


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class Card:
    """One entry as a card shows it; strings are the feed's text, escaped when rendered."""

    id: int
    kind: str
    title: str
    href: str | None  # where the title points outside papertrail: arXiv, else the post
    authors: str
    all_authors: str
    date_words: str
    date_iso: str
    arxiv_label: str
    domains: list[str]
    tags: list[str]
    sources: list[str]
    discussed_by: int
    posts: list[Link]  # the posts mentioning it that have an http(s) URL
    score: float | None
    why: str
    links: list[Link]  # arXiv, PDF, code and other http(s) links
    unsafe_url: str  # a link that is not http(s): shown as text, never linked
    abstract: str
    starred: bool
    read: bool
    dismissed: bool
    extra: dict[str, str] = field(default_factory=dict)


def _links(entry: Entry) -> list[Link]:
    out: list[Link] = []
    arxiv_id = clean(entry.get("arxiv_id"))
    if arxiv_id:
        path = quote(arxiv_id, safe="/.")
        out += [Link("arXiv", ARXIV_ABS + path), Link("PDF", ARXIV_PDF + path)]
    for code in entry.get("code_links") or []:  # repositories, models, project pages
        href = safe_url(code.get("url"))
        if href and href not in (link.href for link in out):
            out.append(Link(KIND_LABELS.get(code.get("kind", ""), "code"), href))
    for name, url in sorted((entry.get("links") or {}).items()):
        href = safe_url(url)
        if (
            href
            and name not in ("abs", "pdf", "alternate", "related")
            and href not in (link.href for link in out)
        ):
            out.append(Link(clean(name), href))
    post_url = safe_url(entry.get("url"))
    if post_url and entry.get("kind") == "post":
        out.append(Link(urlsplit(post_url).netloc or "link", post_url))
    return out


def make_card(
    entry: Entry,
    *,
    now: datetime,
    why: str = "",
    posts: Sequence[Mapping[str, object]] = (),
) -> Card:
    """`entry` as a card; `why` is its score's one-line reason, `posts` the posts
    mentioning it (dicts with title and url)."""
    links = _links(entry)
    date = entry.get("published") or entry.get("first_seen")
    arxiv_id = clean(entry.get("arxiv_id"))
    version = entry.get("version")
    url = clean(entry.get("url"))
    return Card(
        id=int(entry["id"]),
        kind=str(entry.get("kind") or "paper"),
        title=clean(entry.get("title")) or "(untitled)",
        href=(links[0].href if links else None),
        authors=short_authors(entry.get("authors") or []),
        all_authors=", ".join(clean(a) for a in entry.get("authors") or []),
        date_words=human_date(date, now),
        date_iso=clean(date),
        arxiv_label=(f"{arxiv_id}" + (f"v{version}" if version else "")) if arxiv_id else "",
        domains=[clean(d) for d in entry.get("domains") or []],
        tags=[clean(t) for t in entry.get("tags") or []],
        sources=[clean(s) for s in entry.get("sources") or []],
        discussed_by=int(entry.get("mentioned_by") or 0),
        posts=[
            Link(clean(p.get("title")) or "a post", href)
            for p in posts
            if (href := safe_url(p.get("url")))
        ],
        score=entry.get("score"),
        why=clean(why),
        links=links,
        unsafe_url=url if url and not safe_url(url) else "",
        abstract=" ".join(str(entry.get("summary") or "").split()),
        starred=bool(entry.get("starred")),
        read=bool(entry.get("read")),
        dismissed=bool(entry.get("dismissed")),
    )


def math(text: object) -> Markup:
    """Jinja filter: feed text escaped, inline TeX as MathML."""
    from markupsafe import Markup  # heavy (Jinja's): only rendering HTML needs it

    return Markup(text_with_math(clean(text)))


def trusted_html(html_text: str) -> Markup:
    """HTML built by our own renderers, which escaped every feed string already
    (papertrail.reading.digest_extras), marked so Jinja does not escape it twice."""
    from markupsafe import Markup  # heavy (Jinja's): only rendering HTML needs it

    return Markup(html_text)


def snippet(text: object) -> Markup:
    """Jinja filter: a search snippet escaped, its hits in <mark>."""
    from markupsafe import Markup, escape  # heavy (Jinja's): only rendering HTML needs it

    out: list[str] = []
    for n, part in enumerate(str(text or "").replace(HIT_END, HIT_START).split(HIT_START)):
        piece = str(escape(" ".join(CONTROL.sub(" ", part).split(" "))))
        out.append(f"<mark>{piece}</mark>" if n % 2 and piece else piece)
    return Markup(" ".join("".join(out).split()))


def card_css() -> Markup:
    """The card stylesheet, for the digest's <style> (the package's own file, not feed
    text: not escaped, which inside <style> would break its quoted font names)."""
    from markupsafe import Markup  # heavy (Jinja's): only rendering HTML needs it

    return Markup(CARD_CSS.read_text(encoding="utf-8"))


def environment(*template_dirs: Path) -> jinja2.Environment:
    """A Jinja environment over `template_dirs` then the card templates, autoescaping
    everything, with the `math` filter."""
    import jinja2  # heavy: only rendering HTML needs it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*map(str, template_dirs), str(TEMPLATES)]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["math"] = math
    env.filters["snippet"] = snippet
    env.globals["card_css"] = card_css
    return env
