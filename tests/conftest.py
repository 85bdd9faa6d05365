"""Shared fixtures: every test gets its own data dir, config dir and database,
and feeds are served by a real HTTP server on loopback from the recorded
documents in tests/fixtures/feeds (provenance in its MANIFEST.md)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug import Request, Response

from papertrail.reading import fitworker

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
REPO = Path(__file__).resolve().parent.parent

CONTENT_TYPES = {
    "api": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "xml": "text/xml",
    "html": "text/html; charset=utf-8",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run tests marked slow")
    parser.addoption(
        "--run-integration",
        action="store_true",
        help="run tests marked integration (real browser, kills, whole processes; CI runs them)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gates = {
        "slow": config.getoption("--run-slow"),
        "integration": config.getoption("--run-integration"),
    }
    for marker, wanted in gates.items():
        if wanted:
            continue
        skip = pytest.mark.skip(reason=f"{marker}: run with --run-{marker}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the user data/config dirs and the cwd at tmp_path so no test
    reads or writes the real ones (or the repo's ./feeds.yml)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("PAPERTRAIL_DB", raising=False)
    monkeypatch.delenv("PAPERTRAIL_FEEDS", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield tmp_path
    fitworker.disable()  # a test that made a server (its refits in a worker) leaves none


def fixture_bytes(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


class FeedServer:
    """Routes on a pytest-httpserver: files with ETag/Last-Modified and conditional GET,
    plus crafted answers. Counts requests and full bodies sent per path."""

    def __init__(self, httpserver: Any):
        self.server = httpserver
        self.hits: dict[str, int] = {}
        self.bodies_sent: dict[str, int] = {}
        self.requests: list[Request] = []

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def _count(self, request: Request) -> None:
        self.requests.append(request)
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    def serve(
        self,
        path: str,
        body: bytes,
        content_type: str = CONTENT_TYPES["rss"],
        *,
        conditional: bool = True,
        delay: float = 0.0,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        last_modified = formatdate(1_700_000_000, usegmt=True)

        def handler(request: Request) -> Response:
            self._count(request)
            if delay:
                time.sleep(delay)
            base = {"Content-Type": content_type, **(headers or {})}
            if conditional:
                base.update({"ETag": etag, "Last-Modified": last_modified})
                if request.headers.get("If-None-Match") == etag or (
                    request.headers.get("If-Modified-Since") == last_modified
                    and "If-None-Match" not in request.headers
                ):
                    return Response(status=304, headers={"ETag": etag})
            self.bodies_sent[path] = self.bodies_sent.get(path, 0) + 1
            return Response(body, status=status, headers=base)

        self.server.expect_request(path).respond_with_handler(handler)
        return self.url(path)

    def serve_fixture(self, path: str, rel: str, kind: str = "rss", **kw: Any) -> str:
        return self.serve(path, fixture_bytes(rel), CONTENT_TYPES[kind], **kw)

    def handle(self, path: str, fn: Callable[[Request], Response]) -> str:
        def handler(request: Request) -> Response:
            self._count(request)
            return fn(request)

        self.server.expect_request(path).respond_with_handler(handler)
        return self.url(path)


@pytest.fixture
def feed_server() -> Any:
    """A threaded server, so a deliberately slow route does not hold up the others."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield FeedServer(server)
    finally:
        server.clear()
        server.stop()


def default_config() -> dict[str, Any]:
    return yaml.safe_load((REPO / "feeds.yml").read_text(encoding="utf-8"))


def write_feeds(
    path: Path, sources: list[dict[str, Any]], settings: dict[str, Any] | None = None
) -> Path:
    """A feeds.yml with the shipped domain rules and the given sources/settings."""
    data = default_config()
    data["sources"] = sources
    data["settings"] = {
        "timeout": 3,
        "max_retries": 1,
        "arxiv_delay_seconds": 0,
        # never arXiv itself: a closed loopback port unless a test serves the API
        "arxiv_api_url": "http://127.0.0.1:9/api/query",
        **(settings or {}),
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def make_feeds(tmp_path: Path) -> Callable[..., Path]:
    def make(sources: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> Path:
        return write_feeds(tmp_path / "feeds.yml", sources, settings)

    return make


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "reading.db"


@pytest.fixture(scope="session")
def _reading_list_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """One real fetch of the recorded 'world' (tests/test_fetch.py) per test session;
    tests get their own copy of the resulting database (see `reading_list`)."""
    from click.testing import CliRunner
    from pytest_httpserver import HTTPServer
    from test_fetch import serve_api, world

    from papertrail.cli import cli

    base = tmp_path_factory.mktemp("reading-list")
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        fs = FeedServer(server)
        sources = world(fs)
        feeds = write_feeds(base / "feeds.yml", sources, {"arxiv_api_url": serve_api(fs)})
        db = base / "reading.db"
        result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), "fetch", "-q"])
        assert result.exit_code == 0, result.output
    finally:
        server.clear()
        server.stop()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, sources


@pytest.fixture
def reading_list(_reading_list_template: tuple[Path, list], tmp_path: Path) -> tuple[Path, Path]:
    """(database, feeds.yml): a private copy of a reading list filled through the real
    fetch path from the recorded fixtures. The feeds file points at a closed port,
    so nothing here fetches again."""
    template, sources = _reading_list_template
    db = tmp_path / "reading.db"
    shutil.copyfile(template, db)
    feeds = write_feeds(tmp_path / "feeds.yml", sources)
    return db, feeds


@contextmanager
def serving() -> Iterator[FeedServer]:
    """A FeedServer outside a test's own fixtures (for module-scoped templates)."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield FeedServer(server)
    finally:
        server.clear()
        server.stop()


def private_copy(db: Path, feeds: Path, into: Path) -> tuple[Path, Path]:
    """A test's own copy of a template reading list and its feeds.yml."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(db, into / db.name)
    shutil.copyfile(feeds, into / feeds.name)
    return into / db.name, into / feeds.name
