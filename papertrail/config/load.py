"""Finding and reading ``feeds.yml``: where it is looked for, and `load_config`."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import yaml

from papertrail.config.check import _Checker, _Loader, _yaml_syntax_error
from papertrail.config.locate import (  # noqa: F401  (where they were first)
    default_feeds_path,
    packaged_feeds_path,
    user_config_path,
)
from papertrail.config.model import Config, ConfigError


def load_config(path: Path) -> Config:
    """Read and validate a configuration file; raises `ConfigError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            path,
            message=(
                "file not found; create it (copy the packaged default_feeds.yml "
                "as a starting point) or point papertrail at another file"
            ),
        ) from None
    except OSError as exc:
        raise ConfigError(path, message=f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            path, line, message="the file is not valid UTF-8; save it as UTF-8"
        ) from None
    # A long-running process (the reading page's server) reads feeds.yml on every
    # request: the same bytes at the same path parse to the same (frozen) Config.
    key = (str(path.resolve()), hashlib.sha1(data).digest())
    with _PARSED_LOCK:
        parsed = _PARSED.get(key)
    if parsed is None:
        parsed = parse_config(text, path)
        with _PARSED_LOCK:
            _PARSED.clear()  # one file's latest text is all a process needs
            _PARSED[key] = parsed
    return parsed


_PARSED: dict[tuple[str, bytes], Config] = {}
_PARSED_LOCK = threading.Lock()


def parse_config(text: str, path: Path) -> Config:
    """Validate configuration text (``path`` is only used in messages and `Config.path`)."""
    path = Path(path)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_syntax_error(path, exc, text) from None
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors without a mark
        raise ConfigError(path, message=f"invalid YAML: {exc}") from None
    return _Checker(path).config(root)
