"""The `papertrail` command line: a thin shell over the library.

Each command opens what it needs through `papertrail.app` (or the module for
its area), calls one library function and turns the library's exceptions into
messages and exit codes. Heavy imports (httpx, feedparser, arxiv, torch)
happen inside commands so `papertrail --help` starts fast. Command modules
register themselves on the `cli` group when imported below.
"""

from papertrail.cli import (
    adding,  # noqa: F401
    browse,  # noqa: F401
    exporting,  # noqa: F401
    fetching,  # noqa: F401  (registers commands)
    importing,  # noqa: F401
    ranking,  # noqa: F401
    repro,  # noqa: F401
    triage,  # noqa: F401
)
from papertrail.cli._base import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, cli

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_LOCKED", "cli"]
