"""Untrusted text made safe to show, and the search-hit markers: shared by every renderer.

Feed text may carry control and bidirectional-override characters (terminal
escape injection, a title that reads backwards). `clean` makes one safe line of
it; `CONTROL` is the pattern, for renderers that keep line breaks.

Search snippets mark their hits between `HIT_START` and `HIT_END`: control
characters no stored text keeps (parsing strips them), so a renderer turns them
into bold, Markdown or nothing without ambiguity (`plain_snippet`).

May import: nothing of papertrail's (every stage uses it).
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HIT_START, HIT_END = "\x02", "\x03"


def clean(value: object) -> str:
    """Feed text as one safe line: no control/bidi characters, whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(CONTROL.sub(" ", str(value)).split())


def plain_snippet(text: str | None, start: str = "**", end: str = "**") -> str:
    """A highlighted snippet for JSON/CSV/Markdown: hits as **word**."""
    return (text or "").replace(HIT_START, start).replace(HIT_END, end)
