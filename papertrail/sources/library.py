"""Reference-manager libraries (BibTeX, RIS, CSL-JSON) -> the arXiv papers they cite.

What Zotero, JabRef, Mendeley (and `papertrail export`) write. Each entry's arXiv id
is looked for, in this order, in: `eprint` (BibTeX; unless `archivePrefix` names
another archive), JabRef's `arxivid`/`arxiv`, a DOI `10.48550/arXiv.ID` (what Zotero
and arXiv itself now give preprints), an arxiv.org URL, and finally an `arXiv:ID`
citation in any other field (`note = {arXiv:1508.06576 [cs]}`, Google Scholar's
`journal = {arXiv preprint arXiv:1508.06576}`). Entries without one are kept as
`LibraryItem`s with `arxiv_id=None`, so the caller can list them.

The parsers are small and our own (no dependency): they read the whole file first
and raise `LibraryError` naming the file, line and entry of the first problem, so a
broken file adds nothing. BibTeX: `@type{key, field = {…} | "…" | number | macro,
…}` with nested braces, `#` concatenation, `@string` macros, `@comment` and
`@preamble` skipped, text outside entries ignored (as BibTeX does). RIS: `TY  - `
starts a record and `ER  - ` ends it, one `TAG  - value` per line, other lines
continue the previous value. CSL-JSON: an array of objects (or one object).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from papertrail.ids import find_arxiv_ids, parse_arxiv_id

FORMATS = ("bibtex", "ris", "csl-json")

_DOI_ARXIV = re.compile(r"10\.48550/arxiv\.(\S+)", re.I)
# Fields where an `arXiv:ID` citation or an arxiv.org link names the entry itself
# (an abstract or a review may cite other papers: not looked at).
_ID_FIELDS = (
    "url", "link", "howpublished", "note", "journal", "journaltitle", "number", "eprint",
    "publisher", "annote", "annotation", "container-title", "archive_location", "doi",
)  # fmt: skip


class LibraryError(ValueError):
    """A library file that cannot be read; the message says where and what to do."""


@dataclass
class LibraryItem:
    where: str  # "FILE:LINE (key)", for messages
    title: str
    arxiv_id: str | None  # version-less


@dataclass
class Library:
    path: Path
    items: list[LibraryItem] = field(default_factory=list)

    @property
    def arxiv_ids(self) -> list[str]:
        return list(dict.fromkeys(i.arxiv_id for i in self.items if i.arxiv_id))

    @property
    def without_id(self) -> list[LibraryItem]:
        return [i for i in self.items if not i.arxiv_id]


def find_id(fields: dict[str, str]) -> str | None:
    """The arXiv id an entry's fields name (lower-case field names), or None."""
    prefix = fields.get("archiveprefix", fields.get("eprinttype", "arxiv")).strip().lower()
    candidates = []
    if prefix in ("arxiv", ""):
        candidates.append(fields.get("eprint", ""))
    # JabRef's arxivid; CSL's number; papertrail's own JSON export's arxiv_id
    candidates += [fields.get("arxivid", ""), fields.get("arxiv", ""), fields.get("arxiv_id", "")]
    for text in candidates:
        parsed = parse_arxiv_id(text.strip()) if text.strip() else None
        if parsed:
            return parsed[0]
    for name in _ID_FIELDS:
        m = _DOI_ARXIV.search(fields.get(name, ""))
        if m:
            parsed = parse_arxiv_id(m.group(1).rstrip(".,;}"))
            if parsed:
                return parsed[0]
    for name in _ID_FIELDS:
        found = find_arxiv_ids(fields.get(name, ""))
        if found:
            return found[0]
    return None


def read(path: Path, fmt: str) -> Library:
    """Parse a library file of format `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise LibraryError(f"unknown library format {fmt!r}: use one of {', '.join(FORMATS)}")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LibraryError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise LibraryError(
            f"{path}: not UTF-8 text (byte {e.start}): export the library as UTF-8"
        ) from None
    except OSError as e:
        raise LibraryError(f"{path}: cannot read it: {e.strerror or e}") from None
    parse = {"bibtex": parse_bibtex, "ris": parse_ris, "csl-json": parse_csl_json}[fmt]
    return Library(Path(path), parse(text, str(path)))


# ---------------------------------------------------------------- BibTeX


class _Bib:
    """A cursor over BibTeX text that knows its line."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name, self.pos = text, name, 0
        self.macros: dict[str, str] = {}

    def line(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def fail(self, what: str, key: str | None, start: int) -> LibraryError:
        entry = f" in entry '{key}'" if key else ""
        return LibraryError(
            f"{self.name}:{self.line()}: {what}{entry} (the entry starts on line "
            f"{self.line(start)}) — fix the file or export it again; nothing was imported"
        )

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def word(self) -> str:
        m = re.compile(r"[^\s,={}()\"#]+").match(self.text, self.pos)
        if not m:
            return ""
        self.pos = m.end()
        return m.group(0)

    def braced(self, key: str | None, start: int) -> str:
        depth, begin = 0, self.pos
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\":
                self.pos += 2
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    return self.text[begin + 1 : self.pos - 1]
            self.pos += 1
        self.pos = begin
        raise self.fail("a '{' is never closed", key, start)

    def quoted(self, key: str | None, start: int) -> str:
        begin, depth = self.pos, 0
        self.pos += 1
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == '"' and depth == 0:
                self.pos += 1
                return self.text[begin + 1 : self.pos - 1]
            self.pos += 1
        self.pos = begin
        raise self.fail("a '\"' is never closed", key, start)

    def value(self, key: str | None, start: int) -> str:
        parts = []
        while True:
            self.skip_space()
            ch = self.text[self.pos : self.pos + 1]
            if ch == "{":
                parts.append(self.braced(key, start))
            elif ch == '"':
                parts.append(self.quoted(key, start))
            else:
                word = self.word()
                if not word:
                    raise self.fail("a field has no value", key, start)
                parts.append(self.macros.get(word.lower(), word))
            self.skip_space()
            if self.text[self.pos : self.pos + 1] != "#":
                return "".join(parts)
            self.pos += 1

    def fields(self, key: str | None, start: int, close: str) -> dict[str, str]:
        out: dict[str, str] = {}
        while True:
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == close:
                self.pos += 1
                return out
            if self.pos >= len(self.text):
                raise self.fail(f"the entry is never closed: missing '{close}'", key, start)
            name = self.word().lower()
            self.skip_space()
            if not name or self.text[self.pos : self.pos + 1] != "=":
                raise self.fail(
                    "expected 'field = value'" + (f" after {name!r}" if name else ""), key, start
                )
            self.pos += 1
            out[name] = self.value(key, start)
            self.skip_space()
            if self.text[self.pos : self.pos + 1] == ",":
                self.pos += 1
            elif self.text[self.pos : self.pos + 1] != close:
                raise self.fail(f"expected ',' or '{close}' after field {name!r}", key, start)


def _bib_text(value: str) -> str:
    """Field text without TeX braces and with whitespace collapsed."""
    return " ".join(value.replace("{", "").replace("}", "").split())


def parse_bibtex(text: str, name: str = "<bibtex>") -> list[LibraryItem]:
    """Every entry of a BibTeX file (see the module docstring)."""
    bib, items = _Bib(text, name), list[LibraryItem]()
    while True:
        at = text.find("@", bib.pos)
        if at < 0:
            return items
        bib.pos = at + 1
        kind = bib.word().lower()
        bib.skip_space()
        opener = text[bib.pos : bib.pos + 1]
        if kind == "comment" and opener == "{":
            bib.braced(None, at)  # skipped whole, as biber and JabRef do
            continue
        if kind == "comment" or opener not in ("{", "("):
            continue  # text outside entries, as BibTeX ignores it
        close = "}" if opener == "{" else ")"
        bib.pos += 1
        if kind == "preamble":  # skipped: TeX for the bibliography style
            if opener == "{":
                bib.pos -= 1
                bib.braced(None, at)
            else:
                bib.pos = max(text.find(")", bib.pos) + 1, bib.pos)
            continue
        if kind == "string":
            bib.macros.update(bib.fields(None, at, close))
            continue
        bib.skip_space()
        key = bib.word()
        bib.skip_space()
        if text[bib.pos : bib.pos + 1] == ",":
            bib.pos += 1
        elif text[bib.pos : bib.pos + 1] != close:
            raise bib.fail(f"expected ',' after the key {key!r}", key or None, at)
        fields = {k: _bib_text(v) for k, v in bib.fields(key or None, at, close).items()}
        where = f"{name}:{bib.line(at)} ({key or kind})"
        items.append(LibraryItem(where, fields.get("title", ""), find_id(fields)))


# ---------------------------------------------------------------- RIS

_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
# RIS tags -> the names find_id looks at
_RIS_NAMES = {"DO": "doi", "UR": "url", "L1": "url", "L2": "url", "LK": "url", "AN": "arxivid"}


def parse_ris(text: str, name: str = "<ris>") -> list[LibraryItem]:
    """Every record of an RIS file (see the module docstring)."""
    items: list[LibraryItem] = []
    record: dict[str, str] | None = None
    start, last = 0, ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        m = _RIS_LINE.match(line)
        if m is None:
            if not line.strip():
                continue
            if record is None:
                raise LibraryError(
                    f"{name}:{n}: {line[:40]!r} is outside a record (records start with "
                    "'TY  - '): is this an RIS file? Nothing was imported"
                )
            record[last] = (record.get(last, "") + " " + line.strip()).strip()
            continue
        tag, value = m.group(1), (m.group(2) or "").strip()
        if tag == "TY":
            if record is not None:
                raise LibraryError(
                    f"{name}:{n}: a record starts before the one from line {start} ended "
                    "(missing 'ER  - '); nothing was imported"
                )
            record, start = {}, n
        elif record is None:
            raise LibraryError(
                f"{name}:{n}: tag {tag} outside a record (records start with 'TY  - '); "
                "nothing was imported"
            )
        elif tag == "ER":
            items.append(_ris_item(record, f"{name}:{start}"))
            record = None
        else:
            key = _RIS_NAMES.get(tag, tag.lower())
            record[key] = (record[key] + " " + value) if key in record else value
            last = key
    if record is not None:
        raise LibraryError(
            f"{name}:{start}: the record starting here never ends (missing 'ER  - '); "
            "nothing was imported"
        )
    return items


def _ris_item(record: dict[str, str], where: str) -> LibraryItem:
    title = record.get("ti") or record.get("t1") or ""
    return LibraryItem(f"{where} ({title[:40] or 'untitled'})", title, find_id(record))


# ---------------------------------------------------------------- CSL-JSON


def parse_csl_json(text: str, name: str = "<csl-json>") -> list[LibraryItem]:
    """Every item of a CSL-JSON file: an array of objects, or one object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LibraryError(
            f"{name}:{e.lineno}:{e.colno}: not valid JSON ({e.msg}); nothing was imported"
        ) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise LibraryError(f"{name}: expected a JSON array of CSL items; nothing was imported")
    items = []
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise LibraryError(
                f"{name}: item {n} is {type(item).__name__}, not an object; nothing was imported"
            )
        if not ({"id", "title", "type"} & item.keys()):
            raise LibraryError(
                f"{name}: item {n} has no id, type or title: is this CSL-JSON? "
                "Export the library as CSL JSON; nothing was imported"
            )
        fields = {str(k).lower(): str(v) for k, v in item.items() if isinstance(v, (str, int))}
        if "number" in fields and "eprint" not in fields:
            fields["arxiv"] = fields["number"]
        where = f"{name}: item {n} ({fields.get('id', fields.get('title', '')[:40])})"
        items.append(LibraryItem(where, fields.get("title", ""), find_id(fields)))
    return items
