"""Every command of the click group: importing this module registers them all on `cli`.

`papertrail` itself starts in `papertrail.cli.main`, which imports this only when the
command line is not a plain search (cli/quick.py).
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
