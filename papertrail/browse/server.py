"""`papertrail browse`'s server: check the reading list, make the Datasette, serve it.

May import: as the browse package (see its docstring).
"""

from __future__ import annotations

import importlib
import ipaddress
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.browse.config import PLUGIN, SETTINGS, build_metadata
from papertrail.config import Paths
from papertrail.reading import fitworker
from papertrail.store.browse import entry_count

if TYPE_CHECKING:
    from datasette.app import Datasette

TEMPLATES = Path(__file__).parent / "templates"  # papertrail's own, found by Datasette's lookup
READING_PAGE = "/-/papers"  # where `serve` says it listens: the reading page (browse.page)
# The module Datasette loads as the `papertrail` plugin (it imports Datasette).
PLUGIN_MODULE = "papertrail.browse.plugin"

__all__ = [
    "BrowseError",
    "EmptyReadingList",
    "ReadyInfo",
    "check_reading_list",
    "database_name",
    "is_loopback",
    "make_datasette",
    "serve",
]


@dataclass(frozen=True)
class ReadyInfo:
    """What `serve` tells `on_ready` once it listens."""

    entries: int  # entries in the reading list
    triage: bool  # whether the reading page writes (star, read, tag, note): loopback only


class BrowseError(Exception):
    """The server cannot start: str() says why and what to do."""


class EmptyReadingList(BrowseError):
    """There is nothing to browse yet."""


def is_loopback(host: str) -> bool:
    """Whether `host` names this computer only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def database_name(db_path: Path) -> str:
    """The name Datasette gives the file (its stem), which is also its URL path."""
    return Path(db_path).stem


def check_reading_list(db_path: Path) -> int:
    """Bring the schema up to date and return the number of entries.

    Raises EmptyReadingList when the file does not exist or holds no entry, so
    the user is told to fetch first instead of seeing an empty site."""
    db_path = Path(db_path)
    hint = "run `papertrail fetch` first (or pass the reading list with --db / PAPERTRAIL_DB)"
    if not db_path.exists():
        raise EmptyReadingList(f"no reading list at {db_path} yet — {hint}")
    db = store.open_db(db_path)
    try:
        n = entry_count(db)
    finally:
        db.close()
    if n == 0:
        raise EmptyReadingList(f"the reading list {db_path} has no entries yet — {hint}")
    return n


def _register_plugin() -> None:
    """Register papertrail.browse.plugin with Datasette's plugin manager, once.

    Loaded by module name here, as Datasette loads any plugin, because the plugin
    imports Datasette at its top: importing it anywhere at module level would make
    `papertrail --help` load Datasette."""
    from datasette.plugins import pm  # heavy (Datasette): only a browse server needs it

    plugin = importlib.import_module(PLUGIN_MODULE)
    if not pm.is_registered(plugin):
        pm.register(plugin, name=PLUGIN)


def make_datasette(db_path: Path, *, triage: bool, feeds: Path | None = None) -> Datasette:
    """A Datasette on the reading list (mutable: re-read on every request), with the
    reading page. `triage`: the page writes (star, read, tag, note) — loopback only;
    `feeds`: the feeds.yml whose ranking starring rescores with (default: as the CLI's)."""
    from datasette.app import Datasette  # heavy: only a browse server needs it

    _register_plugin()
    fitworker.enable()  # a star's refit runs beside the pages, not in their process
    feeds = feeds or Paths.resolve(db_path, None).feeds
    metadata = build_metadata(
        database_name(db_path),
        triage=triage,
        entries=_size(db_path),
        db_path=str(Path(db_path).resolve()),
        feeds=str(Path(feeds).resolve()),
    )
    return Datasette(
        files=[str(db_path)],
        metadata=metadata,
        template_dir=str(TEMPLATES),
        settings=dict(SETTINGS),
    )


def _size(db_path: Path) -> int:
    """About how many entries the list holds (the largest id: no table scan)."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        if e.errno in (98, 48):  # EADDRINUSE (Linux, macOS)
            raise BrowseError(
                f"port {port} on {host} is in use (another `papertrail browse` or Datasette?) "
                "— pass --port with another number, or --port 0 for any free port"
            ) from None
        raise BrowseError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    db_path: Path,
    *,
    host: str,
    port: int,
    on_ready: Callable[[str, ReadyInfo], None] | None = None,
    feeds: Path | None = None,
) -> None:
    """Serve the reading list on `host`:`port` (the CLI's defaults: browse.DEFAULT_HOST,
    DEFAULT_PORT) until interrupted.

    `on_ready(url, info)` is called once the socket listens (before the first
    request), with the reading list's URL and its ReadyInfo."""
    import uvicorn  # heavy: only a browse server needs it

    entries = check_reading_list(db_path)
    triage = is_loopback(host)
    ds = make_datasette(db_path, triage=triage, feeds=feeds)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    url = f"http://{shown_host}:{bound_port}" + READING_PAGE
    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on", workers=1)
    server = uvicorn.Server(config)
    if on_ready:
        on_ready(url, ReadyInfo(entries=entries, triage=triage))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
