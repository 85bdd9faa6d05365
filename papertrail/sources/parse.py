"""Bytes in, records out: RSS/Atom feeds, rss.arxiv.org feeds and arXiv API answers.

Pure: no network, no files, no database. Every function here takes the body
the fetcher already downloaded.

Notes on feedparser, which does the XML work for `parse_feed`:

* The body is handed over as a file object (``io.BytesIO``). Given ``bytes``
  feedparser first tries ``open(body)`` as a *path*, and given ``str`` it may
  fetch it as a URL; we never want either.
* ``sanitize_html`` and ``resolve_relative_uris`` are off for each call (we
  never touch the module-wide defaults). Both rewrite every HTML fragment
  and cost ~10x the XML parse on content-heavy feeds such as Substack's, and
  we keep no HTML: summaries are reduced to plain text here (script/style
  bodies dropped, tags removed, entities decoded).
* We do not pass ``base_url`` to feedparser as a Content-Location header: it
  then re-resolves the base URI on every XML element (a third of its parse
  time). A relative item link is resolved against ``base_url`` here, once per
  item; ``xml:base`` inside the document is still honoured by feedparser.
* The bytes are decoded here (papertrail.sources.charset: BOM, HTTP charset,
  XML declaration, else UTF-8; a bad byte becomes U+FFFD with a warning) and
  feedparser gets UTF-8 labelled as such: left to itself it re-decodes a whole
  UTF-8 feed as windows-1252 for one invalid byte, and a missing Content-Type
  makes it decode as ISO-8859-1.
* feedparser flags ``bozo`` for harmless things (no or non-XML
  Content-Type, a charset header that disagrees with the body); those are not
  reported as warnings. Real XML errors are.
* feedparser is imported inside `parse_feed`, not here: it takes ~60 ms to
  load and `papertrail --help` must not pay for it.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from time import struct_time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from papertrail.ids import arxiv_abs_url, arxiv_pdf_url, find_arxiv_ids, parse_arxiv_id
from papertrail.models import ParsedFeed, Record
from papertrail.sources.charset import decode_feed_bytes
from papertrail.sources.codelinks import post_code_links
from papertrail.sources.fastfeed import read_feed

if TYPE_CHECKING:  # pragma: no cover
    import arxiv

__all__ = [
    "SUMMARY_MAX_CHARS",
    "FeedParseError",
    "ParseOutcome",
    "html_to_text",
    "parse_arxiv_api",
    "parse_arxiv_error",
    "parse_feed",
    "parse_feed_via",
    "record_from_arxiv_result",
    "tex_to_unicode",
]

SUMMARY_MAX_CHARS = 2000
SOURCE_KINDS = ("feed", "arxiv-rss")

_get = dict.get  # FeedParserDict.get goes through Python-level key mapping; this does not

# A feedparser FeedParserDict (the feed, an entry, a link, a tag...): untyped third-party data.
_FeedDict = Any


class FeedParseError(ValueError):
    """The bytes are not a feed we can read (an HTML page, JSON, an empty body...)."""


# --- HTML -> text ---------------------------------------------------------

_DROP_TAGS = ("script", "style", "noscript", "template", "svg")
_DROP_RE = re.compile(
    r"<!--.*?-->|<(" + "|".join(_DROP_TAGS) + r")\b[^>]*>.*?</\1\s*>", re.S | re.I
)
_DROP_PAIRS = (("<!--", "-->"),) + tuple((f"<{t}", f"</{t}") for t in _DROP_TAGS)
_BLOCK_TAG_RE = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|thead|tbody|tfoot|caption"
    r"|blockquote|pre|section|article|header|footer|nav|aside|main|figure|figcaption|img"
    r"|picture|source|video|audio|iframe|form|button|details|summary)\b[^>]*>",
    re.I,
)
# A tag is "<" + name, then whitespace/attributes or ">"; "a < b" and "$x<y$" are text.
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>|<![^<>]*>|<\?[^<>]*>")


def _needs_drop(low: str) -> bool:
    return (
        "<script" in low
        or "<style" in low
        or "<svg" in low
        or "<noscript" in low
        or "<template" in low
    )


def html_to_text(fragment: str, limit: int | None = None) -> str:
    """Plain text of an HTML fragment: no tags, entities decoded, whitespace collapsed.

    ``<script>``/``<style>`` elements and comments disappear with their
    content; block elements become word breaks. With ``limit`` the result is
    cut at a word boundary near ``limit`` characters (ending in "…"), and only
    as much of a long fragment is processed as that needs.
    """
    if not fragment:
        return ""
    if limit is None:
        return _html_to_text(fragment)
    # Long posts: convert a prefix (2x limit, then 8x, 32x...) until it gives
    # more than `limit` characters of text.
    n = limit * 2
    while len(fragment) > n:
        text = _html_to_text(_cut_html(fragment, n))
        if len(text) > limit:
            return truncate(text, limit)
        n *= 4
    return truncate(_html_to_text(fragment), limit)


def _cut_html(fragment: str, n: int) -> str:
    head = fragment[:n]
    lt = head.rfind("<")
    if lt > head.rfind(">"):  # do not leave half a tag behind
        head = head[:lt]
    low = head.lower()
    for start, end in _DROP_PAIRS:  # nor an element whose content we would drop
        opened = low.rfind(start)
        if opened != -1 and low.find(end, opened) == -1:
            head, low = head[:opened], low[:opened]
    return head


def _html_to_text(s: str) -> str:
    if "<" in s:
        if "<!--" in s or _needs_drop(s.lower()):
            s = _DROP_RE.sub(" ", s)
        s = _BLOCK_TAG_RE.sub(" ", s)
        s = _TAG_RE.sub("", s)
    if "&" in s:
        s = html.unescape(s)
    return " ".join(s.split())


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    if cut < limit * 3 // 4:
        cut = limit
    return text[:cut].rstrip(" ,;:-") + "…"


def _plain(value: str) -> str:
    """Text that should be plain already: entities decoded, whitespace collapsed."""
    if "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())


# --- TeX accents -> Unicode ----------------------------------------------

_COMBINING = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    "u": "\u0306",
    ".": "\u0307",
    '"': "\u0308",
    "r": "\u030a",
    "H": "\u030b",
    "v": "\u030c",
    "d": "\u0323",
    "c": "\u0327",
    "k": "\u0328",
    "b": "\u0331",
}
_TEX_SYMBOL_ACCENT_RE = re.compile(
    r"\\([`'^~=.\"])\s*(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij])(?![A-Za-z])(?:\{\}|\s)?|([A-Za-z]))"
)
_TEX_LETTER_ACCENT_RE = re.compile(
    r"\\([uvHckrbd])(?:\s*\{\s*(\\[ij]|[A-Za-z])\s*\}|\s+([A-Za-z]))"
)
_TEX_SPECIAL = {
    "ss": "ß",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "o": "ø",
    "O": "Ø",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
}
_TEX_SPECIAL_RE = re.compile(
    r"\\(ss|aa|AA|ae|AE|oe|OE|dh|DH|th|TH|ng|NG|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|\s)?"
)
_TEX_ESCAPED_RE = re.compile(r"\\([&%$#_])")


def _accent(m: re.Match[str]) -> str:
    base = next(g for g in m.groups()[1:] if g)
    if base in ("\\i", "\\j"):
        base = base[1]
    return unicodedata.normalize("NFC", base + _COMBINING[m.group(1)])


def tex_to_unicode(text: str) -> str:
    """Turn raw TeX accents in a name into Unicode: ``Andr\\'e`` -> ``André``.

    Handles ``\\'e``, ``\\'{e}``, ``{\\'e}``, ``\\"u``, ``\\c{c}``, ``\\v s``,
    ``\\'\\i``, ``{\\o}``, ``\\ss``, ``\\l`` and friends, and drops the
    grouping braces. Meant for author names, not for titles or abstracts
    (where TeX is mostly maths).
    """
    if "\\" not in text:
        return text
    text = _TEX_SYMBOL_ACCENT_RE.sub(_accent, text)
    text = _TEX_LETTER_ACCENT_RE.sub(_accent, text)
    text = _TEX_SPECIAL_RE.sub(lambda m: _TEX_SPECIAL[m.group(1)], text)
    text = _TEX_ESCAPED_RE.sub(r"\1", text)
    if "{" in text or "}" in text:
        text = text.replace("{", "").replace("}", "")
    return text


# --- small helpers --------------------------------------------------------


def _iso(t: struct_time | None) -> str | None:
    """feedparser's UTC struct_time -> ``YYYY-MM-DDTHH:MM:SS+00:00``."""
    if not t:
        return None
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:{t[4]:02d}:{min(t[5], 59):02d}+00:00"


def _iso_dt(dt: datetime | None) -> str | None:
    if dt is None or dt.year <= 1:  # arxiv.Result defaults to datetime.min
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _tag_terms(entry: _FeedDict) -> list[str]:
    tags = _get(entry, "tags")
    if not tags:
        return []
    return _unique((_get(t, "term") or _get(t, "label") or "").strip() for t in tags)


def _is_html(detail: _FeedDict, default: bool = True) -> bool:
    if not detail:
        return default
    ctype = _get(detail, "type") or ""
    return "html" in ctype


# --- parse_feed -----------------------------------------------------------


def parse_feed(
    body: bytes, headers: Mapping[str, str], *, base_url: str, source_kind: str
) -> ParsedFeed:
    """Parse a downloaded RSS/Atom/RDF document into records.

    ``source_kind`` is ``"feed"`` (every item becomes a ``kind="post"``
    record, with the arXiv papers it links in ``mentions``) or
    ``"arxiv-rss"`` (rss.arxiv.org RSS/Atom and the legacy export.arxiv.org
    RDF: every item becomes a ``kind="paper"`` record with ``arxiv_id``,
    ``version`` and ``announce_type``).

    Well-formed RSS 2.0 and Atom 1.0 documents are read by the lxml fast path
    (`papertrail.sources.fastfeed`), which gives the same records as feedparser
    and declines anything it does not fully model; feedparser reads the rest.

    Raises `FeedParseError` when the bytes are not a feed at all. A malformed
    feed keeps whatever items could be read and says so in ``warnings``.
    """
    return parse_feed_via(body, headers, base_url=base_url, source_kind=source_kind).feed


@dataclass
class ParseOutcome:
    """`parse_feed`'s result and which reader produced it ("lxml" or "feedparser")."""

    feed: ParsedFeed
    reader: str


def parse_feed_via(
    body: bytes,
    headers: Mapping[str, str],
    *,
    base_url: str,
    source_kind: str,
    fast_path: bool = True,
) -> ParseOutcome:
    """`parse_feed`, saying which reader read the document; ``fast_path=False``
    always uses feedparser (the equivalence test and benchmarks compare the two)."""
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source_kind {source_kind!r}; expected one of {SOURCE_KINDS}")
    if isinstance(body, str):
        raise TypeError("parse_feed() takes the response body as bytes, not str")
    body = bytes(body)
    hdrs = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    content_type = hdrs.get("content-type", "")
    if not body.strip():
        raise FeedParseError(
            f"the URL returned an empty body{_ctype_note(content_type)}, not an RSS/Atom feed"
        )

    # Decoded here by its own encoding, handed over as UTF-8 (see the module docstring).
    decoded = decode_feed_bytes(body, content_type)
    fast = read_feed(decoded.body) if fast_path else None
    if fast is not None:
        result = ParsedFeed(title=_plain(fast.title or "") or None)
        result.warnings += decoded.warnings
        _build_records(result, fast.entries, source_kind, base_url)
        return ParseOutcome(result, "lxml")
    hdrs["content-type"] = _as_utf8(content_type or "application/xml")
    read = _feedparser_read(decoded.body, hdrs, content_type, base_url)
    result = ParsedFeed(title=read.title)
    result.warnings += decoded.warnings
    if read.warning:
        result.warnings.append(read.warning)
    _build_records(result, read.entries, source_kind, base_url)
    return ParseOutcome(result, "feedparser")


@dataclass
class _FeedparserFeed:
    title: str | None
    entries: list[_FeedDict]
    warning: str | None = None


def _feedparser_read(
    body: bytes, hdrs: dict[str, str], content_type: str, base_url: str
) -> _FeedparserFeed:
    import feedparser  # heavy (~60 ms): only parsing a feed needs it, not `papertrail --help`

    d = feedparser.parse(
        io.BytesIO(body),
        response_headers=hdrs,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = d.get("entries") or []
    version = d.get("version") or ""
    feed_meta = d.get("feed") or {}
    exc = d.get("bozo_exception") if d.get("bozo") else None

    if not entries and not version:
        raise FeedParseError(_not_a_feed_message(body, content_type, feed_meta, exc, base_url))

    result = _FeedparserFeed(_plain(_get(feed_meta, "title") or "") or None, entries)
    benign = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
    if exc is not None and not isinstance(exc, benign):
        result.warning = _malformed_warning(exc, len(entries))
    return result


def _build_records(
    result: ParsedFeed, entries: Iterable[_FeedDict], source_kind: str, base_url: str
) -> None:
    build = _paper_record if source_kind == "arxiv-rss" else _post_record
    records = result.records
    warnings = result.warnings
    for index, entry in enumerate(entries, 1):
        record = build(entry, base_url, index, warnings)
        if record is not None:
            records.append(record)


def _as_utf8(content_type: str) -> str:
    """The Content-Type with its charset replaced by UTF-8 (the body now is)."""
    return _CHARSET_PARAM_RE.sub("", content_type) + "; charset=utf-8"


def _malformed_warning(exc: BaseException, items: int) -> str:
    detail = _exc_text(exc)
    if items:
        return (
            f"the feed is not well-formed ({detail}); kept the {items} item(s) that could be read"
        )
    return f"the feed is not well-formed ({detail}); no items could be read"


def _exc_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _ctype_note(content_type: str) -> str:
    return f" (content-type {content_type})" if content_type else ""


_CHARSET_PARAM_RE = re.compile(r"\s*;\s*charset\s*=\s*[^;]*", re.I)
_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_SKIP_PROLOG_RE = re.compile(rb"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)


def _not_a_feed_message(
    body: bytes,
    content_type: str,
    feed_meta: _FeedDict,
    exc: BaseException | None,
    base_url: str = "",
) -> str:
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    low = head.lower()
    ctype = content_type.split(";")[0].strip().lower()
    note = _ctype_note(content_type)
    if "html" in ctype or low.startswith((b"<!doctype html", b"<html")) or b"<html" in low[:1024]:
        msg = f"the URL served an HTML page, not an RSS/Atom feed{note}"
        alternates = [
            _get(link, "href")
            for link in (_get(feed_meta, "links") or [])
            if _get(link, "rel") == "alternate"
            and any(t in (_get(link, "type") or "") for t in ("rss", "atom", "rdf", "xml"))
            and _get(link, "href")
        ]
        if alternates:
            return f"{msg}; the page advertises a feed at {urljoin(base_url, alternates[0])} — use that URL"
        return f"{msg} — find the page's feed link (often /feed, /rss or /atom.xml) and use that"
    if "json" in ctype or low.startswith((b"{", b"[")):
        return (
            f"the URL served JSON, not an RSS/Atom feed{note} — JSON Feed and APIs are "
            f"not supported; use the site's RSS or Atom feed"
        )
    if low.startswith(b"<"):
        prolog = _SKIP_PROLOG_RE.match(head)  # always matches, possibly empty
        m = _ROOT_RE.match(head, prolog.end() if prolog else 0)
        root = m.group(1).decode("ascii", "replace") if m else None
        if root:
            return (
                f"the URL served an XML document whose root element is <{root}>, "
                f"not an RSS/Atom feed{note}"
            )
        detail = f" ({_exc_text(exc)})" if exc is not None else ""
        return f"the URL served unreadable XML{detail}{note}, not an RSS/Atom feed"
    return f"the URL served something that is neither XML nor HTML{note}, not an RSS/Atom feed"


# --- "feed" items -> posts ------------------------------------------------


def _post_record(entry: _FeedDict, base_url: str, index: int, warnings: list[str]) -> Record | None:
    link = _post_link(entry, base_url)
    raw_title = _get(entry, "title") or ""
    title = (
        html_to_text(raw_title)
        if _is_html(_get(entry, "title_detail"), False)
        else _plain(raw_title)
    )
    summary_html = _get(entry, "summary") or ""
    text, content_html = _post_text(entry, summary_html)
    if not title:
        # An RSS 2.0 item may be only a <description>: its text names it.
        title = title_from_text(text) if text else link
    if not title:
        warnings.append(f"item {index} has no title, no link and no text; skipped")
        return None

    mentions = find_arxiv_ids(link)
    for fragment in (summary_html, content_html):
        if fragment:
            for ident in find_arxiv_ids(fragment):
                if ident not in mentions:
                    mentions.append(ident)

    published = _iso(_get(entry, "published_parsed"))
    updated = _iso(_get(entry, "updated_parsed"))
    comments = _get(entry, "comments")
    return Record(
        kind="post",
        title=title,
        url=link or None,
        authors=_post_authors(entry),
        summary=text,
        categories=_tag_terms(entry),
        published=published or updated,
        updated=updated,
        links={"comments": comments} if comments else {},
        guid=(_get(entry, "id") or "").strip() or None,
        mentions=mentions,
        code_links=post_code_links((summary_html, content_html), link),
    )


def _post_link(entry: _FeedDict, base_url: str) -> str:
    """The item's web link, "" when it has none. feedparser copies an id into `link`
    (an RSS guid is a permalink by default, and so is an Atom id to it); an id such
    as ``tag:…`` or ``urn:…`` is not a page, so only http(s) links count. Where a feed
    says where the item really is (FeedBurner's origLink, rel="canonical"), that wins
    over its own redirecting link."""
    for original in _original_links(entry):  # the page itself, not a redirecting proxy
        if original.lower().startswith(("http://", "https://")):
            return original
    link = (_get(entry, "link") or "").strip()
    if link and "://" not in link[:12] and base_url and not _SCHEME_RE.match(link):
        link = urljoin(base_url, link)
    return link if link.lower().startswith(("http://", "https://")) else ""


def _original_links(entry: _FeedDict) -> Iterator[str]:
    """Where a feed that rewrites its links says the item really is: FeedBurner's
    ``<feedburner:origLink>``, an Atom ``<link rel="canonical">``."""
    if orig := (_get(entry, "feedburner_origlink") or "").strip():
        yield orig
    for link in _get(entry, "links") or ():
        if _get(link, "rel") == "canonical" and (href := (_get(link, "href") or "").strip()):
            yield href


_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!//)")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s|(?<=[。！？])")
TITLE_FROM_TEXT_CHARS = 80


def title_from_text(text: str, limit: int = TITLE_FROM_TEXT_CHARS) -> str:
    """A title for an item that has none: its text's first sentence when that is
    short, else the text cut near `limit` characters at a word boundary ("…")."""
    text = " ".join(text.split())
    m = _SENTENCE_END_RE.search(text)
    first = text[: m.start()].rstrip() if m else text
    if len(first) <= limit:
        return first[:-1] if first.endswith(".") and not first.endswith("..") else first
    return truncate(text, limit)


def _post_text(entry: _FeedDict, summary_html: str) -> tuple[str, str]:
    """A post's plain-text summary, and the body HTML it may draw on ("" when the
    item has no body other than its summary)."""
    content_html = ""
    content_is_html = True
    for c in _get(entry, "content") or ():
        value = _get(c, "value") or ""
        if value and value != summary_html:
            content_html = value
            content_is_html = _is_html(c)
            break

    text = (
        html_to_text(summary_html, SUMMARY_MAX_CHARS)
        if _is_html(_get(entry, "summary_detail"))
        else _plain(summary_html)
    )
    if content_html and len(text) < 400:
        # A one-line description (Substack's subtitle, HN's "Comments"): add the body text.
        more = (
            html_to_text(content_html, SUMMARY_MAX_CHARS)
            if content_is_html
            else _plain(content_html)
        )
        if not text or more.startswith(text[:80]):
            text = more
        elif more:
            text = f"{text} {more}"
    return truncate(text, SUMMARY_MAX_CHARS), content_html


def _post_authors(entry: _FeedDict) -> list[str]:
    authors: list[str] = []
    for a in _get(entry, "authors") or ():
        name = _get(a, "name")
        if name:
            name = html_to_text(name) if "<" in name else _plain(name)
            if name and name not in authors:
                authors.append(name)
    return authors


# --- "arxiv-rss" items -> papers -----------------------------------------

# Legacy export.arxiv.org RDF titles: "Title. (arXiv:1805.06430v2 [nucl-th] UPDATED)"
_LEGACY_TITLE_RE = re.compile(
    r"\s*\(arXiv:(\S+?)(?:v(\d+))?\s*\[([^\]]*)\](?:\s*([A-Z][A-Z ]*[A-Z]))?\)\s*$"
)
# rss.arxiv.org descriptions: "arXiv:2604.21935v1 Announce Type: new \nAbstract: ..."
_ANNOUNCE_PREFIX_RE = re.compile(
    r"^\s*arXiv:(\S+)\s+Announce Type:\s*([\w-]+)\s*(?:Abstract:\s*)?", re.I
)
_LEGACY_FLAGS = {"UPDATED": "replace", "CROSS LISTED": "cross", "REPLACED": "replace"}


def _paper_record(
    entry: _FeedDict, base_url: str, index: int, warnings: list[str]
) -> Record | None:
    guid = (_get(entry, "id") or "").strip()
    link = (_get(entry, "link") or "").strip()
    title = _plain(_get(entry, "title") or "")
    summary = _get(entry, "summary") or ""
    summary = (
        html_to_text(summary) if "<" in summary or "&" in summary else " ".join(summary.split())
    )

    parsed = parse_arxiv_id(guid) or parse_arxiv_id(link)
    announce = (_get(entry, "arxiv_announce_type") or "").strip().lower() or None
    categories = _tag_terms(entry)

    m = _ANNOUNCE_PREFIX_RE.match(summary)
    if m:
        summary = summary[m.end() :]
        announce = announce or m.group(2).lower()
        parsed = _with_version(parsed, parse_arxiv_id(m.group(1)))

    legacy = _LEGACY_TITLE_RE.search(title)
    if legacy:
        title = _strip_legacy_suffix(title, legacy)
        suffix = f"v{legacy.group(2)}" if legacy.group(2) else ""
        parsed = _with_version(parsed, parse_arxiv_id(legacy.group(1) + suffix))
        if not categories and legacy.group(3):
            categories = [c.strip() for c in legacy.group(3).split(",") if c.strip()]
        if announce is None:
            announce = _LEGACY_FLAGS.get((legacy.group(4) or "").strip(), "new")

    if parsed is None:
        label = f" ({title[:60]!r})" if title else ""
        warnings.append(f"item {index}{label} has no recognisable arXiv id; skipped")
        return None
    arxiv_id, version = parsed

    authors = _split_arxiv_authors(entry)
    published = _iso(_get(entry, "published_parsed"))
    updated = _iso(_get(entry, "updated_parsed"))
    return Record(
        kind="paper",
        title=title or arxiv_id,
        url=arxiv_abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        version=version,
        authors=authors,
        summary=summary,
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=published,
        updated=updated,
        links={"abs": arxiv_abs_url(arxiv_id, version), "pdf": arxiv_pdf_url(arxiv_id, version)},
        guid=guid or None,
        announce_type=announce,
    )


def _with_version(
    parsed: tuple[str, int | None] | None, other: tuple[str, int | None] | None
) -> tuple[str, int | None] | None:
    """`other` when there is no `parsed` id or when it adds the version `parsed` lacks."""
    if parsed is None or (parsed[1] is None and other and other[0] == parsed[0]):
        return other or parsed
    return parsed


def _strip_legacy_suffix(title: str, legacy: re.Match[str]) -> str:
    """The title without the legacy feed's "(arXiv:… [cat] UPDATED)" suffix."""
    title = title[: legacy.start()]
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]  # the legacy feed appended ". " before the suffix
    return title


def _split_arxiv_authors(entry: _FeedDict) -> list[str]:
    raw = [_get(a, "name") or "" for a in (_get(entry, "authors") or ())]
    if not any(raw):
        raw = [_get(entry, "author") or ""]
    names: list[str] = []
    for blob in raw:
        if not blob:
            continue
        if "<" in blob or "&" in blob:
            blob = html_to_text(blob)
        blob = tex_to_unicode(blob)
        for part in blob.split(","):
            name = " ".join(part.split())
            if name.startswith("and "):
                name = name[4:].lstrip()
            if name and name not in names:
                names.append(name)
    return names


# --- arXiv API ------------------------------------------------------------


def record_from_arxiv_result(result: arxiv.Result) -> Record:
    """A paper `Record` from an ``arxiv.Result`` (the ``arxiv`` package's search result)."""
    parsed = parse_arxiv_id(result.entry_id)
    if parsed is None:
        raise ValueError(f"not an arXiv entry id: {result.entry_id!r}")
    arxiv_id, version = parsed
    categories = _unique(result.categories or [])
    primary = result.primary_category or (categories[0] if categories else None)
    if primary and primary not in categories:
        categories.insert(0, primary)
    links = {"abs": arxiv_abs_url(arxiv_id, version), "pdf": arxiv_pdf_url(arxiv_id, version)}
    doi = (result.doi or "").strip() or None
    if doi:
        links["doi"] = f"https://doi.org/{doi}"
    return Record(
        kind="paper",
        title=" ".join((result.title or "").split()) or arxiv_id,
        url=arxiv_abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        version=version,
        authors=[a.name.strip() for a in result.authors if a.name and a.name.strip()],
        summary=" ".join((result.summary or "").split()),
        categories=categories,
        primary_category=primary,
        published=_iso_dt(result.published),
        updated=_iso_dt(result.updated),
        doi=doi,
        journal_ref=" ".join(result.journal_ref.split()) if result.journal_ref else None,
        comment=" ".join(result.comment.split()) if result.comment else None,
        links=links,
        guid=result.entry_id,
    )


def parse_arxiv_api(body: bytes) -> ParsedFeed:
    """Records from an arXiv API (``/api/query``) Atom response.

    Uses the ``arxiv`` package's own parser. Raises `FeedParseError` for
    arXiv's error answer (an Atom feed with one entry titled "Error", sent
    with HTTP 400) and for bodies that are not XML at all. An empty result
    (``totalResults`` 0) gives no records.
    """
    from arxiv import _feed  # heavy (~140 ms): the arxiv package's own lxml parser

    error = parse_arxiv_error(body)
    if error is not None:
        raise FeedParseError(f"the arXiv API answered with an error: {error}")
    body = bytes(body)
    if b"http://www.w3.org/2005/Atom" not in body:
        raise FeedParseError("the arXiv API response is not an Atom feed")
    feed = _feed.parse(body)
    if feed.malformed:
        raise FeedParseError(f"the arXiv API response is not readable XML ({feed.error})")
    out = ParsedFeed(title="arXiv API")
    for result in feed.results:
        try:
            out.records.append(record_from_arxiv_result(result))
        except ValueError as exc:
            out.warnings.append(f"skipped an API result: {exc}")
    return out


_ATOM = "{http://www.w3.org/2005/Atom}"


def parse_arxiv_error(body: bytes) -> str | None:
    """The message of arXiv's API error answer, e.g. ``"incorrect id format for abc"``.

    arXiv answers a bad query with HTTP 400 and an Atom feed whose single
    entry is titled ``Error`` (id ``…/api/errors#…``) and whose summary is the
    message. Returns ``None`` for anything else.
    """
    if not body or b"Error" not in body or b"api/errors" not in body:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for entry in root.iter(f"{_ATOM}entry"):
        title = (entry.findtext(f"{_ATOM}title") or "").strip()
        entry_id = entry.findtext(f"{_ATOM}id") or ""
        if title == "Error" and "api/errors" in entry_id:
            message = " ".join((entry.findtext(f"{_ATOM}summary") or "").split())
            return message or entry_id.rpartition("#")[2].replace("_", " ") or "unknown error"
    return None
