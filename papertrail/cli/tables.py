"""Terminal rendering of entries for list/search/show (rich; colour only on a terminal).

Feed text is untrusted: it is cleaned of control and bidi characters and always
passed to rich as `Text`, never as markup, so a title like "[red]x" prints as is.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from papertrail.reading.digest import _CONTROL, _clean
from papertrail.store.triage import HIT_END, HIT_START


def _console() -> Console:
    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size((120, 24)).columns if tty else 160
    return Console(file=sys.stdout, width=width, no_color=not tty, highlight=False, soft_wrap=False)


def _date(entry: dict[str, Any]) -> str:
    return (entry.get("published") or entry.get("first_seen") or "")[:10]


def _where(entry: dict[str, Any]) -> str:
    if entry.get("arxiv_id"):
        return f"arXiv:{entry['arxiv_id']}"
    sources = entry.get("sources") or []
    return sources[0] if sources else ""


def _flags(entry: dict[str, Any]) -> str:
    return ("★" if entry.get("starred") else " ") + ("✓" if entry.get("read") else " ")


def highlighted(snippet: str, style: str = "dim") -> Text:
    """A snippet with its FTS hits in bold yellow."""
    out = Text(style=style)
    bold = False
    for part in snippet.replace(HIT_END, HIT_START).split(HIT_START):
        out.append(
            _CONTROL.sub(" ", part).replace("\n", " ").replace("\t", " "), "bold" if bold else ""
        )
        bold = not bold
    return out


_HEADERS = ("id", "date", "", "domain", "title", "where")
_CELL_STYLES = ("cyan", "", "", "magenta", "dim")  # every column but the title


def print_entries(entries: list[dict[str, Any]], *, snippets: bool = False) -> None:
    """The entries as a borderless table: every column but the title at its full
    width, the title (and its snippet, folded under it) in what is left.

    Laid out here rather than by rich's Table: with every width known there is
    nothing to measure, and rich's general table layout was most of a search's
    time (50 rows with snippets: 14 ms of 23)."""
    rows = []
    for e in entries:
        if e.get("title_highlighted"):
            title = highlighted(e["title_highlighted"], style="" if e.get("read") else "bold")
        else:
            title = Text(_clean(e.get("title")), style="" if e.get("read") else "bold")
        if snippets and e.get("snippet"):
            title.append("\n")
            title.append_text(highlighted(e["snippet"]))
        domain = (e.get("domains") or ["—"])[0]  # imported archive papers may have none
        rows.append(([str(e["id"]), _date(e), _flags(e), domain, _clean(_where(e))], title))
    console = _console()
    cell_headers = [h for i, h in enumerate(_HEADERS) if i != _TITLE]
    widths = [
        max([len(name)] + [cell_len(cells[i]) for cells, _ in rows])
        for i, name in enumerate(cell_headers)
    ]
    title_width = max(20, console.width - sum(widths) - _GAP * (len(_HEADERS) - 1))
    widths.insert(_TITLE, title_width)
    out = Text()
    _join_line(out, [Text(h, style="bold dim") for h in _HEADERS], widths)
    for cells, title in rows:
        texts = [Text(c, style=_CELL_STYLES[i]) for i, c in enumerate(cells)]
        if snippets:
            lines = title.wrap(console, title_width, overflow="fold")
        else:
            title.truncate(title_width, overflow="ellipsis")
            lines = [title]
        texts.insert(_TITLE, lines[0])
        _join_line(out, texts, widths)
        for more in lines[1:]:
            _join_line(out, [Text() for _ in _HEADERS[:_TITLE]] + [more], widths[: _TITLE + 1])
    console.print(out, end="", no_wrap=True, overflow="ignore", crop=False)


_TITLE = _HEADERS.index("title")
_GAP = 2  # spaces between columns


def _join_line(out: Text, cells: list[Text], widths: list[int]) -> None:
    for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        if i:
            out.append(" " * _GAP)
        pad = width - cell.cell_len
        if i == 0:  # ids right-aligned
            out.append(" " * pad)
            out.append_text(cell)
        else:
            out.append_text(cell)
            if i < len(cells) - 1:
                out.append(" " * pad)
    out.append("\n")


def _section(console: Console, title: str) -> None:
    console.print(Text(title, style="bold"))


def print_detail(d: dict[str, Any]) -> None:
    """`papertrail show`: the entry and everything attached to it."""
    console = _console()
    wrap = max(40, min(console.width, 100) - 4)
    console.print(Text(_clean(d.get("title")), style="bold"))
    ident = f"#{d['id']}  {d['kind']}"
    if d.get("arxiv_id"):
        ident += f"  arXiv:{d['arxiv_id']}" + (f"v{d['version']}" if d.get("version") else "")
    flags = [name for name, on in (("starred", d.get("starred")), ("read", d.get("read"))) if on]
    ident += "  (" + (", ".join(flags) or "unread") + ")"
    console.print(Text(ident, style="cyan"))
    if d.get("hidden_by"):
        console.print(
            Text(f"  hidden from the digest by the block rule {d['hidden_by']}", style="yellow")
        )
    rows = [
        ("authors", ", ".join(_clean(a) for a in d.get("authors") or [])),
        ("published", (d.get("published") or "")[:10]),
        ("updated", (d.get("updated") or "")[:10]),
        ("first seen", (d.get("first_seen") or "")[:16].replace("T", " ")),
        ("categories", ", ".join(d.get("categories") or [])),
        ("domains", ", ".join(d.get("domains") or [])),
        ("tags", ", ".join(d.get("tags") or [])),
        ("url", d.get("url") or ""),
        ("pdf", (d.get("links") or {}).get("pdf", "")),
        ("doi", d.get("doi") or ""),
        ("journal", _clean(d.get("journal_ref"))),
        ("comment", _clean(d.get("comment"))),
    ]
    for label, value in rows:
        if value:
            console.print(Text(f"  {label:<11} ", style="dim") + Text(str(value)))
    if d.get("summary"):
        console.print()
        for line in textwrap.wrap(_clean(d["summary"]), wrap):
            console.print(Text("  " + line))
    if len(d.get("versions") or []) > 1 or d.get("previous_version"):
        console.print()
        _section(console, "Versions")
        for v in d["versions"]:
            console.print(Text(f"  v{v['version']}  seen {v['first_seen'][:10]} in {v['source']}"))
    console.print()
    _section(console, f"Surfaced by ({len(d.get('provenance') or [])})")
    for p in d.get("provenance") or []:
        console.print(
            Text(f"  {p['source']:<24} first {p['first_seen'][:10]}  last {p['last_seen'][:10]}")
        )
    if d.get("mentioned_in"):
        console.print()
        _section(console, f"Mentioned by {d.get('mentioned_by') or 0} sources")
        for m in d["mentioned_in"]:
            console.print(Text(f"  #{m['id']} [{m['source']}] ") + Text(_clean(m["title"])))
    if d.get("mentions"):
        console.print()
        _section(console, "Papers it links to")
        for m in d["mentions"]:
            title = _clean(m["title"]) if m.get("title") else "(not in the reading list yet)"
            console.print(Text(f"  arXiv:{m['arxiv_id']}  ") + Text(title))
    console.print()
    _section(console, f"Notes ({len(d.get('notes') or [])})")
    for n in d.get("notes") or []:
        console.print(
            Text(f"  [{n['id']}] {n['created_at'][:16].replace('T', ' ')}  ") + Text(n["text"])
        )
    if not d.get("notes"):
        console.print(Text(f'  none — papertrail note {d["id"]} "…"', style="dim"))
    for r in d.get("reproductions") or []:
        console.print()
        _section(console, f"Reproduction: {r['name']} ({r['run_count']} runs)")
        console.print(Text(f"  papertrail repro {r['name']} --help", style="dim"))
        for run in r["runs"]:
            metric = f"  {run['headline_metric']}" if run.get("headline_metric") else ""
            console.print(
                Text(
                    f"  run {run['id']}  {run['started_at'][:16].replace('T', ' ')}  {run['status']}"
                    f"  {run.get('device') or ''}{metric}"
                )
            )
