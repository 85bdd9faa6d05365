"""Where ``feeds.yml`` is looked for: ./feeds.yml, the user config dir, the packaged default.

Apart from `load` (which reads and checks the file) so that naming the file costs no
YAML parser and no checker: `papertrail search` names it on every start (issue 19).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "papertrail"
FEEDS_FILENAME = "feeds.yml"
PACKAGED_FEEDS_FILENAME = "default_feeds.yml"


def user_config_path() -> Path:
    """``feeds.yml`` in the user's config directory (it may not exist)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / FEEDS_FILENAME


def packaged_feeds_path() -> Path:
    """The default ``feeds.yml`` shipped inside the package."""
    return Path(__file__).parent / PACKAGED_FEEDS_FILENAME


def default_feeds_path(cwd: Path | None = None) -> Path:
    """``./feeds.yml`` if it exists, else the user config dir's, else the packaged default."""
    local = Path.cwd() / FEEDS_FILENAME if cwd is None else Path(cwd) / FEEDS_FILENAME
    if local.is_file():
        return local
    user = user_config_path()
    if user.is_file():
        return user
    return packaged_feeds_path()
