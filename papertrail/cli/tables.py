"""Terminal rendering of entries for list/search/show (rich; colour only on a terminal).

Feed text is untrusted: it is cleaned of control and bidi characters and always
passed to rich as `Text`, never as markup, so a title like "[red]x" prints as is.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from papertrail.db.triage import HIT_END, HIT_START
from papertrail.digest import _CONTROL, _clean


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
_STYLES = ("cyan", "", "", "magenta", "", "dim")


def print_entries(entries: list[dict[str, Any]], *, snippets: bool = False) -> None:
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
        rows.append((str(e["id"]), _date(e), _flags(e), domain, title, _where(e)))
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold dim")
    # Every column but the title keeps its full width; the title gets the rest.
    # All widths are given, so rich measures no cell (for 50 rows with snippets
    # that measuring was two thirds of a search's time).
    console = _console()
    widths = [max([len(name)] + [len(r[i]) for r in rows]) for i, name in enumerate(_HEADERS)]
    widths[4] = max(20, console.width - sum(widths) + widths[4] - 2 * (len(widths) - 1))
    for i, (name, style) in enumerate(zip(_HEADERS, _STYLES, strict=True)):
        if i == 4:
            table.add_column(
                name, width=widths[i], overflow="fold" if snippets else "ellipsis",
                no_wrap=not snippets,
            )  # fmt: skip
        else:
            table.add_column(
                name, style=style, no_wrap=True, width=widths[i],
                justify="right" if i == 0 else "left",
            )  # fmt: skip
    for row in rows:
        table.add_row(*row)
    console.print(table)


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
