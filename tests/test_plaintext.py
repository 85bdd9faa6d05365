"""cli/plaintext.py: a table printed to a pipe without rich's console is the table rich
prints there, byte for byte (issue 19): titles and snippets of every awkward kind."""

from __future__ import annotations

import pytest

from papertrail.cli import plaintext, tables
from papertrail.models import Entry
from papertrail.text import HIT_END, HIT_START

H, E = HIT_START, HIT_END
TITLES = [
    "Plain title",
    "",
    "A title " * 40,  # longer than the column: an ellipsis
    "画像生成のための拡散モデル" * 8,  # wide characters
    "Emoji 🎨🧪 and combining e\u0301 accents " * 5,
    "Bell\x07 back\x08space vtab\x0b formfeed\x0c return\r end",
    "Trailing spaces   ",
    "x" * 400,  # one word wider than the column
]
SNIPPETS = [
    f"…the {H}diffusion{E} model learns to {H}denoise{E} images step by step…",
    "",
    "word " * 120,
    "y" * 500,
    f"画像{H}生成{E}のための" * 30,
    "tabs\tand\nnewlines\r\x07in a snippet   ",
    f"{H}{E}" + "spaces at the end of a fold    " * 10,
]


def _entries(with_snippets: bool) -> list[Entry]:
    out = []
    for i, title in enumerate(TITLES):
        entry: Entry = {
            "id": 10**i,
            "title": title,
            "published": "2026-12-0" + str(1 + i % 9),
            "domains": ["vi\x07si\ron"] if i % 2 else [],  # not cleaned: rich strips these
            "arxiv_id": f"2612.{i:05d}" if i % 3 else None,
            "sources": ["a blog\r"] if not i % 3 else [],
            "read": bool(i % 2),
            "starred": bool(i % 4 == 1),
        }
        if i % 2:
            entry["title_highlighted"] = f"{H}{title[:10]}{E}{title[10:]}"
        if with_snippets:
            entry["snippet"] = SNIPPETS[i % len(SNIPPETS)]
        out.append(entry)
    return out


@pytest.mark.parametrize("snippets", [False, True])
def test_plain_output_is_what_rich_prints_to_a_pipe(
    snippets: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = {}
    for plain in (True, False):
        monkeypatch.setattr(tables, "plain_output", lambda stream, plain=plain: plain)
        tables.print_entries(_entries(snippets), snippets=snippets)
        printed[plain] = capsys.readouterr().out
    assert printed[True] == printed[False]
    assert "画像生成" in printed[True] and "…" in printed[True]
    assert len(printed[True].splitlines()) >= len(TITLES) + 1


def test_a_terminal_or_a_forced_colour_gets_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    assert not plaintext.plain_output(Tty())
    assert plaintext.plain_output(Pipe())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not plaintext.plain_output(Pipe())
