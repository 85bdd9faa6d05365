"""After a star (issue 17): the action is recorded at once, the top of the ranked list is
written first and the rest in a background thread (papertrail.reading.refresh); what a
ranked read shows is always the order a full rescore gives. On the real recorded arXiv
documents of tests/test_learn.py (a BibTeX library starred, five papers dismissed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import test_learn
from test_learn import ML_NEW, ok, short_id

from papertrail import store
from papertrail.config import load_config
from papertrail.reading import learn, rank, rankcache, rankfast, refresh

# the fixtures of tests/test_learn.py
api, feeds, seeded = test_learn.api, test_learn.feeds, test_learn.seeded


def stored(db: Path) -> dict[int, tuple[float, str | None]]:
    with sqlite3.connect(db) as conn:
        return {i: (s, h) for i, s, h in conn.execute("SELECT id, score, hidden_by FROM entries")}


def marks(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT key, value FROM ranking_state").fetchall())


def ranked(db: Path, feeds_yml: Path, n: int) -> list[tuple[int, float]]:
    listed = json.loads(ok(db, feeds_yml, "list", "--sort", "rank", "--json", "-n", str(n)).stdout)
    return [(e["id"], e["score"]) for e in listed]


def test_a_star_shows_the_full_rescores_order_at_once(
    seeded: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, feeds_yml = seeded
    monkeypatch.setattr(refresh, "TOP", 3)  # a list of ~20: only 3 rows are "the top"
    ok(db, feeds_yml, "star", ML_NEW[0], ML_NEW[1])
    first = ranked(db, feeds_yml, 3)  # the top, as soon as it is written
    rankcache.wait(str(db), "done")
    assert "pending" not in marks(db) and "exact_above" not in marks(db)
    after_star = stored(db)
    ok(db, feeds_yml, "rank")  # refits (same labels: the same model) and rescores everything
    assert stored(db) == after_star  # the background wrote exactly what a full rescore does
    assert first == ranked(db, feeds_yml, 3)
    assert short_id(db, ML_NEW[0]) in {i for i, _ in ranked(db, feeds_yml, 8)}


def test_a_refresh_left_unfinished_is_completed_by_the_next_ranked_read(
    seeded: tuple[Path, Path],
) -> None:
    db, feeds_yml = seeded
    expected = stored(db)
    with sqlite3.connect(db) as conn:  # a `papertrail star` killed after claiming
        conn.execute("UPDATE entries SET score = 0")
        conn.execute("INSERT OR REPLACE INTO ranking_state VALUES ('pending', 'dead')")
        conn.execute("INSERT OR REPLACE INTO ranking_state VALUES ('exact_above', 'inf')")
    listed = ranked(db, feeds_yml, 5)
    assert listed == sorted(listed, key=lambda t: -t[1]) and listed[0][1] > 0
    assert stored(db) == expected and "pending" not in marks(db)
    # `list` by date while a refresh is pending shows live scores, not stale ones
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entries SET score = 0")
        conn.execute("INSERT OR REPLACE INTO ranking_state VALUES ('pending', 'dead')")
    shown = json.loads(ok(db, feeds_yml, "list", "--json", "-n", "50").stdout)
    assert {e["id"]: e["score"] for e in shown} == {e["id"]: expected[e["id"]][0] for e in shown}


def test_the_kept_parts_score_exactly_as_the_ordinary_path(
    seeded: tuple[Path, Path],
) -> None:
    db_path, feeds_yml = seeded
    config = load_config(feeds_yml)
    with store.connected(db_path) as db:
        model = learn.current(db, config.ranking).model
        assert model is not None
        rankcache.clear()
        assert rankfast.rows(db, config, model) is None  # a first look caches nothing
        fast = rankfast.rows(db, config, model)
        ordinary, _ = rank._scores(db, config, None)
        top = rankfast.top_rows(db, config, model, 5)
    assert fast is not None and sorted(fast) == sorted(ordinary)
    # the top from numpy estimates: exact rows, and every entry at or above its floor
    assert top is not None and set(top.rows) <= set(ordinary)
    above = {r[0] for r in ordinary if r[1] >= top.floor or r[3] >= top.floor}
    assert len(above) >= 5 and above <= {r[0] for r in top.rows}


@pytest.mark.integration  # a whole process
def test_papertrail_star_as_a_process_writes_every_score_before_it_exits(
    seeded: tuple[Path, Path],
) -> None:
    """The command's own process: its rescore thread is finished before the interpreter
    shuts down (cli.main waits for it), so no claim is left behind."""
    import subprocess
    import sys

    db, feeds_yml = seeded
    args = ["--db", str(db), "--feeds", str(feeds_yml), "star", ML_NEW[3]]
    done = subprocess.run(
        [sys.executable, "-m", "papertrail", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "Error" not in done.stderr, done.stderr
    assert "pending" not in marks(db) and "exact_above" not in marks(db)
    after = stored(db)
    ok(db, feeds_yml, "rank")  # the same labels: a full rescore writes the same scores
    assert stored(db) == after
