"""Load and validate ``feeds.yml`` into frozen dataclasses.

The file has four top-level keys::

    sources:    # list of sources to fetch (arXiv API queries, arXiv RSS, feeds, mailboxes)
    domains:    # mapping domain name -> {categories, keywords, description}
    settings:   # optional mapping of fetch settings (see `Settings`)
    ranking:    # optional: weights, followed authors, keyword boosts, block rules

Validation walks the YAML *node* tree (``yaml.compose`` with the safe loader),
so every problem can name the file, the 1-based line and the dotted key
(``sources[3].url``, ``domains.vision.keywords[2]``, ``settings.timeout``).
All problems are collected; `ConfigError` describes the first one in its
``line`` / ``key`` / ``message`` attributes and lists every one in
``problems`` (and in ``str(error)``, one per line).

Layout: `model` holds the dataclasses and `ConfigError`; `check` walks the
node tree (source kinds are table-driven there: adding a kind is one
`_KindSpec` entry), with the `ranking:` section's checks in `check_ranking`
and node helpers in `nodes`; `locate` finds the file and `load` reads it; `paths` says
where the reading list and feeds.yml are (`Paths`); `opml` turns the sources
into OPML and back.

This package must stay cheap to import: no httpx / feedparser / arxiv here.

May import: models, ids.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from papertrail.config.locate import (  # noqa: F401  (the constants: names for users)
    APP_NAME,
    FEEDS_FILENAME,
    PACKAGED_FEEDS_FILENAME,
    default_feeds_path,
    packaged_feeds_path,
    user_config_path,
)
from papertrail.config.paths import Paths, default_db_path, write_atomic

if TYPE_CHECKING:
    from papertrail.config.check import KNOWN_KINDS, is_arxiv_category
    from papertrail.config.load import load_config, parse_config
    from papertrail.config.model import (  # noqa: F401
        ARXIV_MAX_RESULTS,
        ARXIV_MIN_DELAY_SECONDS,
        Config,
        ConfigError,
        DomainRule,
        Ranking,
        Settings,
        Source,
    )

# Loaded on first use (PEP 562, as papertrail.api does): the YAML parser, the checker and
# the frozen dataclasses are most of this package's import time, and `papertrail search`
# needs none of them (issue 19).
_LAZY = {
    "KNOWN_KINDS": "papertrail.config.check",
    "is_arxiv_category": "papertrail.config.check",
    "load_config": "papertrail.config.load",
    "parse_config": "papertrail.config.load",
    "ARXIV_MAX_RESULTS": "papertrail.config.model",
    "ARXIV_MIN_DELAY_SECONDS": "papertrail.config.model",
    "Config": "papertrail.config.model",
    "ConfigError": "papertrail.config.model",
    "DomainRule": "papertrail.config.model",
    "Ranking": "papertrail.config.model",
    "Settings": "papertrail.config.model",
    "Source": "papertrail.config.model",
}

__all__ = [
    "KNOWN_KINDS",
    "Config",
    "ConfigError",
    "DomainRule",
    "Paths",
    "Ranking",
    "Settings",
    "Source",
    "default_db_path",
    "default_feeds_path",
    "is_arxiv_category",
    "load_config",
    "packaged_feeds_path",
    "parse_config",
    "user_config_path",
    "write_atomic",
]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'papertrail.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
