"""The `papertrail` command line: a thin shell over the library.

Each command calls one function of the library API (`papertrail.api`) and
turns the library's exceptions into messages and exit codes; what it prints is
formatted here or by the library's renderers. The commands are click commands
(cli/commands.py registers them all on the `cli` group). `papertrail --help`
stays fast because the library imports its heavy third-party packages (httpx,
feedparser, arxiv, sqlite-utils, rich, torch) only where it uses them.

`main` is where `papertrail` starts. A plain `papertrail search` (run as a whole
process, often from scripts and editors) is read by cli/quick.py without click
and without the other commands' modules, then calls the same `api.search` and
prints the same bytes; anything it does not fully understand (--help, a bad
option, an error to explain) goes to the click group as before.

May import: api, browse, text at run time, and config, store, ingest, reading, repro,
models for annotations. Nothing imports it; it is the only package that imports click.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from papertrail.cli import quick

if TYPE_CHECKING:
    from papertrail.cli.commands import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, cli

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_LOCKED", "cli", "main"]


def main() -> None:
    """The `papertrail` command (pyproject's console script, `python -m papertrail`)."""
    if quick.search(sys.argv[1:]):
        return
    # imported only when needed: click and every command's module (~50 ms of a start)
    from papertrail.cli.commands import cli

    try:
        cli()
    finally:
        # A star's rescore runs on in a thread: finish it while the interpreter still
        # works normally (a thread importing scikit-learn during shutdown fails).
        refreshes = sys.modules.get("papertrail.reading.rankcache")
        if refreshes is not None:
            refreshes.finish_all()


def __getattr__(name: str) -> object:
    """`cli` and the exit codes load the click group on first use (PEP 562)."""
    if name not in __all__:
        raise AttributeError(f"module 'papertrail.cli' has no attribute {name!r}")
    # imported only when needed: see main
    from papertrail.cli import commands

    value = getattr(commands, name)
    globals()[name] = value
    return value
