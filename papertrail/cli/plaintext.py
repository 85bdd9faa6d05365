"""The part of rich's `Text` that cli/tables.py lays tables out with, for output that is
not a terminal (a pipe, a file): there rich prints no styles, only the text, and the
~20 ms of importing rich's console, styles and colours is most of a search's rendering
(issue 19). Widths, folding and ellipses come from rich's own cell and line-breaking
functions (`rich.cells`, `rich._wrap`), so the bytes are rich's: tests/test_plaintext.py
compares the two on titles and snippets of every kind (wide characters, long words,
spaces at the ends, control characters).
"""

from __future__ import annotations

import os
import re

# What rich's Text drops from whatever it is given (rich.control.STRIP_CONTROL_CODES).
_STRIP = dict.fromkeys((7, 8, 11, 12, 13))
_TRAILING_SPACE = re.compile(r"\s+$")


class PlainText:
    """rich.text.Text without styles: `append`, `append_text`, `wrap` (fold),
    `truncate` (ellipsis), `cell_len` and `plain`, as rich computes them."""

    __slots__ = ("plain",)

    def __init__(self, text: str = "", style: str = "") -> None:
        self.plain = text.translate(_STRIP)

    def append(self, text: str, style: str = "") -> PlainText:
        self.plain += text.translate(_STRIP)
        return self

    def append_text(self, text: PlainText) -> PlainText:
        self.plain += text.plain
        return self

    @property
    def cell_len(self) -> int:
        from rich.cells import cell_len  # heavy package, light module: cell widths as rich's

        return cell_len(self.plain)

    def truncate(self, max_width: int, *, overflow: str = "fold") -> None:
        """Text.truncate for overflow "fold" and "ellipsis" (no padding)."""
        from rich.cells import cell_len, set_cell_size  # heavy package, light module

        if cell_len(self.plain) > max_width:
            if overflow == "ellipsis":
                self.plain = set_cell_size(self.plain, max_width - 1) + "…"
            else:
                self.plain = set_cell_size(self.plain, max_width)

    def wrap(self, console: object, width: int, *, overflow: str = "fold") -> list[PlainText]:
        """Text.wrap with rich's default justification (none) and this overflow."""
        from rich._wrap import divide_line  # heavy package, light module: rich's line breaks

        lines: list[PlainText] = []
        for line in self.plain.split("\n"):
            offsets = divide_line(line, width, fold=overflow == "fold")
            bounds = [0, *offsets, len(line)]
            for start, end in zip(bounds, bounds[1:], strict=False):
                piece = PlainText(line[start:end])
                piece.rstrip_end(width)
                piece.truncate(width, overflow=overflow)
                lines.append(piece)
        return lines

    def rstrip_end(self, size: int) -> None:
        """Text.rstrip_end: trailing whitespace beyond `size` characters goes."""
        excess = len(self.plain) - size
        if excess > 0 and (match := _TRAILING_SPACE.search(self.plain)):
            self.plain = self.plain[: len(self.plain) - min(len(match.group(0)), excess)]


def plain_output(stream: object) -> bool:
    """True when rich would print no styles to `stream`: not a terminal, and none of
    the variables that make rich treat a stream as one (TTY_COMPATIBLE, FORCE_COLOR)."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return False
    try:
        return not stream.isatty()  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
