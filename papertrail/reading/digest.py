"""Render the daily digest: data in, string out.

`api.build_digest` builds a `Digest` (entries already sorted within each domain, most
discussed first); `render` turns it into text for the terminal, Markdown,
a standalone HTML page, JSON, or an Atom feed. Nothing here does I/O.

Every piece of feed text is untrusted. The text format strips control
characters (no terminal escape injection), Markdown escapes its markup
characters and `<`, and HTML is the reading page's card templates
(papertrail.reading.cards: autoescaped) with links only for http(s) URLs under a
strict Content-Security-Policy;
Atom is built with xml.etree (escaped) after stripping what XML 1.0 forbids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from papertrail import __version__
from papertrail.models import Entry
from papertrail.reading import cards
from papertrail.reading import digest_extras as extras
from papertrail.reading.trending import TrendingPaper
from papertrail.text import clean

FORMATS = ("text", "markdown", "html", "json", "atom")
FALLBACK_DOMAIN = "other"  # entries no domain rule speaks for (archive imports outside ML)
ARXIV_ABS = "https://arxiv.org/abs/"
ARXIV_PDF = "https://arxiv.org/pdf/"
MAX_AUTHORS = 3
SUMMARY_CHARS = 300
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass
class FetchSummary:
    sources_ok: int
    sources_failed: int
    sources_not_modified: int = 0
    sources_skipped: int = 0
    new_papers: int = 0
    new_posts: int = 0
    updated_versions: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source name, error sentence)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (source name, warning)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (source name, new permanent URL)


@dataclass
class Digest:
    title: str
    generated_at: str  # ISO 8601 UTC
    since: str | None  # window start; None = "since the previous fetch"
    until: str | None
    domain_order: list[str]
    entries: list[Entry]  # sorted within domains by the caller
    updates: list[Entry] = field(default_factory=list)  # new versions of starred papers
    summary: FetchSummary | None = None
    hidden: int = 0  # entries in the window left out by the block rules in feeds.yml
    trending: list[TrendingPaper] = field(default_factory=list)  # the section it opens with
    # ranking.follow_tags: (tag, the window's entries most like that tag's profile)
    tag_sections: list[tuple[str, list[Entry]]] = field(default_factory=list)
    why: dict[int, str] = field(default_factory=dict)  # id -> its score's reason (HTML)


# ---------------------------------------------------------------- grouping


def _primary_domain(entry: Entry) -> str:
    domains = entry.get("domains") or []
    return str(domains[0]) if domains else FALLBACK_DOMAIN


def group_by_domain(digest: Digest) -> list[tuple[str, list[Entry]]]:
    """Each entry once, under its first domain; groups in `domain_order`, unknown
    domains after it alphabetically, empty groups omitted; papers before posts."""
    groups: dict[str, list[Entry]] = {}
    seen: set[Any] = set()
    for entry in digest.entries:
        key = entry.get("id")
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        groups.setdefault(_primary_domain(entry), []).append(entry)
    known = [d for d in dict.fromkeys(digest.domain_order) if d in groups]
    unknown = sorted(d for d in groups if d not in known)
    return [(d, sorted(groups[d], key=lambda e: e.get("kind") != "paper")) for d in known + unknown]


# ---------------------------------------------------------------- shared helpers

_clean = clean  # the renderers below use the short name


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _authors(entry: Entry) -> str:
    names = [_clean(a) for a in entry.get("authors") or []]
    shown = ", ".join(names[:MAX_AUTHORS])
    return f"{shown} et al." if len(names) > MAX_AUTHORS else shown


def _shorten(text: Any, limit: int = SUMMARY_CHARS) -> str:
    text = _clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def _arxiv_links(entry: Entry) -> tuple[str, str, str] | None:
    """(label, abs URL, pdf URL) for an entry with an arXiv id."""
    arxiv_id = _clean(entry.get("arxiv_id"))
    if not arxiv_id:
        return None
    path = quote(arxiv_id, safe="/.")
    version = entry.get("version")
    label = f"arXiv:{arxiv_id}" + (f" v{version}" if version else "")
    return label, ARXIV_ABS + path, ARXIV_PDF + path


def _link(entry: Entry) -> str | None:
    """Where the entry's title should point: its URL, else its arXiv abs page."""
    url = cards.safe_url(entry.get("url"))
    if url:
        return url
    links = _arxiv_links(entry)
    return links[1] if links else None


def _counts(entries: Sequence[Entry]) -> str:
    papers = sum(1 for e in entries if e.get("kind") == "paper")
    parts = []
    if papers:
        parts.append(_plural(papers, "paper"))
    if len(entries) - papers:
        parts.append(_plural(len(entries) - papers, "post"))
    return ", ".join(parts)


def _mentions(entry: Entry) -> str:
    n = int(entry.get("mentioned_by") or 0)
    return f"mentioned by {n} sources" if n >= 2 else ""


def _window(digest: Digest, when: Callable[[str], str] = _clean) -> str:
    since, until = when(_clean(digest.since)), when(_clean(digest.until))
    if since and until:
        window = f"{since} → {until}"
    elif since:
        window = f"since {since}"
    elif until:
        window = f"until {until}"
    else:
        window = "since the previous fetch"
    if digest.hidden:
        window += f" · {_plural(digest.hidden, 'entry', 'entries')} hidden by block rules"
    return window


def _nothing_new(digest: Digest) -> str:
    since, until = _clean(digest.since), _clean(digest.until)
    if since and until:
        return f"No entries between {since} and {until}."
    if since:
        return f"No entries since {since}."
    if until:
        return f"No entries until {until}."
    return "Nothing new since the last fetch."


def _version_change(entry: Entry) -> str:
    prev, new = entry.get("previous_version"), entry.get("version")
    return f"v{prev or '?'} → v{new or '?'}"


def _summary_line(s: FetchSummary) -> str:
    sources = f"{_plural(s.sources_ok, 'source')} ok, {s.sources_failed} failed"
    if s.sources_not_modified:
        sources += f", {s.sources_not_modified} not modified"
    if s.sources_skipped:
        sources += f", {s.sources_skipped} skipped"
    return " · ".join(
        [
            sources,
            _plural(s.new_papers, "new paper"),
            _plural(s.new_posts, "new post"),
            _plural(s.updated_versions, "updated version"),
        ]
    )


def _summary_notes(s: FetchSummary) -> list[tuple[str, str]]:
    """(kind, sentence) per failure, warning and moved source; kind is failed|warning|moved."""
    notes = [("failed", f"{_clean(n)}: {_clean(e)}") for n, e in s.failures]
    notes += [("warning", f"{_clean(n)}: {_clean(w)}") for n, w in s.warnings]
    notes += [
        ("moved", f"{_clean(n)} moved permanently to {_clean(u)} — update its url in feeds.yml")
        for n, u in s.moved
    ]
    return notes


_NOTE_MARK = {"failed": "✗", "warning": "!", "moved": "→"}


def render_summary(summary: FetchSummary) -> str:
    """Just the fetch summary: the counts line, then one line per failure,
    warning and moved source (what `papertrail fetch --quiet` prints)."""
    lines = [_summary_line(summary)]
    lines += [f"  {_NOTE_MARK[kind]} {note}" for kind, note in _summary_notes(summary)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- text


@dataclass
class _Line:
    text: str
    style: str = ""
    indent: int = 0  # continuation indent; the mark sits in the first line's indent
    mark: str = ""
    wrap: bool = True


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap by terminal cells; words wider than a line (CJK titles) are chopped."""
    from rich.cells import cell_len, chop_cells  # heavy (~20 ms): only the text format needs it

    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if cell_len(candidate) <= width:
            current = candidate
        elif cell_len(word) <= width:
            lines.append(current)
            current = word
        else:
            if current:
                lines.append(current)
            *full, current = chop_cells(word, width)
            lines.extend(full)
    lines.append(current)
    return lines


def _emit(lines: list[_Line], *, color: bool, width: int) -> str:
    from rich.cells import cell_len  # heavy: see _wrap
    from rich.color import ColorSystem
    from rich.style import Style

    out: list[str] = []
    for line in lines:
        first = " " * max(line.indent - cell_len(line.mark), 0) + line.mark
        rest = " " * line.indent
        body = line.text
        parts = _wrap(body, max(width - line.indent, 20)) if line.wrap and body else [body]
        for i, part in enumerate(parts):
            if color and line.style and part:
                part = Style.parse(line.style).render(part, color_system=ColorSystem.STANDARD)
            out.append(((first if i == 0 else rest) + part).rstrip(" "))
    return "\n".join(out) + "\n"


def _text_entry(entry: Entry, *, update: bool = False) -> list[_Line]:
    title = _clean(entry.get("title")) or "(untitled)"
    lines: list[_Line] = []
    if entry.get("kind") == "post" and not update:
        sources = ", ".join(_clean(s) for s in entry.get("sources") or [])
        head = f"[{sources}] {title}" if sources else title
        lines.append(_Line(head, "bold", 4, "• "))
        if entry.get("url"):
            lines.append(_Line(_clean(entry.get("url")), "blue", 4, wrap=False))
    else:
        if update:
            title = f"{title}  ({_version_change(entry)})"
        lines.append(_Line(title, "bold", 4, "• "))
        if authors := _authors(entry):
            lines.append(_Line(authors, "", 4))
        if links := _arxiv_links(entry):
            lines.append(_Line(f"{links[0]}  {links[1]}", "blue", 4, wrap=False))
        elif entry.get("url"):
            lines.append(_Line(_clean(entry.get("url")), "blue", 4, wrap=False))
        if categories := ", ".join(_clean(c) for c in entry.get("categories") or []):
            lines.append(_Line(categories, "dim", 4))
        if code := extras.code_text(entry):
            lines.append(_Line(code, "green", 4))
    if mentions := _mentions(entry):
        lines.append(_Line(mentions, "yellow", 4))
    return lines


def _heading(text: str, rule: str, style: str, width: int) -> list[_Line]:
    from rich.cells import cell_len  # heavy: see _wrap

    return [_Line(text, style), _Line(rule * min(cell_len(text), width), style, wrap=False)]


def _more_line(digest: Digest, domain: str, entries: list[Entry], shown: int) -> _Line:
    """'… and N more — papertrail list --domain D --since T -n M': the command that
    lists the whole group (the window's start, else the group's earliest first_seen)."""
    since = digest.since or min(str(e.get("first_seen") or "") for e in entries) or "24h"
    # `list --domain` also matches entries for which the domain is not the first one
    n = sum(1 for e in digest.entries if domain in (e.get("domains") or []))
    command = f"papertrail list --domain {domain} --since {since} -n {max(n, len(entries))}"
    if domain == FALLBACK_DOMAIN:
        command = f"papertrail list --since {since} -n {len(digest.entries)}"
    return _Line(f"… and {len(entries) - shown:,} more — {command}", "dim", 4, wrap=False)


def _render_text(digest: Digest, *, color: bool, width: int, per_domain: int | None) -> str:
    width = max(width, 40)
    lines = _heading(_clean(digest.title), "═", "bold", width)
    lines.append(_Line(f"Generated {_clean(digest.generated_at)} · {_window(digest)}", "dim"))
    if digest.trending:
        lines += [_Line(""), *_heading(extras.trending_title(digest.since), "─", "bold", width)]
        lines += [_Line(t, "", i, m) for t, i, m in extras.trending_text(digest.trending)]
    groups = group_by_domain(digest)
    if not groups:
        lines += [_Line(""), _Line(_nothing_new(digest))]
    for domain, entries in groups:
        lines.append(_Line(""))
        lines += _heading(f"{_clean(domain)} — {_counts(entries)}", "─", "bold cyan", width)
        shown = entries[:per_domain] if per_domain else entries
        for entry in shown:
            lines += _text_entry(entry)
        if len(shown) < len(entries):
            lines.append(_more_line(digest, _clean(domain), entries, len(shown)))
    if digest.updates:
        lines.append(_Line(""))
        lines += _heading("Updated versions of starred papers", "─", "bold cyan", width)
        for entry in digest.updates:
            lines += _text_entry(entry, update=True)
    for tag, entries in digest.tag_sections:
        lines.append(_Line(""))
        lines += _heading(f"Like your tag {_clean(tag)}", "─", "bold cyan", width)
        for entry in entries:
            lines += _text_entry(entry)
    if digest.summary:
        lines += [_Line(""), _Line(_summary_line(digest.summary), "bold")]
        styles = {"failed": "red", "warning": "yellow", "moved": "yellow"}
        for kind, note in _summary_notes(digest.summary):
            lines.append(_Line(note, styles[kind], 4, _NOTE_MARK[kind] + " "))
    return _emit(lines, color=color, width=width)


# ---------------------------------------------------------------- markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#|~$])")
_MD_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=])")


def _md(value: Any) -> str:
    """Feed text as inert Markdown: markup characters backslash-escaped, `&<>` as entities."""
    text = _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def _md_url(url: str) -> str:
    for char, code in (("\\", "%5C"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = url.replace(char, code)
    return f"<{url}>"


def _md_link(text: str, url: str | None) -> str:
    return f"[{text}]({_md_url(url)})" if url else text


def _md_entry(entry: Entry, *, update: bool = False) -> str:
    title = _md_link(f"**{_md(entry.get('title')) or '(untitled)'}**", _link(entry))
    parts: list[str] = []
    if entry.get("kind") == "post" and not update:
        sources = ", ".join(_md(s) for s in entry.get("sources") or [])
        head = f"\\[{sources}\\] {title}" if sources else title
    else:
        head = f"{title} ({_version_change(entry)})" if update else title
        if authors := _authors(entry):
            parts.append(_md(authors))
        if links := _arxiv_links(entry):
            parts.append(f"{_md_link(_md(links[0]), links[1])} ([pdf]({_md_url(links[2])}))")
        if categories := ", ".join(_md(c) for c in entry.get("categories") or []):
            parts.append(categories)
        if code := extras.code_markdown(entry):
            parts.append(code)
    if not cards.safe_url(entry.get("url")) and _clean(entry.get("url")):
        parts.append(f"link not shown: {_md(entry.get('url'))}")
    if mentions := _mentions(entry):
        parts.append(f"*{mentions}*")
    return "- " + " — ".join([head, *parts])


def _render_markdown(digest: Digest) -> str:
    out = [
        f"# {_md(digest.title)}",
        "",
        f"*Generated {_md(digest.generated_at)} · {_md(_window(digest))}*",
    ]
    if digest.trending:
        out += [
            "",
            *extras.trending_markdown(digest.trending, _md, extras.trending_title(digest.since)),
        ]
    groups = group_by_domain(digest)
    if not groups:
        out += ["", _md(_nothing_new(digest))]
    for domain, entries in groups:
        out += ["", f"## {_md(domain)} ({_counts(entries)})", ""]
        out += [_md_entry(e) for e in entries]
    if digest.updates:
        out += ["", "## Updated versions of starred papers", ""]
        out += [_md_entry(e, update=True) for e in digest.updates]
    for tag, entries in digest.tag_sections:
        out += ["", f"## Like your tag {_md(tag)}", ""]
        out += [_md_entry(e) for e in entries]
    if digest.summary:
        out += ["", "## Fetch summary", "", _md(_summary_line(digest.summary))]
        notes = _summary_notes(digest.summary)
        if notes:
            out += [""] + [f"- {_NOTE_MARK[kind]} {_md(note)}" for kind, note in notes]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- html


def _anchor(domain: str) -> str:
    return "d-" + (re.sub(r"[^a-z0-9]+", "-", domain.lower()).strip("-") or "other")


def _html_card(
    entry: Entry, now: datetime, why: dict[int, str], *, update: bool = False
) -> cards.Card:
    card = cards.make_card(entry, now=now, why=why.get(entry["id"], ""))
    if update:
        card.extra["version_change"] = _version_change(entry)
    return card


def _render_html(digest: Digest) -> str:
    """The reading page's cards as one static page (papertrail.reading.cards): an
    index of domains, short ids, ★, score, full abstracts, dates in words."""
    now = datetime.now(timezone.utc)
    groups = [
        {
            "name": _clean(domain),
            "anchor": _anchor(_clean(domain)),
            "counts": _counts(entries),
            "cards": [_html_card(e, now, digest.why) for e in entries],
        }
        for domain, entries in group_by_domain(digest)
    ]
    generated = _clean(digest.generated_at)
    summary = digest.summary
    return (
        cards.environment()
        .get_template("digest.html")
        .render(
            csp=CSP,
            title=_clean(digest.title),
            generated=cards.human_moment(generated, now),
            window=_window(digest, lambda iso: cards.human_moment(iso, now) if iso else ""),
            nothing_new=_nothing_new(digest),
            groups=groups,
            trending=cards.trusted_html(
                extras.trending_html(
                    digest.trending,
                    extras.TRENDING_TITLE
                    if digest.since is None
                    else f"Discussed since {cards.human_moment(digest.since, now)}",
                )
            )
            if digest.trending
            else "",
            tag_sections=[
                {
                    "tag": _clean(tag),
                    "anchor": _anchor("tag-" + _clean(tag)),
                    "cards": [_html_card(e, now, digest.why) for e in entries],
                }
                for tag, entries in digest.tag_sections
            ],  # fmt: skip
            updates=[_html_card(e, now, digest.why, update=True) for e in digest.updates],
            summary_line=_summary_line(summary) if summary else "",
            summary_notes=[(k, _NOTE_MARK[k], n) for k, n in _summary_notes(summary)]
            if summary
            else [],
        )
    ).rstrip("\n") + "\n"


# ---------------------------------------------------------------- json

_JSON_KEYS = (
    "id",
    "kind",
    "title",
    "url",
    "arxiv_id",
    "version",
    "domains",
    "sources",
    "first_seen",
)


def _json_entry(entry: Entry) -> dict[str, Any]:
    return {**dict.fromkeys(_JSON_KEYS), **entry}


def _render_json(digest: Digest) -> str:
    groups = group_by_domain(digest)
    data = {
        "title": digest.title,
        "generated_at": digest.generated_at,
        "since": digest.since,
        "until": digest.until,
        "hidden": digest.hidden,
        "trending": extras.trending_json(digest.trending),
        "entries": [_json_entry(e) for _, entries in groups for e in entries],
        "updates": [_json_entry(e) for e in digest.updates],
        "summary": dataclasses.asdict(digest.summary) if digest.summary else None,
        "groups": [{"domain": d, "count": len(entries)} for d, entries in groups],
        "tag_sections": [
            {"tag": t, "entries": [_json_entry(e) for e in es]} for t, es in digest.tag_sections
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


# ---------------------------------------------------------------- atom

ATOM_NS = "http://www.w3.org/2005/Atom"
# Stable across runs, so a reader that subscribed to the file keeps one feed.
ATOM_FEED_ID = "tag:papertrail,2024:digest"
_ATOM_TAG = "tag:papertrail,2024:"
_XML_INVALID = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def _x(value: Any) -> str:
    """Feed text for XML: one clean line with nothing XML 1.0 forbids."""
    return _clean(None if value is None else _XML_INVALID.sub("", str(value)))


def _rfc3339(value: Any, fallback: str) -> str:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return fallback
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.isoformat(timespec="seconds")


def _atom_id(entry: Entry, *, update: bool = False) -> str:
    """The arXiv abs URL for a paper (versioned for an update, so a reader shows
    the new version as a new item); a tag: URI from the post's URL otherwise."""
    if links := _arxiv_links(entry):
        version = entry.get("version")
        return f"{links[1]}v{version}" if update and version else links[1]
    basis = _clean(entry.get("url")) or f"{entry.get('id')}:{_clean(entry.get('title'))}"
    return _ATOM_TAG + "post:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:20]


def _atom_entry(feed: ET.Element, entry: Entry, *, update: bool, fallback: str) -> None:
    el = ET.SubElement(feed, "entry")
    ET.SubElement(el, "id").text = _x(_atom_id(entry, update=update))
    title = _x(entry.get("title")) or "(untitled)"
    ET.SubElement(el, "title").text = f"{title} ({_version_change(entry)})" if update else title
    changed = entry.get("version_updated_at") if update else None
    updated = changed or entry.get("updated") or entry.get("published") or entry.get("first_seen")
    ET.SubElement(el, "updated").text = _rfc3339(updated, fallback)
    if entry.get("published"):
        ET.SubElement(el, "published").text = _rfc3339(entry["published"], fallback)
    if link := _link(entry):
        ET.SubElement(el, "link", rel="alternate", href=_x(link))
    if links := _arxiv_links(entry):
        ET.SubElement(el, "link", rel="related", type="application/pdf", title="pdf", href=links[2])
    for name in entry.get("authors") or []:
        if name := _x(name):
            ET.SubElement(ET.SubElement(el, "author"), "name").text = name
    for domain in entry.get("domains") or []:
        if domain := _x(domain):
            ET.SubElement(el, "category", term=domain)
    if summary := _x(entry.get("summary")):
        ET.SubElement(el, "summary", type="text").text = summary


def render_atom(digest: Digest, *, self_url: str | None = None) -> str:
    """The digest as an Atom 1.0 feed (RFC 4287) a feed reader can subscribe to:
    one entry per digest entry, then one per updated starred paper. `self_url`
    is where the feed will be served, when known (rel="self")."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    generated = _rfc3339(digest.generated_at, now)
    feed = ET.Element("feed", xmlns=ATOM_NS)
    ET.SubElement(feed, "id").text = ATOM_FEED_ID
    ET.SubElement(feed, "title").text = _x(digest.title) or "papertrail digest"
    ET.SubElement(feed, "subtitle").text = _x(_window(digest))
    ET.SubElement(feed, "updated").text = generated
    if self_url:
        ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=_x(self_url))
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = "papertrail"
    ET.SubElement(feed, "generator", version=__version__).text = "papertrail"
    seen: set[str] = set()
    items = [(e, False) for _, entries in group_by_domain(digest) for e in entries]
    items += [(e, True) for e in digest.updates]
    for entry, update in items:
        entry_id = _atom_id(entry, update=update)
        if entry_id in seen:  # one post surfaced by two sources: one item
            continue
        seen.add(entry_id)
        _atom_entry(feed, entry, update=update, fallback=generated)
    ET.indent(feed, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


# ---------------------------------------------------------------- entry point


def render(
    digest: Digest,
    fmt: str,
    *,
    color: bool = False,
    width: int = 100,
    per_domain: int | None = None,
) -> str:
    """The digest as `fmt` (one of FORMATS). `color`, `width` and `per_domain` (at most
    that many entries under each domain, then the `papertrail list` command for the
    rest; None or 0: all) apply to "text" only.

    The result ends with a newline.
    """
    if fmt == "text":
        return _render_text(digest, color=color, width=width, per_domain=per_domain)
    if fmt == "markdown":
        return _render_markdown(digest)
    if fmt == "html":
        return _render_html(digest)
    if fmt == "json":
        return _render_json(digest)
    if fmt == "atom":
        return render_atom(digest)
    raise ValueError(f"unknown digest format {fmt!r}; choose one of {', '.join(FORMATS)}")
