"""A refit under way, in a real browser (issue 16): Debian's Chromium against a real
`papertrail browse` subprocess on the learned-ranking world of tests/test_learn.py.
A label changes behind the server's back (as another process would); the next Today
says it shows the order from before, the server refits in its worker process, and
the page (its script asking /-/papers/ranking) then says the new order is ready;
following the link shows Today without the notice.

PAPERTRAIL_SCREENSHOT_DIR keeps the screenshot (docs/img/reading-reranking.png)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_learn
from selenium.webdriver.common.by import By
from test_learn import ML_NEW
from test_reading_page_chromium import (
    CHROMEDRIVER,
    CHROMIUM,
    SCREENSHOT_DIR,
    browse_process,
    chrome,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="no Chromium (.ci/run installs it)"),
]

# the fixtures of tests/test_learn.py
api, feeds, seeded = test_learn.api, test_learn.feeds, test_learn.seeded


@pytest.fixture
def served(seeded: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    """`papertrail browse --port 0` on the seeded list; yields (its URL, the db)."""
    db, feeds_yml = seeded
    with browse_process(db, feeds_yml) as url:
        yield url, db


def test_the_page_says_it_is_reranking_then_offers_the_new_order(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, db = served
    browser = chrome(tmp_path, "profile")
    try:
        browser.get(url)
        assert not browser.find_elements(By.ID, "reranking")
        with sqlite3.connect(db) as conn:  # a star from another process
            conn.execute(
                "UPDATE entries SET starred_at = '2026-01-01T00:00:00+00:00' WHERE arxiv_id = ?",
                [ML_NEW[0]],
            )
        browser.get(url)
        note = browser.find_element(By.ID, "reranking")
        assert "order from before" in note.text
        wait_for(
            browser, lambda d: "ready" in d.find_element(By.ID, "reranking").get_attribute("class")
        )
        assert "The new order is ready" in browser.find_element(By.ID, "reranking").text
        if SCREENSHOT_DIR:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SCREENSHOT_DIR / "reading-reranking.png"))
        browser.find_element(By.CSS_SELECTOR, "#reranking a").click()
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.card"))
        assert not browser.find_elements(By.ID, "reranking")
    finally:
        browser.quit()
