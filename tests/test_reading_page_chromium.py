"""The reading page in a real browser (issue 16): Debian's Chromium driven by Selenium
through the system chromedriver, against a real `papertrail browse` subprocess on a
reading list filled through the real fetch path (recorded feeds + the hostile blog).

A keyboard triage session — star, read, tag, note, undo, search — and after each
step the database says what the page says, and `papertrail show` agrees. Feed text
with <script>/onerror payloads runs nothing. With JavaScript off, the buttons are
forms that still work.

Set PAPERTRAIL_SCREENSHOT_DIR to keep the screenshots (docs/img/reading-*.png come
from here: Today at 1440 and 390 px, light and dark, and a paper page).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from test_browse import fetch_world

from papertrail import api
from papertrail.cli import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="no Chromium: install Debian's chromium and chromium-driver (.ci/run does)",
    ),
]

_keep = os.environ.get("PAPERTRAIL_SCREENSHOT_DIR")
SCREENSHOT_DIR = Path(_keep).resolve() if _keep else None
PWNED_JS = "return [document.title, typeof window.__pwned === 'undefined' ? null : window.__pwned]"
PAPER = "2604.26951"  # the recorded paper the hostile post links


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return fetch_world(tmp_path_factory.mktemp("reading-page-chromium"))


@pytest.fixture
def server(world: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`papertrail browse --port 0`; yields (the URL it prints, db, feeds)."""
    db = tmp_path / "reading.db"
    shutil.copyfile(world[0], db)
    with browse_process(db, world[1]) as url:
        yield url, db, world[1]


@contextmanager
def browse_process(db: Path, feeds: Path) -> Iterator[str]:
    """A `papertrail browse --port 0` subprocess on `db`; yields the URL it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "papertrail", "--db", str(db), "--feeds", str(feeds), "browse",
         "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=30)
            if line.startswith("Serving"):
                url = line.split(" at ", 1)[1].strip()
            assert proc.poll() is None, f"papertrail browse exited: {line}"
        assert url.startswith("http://127.0.0.1:") and url.endswith("/-/papers")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def chrome(tmp_path: Path, name: str, *, javascript: bool = True) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=1440,1000",
        f"--user-data-dir={tmp_path / name}",
    ):  # fmt: skip
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = chrome(tmp_path, "profile")
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, condition: Any) -> Any:
    """Wait until `condition` holds; an element that goes stale (or is not there yet)
    while a form submission loads the next page counts as "not yet"."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, 15, ignored_exceptions=ignored).until(condition)


def assert_nothing_ran(driver: Any) -> None:
    title, pwned = driver.execute_script(PWNED_JS)
    assert pwned is None, f"feed text ran as script ({pwned})"
    assert title != "pwned"  # what the payload would set (a paper page shows it as text)


def rows(db: Path, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


def show(db: Path, feeds: Path, entry: int) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["--db", str(db), "--feeds", str(feeds), "show", str(entry), "--json"]
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def press(driver: Any, keys: str) -> None:
    driver.switch_to.active_element.send_keys(keys)


def unfocus(driver: Any) -> None:
    """Keys go to the page again (not to a text field); the current card stays."""
    driver.execute_script("document.activeElement && document.activeElement.blur()")


def card(driver: Any, entry: int) -> Any:
    return driver.find_element(By.ID, f"e{entry}")


def last_action(driver: Any) -> str:
    return str(driver.execute_script("return document.body.dataset.lastAction || ''"))


def wait_action(driver: Any, expected: str) -> None:
    wait_for(driver, lambda d: last_action(d) == expected)


def test_a_keyboard_triage_session_in_chromium(
    server: tuple[str, Path, Path], browser: Any, tmp_path: Path
) -> None:
    url, db, feeds = server
    browser.get(url.rsplit("/-/papers", 1)[0] + "/")  # `/` opens on the reading page
    wait_for(browser, lambda d: d.current_url.endswith("/-/papers"))
    assert_nothing_ran(browser)
    first = int(browser.find_element(By.CSS_SELECTOR, "article.card").get_attribute("data-id"))
    second = int(browser.find_elements(By.CSS_SELECTOR, "article.card")[1].get_attribute("data-id"))

    # j j k: the second card, then back to the first.
    unfocus(browser)
    press(browser, "j")
    press(browser, "j")
    assert "current" in card(browser, second).get_attribute("class")
    press(browser, "k")
    assert "current" in card(browser, first).get_attribute("class")

    # s: star, in place; the database, the page and `papertrail show` agree.
    press(browser, "s")
    wait_action(browser, f"star:{first}")
    assert card(browser, first).find_element(By.CSS_SELECTOR, ".star-state").text == "★"
    assert rows(db, "SELECT starred_at IS NOT NULL FROM entries WHERE id=?", (first,)) == [(1,)]
    assert show(db, feeds, first)["starred"] is True
    listed = CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), "list", "--starred"])
    assert str(first) in listed.output

    # r: read.
    press(browser, "r")
    wait_action(browser, f"read:{first}")
    assert "read" in card(browser, first).get_attribute("class").split()
    assert show(db, feeds, first)["read"] is True

    # t: tag, typed and Enter.
    press(browser, "t")
    wait_for(browser, lambda d: d.switch_to.active_element.get_attribute("name") == "arg")
    press(browser, "to-reproduce\n")
    wait_action(browser, f"tag:{first}")
    chips = [c.text for c in card(browser, first).find_elements(By.CSS_SELECTOR, ".chip.tag")]
    assert "to-reproduce" in chips and "to-reproduce" in show(db, feeds, first)["tags"]

    # n: a note; u: undo it (the inverse goes through the API too).
    unfocus(browser)
    press(browser, "n")
    wait_for(browser, lambda d: d.switch_to.active_element.get_attribute("name") == "arg")
    press(browser, "read the appendix\n")
    wait_action(browser, f"note:{first}")
    assert [n["text"] for n in show(db, feeds, first)["notes"]] == ["read the appendix"]
    unfocus(browser)
    press(browser, "u")
    wait_action(browser, f"delete_note:{first}")
    assert show(db, feeds, first)["notes"] == []
    # u again: the tag goes; a third time: read is undone.
    press(browser, "u")
    wait_action(browser, f"untag:{first}")
    assert "to-reproduce" not in show(db, feeds, first)["tags"]
    press(browser, "u")
    wait_action(browser, f"unread:{first}")
    assert show(db, feeds, first)["read"] is False

    # A reload keeps the star (the database is the truth); every card gets its why.
    browser.refresh()
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "a.why-pending"))
    assert card(browser, first).find_element(By.CSS_SELECTOR, ".star-state").text == "★"
    pressed = card(browser, first).find_element(By.CSS_SELECTOR, 'button[value="unstar"]')
    assert pressed.get_attribute("aria-pressed") == "true"

    _search_by_key(browser, db, feeds)
    _hostile_text_runs_nothing(browser, db)
    _screenshots(browser, url, db, tmp_path)


def _search_by_key(browser: Any, db: Path, feeds: Path) -> None:
    """`/` focuses the search box; the order is `papertrail search`'s."""
    unfocus(browser)
    press(browser, "/")
    press(browser, "diffusion\n")
    wait_for(browser, lambda d: "/-/papers/search?q=diffusion" in d.current_url)
    shown = [
        int(c.get_attribute("data-id"))
        for c in browser.find_elements(By.CSS_SELECTOR, "article.card")
    ]
    expected = api.search(api.Paths(db=db, feeds=feeds), "diffusion", limit=60).entries
    assert shown == [e["id"] for e in expected] and shown
    assert browser.find_elements(By.CSS_SELECTOR, ".snippet mark")
    assert_nothing_ran(browser)


def _hostile_text_runs_nothing(browser: Any, db: Path) -> None:
    base = browser.current_url.split("/-/papers", 1)[0]
    (post,) = rows(db, "SELECT id FROM entries WHERE url LIKE 'http://hostile.invalid/%'")[0]
    (paper,) = rows(db, "SELECT id FROM entries WHERE arxiv_id = ?", (PAPER,))[0]
    for path in ("/-/papers/search?q=hostile", f"/-/papers/{post}", f"/-/papers/{paper}",
                 "/-/papers/tag/blog", "/-/papers/unread"):  # fmt: skip
        browser.get(base + path)
        assert_nothing_ran(browser)
        assert "<script>window.__pwned" in browser.find_element(By.TAG_NAME, "main").text
        assert not browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']")
        assert not browser.find_elements(By.CSS_SELECTOR, "main img, main script")
    # The page itself asked for nothing but its own files.
    logs = [e["message"] for e in browser.get_log("browser")]
    assert not [m for m in logs if "Content Security Policy" in m or "ERR_" in m], logs


def _screenshots(browser: Any, url: str, db: Path, tmp_path: Path) -> None:
    shots = []
    for width, height in ((1440, 1000), (390, 844)):
        for scheme in ("light", "dark"):
            browser.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            )
            browser.execute_cdp_cmd(
                "Emulation.setEmulatedMedia",
                {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            )
            browser.get(url)
            wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "a.why-pending"))
            assert browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"
            ), f"Today scrolls sideways at {width} px"
            shots.append(tmp_path / f"reading-today-{width}-{scheme}.png")
            browser.save_screenshot(str(shots[-1]))
    (paper,) = rows(db, "SELECT id FROM entries WHERE arxiv_id = ?", (PAPER,))[0]
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1440, "height": 1400, "deviceScaleFactor": 1, "mobile": False},
    )
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "light"}]},
    )
    browser.get(url + f"/{paper}")
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "a.why-pending"))
    shots.append(tmp_path / "reading-paper.png")
    browser.save_screenshot(str(shots[-1]))
    assert all(s.stat().st_size > 10_000 for s in shots)
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, SCREENSHOT_DIR / shot.name)


def card_ids(driver: Any) -> list[int]:
    return [
        int(c.get_attribute("data-id"))
        for c in driver.find_elements(By.CSS_SELECTOR, "article.card")
    ]


def test_paging_appends_in_place_and_keys_go_on(
    server: tuple[str, Path, Path], browser: Any
) -> None:
    """Unread holds more than a page: `j` past the last card appends the next page in
    place, keys act on the appended cards, the address becomes that page (a reload
    shows it, with a way back to the newest), and Today's "N more in …" appends its
    domain's next cards under it without changing the address."""
    url, db, feeds = server
    paths = api.Paths(db=db, feeds=feeds)
    unread = [e["id"] for e in api.list_entries(paths, api.make_filter(unread=True), limit=None)]
    assert len(unread) > 60, "the recorded world no longer spans two pages of Unread"
    browser.get(url + "/unread")
    assert card_ids(browser) == unread[:60]
    unfocus(browser)
    press(browser, "j" * 61)  # the 60th card, then one more: the next page comes in place
    wait_for(browser, lambda d: len(card_ids(d)) > 60)
    assert card_ids(browser) == unread[:120]
    wait_for(browser, lambda d: "current" in card(d, unread[60]).get_attribute("class"))
    press(browser, "s")
    wait_action(browser, f"star:{unread[60]}")
    assert show(db, feeds, unread[60])["starred"] is True
    assert f"after={unread[59]}" in browser.current_url
    browser.refresh()  # the page last appended, and a link back to the newest
    assert card_ids(browser)[0] == unread[60]
    assert browser.find_element(By.CSS_SELECTOR, "nav.pager.newer a").text == "← Newest"
    assert card(browser, unread[60]).find_element(By.CSS_SELECTOR, ".star-state").text == "★"

    browser.get(url)
    more = browser.find_elements(By.CSS_SELECTOR, "nav.pager.more a")
    assert more, "no domain of Today holds more than 25 entries"
    section = more[0].find_element(By.XPATH, "ancestor::section")
    before = len(section.find_elements(By.CSS_SELECTOR, "article.card"))
    more[0].click()
    wait_for(
        browser, lambda d: len(section.find_elements(By.CSS_SELECTOR, "article.card")) > before
    )
    assert browser.current_url == url
    assert len(set(card_ids(browser))) == len(card_ids(browser))  # nobody twice
    assert_nothing_ran(browser)


def test_without_javascript_the_buttons_are_forms(
    server: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, db, feeds = server
    driver = chrome(tmp_path, "nojs", javascript=False)
    try:
        driver.get(url)
        first = driver.find_element(By.CSS_SELECTOR, "article.card")
        entry = int(first.get_attribute("data-id"))
        first.find_element(By.CSS_SELECTOR, 'button[value="star"]').click()
        wait_for(driver, lambda d: "done=" in d.current_url)
        assert f"Starred #{entry}" in driver.find_element(By.ID, "flash").text
        assert show(db, feeds, entry)["starred"] is True
        driver.find_element(By.CSS_SELECTOR, "#flash button").click()  # Undo, as a form
        wait_for(driver, lambda d: f"Unstarred #{entry}" in d.find_element(By.ID, "flash").text)
        assert show(db, feeds, entry)["starred"] is False
        # Paging is a plain link: the next page replaces this one.
        driver.get(url + "/unread")
        first_page = card_ids(driver)
        driver.find_element(By.CSS_SELECTOR, "nav.pager.older a").click()
        wait_for(driver, lambda d: "after=" in d.current_url)
        assert card_ids(driver) and not set(card_ids(driver)) & set(first_page)
    finally:
        driver.quit()
