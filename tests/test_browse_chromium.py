"""`papertrail browse` in a real browser: Debian's Chromium, driven by Selenium through
the system chromedriver (no browser download), against a real `papertrail browse`
subprocess on a free loopback port. Feed text with <script>/onerror payloads must
not run; triage from the browser must reach the database; a fetch while the server
runs must show on reload.

Set PAPERTRAIL_SCREENSHOT_DIR to keep the screenshots (docs/img/browse.png comes from here:
browse.png; also search.png, entry.png, digest.png).
"""

from __future__ import annotations

import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, write_feeds
from pytest_httpserver import HTTPServer
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from test_browse import fetch_world

from papertrail.cli import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="no Chromium: install Debian's chromium and chromium-driver (.ci/run does)",
    ),
    pytest.mark.integration,  # a real browser, ~15 s: behind --run-integration (CI runs it)
]

# Resolved now: tests run in a temporary working directory (conftest `isolated`).
_keep = os.environ.get("PAPERTRAIL_SCREENSHOT_DIR")
SCREENSHOT_DIR = Path(_keep).resolve() if _keep else None

PWNED_JS = "return [document.title, typeof window.__pwned === 'undefined' ? null : window.__pwned]"


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _ = fetch_world(tmp_path_factory.mktemp("chromium-world"))
    return db


@pytest.fixture
def server(world_db: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`papertrail browse --port 0` as a subprocess; yields (reading-list URL, db)."""
    db = tmp_path / "reading.db"
    shutil.copyfile(world_db, db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "papertrail", "--db", str(db), "browse", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        url = None
        while url is None:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail("papertrail browse did not say where it listens within 30 s")
            if line.startswith("Serving"):
                url = line.split(" at ", 1)[1].strip()
            assert proc.poll() is None, f"papertrail browse exited: {line}"
        assert url.startswith("http://127.0.0.1:") and url.endswith("/-/papers")
        # browse opens on the reading page; Datasette's reading list is one click away
        yield url.replace("/-/papers", f"/{db.stem}/reading_list"), db
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        # This machine's network is closed: no background connections to Google.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1200",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def assert_nothing_ran(driver: Any) -> None:
    title, pwned = driver.execute_script(PWNED_JS)
    assert pwned is None, f"feed text ran as script ({pwned})"
    assert "pwned" not in title


def wait_for(driver: Any, condition: Any) -> Any:
    """Wait until `condition` holds; an element that goes stale (or is not there yet)
    while a page loads counts as "not yet"."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, 15, ignored_exceptions=ignored).until(condition)


def headers(driver: Any) -> list[str]:
    """The column headers of the page's table, as shown."""
    return [th.text for th in driver.find_elements(By.CSS_SELECTOR, ".rows-and-columns thead th")]


def rows(db: Path, query: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


def test_browse_search_open_triage_and_reload_in_chromium(
    server: tuple[str, Path], browser: Any, tmp_path: Path
) -> None:
    url, db = server
    shots: list[Path] = []
    _reading_list_has_facets_and_labels(browser, url)
    cells = _search_shows_the_hostile_post_as_text(browser)
    shots.append(shoot(browser, tmp_path / "search.png"))
    entry_id = _open_the_entry(browser, cells)
    shots.append(shoot(browser, tmp_path / "entry.png"))
    _star_from_the_entry_page(browser, db, entry_id)

    # A canned query's headers are labelled too.
    browser.get(url.rsplit("/", 1)[0] + "/todays_digest")
    assert headers(browser)[:4] == ["Domain", "Entry", "Title", "arXiv"]
    assert_nothing_ran(browser)
    shots.append(shoot(browser, tmp_path / "digest.png"))

    _a_fetch_shows_on_reload(browser, url, db, tmp_path)

    # The screenshot for the README: the reading list, papers only.
    browser.get(url + "?kind=paper&_facet_size=4")
    assert_nothing_ran(browser)
    shots.append(shoot(browser, tmp_path / "browse.png"))
    assert all(s.stat().st_size > 10_000 for s in shots)
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, SCREENSHOT_DIR / shot.name)


def shoot(driver: Any, path: Path) -> Path:
    driver.save_screenshot(str(path))
    return path


def _reading_list_has_facets_and_labels(driver: Any, url: str) -> None:
    """Facets, newest first, papertrail's column labels; Datasette's column menu
    still acts on the column, not on its label."""
    driver.get(url)
    assert driver.title.startswith("reading: reading_list")
    facets = {e.text.split()[0] for e in driver.find_elements(By.CSS_SELECTOR, ".facet-info p")}
    assert {"Domains", "Tags", "Kind", "Sources", "Read", "Starred"} <= facets  # not "(array)"
    assert driver.find_element(By.TAG_NAME, "h1").text.strip() == "Reading list"  # not "(view)"
    assert (
        'data-column="read_at"' not in driver.page_source
        or not driver.find_element(By.CSS_SELECTOR, "th.col-read_at").is_displayed()
    )
    assert_nothing_ran(driver)
    assert headers(driver)[:6] == ["Id", "Date ▲", "Title", "Kind", "arXiv", "Link"]
    assert "arXiv category" in headers(driver) and "Mentioned in posts" in headers(driver)
    th = driver.find_element(By.CSS_SELECTOR, 'th[data-column="primary_category"]')
    th.find_element(By.CSS_SELECTOR, ".dropdown-menu-icon").click()
    sort = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "a.dropdown-sort-asc"))
    assert "_sort=primary_category" in sort.get_attribute("href")


def _search_shows_the_hostile_post_as_text(driver: Any) -> list[Any]:
    """Its title is shown as text, nothing runs, the javascript: link is no link.
    Returns the title cells."""
    box = driver.find_element(By.ID, "_search")
    box.send_keys("hostile", Keys.ENTER)
    wait_for(driver, lambda d: "_search=hostile" in d.current_url)
    cells: list[Any] = driver.find_elements(By.CSS_SELECTOR, "td.col-title")
    assert any("<script>window.__pwned" in c.text for c in cells), [c.text for c in cells]
    assert_nothing_ran(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
    return cells


def _open_the_entry(driver: Any, cells: list[Any]) -> int:
    """The post's title links to its record page: "label: value" lines, then the
    triage links. Returns the entry id."""
    link = next(c for c in cells if "Hostile diffusion post" in c.text).find_element(
        By.TAG_NAME, "a"
    )
    link.click()
    wait_for(driver, lambda d: "/entries/" in d.current_url)
    assert "Hostile diffusion post" in driver.find_element(By.CSS_SELECTOR, "td.col-title").text
    assert_nothing_ran(driver)
    record = driver.find_elements(By.CSS_SELECTOR, "table.papertrail-record th[scope=row]")
    assert [th.text for th in record][:4] == ["Id", "key", "Kind", "arXiv"]
    assert "Triage:" in driver.find_element(By.CSS_SELECTOR, "p.papertrail-triage").text
    assert driver.find_element(By.CSS_SELECTOR, "td.col-title").size["width"] >= 300
    return int(driver.current_url.rstrip("/").rsplit("/", 1)[1])


def _star_from_the_entry_page(driver: Any, db: Path, entry_id: int) -> None:
    """The record page leads to the reading page, whose star goes through the API."""
    driver.find_element(By.CSS_SELECTOR, "p.papertrail-triage a").click()
    wait_for(driver, lambda d: d.current_url.endswith(f"/-/papers/{entry_id}"))
    driver.find_element(By.CSS_SELECTOR, 'button[value="star"]').click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'button[value="unstar"]'))
    assert rows(db, f"SELECT starred_at IS NOT NULL FROM entries WHERE id = {entry_id}") == [(1,)]


def _a_fetch_shows_on_reload(driver: Any, url: str, db: Path, tmp_path: Path) -> None:
    """A fetch while the server runs: reload shows the new entries."""
    driver.get(url + "?_nofacet=1")
    before = driver.find_element(By.CSS_SELECTOR, "h3").text
    added = _fetch_one_more_blog(db, tmp_path)
    driver.refresh()
    after = driver.find_element(By.CSS_SELECTOR, "h3").text
    count = lambda text: int(text.split()[0].replace(",", ""))  # noqa: E731
    assert count(after) == count(before) + added


def _fetch_one_more_blog(db: Path, tmp_path: Path) -> int:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        fs = FeedServer(server)
        url = fs.serve_fixture("/hf", "ml-blogs/jmamath-distill__huggingface_blog.xml")
        feeds = write_feeds(tmp_path / "more.yml", [{"name": "hf", "kind": "feed", "url": url}])
        result = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), "fetch", "-q"])
        assert result.exit_code == 0, result.output
    finally:
        server.clear()
        server.stop()
    (added,) = rows(db, "SELECT COUNT(*) FROM provenance WHERE source = 'hf'")[0]
    assert added > 0
    return added
