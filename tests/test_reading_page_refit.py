"""The reading page never waits for the refit a star started (issue 16): while one is
under way, the page scores with the model from before it, says so, and offers the new
order once the refit is over; the CLI and the digest still wait and print the new
order. On the real recorded arXiv documents of tests/test_learn.py (a BibTeX library
starred, five papers dismissed, then a fetch)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import test_learn
from test_learn import ML_NEW, short_id
from test_reading_page import Page, card_ids

from papertrail import store
from papertrail.config import load_config
from papertrail.reading import learn, rankcache

# the fixtures of tests/test_learn.py
api, feeds, seeded = test_learn.api, test_learn.feeds, test_learn.seeded


def fingerprint(db: Path) -> str:
    """The labels the stored model was fitted on (a hash)."""
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT fingerprint FROM ranking_models").fetchone()[0])


def star_behind_its_back(db: Path, arxiv_id: str) -> None:
    """A star no refresh of this process hears of (another process, raw SQL)."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE entries SET starred_at = '2026-01-01T00:00:00+00:00' WHERE arxiv_id = ?",
            [arxiv_id],
        )


def test_inside_previous_order_a_stale_model_scores_and_nothing_refits(
    seeded: tuple[Path, Path],
) -> None:
    db, feeds_yml = seeded
    config = load_config(feeds_yml)
    before = fingerprint(db)
    star_behind_its_back(db, ML_NEW[0])
    with store.connected(db, create=False) as conn, rankcache.previous_order() as seen:
        learned = learn.current(conn, config.ranking)
    assert seen.used and learned.model is not None
    assert short_id(db, ML_NEW[0]) not in learned.model.labelled  # the model from before
    assert fingerprint(db) == before  # nothing was fitted
    with store.connected(db, create=False) as conn:
        refitted = learn.current(conn, config.ranking)  # outside: the labels win
    assert refitted.model is not None and fingerprint(db) != before
    assert short_id(db, ML_NEW[0]) in refitted.model.labelled


@pytest.mark.integration  # a worker process (forkserver, scikit-learn imported): seconds
def test_today_shows_the_order_from_before_then_offers_the_new_one(
    seeded: tuple[Path, Path],
) -> None:
    db, feeds_yml = seeded
    page = Page(db, feeds_yml)
    first = page.html("/-/papers")
    assert 'id="reranking"' not in first and card_ids(first)
    before = fingerprint(db)
    star_behind_its_back(db, ML_NEW[0])
    stale = page.html("/-/papers")
    assert 'id="reranking"' in stale  # says it, and links to the new order
    assert card_ids(stale) == card_ids(first)  # the order from before the star
    # The page found no refit of its own under way, so it started one.
    assert rankcache.wait(str(db), "done")
    assert page.get("/-/papers/ranking").json() == {"busy": False}
    assert fingerprint(db) != before
    assert 'id="reranking"' not in page.html("/-/papers")
    assert short_id(db, ML_NEW[0]) in labelled(db, feeds_yml)


@pytest.mark.integration  # a worker process (forkserver, scikit-learn imported): seconds
def test_a_star_on_the_page_answers_before_its_refit_lands(seeded: tuple[Path, Path]) -> None:
    db, feeds_yml = seeded
    page = Page(db, feeds_yml)
    page.get("/-/papers")
    answer = page.act("star", short_id(db, ML_NEW[1]))
    assert answer.status_code == 200 and answer.json()["ok"]
    assert f'id="e{short_id(db, ML_NEW[1])}"' in answer.json()["card"]
    today = page.html("/-/papers")  # whether or not the refit is over: an answer
    assert card_ids(today)
    rankcache.wait(str(db), "done")
    assert 'id="reranking"' not in page.html("/-/papers")
    assert short_id(db, ML_NEW[1]) in labelled(db, feeds_yml)


def labelled(db: Path, feeds_yml: Path) -> dict[int, str]:
    with store.connected(db, create=False) as conn:
        model = learn.current(conn, load_config(feeds_yml).ranking).model
    assert model is not None
    return model.labelled


@pytest.mark.integration  # (the learned world's set-up: seconds)
def test_every_label_change_moves_the_label_stamp_and_nothing_else_does(
    seeded: tuple[Path, Path],
) -> None:
    db, _ = seeded
    entry = short_id(db, ML_NEW[2])

    def stamp() -> int:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT n FROM label_stamp").fetchone()[0])

    changes = [
        "UPDATE entries SET starred_at = '2026-01-01T00:00:00+00:00' WHERE id = ?",
        "UPDATE entries SET starred_at = NULL WHERE id = ?",
        "UPDATE entries SET read_at = '2026-01-01T00:00:00+00:00' WHERE id = ?",
        "UPDATE entries SET dismissed_at = '2026-01-01T00:00:00+00:00' WHERE id = ?",
        "INSERT INTO entry_tags VALUES (?, 'mine', 'user', '2026-01-01T00:00:00+00:00')",
        "DELETE FROM entry_tags WHERE entry_id = ? AND tag = 'mine'",
    ]
    for sql in changes:
        before = stamp()
        with sqlite3.connect(db) as conn:
            conn.execute(sql, [entry])
        assert stamp() == before + 1, sql
    unrelated = [
        "UPDATE entries SET score = score + 1 WHERE id = ?",
        "UPDATE entries SET read_at = read_at WHERE id = ?",  # the same value
        "INSERT INTO entry_tags VALUES (?, 'auto-tag', 'auto', '2026-01-01T00:00:00+00:00')",
    ]
    for sql in unrelated:
        before = stamp()
        with sqlite3.connect(db) as conn:
            conn.execute(sql, [entry])
        assert stamp() == before, sql


@pytest.mark.integration  # a worker process (forkserver, scikit-learn imported): seconds
def test_a_server_fits_in_its_worker_process_and_the_model_is_stored(
    seeded: tuple[Path, Path],
) -> None:
    from papertrail.reading import fitworker

    db, feeds_yml = seeded
    Page(db, feeds_yml)  # a server: its refits go to the worker
    assert fitworker.enabled()
    star_behind_its_back(db, ML_NEW[3])
    before = fingerprint(db)
    assert fitworker.run(fitworker.fit_here, str(db.resolve()), load_config(feeds_yml).ranking)
    assert fingerprint(db) != before  # the worker fitted and stored the new labels' model
    with store.connected(db, create=False) as conn, rankcache.previous_order() as seen:
        model = learn.current(conn, load_config(feeds_yml).ranking).model
    assert not seen.used and model is not None  # current: nothing older was needed
    assert short_id(db, ML_NEW[3]) in model.labelled
