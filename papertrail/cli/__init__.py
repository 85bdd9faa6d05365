"""The `papertrail` command line: a thin shell over the library.

Each command calls one function of the library API (`papertrail.api`) and
turns the library's exceptions into messages and exit codes; what it prints is
formatted here or by the library's renderers. Command modules register
themselves on the `cli` group when imported below. `papertrail --help` stays
fast because the library imports its heavy third-party packages (httpx,
feedparser, arxiv, sqlite-utils, rich, torch) only where it uses them.

May import: api, browse, text at run time, and config, store, ingest, reading, repro,
models for annotations. Nothing imports it; it is the only package that imports click.
"""

from papertrail.cli import (
    adding,  # noqa: F401
    browse,  # noqa: F401
    exporting,  # noqa: F401
    fetching,  # noqa: F401  (registers commands)
    importing,  # noqa: F401
    importing_oai,  # noqa: F401  (`papertrail import oai`, on importing's group)
    learning,  # noqa: F401  (`similar`, `import bibtex|ris|csl-json`)
    ranking,  # noqa: F401
    repro,  # noqa: F401
    schedule,  # noqa: F401
    trending,  # noqa: F401
    triage,  # noqa: F401
)
from papertrail.cli._base import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, cli

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_LOCKED", "cli"]
