"""Terminal rendering of entries for list/search/show (rich; colour only on a terminal).

Feed text is untrusted: it is cleaned of control and bidi characters and always
passed to rich as `Text`, never as markup, so a title like "[red]x" prints as is.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from papertrail import api
from papertrail.cli.plaintext import PlainText, plain_output
from papertrail.text import CONTROL, HIT_END, HIT_START, plain_snippet
from papertrail.text import clean as _clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from papertrail.models import Entry, EntryDetail


PLAIN_WIDTH = 160  # the table's width when the output is not a terminal


def _console() -> Console:
    from rich.console import Console  # heavy (~45 ms with rich.text): only printing needs it

    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size((120, 24)).columns if tty else PLAIN_WIDTH
    return Console(file=sys.stdout, width=width, no_color=not tty, highlight=False, soft_wrap=False)


def _date(entry: Mapping[str, Any]) -> str:
    return (entry.get("published") or entry.get("first_seen") or "")[:10]


def _where(entry: Mapping[str, Any]) -> str:
    if entry.get("arxiv_id"):
        return f"arXiv:{entry['arxiv_id']}"
    sources = entry.get("sources") or []
    return sources[0] if sources else ""


def _flags(entry: Mapping[str, Any]) -> str:
    return ("★" if entry.get("starred") else " ") + ("✓" if entry.get("read") else " ")


def highlighted(snippet: str, style: str = "dim", text_class: Any = None) -> Text:
    """A snippet with its FTS hits in bold yellow (`text_class`: rich's Text, or
    cli/plaintext.py's PlainText for output that is not a terminal)."""
    if text_class is None:
        from rich.text import Text as text_class  # heavy: see _console

    out = text_class(style=style)
    bold = False
    for part in snippet.replace(HIT_END, HIT_START).split(HIT_START):
        out.append(
            CONTROL.sub(" ", part).replace("\n", " ").replace("\t", " "), "bold" if bold else ""
        )
        bold = not bold
    return cast("Text", out)


def print_list(
    entries: list[Entry], as_json: bool, as_csv: bool, *, empty: str, echo: Callable[..., None]
) -> None:
    """What `list` and `search` print: JSON or CSV (a search hit's markers as **word**),
    else the table, else `empty` on stderr. `echo` is click.echo, or cli/quick.py's copy."""
    if as_json or as_csv:
        for e in entries:  # search hits: the highlight markers become **word**
            e.pop("title_highlighted", None)
            if "snippet" in e:
                e["snippet"] = plain_snippet(e["snippet"])
        echo((api.render_json if as_json else api.render_csv)(entries).rstrip("\n"))
        return
    if not entries:
        echo(empty, err=True)
        return
    print_entries(entries, snippets=any("snippet" in e for e in entries))


_HEADERS = ("id", "date", "", "domain", "title", "where")
_CELL_STYLES = ("cyan", "", "", "magenta", "dim")  # every column but the title


def print_entries(entries: list[Entry], *, snippets: bool = False) -> None:
    """The entries as a borderless table: every column but the title at its full
    width, the title (and its snippet, folded under it) in what is left.

    Laid out here rather than by rich's Table: with every width known there is
    nothing to measure, and rich's general table layout was most of a search's
    time (50 rows with snippets: 14 ms of 23). Output that is not a terminal is
    laid out with PlainText (rich's text functions without its styles and console:
    the same bytes, ~20 ms less to import)."""
    # Any: rich's Text on a terminal, else PlainText (the same methods, no styles)
    text_class: Any = PlainText
    console = None
    if not plain_output(sys.stdout):
        from rich.text import Text as text_class  # heavy: see _console

        console = _console()
    rows = []
    for e in entries:
        style = "" if e.get("read") else "bold"
        if hit := e.get("title_highlighted"):
            title = highlighted(hit, style=style, text_class=text_class)
        else:
            title = text_class(_clean(e.get("title")), style=style)
        if snippets and e.get("snippet"):
            title.append("\n")
            title.append_text(highlighted(e["snippet"], text_class=text_class))
        domain = (e.get("domains") or ["—"])[0]  # imported archive papers may have none
        rows.append(([str(e["id"]), _date(e), _flags(e), domain, _clean(_where(e))], title))
    width = console.width if console is not None else PLAIN_WIDTH
    out = _lay_out(rows, text_class, console, width, snippets)
    if console is None:
        sys.stdout.write(out.plain)
        sys.stdout.flush()
    else:
        console.print(out, end="", no_wrap=True, overflow="ignore", crop=False)


def _lay_out(rows: list[Any], text_class: Any, console: Any, width: int, snippets: bool) -> Any:
    """The table as one text: a line per entry, and one per folded line of a snippet."""
    from rich.cells import cell_len  # heavy: see _console (this part of rich is light)

    cell_headers = [h for i, h in enumerate(_HEADERS) if i != _TITLE]
    widths = [
        max([len(name)] + [cell_len(cells[i]) for cells, _ in rows])
        for i, name in enumerate(cell_headers)
    ]
    title_width = max(20, width - sum(widths) - _GAP * (len(_HEADERS) - 1))
    widths.insert(_TITLE, title_width)
    out = text_class()
    _join_line(out, [text_class(h, style="bold dim") for h in _HEADERS], widths)
    for cells, title in rows:
        texts = [text_class(c, style=_CELL_STYLES[i]) for i, c in enumerate(cells)]
        if snippets:
            lines = list(title.wrap(console, title_width, overflow="fold"))
        else:
            title.truncate(title_width, overflow="ellipsis")
            lines = [title]
        texts.insert(_TITLE, lines[0])
        _join_line(out, texts, widths)
        for more in lines[1:]:
            blank = [text_class() for _ in _HEADERS[:_TITLE]]
            _join_line(out, [*blank, more], widths[: _TITLE + 1])
    return out


_TITLE = _HEADERS.index("title")
_GAP = 2  # spaces between columns


def _join_line(out: Any, cells: list[Any], widths: list[int]) -> None:
    """One table line: the cells padded to their widths (ids right-aligned)."""
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
    from rich.text import Text  # heavy: see _console

    console.print()
    console.print(Text(title, style="bold"))


def print_detail(d: EntryDetail) -> None:
    """`papertrail show`: the entry and everything attached to it."""
    console = _console()
    _detail_head(console, d)
    _detail_fields(console, d)
    _detail_sources(console, d)
    _detail_notes(console, d)
    _detail_reproductions(console, d)


def _detail_head(console: Console, d: EntryDetail) -> None:
    """Title, ids, read/star state, and the block rule hiding it if any."""
    from rich.text import Text  # heavy: see _console

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


def _detail_fields(console: Console, d: EntryDetail) -> None:
    """The metadata, one labelled line each (empty ones left out), then the summary."""
    from rich.text import Text  # heavy: see _console

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
        *[
            ("code", f"{_clean(c['url'])}  ({c['kind']}, in the {c['found_in']})")
            for c in d.get("code_links") or []
        ],
    ]
    for label, value in rows:
        if value:
            console.print(Text(f"  {label:<11} ", style="dim") + Text(str(value)))
    if d.get("summary"):
        console.print()
        wrap = max(40, min(console.width, 100) - 4)
        for line in textwrap.wrap(_clean(d["summary"]), wrap):
            console.print(Text("  " + line))


def _detail_sources(console: Console, d: EntryDetail) -> None:
    """Versions, the sources that surfaced it, posts that mention it, papers it links to."""
    from rich.text import Text  # heavy: see _console

    versions = d.get("versions") or []
    if len(versions) > 1 or d.get("previous_version"):
        _section(console, "Versions")
        for v in versions:
            seen = str(v["first_seen"])[:10]
            console.print(Text(f"  v{v['version']}  seen {seen} in {v['source']}"))
    provenance = d.get("provenance") or []
    _section(console, f"Surfaced by ({len(provenance)})")
    for p in provenance:
        first, last = (p["first_seen"] or "")[:10], (p["last_seen"] or "")[:10]
        console.print(Text(f"  {p['source']:<24} first {first}  last {last}"))
    if d.get("mentioned_in"):
        _section(console, f"Mentioned by {d.get('mentioned_by') or 0} sources")
        for m in d.get("mentioned_in") or []:
            console.print(Text(f"  #{m['id']} [{m['source']}] ") + Text(_clean(m["title"])))
    if d.get("mentions"):
        _section(console, "Papers it links to")
        for m in d.get("mentions") or []:
            title = _clean(m["title"]) if m.get("title") else "(not in the reading list yet)"
            console.print(Text(f"  arXiv:{m['arxiv_id']}  ") + Text(title))


def _detail_notes(console: Console, d: EntryDetail) -> None:
    from rich.text import Text  # heavy: see _console

    notes = d.get("notes") or []
    _section(console, f"Notes ({len(notes)})")
    for n in notes:
        when = n["created_at"][:16].replace("T", " ")
        console.print(Text(f"  [{n['id']}] {when}  ") + Text(n["text"]))
    if not notes:
        console.print(Text(f'  none — papertrail note {d["id"]} "…"', style="dim"))


def _detail_reproductions(console: Console, d: EntryDetail) -> None:
    from rich.text import Text  # heavy: see _console

    for r in d.get("reproductions") or []:
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
