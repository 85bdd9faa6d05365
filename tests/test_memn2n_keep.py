"""Issue 21 for MemN2N: runs keep their models, --from-run tests them again, and the
generated bAbI tasks are checked against what the bAbI authors published."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from papertrail.cli import cli
from reproductions.memn2n import generate, stats

# Task 11 as the authors' generator writes it (BasicCoreference.lua): a move by name, the
# same actor moving again as "he"/"she", a question about that actor supported by the
# pronoun sentence; five times.
AUTHORS_TASK_11 = "".join(
    f"{3 * i + 1} {name} went to the {a}.\n{3 * i + 2} Then {pro} journeyed to the {b}.\n"
    f"{3 * i + 3} Where is {name}? \t{b}\t{3 * i + 2}\n"
    for i, (name, pro, a, b) in enumerate(
        [
            ("Mary", "she", "garden", "office"),
            ("John", "he", "kitchen", "hallway"),
            ("Sandra", "she", "bedroom", "garden"),
            ("Daniel", "he", "office", "kitchen"),
            ("Mary", "she", "hallway", "bathroom"),
        ]
    )  # fmt: skip
)


def test_a_story_written_as_the_authors_generator_writes_it_passes_every_check() -> None:
    # One story of 15 lines, but the line ids run on (the release's format numbers a story's
    # lines 1, 2, 3 … with questions in between): renumber as the release does.
    text = "".join(f"{n} {line.split(' ', 1)[1]}\n"
                   for n, line in enumerate(AUTHORS_TASK_11.splitlines(), 1))  # fmt: skip
    measured = stats.measure(text)
    assert measured.stories == 1 and measured.questions == 5 and measured.last_is_support == 1.0
    checks = stats.check(11, measured)
    assert all(c.agrees for c in checks), [c for c in checks if not c.agrees]


@pytest.mark.parametrize("task", generate.GENERATED_TASKS)
def test_the_generated_tasks_agree_on_format_forms_answers_and_vocabulary(task: int) -> None:
    measured = stats.measure(generate.generate_task(task, 200, 0, "train-1k"))
    by_name = {c.what: c for c in stats.check(task, measured)}
    for what in ("questions per story", "question forms", "answers", "names, places, objects"):
        assert by_name[what].agrees, by_name[what]
    assert measured.stories == 40  # 5 questions a story, as the authors' generator asks


def test_the_known_differences_of_tasks_6_and_11_are_measured() -> None:
    six = {c.what: c for c in stats.check(6, stats.measure(generate.generate_task(6, 500, 0, "t")))}
    assert not six["kinds of statement"].agrees  # gets and drops among the moves
    assert not six["statements per story"].agrees  # 1–3 statements before a question, not 2
    eleven = stats.measure(generate.generate_task(11, 500, 0, "t"))
    checks = {c.what: c for c in stats.check(11, eleven)}
    assert not checks["answer in the statement just before the question"].agrees
    assert 0.2 < eleven.last_is_support < 0.7
    assert not checks["supporting facts per question"].agrees  # the name and the pronoun


def test_the_stats_command_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "qa12_conjunction_train.txt"
    path.write_text(generate.generate_task(12, 50, 0, "t"))
    assert stats.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "Task 12 (conjunction)" in out and "| question forms | where is ACTOR |" in out


def test_a_memn2n_run_keeps_its_models_and_from_run_tests_them_again(db_path: Path) -> None:
    pytest.importorskip("torch")
    first = CliRunner().invoke(cli, ["--db", str(db_path), "repro", "memn2n", "--dry-run"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, ["--db", str(db_path), "repro", "memn2n", "--from-run", "1"])
    assert again.exit_code == 0, again.output
    with sqlite3.connect(db_path) as conn:
        (w1, m1), (w2, m2, src) = (
            conn.execute("SELECT weights_path, metrics FROM repro_runs WHERE id = 1").fetchone(),
            conn.execute("SELECT weights_path, metrics, from_run FROM repro_runs WHERE id = 2").fetchone(),
        )  # fmt: skip
    assert w1.endswith("weights.safetensors") and w2 is None and src == 1
    m1, m2 = json.loads(m1), json.loads(m2)
    tested = [k for k in m1 if k.startswith("test_error_task")]
    assert tested and all(m1[k] == m2[k] for k in tested)  # the same models, the same answers
