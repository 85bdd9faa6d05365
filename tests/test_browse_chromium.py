"""`papertrail browse` in a real browser: Debian's Chromium, driven by Selenium through
the system chromedriver (no browser download), against a real `papertrail browse`
subprocess on a free loopback port. Feed text with <script>/onerror payloads must
not run; triage from the browser must reach the database; a fetch while the server
runs must show on reload.

Set PAPERTRAIL_SCREENSHOT_DIR to keep the screenshot (docs/img/browse.png comes from here).
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
from test_browse import fetch_world

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no Chromium: install Debian's chromium and chromium-driver (.ci/run does)",
)

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
        assert url.startswith("http://127.0.0.1:")
        yield url, db
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 15).until(condition)


def rows(db: Path, query: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


def test_browse_search_open_triage_and_reload_in_chromium(
    server: tuple[str, Path], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = server
    driver = browser

    # The reading list: facets, search box, newest first.
    driver.get(url)
    assert driver.title.startswith("reading: reading_list")
    facets = {e.text.split()[0] for e in driver.find_elements(By.CSS_SELECTOR, ".facet-info p")}
    assert {"domains", "tags", "kind", "sources", "read", "starred"} <= facets
    assert_nothing_ran(driver)

    # Search for the hostile post: its title is shown as text, and nothing runs.
    box = driver.find_element(By.ID, "_search")
    box.send_keys("hostile", Keys.ENTER)
    wait_for(driver, lambda d: "_search=hostile" in d.current_url)
    cells = driver.find_elements(By.CSS_SELECTOR, "td.col-title")
    assert any("<script>window.__pwned" in c.text for c in cells), [c.text for c in cells]
    assert_nothing_ran(driver)
    # The javascript: link is shown, never linked.
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
    shots = [tmp_path / "search.png"]
    driver.save_screenshot(str(shots[0]))

    # Open the entry (its title links to the record page).
    link = next(c for c in cells if "Hostile diffusion post" in c.text).find_element(
        By.TAG_NAME, "a"
    )
    link.click()
    wait_for(driver, lambda d: "/entries/" in d.current_url)
    assert "Hostile diffusion post" in driver.find_element(By.CSS_SELECTOR, "td.col-title").text
    assert_nothing_ran(driver)
    entry_id = int(driver.current_url.rstrip("/").rsplit("/", 1)[1])

    # Triage from the entry page: star it through the canned write query.
    driver.find_element(By.LINK_TEXT, "star").click()
    wait_for(driver, lambda d: "/star?entry_id=" in d.current_url)
    driver.find_element(By.CSS_SELECTOR, "form.sql input[type=submit]").click()
    message = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".message-info"))
    assert "Done: star an entry." in message[0].text
    assert rows(db, f"SELECT starred_at IS NOT NULL FROM entries WHERE id = {entry_id}") == [(1,)]

    # A fetch while the server runs: reload shows the new entries.
    driver.get(url + "?_nofacet=1")
    before = driver.find_element(By.CSS_SELECTOR, "h3").text
    added = _fetch_one_more_blog(db, tmp_path)
    driver.refresh()
    after = driver.find_element(By.CSS_SELECTOR, "h3").text
    count = lambda text: int(text.split()[0].replace(",", ""))  # noqa: E731
    assert count(after) == count(before) + added

    # The screenshot for the README: the reading list, papers only.
    driver.get(url + "?kind=paper&_facet_size=4")
    assert_nothing_ran(driver)
    shots.append(tmp_path / "browse.png")
    driver.save_screenshot(str(shots[-1]))
    assert all(s.stat().st_size > 10_000 for s in shots)
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots[-1], SCREENSHOT_DIR / "browse.png")


def _fetch_one_more_blog(db: Path, tmp_path: Path) -> int:
    from click.testing import CliRunner
    from conftest import FeedServer, write_feeds
    from pytest_httpserver import HTTPServer

    from papertrail.cli import cli

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
