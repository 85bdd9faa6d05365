"""Export entries for reference managers and other tools: entries in, string out.

`papertrail export` picks entries from the reading list (papertrail.store.filters)
and hands them to one of the renderers here:

- BibTeX: every entry is an `@misc` (what arXiv itself exports), with
  `eprint` / `archivePrefix` / `primaryClass` for papers and `howpublished` /
  `url` / `urldate` for posts; a paper's code links go in a `code` field
  (space-separated URLs), which BibTeX styles and biber skip without error. A paper's title and
  abstract keep arXiv's TeX (math, accents, \\textit{…}: papertrail.reading.bibtex_tex). Other
  field text is LaTeX-escaped, braces included
  (as `\\textbraceleft{}`: an escaped brace still counts for BibTeX's brace
  matching), non-ASCII stays UTF-8 (biber/biblatex, Zotero, JabRef and
  Mendeley read it). Keys are ASCII: first author's surname + year + first
  significant title word (`gatys2015neural`), deduplicated `…a`, `…b`.
- RIS: papers are `RPRT` (an arXiv e-print is a report in a repository:
  Zotero, EndNote, Mendeley and JabRef map RPRT to a report with arXiv as its
  publisher), posts are `ELEC` (web page). One `AU` line per author.
- JSON: an array of entries, each with exactly the fields of the digest's JSON
  entries (`papertrail.reading.digest._json_entry`).
- CSV: the same fields as columns, `EXPORT_FIELDS` first in that order; lists
  joined with "; ".
- Markdown: a readable list, escaped like the digest's Markdown.

Feed text is untrusted: control characters are stripped everywhere except
JSON (which escapes them); CSV cells that a spreadsheet would run as a
formula (`=`, `+`, `-`, `@` first) get a leading `'`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from papertrail.models import Entry
from papertrail.reading.bibtex_tex import tex_field
from papertrail.reading.cards import safe_url as _safe_url
from papertrail.reading.digest import (
    _JSON_KEYS,
    _arxiv_links,
    _clean,
    _json_entry,
    _link,
    _md,
    _md_link,
)
from papertrail.text import CONTROL

FORMATS = ("bibtex", "ris", "markdown", "json", "csv")

# Columns of the CSV export: the digest's JSON keys first, then every other
# field of an entry dict (papertrail.store.queries._ENTRY_SELECT), in that order.
EXPORT_FIELDS: tuple[str, ...] = _JSON_KEYS + (
    "previous_version",
    "authors",
    "summary",
    "categories",
    "primary_category",
    "published",
    "updated",
    "doi",
    "journal_ref",
    "comment",
    "links",
    "last_seen",
    "version_updated_at",
    "tags",
    "mentioned_by",
    "starred",
    "read",
    "code_links",  # the URLs, "; "-joined in CSV
    "dismissed",
    "dismissed_at",
)

LIST_SEPARATOR = "; "

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


# ---------------------------------------------------------------- shared


def _date(entry: Entry) -> datetime | None:
    """When the entry was published (else first seen), or None if unreadable."""
    for key in ("published", "first_seen"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def _host(url: str | None) -> str:
    if not url:
        return ""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _abs_url(entry: Entry) -> str | None:
    links = _arxiv_links(entry)
    return links[1] if links else _safe_url(entry.get("url"))


def _keywords(entry: Entry) -> list[str]:
    return list(dict.fromkeys(_clean(k) for k in [*entry["domains"], *entry["tags"]] if k))


# ---------------------------------------------------------------- citation keys

_STOPWORDS = frozenset(
    {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "from", "by", "at"}
    | {"as", "is", "are", "via", "towards", "toward"}
)


def _ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Schölkopf' -> 'scholkopf'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _surname(name: str) -> str:
    name = _clean(name)
    if "," in name:  # "Gatys, Leon A."
        return name.split(",", 1)[0]
    parts = name.split()
    return parts[-1] if parts else ""


def _base_key(entry: Entry) -> str:
    author = next((_ascii_word(_surname(a)) for a in entry.get("authors") or []), "")
    if not author:  # no author, or a name with no Latin letters (松岡)
        author = _ascii_word(_host(_safe_url(entry.get("url"))).split(".")[0]) or "anon"
    date = _date(entry)
    year = str(date.year) if date else ""
    word = ""
    for token in _clean(entry.get("title")).split():
        token = _ascii_word(token)
        if token not in _STOPWORDS and re.search("[a-z]", token):  # a word, not "50"
            word = token
            break
    return f"{author}{year}{word}"


def citation_keys(entries: Sequence[Entry]) -> list[str]:
    """One unique BibTeX key per entry, in order. When several entries share a
    key, the one with the lowest id (the longest in the reading list) keeps it
    and the others get 'a', 'b', … so existing citations keep pointing at the
    same paper as the reading list grows."""
    bases = [_base_key(e) for e in entries]
    order = sorted(range(len(entries)), key=lambda i: (entries[i].get("id") or 0, i))
    taken: set[str] = set()
    keys = [""] * len(entries)
    # plain keys first, so a suffixed key never takes another entry's plain key
    for i in order:
        if bases[i] not in taken:
            keys[i] = bases[i]
            taken.add(bases[i])
    next_suffix: dict[str, int] = {}  # keeps many clashes linear, not quadratic
    for i in order:
        if keys[i]:
            continue
        n = next_suffix.get(bases[i], 0)
        while bases[i] + _suffix(n) in taken:
            n += 1
        keys[i] = bases[i] + _suffix(n)
        taken.add(keys[i])
        next_suffix[bases[i]] = n + 1
    return keys


def _suffix(n: int) -> str:
    """0 -> 'a', 25 -> 'z', 26 -> 'aa', …"""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


# ---------------------------------------------------------------- bibtex

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("[" + re.escape("".join(_LATEX)) + "]")


def latex_escape(value: Any) -> str:
    """Feed text as a BibTeX field value: one line, LaTeX specials escaped, braces balanced."""
    return _LATEX_RE.sub(lambda m: _LATEX[m[0]], _clean(value))


def _bib_tex(value: Any) -> str:
    """arXiv TeX as a BibTeX field value (papertrail.reading.bibtex_tex)."""
    return tex_field(_clean(value), latex_escape)


def _bib_verbatim(value: Any) -> str:
    """A URL or DOI (verbatim fields in biblatex): only what would break the
    entry is encoded — braces, backslashes, spaces."""
    text = _clean(value)
    for char, code in (("\\", "%5C"), ("{", "%7B"), ("}", "%7D"), (" ", "%20")):
        text = text.replace(char, code)
    return text


def _bib_name(name: str) -> str:
    text = latex_escape(name)
    # "and" inside one name would split it into two authors: protect the name
    return f"{{{text}}}" if re.search(r"\band\b", text, re.IGNORECASE) else text


def _bib_entry(entry: Entry, key: str) -> str:
    fields: list[tuple[str, str]] = []
    date = _date(entry)
    is_paper = entry.get("kind") == "paper" and entry.get("arxiv_id")
    if authors := [a for a in entry.get("authors") or [] if _clean(a)]:
        fields.append(("author", " and ".join(_bib_name(a) for a in authors)))
    # arXiv's title and abstract are TeX: math and known commands are kept (issue 18)
    tex = _bib_tex if is_paper else latex_escape
    fields.append(("title", tex(entry.get("title")) or "(untitled)"))
    if date:
        fields.append(("year", str(date.year)))
        fields.append(("month", _MONTHS[date.month - 1]))  # a BibTeX macro: unbraced
    if is_paper:
        fields.append(("eprint", _bib_verbatim(entry["arxiv_id"])))
        fields.append(("archivePrefix", "arXiv"))
        if primary := entry.get("primary_category") or next(
            iter(entry.get("categories") or []), None
        ):
            fields.append(("primaryClass", latex_escape(primary)))
        fields.append(("url", _bib_verbatim(_abs_url(entry))))
    elif url := _safe_url(entry.get("url")):
        fields.append(("howpublished", latex_escape(_host(url)) or "Online"))
        fields.append(("url", _bib_verbatim(url)))
        if first_seen := str(entry.get("first_seen") or "")[:10]:
            fields.append(("urldate", first_seen))
    if doi := entry.get("doi"):
        fields.append(("doi", _bib_verbatim(doi)))
    if journal := entry.get("journal_ref"):
        fields.append(("note", latex_escape(journal)))
    if code := [c["url"] for c in entry.get("code_links") or []]:
        # Not a biblatex field: BibTeX styles and biber skip unknown fields; Zotero keeps it.
        fields.append(("code", " ".join(_bib_verbatim(u) for u in code)))
    if keywords := _keywords(entry):
        fields.append(("keywords", latex_escape(", ".join(keywords))))
    if summary := entry.get("summary"):
        fields.append(("abstract", tex(summary)))
    width = max(len(name) for name, _ in fields)
    lines = [f"@misc{{{key},"]
    for name, value in fields:
        rendered = value if name == "month" else f"{{{value}}}"
        lines.append(f"  {name.ljust(width)} = {rendered},")
    lines.append("}")
    return "\n".join(lines)


def render_bibtex(entries: Sequence[Entry]) -> str:
    """BibTeX `@misc` entries, blank-line separated ('' for no entries)."""
    keys = citation_keys(entries)
    text = "\n\n".join(_bib_entry(e, k) for e, k in zip(entries, keys, strict=True))
    return text + "\n" if text else ""


# ---------------------------------------------------------------- ris


def _ris_entry(entry: Entry, key: str) -> str:
    is_paper = entry.get("kind") == "paper" and entry.get("arxiv_id")
    lines: list[tuple[str, str]] = [("TY", "RPRT" if is_paper else "ELEC"), ("ID", key)]
    lines += [("AU", _clean(a)) for a in entry.get("authors") or [] if _clean(a)]
    lines.append(("T1", _clean(entry.get("title")) or "(untitled)"))
    if summary := _clean(entry.get("summary")):
        lines.append(("AB", summary))
    if date := _date(entry):
        lines.append(("PY", str(date.year)))
        lines.append(("DA", f"{date:%Y/%m/%d}"))
    url = _abs_url(entry) if is_paper else _safe_url(entry.get("url"))
    if url:
        lines.append(("UR", url))
    if doi := _clean(entry.get("doi")):
        lines.append(("DO", doi))
    if is_paper:
        lines.append(("PB", "arXiv"))
        arxiv = f"arXiv:{_clean(entry['arxiv_id'])}"
        lines.append(("AN", arxiv))
    elif url:
        lines.append(("PB", _host(url)))
        if first_seen := str(entry.get("first_seen") or "")[:10]:
            lines.append(("Y2", first_seen.replace("-", "/")))  # access date
    if journal := _clean(entry.get("journal_ref")):
        lines.append(("N1", journal))
    lines += [("KW", k) for k in _keywords(entry)]
    body = "".join(f"{tag}  - {value}\n" for tag, value in lines)
    return body + "ER  - \n"


def render_ris(entries: Sequence[Entry]) -> str:
    """RIS records separated by a blank line ('' for no entries)."""
    keys = citation_keys(entries)
    return "\n".join(_ris_entry(e, k) for e, k in zip(entries, keys, strict=True))


# ---------------------------------------------------------------- json / csv


def render_json(entries: Sequence[Entry]) -> str:
    """A JSON array of entries shaped like the digest's JSON entries."""
    data = [_json_entry(e) for e in entries]
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(_csv_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _csv_cell(value: Any) -> str:
    text = CONTROL.sub("", _csv_text(value).replace("\r\n", "\n"))
    if text.startswith(_FORMULA_START):
        text = "'" + text  # not a formula when opened in a spreadsheet
    return text


def csv_columns(entries: Sequence[Entry]) -> list[str]:
    """EXPORT_FIELDS, then any further fields the entries carry (sorted)."""
    extra = sorted({k for e in entries for k in e} - set(EXPORT_FIELDS))
    return [*EXPORT_FIELDS, *extra]


def _csv_value(entry: Entry, column: str) -> Any:
    if column == "code_links":
        return [c["url"] for c in entry.get("code_links") or []]
    return entry.get(column)


def render_csv(entries: Sequence[Entry]) -> str:
    """CSV with a header row; lists joined with '; ', booleans true/false."""
    columns = csv_columns(entries)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for entry in entries:
        writer.writerow([_csv_cell(_csv_value(entry, c)) for c in columns])
    return out.getvalue()


# ---------------------------------------------------------------- markdown


def _md_entry(entry: Entry) -> str:
    title = _md_link(f"**{_md(entry.get('title')) or '(untitled)'}**", _link(entry))
    parts = [title]
    authors = [_clean(a) for a in entry.get("authors") or [] if _clean(a)]
    if authors:
        parts.append(_md(", ".join(authors)))
    date = _date(entry)
    if date:
        parts.append(f"{date:%Y-%m-%d}")
    if links := _arxiv_links(entry):
        parts.append(f"{_md_link(_md(links[0]), links[1])} ({_md_link('pdf', links[2])})")
    elif entry.get("kind") == "post" and entry.get("sources"):
        parts.append("via " + ", ".join(_md(s) for s in entry["sources"]))
    if doi := _clean(entry.get("doi")):
        parts.append(f"doi:{_md(doi)}")
    if keywords := _keywords(entry):
        parts.append(" ".join(f"`{k.replace('`', '')}`" for k in keywords))
    return "- " + " — ".join(parts)


def render_markdown(entries: Sequence[Entry]) -> str:
    n = len(entries)
    out = [f"# Reading list — {n} {'entry' if n == 1 else 'entries'}", ""]
    out += [_md_entry(e) for e in entries]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- entry point

RENDERERS: dict[str, Callable[[Sequence[Entry]], str]] = {
    "bibtex": render_bibtex,
    "ris": render_ris,
    "markdown": render_markdown,
    "json": render_json,
    "csv": render_csv,
}


def render(entries: Sequence[Entry], fmt: str) -> str:
    """`entries` (dicts from papertrail.store.find_entries) as `fmt` (one of FORMATS)."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None
    return renderer(entries)
