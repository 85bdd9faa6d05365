"""Importing a heavy package without the optional modules it would load and papertrail
never uses (a probe for trio, a command-line tool, numpy column types): what a command
pays to start.

May import: nothing of papertrail's (every stage uses it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without(*names: str) -> Iterator[None]:
    """While the block runs, `import NAME` fails as if NAME were not installed (each of
    `names` not imported yet); afterwards they import as before."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "not installed", for now
    try:
        yield
    finally:
        for name in hidden:
            del sys.modules[name]
