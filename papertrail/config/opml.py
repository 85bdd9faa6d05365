"""Sources to and from OPML, the subscription-list format every feed reader speaks.

Export (`export_opml`): OPML 2.0, one folder per first tag (untagged sources
in a folder named after their kind), every tag of a source kept in the
outline's `category` attribute ("/blog,/research"). arXiv API searches are
exported as their API query URL, itself an Atom feed.

Import (`import_opml`):

- parsed with defusedxml: entity declarations (billion laughs) and external
  entities are refused, never expanded;
- every outline with an `xmlUrl` is a feed; its tags are its `category`
  attribute when it has one (papertrail's own exports), else the titles of the
  folders it sits in, slugified. A feed listed in several folders is imported
  once, with the tags of all of them;
- arXiv announcement feeds (rss.arxiv.org) become `arxiv-rss` sources and
  arXiv API query URLs `arxiv` searches; everything else is a `feed`;
- names come from the outline's title, slugified, unique (ignoring case)
  among the sources already configured;
- feeds already configured (same URL, http and https alike) are skipped and
  reported; so is an outline that would not pass config validation;
- new sources are appended as text after the last item of `sources:`, so
  the file's comments and layout stay as they are. The result is validated
  with `papertrail.config.parse_config` and must hold the old sources
  unchanged plus the new ones, or nothing is written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from papertrail.config.check import _SOURCE_NAME_RE, is_arxiv_category
from papertrail.config.load import load_config, packaged_feeds_path, parse_config
from papertrail.config.model import Config, ConfigError, Settings, Source
from papertrail.config.paths import write_atomic
from papertrail.ids import canonical_url

OPML_DOCS = "https://opml.org/spec2.opml"
ARXIV_API_DEFAULT_MAX_RESULTS = (
    50  # what papertrail.ingest.fetch asks for when max_results is unset
)
NAME_MAX = 40

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class OpmlError(ValueError):
    """An OPML file that cannot be read, or sources that cannot be added. str() is for people."""


# ---------------------------------------------------------------- URLs


def arxiv_api_url(source: Source, settings: Settings) -> str:
    """The arXiv API query URL papertrail's fetch asks for (an Atom feed)."""
    params = {
        "search_query": source.api_query(),
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "max_results": source.max_results or ARXIV_API_DEFAULT_MAX_RESULTS,
    }
    return f"{settings.arxiv_api_url}?{urlencode(params, quote_via=quote)}"


def source_url(source: Source, settings: Settings) -> str | None:
    """The feed URL a reader would subscribe to, or None (a source with no http(s)
    feed, e.g. a local mailbox)."""
    if source.kind == "arxiv":
        return arxiv_api_url(source, settings)
    url = source.fetch_url(settings)
    try:
        return url if url and urlsplit(url).scheme.lower() in ("http", "https") else None
    except ValueError:
        return None


def _url_key(url: str) -> str:
    """Two URLs name the same feed when this is equal: canonical, scheme ignored."""
    canonical = canonical_url(url)
    return canonical.split("://", 1)[1] if "://" in canonical else canonical


def source_key(source: Source, settings: Settings) -> str | None:
    """What makes two sources the same feed: the arXiv search, else the URL."""
    if source.kind == "arxiv":
        return "arxiv-search:" + " ".join(source.api_query().split())
    url = source.fetch_url(settings)
    return _url_key(url) if url else None


# ---------------------------------------------------------------- export


def _xml(value: Any) -> str:
    return _XML_INVALID.sub("", str(value))


def export_opml(config: Config, *, now: datetime | None = None) -> str:
    """The configured sources as an OPML 2.0 document."""
    now = now or datetime.now(timezone.utc)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "papertrail sources"
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    ET.SubElement(head, "docs").text = OPML_DOCS
    body = ET.SubElement(root, "body")
    groups: dict[str, list[tuple[Source, str]]] = {}
    left_out: list[str] = []
    for source in config.sources:
        url = source_url(source, config.settings)
        if not url:
            left_out.append(source.name)
            continue
        group = source.tags[0] if source.tags else source.kind
        groups.setdefault(group, []).append((source, url))
    for group, members in groups.items():
        folder = ET.SubElement(body, "outline", text=_xml(group), title=_xml(group))
        for source, url in members:
            ET.SubElement(
                folder,
                "outline",
                type="rss",
                text=_xml(source.name),
                title=_xml(source.name),
                xmlUrl=_xml(url),
                # always written, even empty: tells the importer these are all the tags
                category=_xml(",".join(f"/{t}" for t in source.tags)),
            )
    if left_out:
        body.append(ET.Comment(_xml(f" not exported (no feed URL): {', '.join(left_out)} ")))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------------- parsing


@dataclass
class OpmlFeed:
    """One feed found in an OPML file."""

    title: str
    url: str
    tags: list[str] = field(default_factory=list)


def slug_tag(text: str) -> str:
    """A folder title as a tag: lower case, no whitespace ('Machine Learning' -> 'machine-learning')."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^\w.+-]+", "-", text).strip("-.")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attrs(element: ET.Element) -> dict[str, str]:
    """Attributes by lower-case local name (xmlUrl, xmlurl and XMLURL all occur)."""
    return {_local(k).lower(): v for k, v in element.attrib.items()}


def _category_tags(value: str) -> list[str]:
    tags: list[str] = []
    for item in value.split(","):
        tags += [slug_tag(part) for part in item.split("/")]
    return [t for t in dict.fromkeys(tags) if t]


def parse_opml(data: bytes, *, name: str = "the OPML file") -> tuple[list[OpmlFeed], list[str]]:
    """The feeds in an OPML document, and a note for each outline that is not one.

    Raises OpmlError for a file that is not OPML or not well-formed XML, or
    that declares entities or external references (refused, never expanded).
    """
    from defusedxml import DefusedXmlException  # third-party: only `sources import` reads OPML
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data)
    except DefusedXmlException as e:
        raise OpmlError(
            f"{name} was refused: it declares XML entities or external references "
            f"({type(e).__name__}), which OPML never needs and which can be used to "
            "exhaust memory; export it again from your feed reader"
        ) from None
    except ET.ParseError as e:
        line, column = getattr(e, "position", (None, None))
        where = f" at line {line}, column {column + 1}" if line and column is not None else ""
        raise OpmlError(f"{name} is not well-formed XML{where}: {e}") from None
    if _local(root.tag).lower() != "opml":
        raise OpmlError(f"{name} is not OPML: its root element is <{_local(root.tag)}>, not <opml>")
    body = next((el for el in root if _local(el.tag).lower() == "body"), None)
    if body is None:
        raise OpmlError(f"{name} has no <body>, so no feeds")
    feeds: list[OpmlFeed] = []
    notes: list[str] = []

    def walk(element: ET.Element, folders: list[str]) -> None:
        for child in element:
            if _local(child.tag).lower() != "outline":
                continue
            attrs = _attrs(child)
            title = " ".join((attrs.get("title") or attrs.get("text") or "").split())
            url = (attrs.get("xmlurl") or "").strip()
            if url:
                if "category" in attrs:
                    tags = _category_tags(attrs["category"])
                else:
                    tags = [t for t in (slug_tag(f) for f in folders) if t]
                feeds.append(OpmlFeed(title=title, url=url, tags=list(dict.fromkeys(tags))))
                walk(child, folders)
            elif len(child):
                walk(child, [*folders, title])
            else:
                notes.append(f"{title or '(untitled outline)'}: no xmlUrl, not a feed")

    walk(body, [])
    return feeds, notes


# ---------------------------------------------------------------- planning


def _kind_for(url: str, settings: Settings) -> dict[str, Any]:
    """The source fields (kind + url / categories / query) for a feed URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return {"kind": "feed", "url": url}
    path = parts.path.rstrip("/")
    if path.endswith("/api/query"):
        query = parse_qs(parts.query).get("search_query")
        if query and query[0].strip():
            fields: dict[str, Any] = {"kind": "arxiv", "query": " ".join(query[0].split())}
            try:
                max_results = int(parse_qs(parts.query).get("max_results", [""])[0])
            except ValueError:
                max_results = 0
            if max_results > 0:
                fields["max_results"] = max_results
            return fields
    rss_base = settings.arxiv_rss_url.rstrip("/")
    host = (parts.hostname or "").lower()
    if url.startswith(rss_base + "/") or (
        host in ("rss.arxiv.org", "export.arxiv.org", "arxiv.org")
        and re.fullmatch(r"/(rss|atom)/[^/]+", path)
    ):
        tail = url[len(rss_base) + 1 :] if url.startswith(rss_base + "/") else ""
        categories = tail.split("+") if tail else []
        if categories and all(is_arxiv_category(c) for c in categories):
            return {"kind": "arxiv-rss", "categories": categories}
        return {"kind": "arxiv-rss", "url": url}
    return {"kind": "feed", "url": url}


def slug_name(text: str) -> str:
    """A title as a source name: lower-case ASCII letters, digits and '-' (a title
    that already is a valid name keeps its '.' and '_'), at most NAME_MAX characters."""
    if _SOURCE_NAME_RE.match(text) and len(text) <= NAME_MAX:
        return text.lower()
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > NAME_MAX:
        cut = slug[:NAME_MAX]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[NAME_MAX // 2 :] else cut
    return slug.strip("-")


def _unique_name(title: str, url: str, taken: set[str]) -> str:
    base = slug_name(title)
    if not base:  # a title without Latin letters (ゼロから作る…): name it after the host
        base = slug_name((urlsplit(url).hostname or "").removeprefix("www.")) or "feed"
    name, n = base, 2
    while name.casefold() in taken:
        name = f"{base[: NAME_MAX - len(str(n)) - 1]}-{n}"
        n += 1
    taken.add(name.casefold())
    return name


@dataclass
class ImportResult:
    """What `import_opml` did (or, in a dry run, would do)."""

    opml: Path
    target: Path
    added: list[dict[str, Any]] = field(default_factory=list)  # the new source items
    present: list[tuple[str, str, str]] = field(default_factory=list)  # (title, url, existing name)
    skipped: list[str] = field(default_factory=list)  # "title: why"
    written: bool = False
    dry_run: bool = False

    def report_lines(self) -> list[str]:
        lines: list[str] = []
        if self.added:
            verb = "Would add" if self.dry_run else "Added"
            lines.append(f"{verb} {_n(len(self.added), 'source')} to {self.target}:")
            for item in self.added:
                where = item.get("url") or item.get("query") or "+".join(item.get("categories", []))
                tags = f"  [{', '.join(item['tags'])}]" if item.get("tags") else ""
                lines.append(f"  + {item['name']} ({item['kind']})  {where}{tags}")
        else:
            lines.append(f"No new feeds in {self.opml}; {self.target} is unchanged.")
        if self.present:
            lines.append(f"Already configured (same URL), skipped {len(self.present)}:")
            lines += [
                f"  = {title or url}  {url}  (as {name})" for title, url, name in self.present
            ]
        if self.skipped:
            lines.append(f"Not imported, {len(self.skipped)}:")
            lines += [f"  ! {note}" for note in self.skipped]
        if self.dry_run and self.added:
            lines.append("Dry run: nothing was written.")
        return lines


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _valid_item(item: dict[str, Any], target: Path) -> str | None:
    """None if `item` alone passes config validation, else the first problem."""
    try:
        parse_config("sources:\n" + _render_items([item], indent=2, offset=2), target)
    except ConfigError as e:
        return "; ".join(p.message for p in e.problems)
    return None


def plan_import(
    feeds: Sequence[OpmlFeed],
    existing: Iterable[tuple[Source, Settings]],
    settings: Settings,
    *,
    target: Path,
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]], list[str]]:
    """(new source items, already present, skipped notes) for `feeds` given the
    sources already configured (with the settings each is fetched with)."""
    known: dict[str, str] = {}
    taken: set[str] = set()
    for source, source_settings in existing:
        taken.add(source.name.casefold())
        key = source_key(source, source_settings)
        if key:
            known.setdefault(key, source.name)
    new: dict[str, dict[str, Any]] = {}
    present: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    for feed in feeds:
        fields = _kind_for(feed.url, settings)
        key = source_key(_expected({"name": "probe", **fields}), settings) or _url_key(feed.url)
        if key in known:
            present.append((feed.title, feed.url, known[key]))
            continue
        if key in new:  # the same feed in another folder: one source, all the tags
            same = new[key]
            tags = list(dict.fromkeys([*same.get("tags", []), *feed.tags]))
            if tags:
                same["tags"] = tags
            continue
        item: dict[str, Any] = {"name": "probe", **fields}
        if feed.tags:
            item["tags"] = list(feed.tags)
        problem = _valid_item(item, target)
        if problem:
            skipped.append(f"{feed.title or feed.url}: {problem}")
            continue
        item["name"] = _unique_name(feed.title, feed.url, taken)
        new[key] = item
    return list(new.values()), present, skipped


# ---------------------------------------------------------------- writing


def _flow(values: Sequence[Any]) -> str:
    return yaml.safe_dump(
        list(values), default_flow_style=True, allow_unicode=True, width=1 << 30
    ).strip()


def _scalar(value: Any) -> str:
    """`value` as YAML in block context: plain when it can be, quoted when it must."""
    text = yaml.safe_dump({"k": value}, allow_unicode=True, width=1 << 30)[3:].rstrip("\n")
    return text if "\n" not in text else json.dumps(value, ensure_ascii=False)


_ITEM_ORDER = ("name", "kind", "url", "categories", "query", "max_results", "tags")


def _render_items(items: Sequence[dict[str, Any]], *, indent: int, offset: int) -> str:
    """Block-style YAML list items: '- name: x' at `indent`, the other keys at indent + offset."""
    lines: list[str] = []
    pad = " " * indent
    for item in items:
        keys = [k for k in _ITEM_ORDER if k in item] + [k for k in item if k not in _ITEM_ORDER]
        for i, key in enumerate(keys):
            value = item[key]
            text = _flow(value) if isinstance(value, (list, tuple)) else _scalar(value)
            lead = pad + ("-" + " " * (offset - 1) if i == 0 else " " * offset)
            lines.append(f"{lead}{key}: {text}")
    return "\n".join(lines) + "\n"


def _last_index(node: Node) -> int:
    """The end of the last character that belongs to `node` (its deepest last child)."""
    end = node.end_mark.index
    if isinstance(node, MappingNode) and node.value and node.flow_style is not True:
        return max(_last_index(node.value[-1][1]), _last_index(node.value[-1][0]))
    if isinstance(node, SequenceNode) and node.value and node.flow_style is not True:
        return _last_index(node.value[-1])
    return end


def append_sources(text: str, items: Sequence[dict[str, Any]], *, comment: str) -> str:
    """`text` (a feeds file) with `items` appended to its `sources:` list, every
    other character unchanged. Raises OpmlError when the list is not one it can
    safely append to (a non-empty flow-style list)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    comment = " ".join(comment.split())

    def block(indent: int, offset: int) -> str:
        out = f"{' ' * indent}# {comment}\n" + _render_items(items, indent=indent, offset=offset)
        return out.replace("\n", newline)

    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    if root is None or (isinstance(root, ScalarNode) and not root.value):
        sep = "" if not text or text.endswith("\n") else newline
        return text + sep + "sources:" + newline + block(2, 2)
    if not isinstance(root, MappingNode):
        raise OpmlError("the file is not a mapping with a 'sources:' key")
    entry = next(((k, v) for k, v in root.value if getattr(k, "value", None) == "sources"), None)
    if entry is None:
        sep = "" if text.endswith("\n") else newline
        return text + sep + newline + "sources:" + newline + block(2, 2)
    key, value = entry
    empty = (
        isinstance(value, ScalarNode) and value.value in ("", "~", "null", "Null", "NULL")
    ) or (isinstance(value, SequenceNode) and not value.value)
    if empty:
        start, end = value.start_mark.index, value.end_mark.index
        head = text[:start] + text[end:]
        line_end = head.find("\n", key.end_mark.index)
        cut = len(head) if line_end < 0 else line_end + 1
        sep = "" if cut and head[:cut].endswith("\n") else newline
        return head[:cut] + sep + block(2, 2) + head[cut:]
    if not isinstance(value, SequenceNode) or value.flow_style:
        raise OpmlError(
            "'sources:' is written in flow style ([...]) or is not a list, so new items "
            "cannot be appended without rewriting it; use --into FILE"
        )
    first = value.value[0]
    indent = value.start_mark.column
    offset = max(first.start_mark.column - indent, 2) if isinstance(first, MappingNode) else 2
    last = _last_index(value.value[-1])
    # after the line holding the last item's last character (its trailing comment included)
    if last > 0 and text[last - 1] == "\n":
        cut = last
    else:
        line_end = text.find("\n", last)
        cut = len(text) if line_end < 0 else line_end + 1
    sep = "" if text[:cut].endswith("\n") else newline
    return text[:cut] + sep + newline + block(indent, offset) + text[cut:]


def _comparable(source: Source) -> Source:
    return dataclasses.replace(source, line=0)


def _expected(item: dict[str, Any]) -> Source:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
    return Source(line=0, **values)


def import_opml(
    opml_path: Path,
    feeds_path: Path,
    *,
    into: Path | None = None,
    dry_run: bool = False,
    today: str | None = None,
) -> ImportResult:
    """Add the feeds of `opml_path` to `feeds_path` (or to `into`, created if
    missing). Returns what was added, already present and skipped; writes
    nothing on a dry run, when nothing is new, or when the result would not
    validate (OpmlError)."""
    opml_path, feeds_path = Path(opml_path), Path(feeds_path)
    target = Path(into) if into else feeds_path
    if not into and feeds_path.resolve() == packaged_feeds_path().resolve():
        raise OpmlError(
            f"papertrail is using the packaged default sources ({feeds_path}); copy it to "
            "./feeds.yml or your user config directory (see `papertrail config`) and import "
            "again, or import into a separate file with --into FILE"
        )
    feeds, notes = _read_opml(opml_path)
    current = _current_sources(feeds_path, target, into)
    new, present, skipped = plan_import(feeds, current.existing, current.settings, target=target)
    result = ImportResult(
        opml=opml_path,
        target=target,
        added=new,
        present=present,
        skipped=notes + skipped,
        dry_run=dry_run,
    )
    if not new:
        return result
    today = today or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    comment = f"imported from {opml_path.name} by `papertrail sources import` on {today}"
    text = current.text
    if into is not None and not target.exists():
        text = (
            "# Sources imported from an OPML file. Use it on its own with\n"
            f"#   papertrail --feeds {target.name} fetch\n"
            "# or copy the items below into the sources: list of your feeds.yml.\n"
        )
    new_text = append_sources(text, new, comment=comment)
    _check_appended(new_text, target, current.sources, new)
    if not dry_run:
        real = target.resolve()  # a symlinked feeds.yml (dotfiles) stays a symlink
        mode = real.stat().st_mode if real.exists() else None
        write_atomic(real, new_text)
        if mode is not None:
            os.chmod(real, stat.S_IMODE(mode))
        result.written = True
    return result


def _read_opml(opml_path: Path) -> tuple[list[OpmlFeed], list[str]]:
    """The feeds of an OPML file and notes on what is not one; OpmlError when none."""
    try:
        data = opml_path.read_bytes()
    except OSError as e:
        raise OpmlError(f"cannot read {opml_path}: {e.strerror or e}") from None
    feeds, notes = parse_opml(data, name=str(opml_path))
    if not feeds:
        raise OpmlError(f"{opml_path} lists no feeds: none of its outlines has an xmlUrl")
    return feeds, notes


@dataclass
class _Current:
    """What the file being added to holds now, and every source already configured."""

    text: str  # the target file's text ("" when it does not exist yet)
    sources: tuple[Source, ...]  # the target's sources
    settings: Settings  # the target's settings
    existing: list[tuple[Source, Settings]]  # feeds.yml's sources and the target's


def _current_sources(feeds_path: Path, target: Path, into: Path | None) -> _Current:
    try:
        main = load_config(feeds_path)
        existing: list[tuple[Source, Settings]] = [(s, main.settings) for s in main.sources]
        if into is None:
            text = feeds_path.read_bytes().decode("utf-8-sig")
            return _Current(text, main.sources, main.settings, existing)
        if not target.exists():
            return _Current("", (), Settings(), existing)
        other = load_config(target)
        existing += [(s, other.settings) for s in other.sources]
        text = target.read_bytes().decode("utf-8-sig")
        return _Current(text, other.sources, other.settings, existing)
    except ConfigError as e:
        raise OpmlError(f"{e}\nNothing was imported; fix the file first.") from None


def _check_appended(
    new_text: str, target: Path, old_sources: Sequence[Source], new: list[dict[str, Any]]
) -> None:
    """OpmlError unless the new text validates and keeps every old source as it was."""
    try:
        merged = parse_config(new_text, target)
    except ConfigError as e:
        raise OpmlError(
            f"adding the feeds would make {target} invalid, so nothing was written:\n{e}"
        ) from None
    want = [_comparable(s) for s in old_sources] + [_expected(item) for item in new]
    if [_comparable(s) for s in merged.sources] != want:
        raise OpmlError(
            f"could not append to the sources: list of {target} without changing the sources "
            "already there, so nothing was written; import into a separate file with --into FILE"
        )
