"""Where papertrail's files are: the reading list (`--db`) and the sources (`--feeds`).

`Paths` is what every library API call takes first (`papertrail.api`): the CLI
builds it from its global options, a script builds it by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from papertrail.config.locate import APP_NAME, default_feeds_path

if TYPE_CHECKING:
    from papertrail.config.model import Config

DB_FILENAME = "papertrail.db"


def default_db_path() -> Path:
    """``papertrail.db`` in the user data directory (``~/.local/share/papertrail/`` on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


@dataclass(frozen=True)
class Paths:
    """The reading list's database file and the feeds.yml in use."""

    db: Path
    feeds: Path

    @classmethod
    def resolve(
        cls, db: str | os.PathLike[str] | None, feeds: str | os.PathLike[str] | None
    ) -> Paths:
        """--db / PAPERTRAIL_DB, else the user data dir; --feeds / PAPERTRAIL_FEEDS, else
        ./feeds.yml, the user config dir, the packaged default (click fills env vars)."""
        return cls(
            db=Path(db).expanduser() if db else default_db_path(),
            feeds=Path(feeds).expanduser() if feeds else default_feeds_path(),
        )

    def config(self) -> Config:
        """feeds.yml, validated; raises `ConfigError`."""
        # imported only when needed: a search names feeds.yml but seldom reads it, and
        # the YAML parser and the checker are most of what `papertrail.config` imports
        from papertrail.config.load import load_config

        return load_config(self.feeds)


def write_atomic(path: Path, text: str) -> None:
    """Write a file so a reader never sees half of it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
