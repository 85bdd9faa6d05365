"""A fast reader for well-formed RSS 2.0 and Atom 1.0 documents (issue 19 item 2).

feedparser is most of a fetch's CPU (~65 %): it walks every document through a
Python SAX handler with a dozen state flags. Most feeds we read are plain,
well-formed RSS 2.0 or Atom 1.0 (rss.arxiv.org, the arXiv API, blogs): lxml
parses those in C, and this module turns the tree into the *same* entry
dictionaries feedparser would have built, for the keys `papertrail.sources.parse`
reads (title, summary, content, link(s), id, authors, tags, dates, comments,
feedburner_origlink, arxiv_announce_type). `parse.parse_feed` then builds its
records from those entries exactly as it does from feedparser's.

Being the same is the whole point, so this reader is conservative: it
*declines* (returns None, and feedparser reads the document) on anything it
does not fully model. That is: bytes lxml cannot parse, a DOCTYPE or entity
declarations, ``xml:base`` (or a bare ``base=`` attribute, which feedparser also
honours), namespace declarations below the root, RSS 1.0/RDF and other roots,
items outside ``<channel>``, markup (child elements, comments) inside a text
element, XHTML/base64/``src`` content, an element feedparser gives special
meaning to that this module does not emulate (``<source>``, ``media:group``,
``itunes:category``...), a description after a summary, and so on. The
emulated rules are feedparser 6.0's (``feedparser/mixin.py``,
``namespaces/_base.py``), including its quirks: the first non-empty title
wins, a permalink guid is the link until a ``<link>`` says otherwise, text that
decodes as UTF-8 after a Latin-1 round trip is re-decoded, C1 controls map to
windows-1252, RSS "plain text" that looks like HTML is typed as HTML, and an
author string loses its e-mail address. The equivalence test
(tests/test_fastfeed.py) compares the records of both paths field by field on
every recorded document.

Pure: bytes in, dictionaries out. lxml and feedparser's helpers (date parsing,
URI joining, its HTML heuristics) are imported inside `read_feed`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# An lxml element: lxml ships no type stubs in this environment.
_Element = Any

__all__ = ["FastFeed", "read_feed", "read_or_decline"]

# A feedparser-shaped entry: the same keys and values feedparser's FeedParserDict
# would hold (strings, lists of small dicts, time.struct_time), as a plain dict.
Entry = dict[str, Any]

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Cheap byte-level reasons to decline before parsing (see the module docstring).
# (XML spells DOCTYPE and ENTITY in capitals; anything else is not well-formed.)
_DECLINE_BYTES = (b"<!DOCTYPE", b"<!ENTITY", b"1999/xlink")
# feedparser honours xml:base and a bare base="" (any case) on every element.
_BASE_XPATH = "boolean(//@*[translate(local-name(), 'BASE', 'base')='base'])"
# feedparser's generic store for elements it has no handler for uses these keys too.
_READ_KEYS = frozenset(
    [
        "title",
        "title_detail",
        "summary",
        "summary_detail",
        "content",
        "link",
        "links",
        "id",
        "authors",
        "author",
        "tags",
        "published_parsed",
        "updated_parsed",
        "comments",
        "feedburner_origlink",
        "arxiv_announce_type",
        "guidislink",
    ]
)
_RELATIVE = frozenset(
    [
        "comments",
        "docs",
        "href",
        "icon",
        "id",
        "link",
        "logo",
        "url",
        "wfw_comment",
        "wfw_commentrss",
    ]
)
_TITLES = ("title", "dc:title", "media:title")
_DESCRIPTIONS = ("description", "dc:description", "media:description")
_SUMMARIES = ("summary", "itunes:summary")
_AUTHORS = ("author", "dc:author", "dc:creator", "itunes:author")
_CATEGORIES = ("category", "dc:subject", "keywords")
_PUBLISHED = ("pubdate", "published", "issued", "dcterms:issued")
_UPDATED = ("updated", "modified", "lastbuilddate", "dc:date", "dcterms:modified")
# Elements feedparser has handlers for whose effects never reach the keys we read.
_HARMLESS = frozenset(
    [
        "enclosure",
        "media:content",
        "media:thumbnail",
        "itunes:image",
        "itunes:explicit",
        "itunes:block",
        "itunes:subtitle",
        "created",
        "dcterms:created",
        "expirationdate",
        "rights",
        "dc:rights",
        "dc:language",
        "language",
    ]
)
_TEXT_TYPES = ("text/plain", "text/html")


class _Decline(Exception):
    """This document is not one the fast path fully understands: use feedparser."""


@dataclass
class FastFeed:
    """What `read_feed` read: the feed's title as feedparser would give it (None when
    the feed has none), its version label, and feedparser-shaped entries."""

    title: str | None
    version: str
    entries: list[Entry] = field(default_factory=list)


def read_feed(body: bytes) -> FastFeed | None:
    """The entries of a well-formed RSS 2.0 / Atom 1.0 document, or None to decline.

    ``body`` is UTF-8 (as `papertrail.sources.charset` hands it over, whatever
    its XML declaration says). None means "let feedparser read it", never an error.
    """
    out = read_or_decline(body)
    return out if isinstance(out, FastFeed) else None


def read_or_decline(body: bytes) -> FastFeed | str:
    """`read_feed`, with the reason as a string when it declines (for tests and benchmarks)."""
    for marker in _DECLINE_BYTES:
        if marker in body:
            return f"declined: {marker.decode()!r} in the bytes"
    from lxml import etree  # heavy: only parsing a feed needs it

    parser = etree.XMLParser(
        encoding="utf-8", resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        root = etree.fromstring(body.removeprefix(b"\xef\xbb\xbf"), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return f"declined: not well-formed for lxml ({exc})"
    if root is None or not isinstance(root.tag, str):
        return "declined: no root element"
    if _has_base(root):
        return "declined: an xml:base or base attribute"
    try:
        return _Reader(root, body).read()
    except _Decline as exc:
        return f"declined: {exc}"


@functools.cache
def _base_xpath() -> Callable[[_Element], bool]:
    from lxml import etree  # heavy: only parsing a feed needs it

    xpath: Callable[[_Element], bool] = etree.XPath(_BASE_XPATH)
    return xpath


def _has_base(root: _Element) -> bool:
    return bool(_base_xpath()(root))


def _split(tag: str) -> tuple[str, str]:
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class _Reader:
    """One document's walk: feedparser's naming of elements, then its rules per entry."""

    def __init__(self, root: _Element, body: bytes) -> None:
        from feedparser.datetimes import _parse_date  # heavy (~60 ms): its own rules, identical
        from feedparser.html import _cp1252
        from feedparser.mixin import _FeedParserMixin
        from feedparser.urls import _urljoin

        self.root = root
        self.body = body
        self.version = ""
        self._parse_date: Callable[[str], Any] = _parse_date
        self._cp1252: dict[int, str] = _cp1252
        # the characters it maps (re's own cache makes this cheap after the first document)
        self._cp1252_chars = re.compile("[" + "".join(map(chr, sorted(_cp1252))) + "]")
        self._fp_urljoin: Callable[[str, str], str] = _urljoin
        self._looks_like_html: Callable[[str], bool] = _FeedParserMixin.looks_like_html
        self._map_type: Callable[[str], str] = _FeedParserMixin.map_content_type
        self._mixin = _FeedParserMixin
        self._match = {k.lower(): v for k, v in _FeedParserMixin.namespaces.items()}
        self._names: dict[tuple[str, str | None], str] = {}
        self._by_tag: dict[str, str] = {}
        self._dates: dict[str, Any] = {}
        self._namespacemap = self._read_namespaces()

    # --- document level -------------------------------------------------

    def _read_namespaces(self) -> dict[str | None, str]:
        """feedparser's map from the document's prefixes to its own (all on the root:
        a declaration anywhere below makes us decline)."""
        nsmap = self.root.nsmap
        if self.body.count(b"xmlns") != len(nsmap):
            self._check_declarations(nsmap)
        out: dict[str | None, str] = {}
        for prefix, uri in nsmap.items():
            low = uri.lower()
            if low in ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"):
                raise _Decline("RSS 1.0 / 0.90 namespace")
            if "backend.userland.com/rss" in low:
                low = "http://backend.userland.com/rss"
            if low in self._match:
                out[prefix] = self._match[low]
        return out

    def _check_declarations(self, nsmap: dict[str | None, str]) -> None:
        """Declarations below the root (or "xmlns" in text): fine when each one repeats
        the root's, or binds a prefix the root does not use, and only ever to one URI."""
        from lxml import etree  # heavy: only parsing a feed needs it

        seen = dict(nsmap)
        canonical = set(self._match.values())
        events = etree.iterparse(io.BytesIO(self.body), events=("start-ns",), encoding="utf-8")
        for _, (prefix, uri) in events:
            prefix = prefix or None
            if prefix in seen:
                if seen[prefix] != uri:
                    raise _Decline(f"namespace prefix {prefix!r} rebound")
                continue
            if prefix is None or prefix.lower() in canonical:
                raise _Decline(f"namespace prefix {prefix!r} declared below the root")
            seen[prefix] = uri

    def read(self) -> FastFeed:
        root_name = self.name(self.root)
        if root_name == "rss" and not self._has_attrs(self.root, ("version",)):
            channels = [c for c in self.root if isinstance(c.tag, str)]
            if len(channels) != 1 or self.name(channels[0]) != "channel":
                raise _Decline("not exactly one <channel>")
            self.version = "rss20"  # any "rss*" label: feedparser only tests startswith("atom")
            container, entry_name = channels[0], "item"
        elif self.root.tag == f"{{{ATOM_NS}}}feed" and not self._has_attrs(self.root, ()):
            self.version = "atom10"
            container, entry_name = self.root, "entry"
        else:
            raise _Decline("not an RSS 2.0 or Atom 1.0 root")
        items = [c for c in container if isinstance(c.tag, str) and self.name(c) == entry_name]
        if sum(1 for _ in self.root.iter(*self._entry_tags())) != len(items):
            raise _Decline("items outside the channel/feed")
        title = self._feed_title(container)
        return FastFeed(title, self.version, [self._entry(item) for item in items])

    def _entry_tags(self) -> list[str]:
        """Every tag feedparser reads as an item: <item>/<entry> in any namespace it
        maps to no prefix (none, Atom, RSS 0.9x/1.0, an unknown default namespace)."""
        uris = [""]
        for prefix, uri in self.root.nsmap.items():
            known = self._match.get(uri.lower())
            if known == "" or (prefix is None and known is None):
                uris.append(uri)
        return [f"{{{u}}}{t}" if u else t for u in uris for t in ("item", "entry")]

    def _feed_title(self, container: _Element) -> str | None:
        titles = [c for c in container if isinstance(c.tag, str) and self.name(c) in _TITLES]
        if not titles:
            return None
        if len(titles) > 1:
            raise _Decline("several feed titles")
        return self._content(titles[0], "text/plain")[0]

    @staticmethod
    def _has_attrs(el: _Element, allowed: tuple[str, ...]) -> bool:
        return any(k not in allowed and k != _XML_LANG for k in el.attrib)

    def name(self, el: _Element) -> str:
        """feedparser's name for an element: "local" or "prefix:local", lower case."""
        name = self._by_tag.get(el.tag)
        if name is not None:
            return name
        key = (el.tag, el.prefix)
        name = self._names.get(key)
        if name is None:
            ns, local = _split(el.tag)
            low = ns.lower()
            if "backend.userland.com/rss" in low:
                low = "http://backend.userland.com/rss"
            prefix = self._match.get(low, el.prefix)
            prefix = self._namespacemap.get(prefix, prefix) if prefix else prefix
            name = f"{prefix.lower()}:{local.lower()}" if prefix else local.lower()
            self._names[key] = name
            if low in self._match:  # the document's prefix plays no part: cache by tag
                self._by_tag[el.tag] = name
        return name

    def key(self, name: str) -> str:
        """feedparser's handler suffix / generic key for an element name."""
        return name.replace(":", "_", 1)

    # --- text, as feedparser's pop() makes it ----------------------------

    def text(self, el: _Element, element: str, *, resolve: bool = True) -> str:
        """The element's text after feedparser's pop(): stripped, relative URIs joined
        ('' base), UTF-8-in-Latin-1 repaired, C1 controls mapped to windows-1252."""
        if len(el):
            raise _Decline("markup inside a text element")
        out = (el.text or "").strip()
        if resolve and out and element in _RELATIVE:
            out = self._urljoin("", out)
        return self._repair(out)

    def _urljoin(self, base: str, uri: str) -> str:
        """feedparser's _urljoin with an empty base: urljoin("", x) is x, so only its
        fix-up of extra slashes after "scheme://" can change anything."""
        i = uri.find("://")
        if i > 0 and uri[i + 3 : i + 4] == "/":
            return self._fp_urljoin(base, uri)
        return uri

    def _repair(self, out: str) -> str:
        if out.isascii():
            return out
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            out = out.encode("iso-8859-1").decode("utf-8")
        # translate() walks the whole text (~8 ms for a 60 KB post): only when a character
        # it maps is there at all.
        return out.translate(self._cp1252) if self._cp1252_chars.search(out) else out

    def _content(self, el: _Element, default_type: str) -> tuple[str, str]:
        """(value, content type) of a title/summary/content element."""
        attrs = self.attrs(el)
        if "mode" in attrs or "src" in attrs:
            raise _Decline("base64 or out-of-line content")
        ctype = self._map_type(attrs.get("type", default_type))
        if ctype not in _TEXT_TYPES:
            raise _Decline(f"content type {ctype}")
        if len(el):
            raise _Decline("markup inside a text element")
        out = (el.text or "").strip()
        if ctype == "text/plain" and self.version != "atom10" and self._looks_like_html(out):
            ctype = "text/html"
        return self._repair(out), ctype

    def attrs(self, el: _Element) -> dict[str, str]:
        """feedparser's attribute dict: names lower case, rel/type values lower case."""
        out: dict[str, str] = {}
        for k, v in el.attrib.items():
            if k[:1] == "{":
                if k == _XML_LANG:
                    continue
                raise _Decline("a namespaced attribute")
            k = k.lower()
            out[k] = v.lower() if k in ("rel", "type") else v
        return out

    def date(self, value: str) -> Any:
        if value not in self._dates:
            self._dates[value] = self._parse_date(value)
        return self._dates[value]

    # --- entries ----------------------------------------------------------

    def _entry(self, item: _Element) -> Entry:
        if self._has_attrs(item, ()):
            raise _Decline("attributes on an item")
        e: Entry = {}
        state = _EntryState()
        for child in item:
            if not isinstance(child.tag, str):
                raise _Decline("a comment or processing instruction in an item")
            self._child(e, state, child)
        return e

    def _child(self, e: Entry, state: _EntryState, el: _Element) -> None:
        name = self.name(el)
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, e, state, el, name)
        elif name in _HARMLESS:
            self._check_harmless(el)
        else:
            self._generic(e, el, name)

    def _check_harmless(self, el: _Element) -> None:
        for sub in el.iterdescendants():
            if not isinstance(sub.tag, str) or self._has_handler(self.name(sub)):
                raise _Decline("structure inside an element we skip")

    def _has_handler(self, name: str) -> bool:
        key = self.key(name)
        return hasattr(self._mixin, "_start_" + key) or hasattr(self._mixin, "_end_" + key)

    def _generic(self, e: Entry, el: _Element, name: str) -> None:
        """An element feedparser has no handler for: stored under its key."""
        key = self.key(name)
        if self._has_handler(name):
            raise _Decline(f"<{name}> has a feedparser handler we do not emulate")
        if len(el):
            if key in _READ_KEYS:
                raise _Decline(f"markup inside <{name}>")
            self._check_harmless(el)
            for sub in el.iterdescendants():
                if self.key(self.name(sub)) in _READ_KEYS:
                    raise _Decline(f"<{name}> nested in another element")
            return
        if el.attrib:
            if key in _READ_KEYS:
                raise _Decline(f"attributes on <{name}>")
            e[key] = self.attrs(el)
            return
        e[key] = self.text(el, key)


class _EntryState:
    """feedparser's per-entry flags that change how later elements are read."""

    __slots__ = ("title_locked", "has_content")

    def __init__(self) -> None:
        self.title_locked = False
        self.has_content = False


# --- element handlers (feedparser's _start_X/_end_X pairs, for one entry child) ---

_Handler = Callable[[_Reader, Entry, _EntryState, _Element, str], None]


def _on_title(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    value, ctype = r._content(el, "text/plain")
    if s.title_locked:
        return  # feedparser keeps the first non-empty title
    e["title"] = value
    e["title_detail"] = {"type": ctype, "value": value}
    if value and name != "media:title":  # media:title restores the lock
        s.title_locked = True


def _on_summary(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    if "summary" in e and not s.has_content:
        raise _Decline("a second description/summary (feedparser reads it as content)")
    default = "text/html" if name in _DESCRIPTIONS else "text/plain"
    value, ctype = r._content(el, default)
    e["summary"] = value
    e["summary_detail"] = {"type": ctype, "value": value}


def _on_content(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    s.has_content = True
    default = "text/plain" if name == "content" else "text/html"
    value, ctype = r._content(el, default)
    e.setdefault("content", []).append({"type": ctype, "value": value})
    e.setdefault("summary", value)  # text and HTML content is copied to an empty summary


def _on_link(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    attrs = r.attrs(el)
    attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:  # feedparser's _enforce_href
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href
    if "href" in attrs:
        attrs["href"] = r._urljoin("", attrs["href"])
    e.setdefault("links", []).append(attrs)
    if "href" in attrs:
        if len(el):
            raise _Decline("markup inside <link>")
        if attrs["rel"] == "alternate" and r._map_type(attrs["type"]) in _HTML_TYPES:
            e["link"] = attrs["href"]
        return
    value = r.text(el, "link")
    if "&" in value:
        value = _LINK_ENTITY_RE.sub(r"&\g<1>", value.replace("&amp;", "&"))
    e["link"] = value
    if value:
        attrs["href"] = value


_HTML_TYPES = ("application/xhtml+xml", "text/html")
_LINK_ENTITY_RE = re.compile("&([A-Za-z0-9_]+);")


def _on_guid(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    is_link = r.attrs(el).get("ispermalink", "true") == "true"
    value = r.text(el, "id", resolve=is_link)
    e["id"] = value
    e.setdefault("guidislink", is_link and "link" not in e)
    if is_link:
        e.setdefault("link", value)


def _on_author(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    if el.attrib:
        raise _Decline("attributes on an author")
    e.setdefault("authors", []).append({})
    for sub in el:
        if not isinstance(sub.tag, str):
            raise _Decline("a comment inside an author")
        sub_name = r.name(sub)
        if sub_name in ("name", "email"):
            if len(sub):
                raise _Decline("markup inside an author's name")
            _save_author(e, sub_name, (sub.text or "").strip())  # pop(expecting_text=0)
        elif sub_name in ("uri", "url", "homepage"):
            _save_author(e, "href", r.text(sub, "href"))
        elif r._has_handler(sub_name) or r.key(sub_name) in _READ_KEYS or len(sub):
            raise _Decline(f"<{sub_name}> inside an author")
    own = "".join(t for t in [el.text, *(sub.tail for sub in el)] if t)
    e["author"] = r._repair(own.strip())
    _sync_author(e)


def _save_author(e: Entry, key: str, value: str) -> None:
    """feedparser's _save_author: note the sync runs before the value is set."""
    _sync_author(e)
    e.setdefault("authors", [{}])[-1][key] = value


_EMAIL_RE = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)


def _sync_author(e: Entry) -> None:
    """feedparser's _sync_author_detail, for the keys we read (author, authors[].name)."""
    detail = e.get("authors", [{}])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            e["author"] = f"{name} ({email})"
        elif name or email:
            e["author"] = name or email
        return
    author = e.get("author")
    if not author:
        return
    m = _EMAIL_RE.search(author)
    email = None
    if m:
        email = m.group(0)
        author = author.replace(email, "").replace("()", "").replace("<>", "")
        author = author.replace("&lt;&gt;", "").strip()
        author = author[1:] if author[:1] == "(" else author
        author = (author[:-1] if author[-1:] == ")" else author).strip()
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email


def _on_category(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    attrs = r.attrs(el)
    tags: list[dict[str, str | None]] = e.setdefault("tags", [])
    _add_tag(tags, attrs.get("term"), attrs.get("scheme", attrs.get("domain")), attrs.get("label"))
    value = r.text(el, "category")
    if not value:
        return
    if tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        _add_tag(tags, value, None, None)


def _add_tag(
    tags: list[dict[str, str | None]], term: str | None, scheme: str | None, label: str | None
) -> None:
    if not term and not scheme and not label:
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)


def _on_published(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    if el.attrib:
        raise _Decline("attributes on a date")
    e["published"] = value = r.text(el, "published")
    e["published_parsed"] = r.date(value)


def _on_updated(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    if el.attrib:
        raise _Decline("attributes on a date")
    e["updated"] = value = r.text(el, "updated")
    e["updated_parsed"] = r.date(value)


def _on_decline(r: _Reader, e: Entry, s: _EntryState, el: _Element, name: str) -> None:
    raise _Decline(f"<{name}> in an item")


_HANDLERS: dict[str, _Handler] = {
    **{n: _on_title for n in _TITLES},
    **{n: _on_summary for n in _DESCRIPTIONS + _SUMMARIES},
    "content": _on_content,
    "content:encoded": _on_content,
    "fullitem": _on_content,
    "link": _on_link,
    "guid": _on_guid,
    "id": _on_guid,
    **{n: _on_author for n in _AUTHORS},
    **{n: _on_category for n in _CATEGORIES},
    **{n: _on_published for n in _PUBLISHED},
    **{n: _on_updated for n in _UPDATED},
    # entries inside entries, sources, image/textinput state, XHTML bodies: feedparser's
    "item": _on_decline,
    "entry": _on_decline,
    "source": _on_decline,
    "image": _on_decline,
    "textinput": _on_decline,
    "body": _on_decline,
    "xhtml:body": _on_decline,
    "abstract": _on_decline,
}
