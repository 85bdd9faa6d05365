"""End-To-End Memory Networks (Sukhbaatar et al., arXiv 1503.08895) on bAbI: the release's
format (written here byte for byte, read from a tarball, a folder and a loopback download),
the generator checked against an independent replay of every story, the model's position
encoding, temporal encoding, linear start and weight tying, training, and
`papertrail repro memn2n --dry-run` end to end."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
import tarfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402
from conftest import FeedServer  # noqa: E402

from papertrail.cli import cli  # noqa: E402
from reproductions.common import RunContext  # noqa: E402
from reproductions.memn2n import babi, generate  # noqa: E402
from reproductions.memn2n.babi import BabiFormatError, parse_babi, read_task  # noqa: E402
from reproductions.memn2n.model import MemN2N, position_encoding  # noqa: E402
from reproductions.memn2n.run import Args, _load, check, parse_tasks, setting_name  # noqa: E402
from reproductions.memn2n.train import (  # noqa: E402
    LinearStart,
    Settings,
    Vocab,
    attention_table,
    errors_by_task,
    noisy_times,
    train,
    train_restarts,
    train_step,
    vectorize,
)

# Lines as the release writes them: a space before the first tab of a question; task 8
# answers lists with commas; tasks 2 and 3 give several supporting ids.
RELEASE_TEXT = (
    "1 Mary moved to the bathroom.\n"
    "2 John went to the hallway.\n"
    "3 Where is Mary? \tbathroom\t1\n"
    "4 Mary got the football there.\n"
    "5 Mary picked up the apple there.\n"
    "6 What is Mary carrying? \tfootball,apple\t4 5\n"
    "1 Sandra journeyed to the garden.\n"
    "2 Where is Sandra? \tgarden\t1\n"
)


def test_the_release_format_is_parsed_with_lists_and_several_supporting_facts() -> None:
    stories = parse_babi(RELEASE_TEXT, "qa8_lists-sets_train.txt")
    assert len(stories) == 2  # ids restart at 1 for the second story
    first = stories[0]
    assert first.statements == {
        1: "Mary moved to the bathroom.", 2: "John went to the hallway.",
        4: "Mary got the football there.", 5: "Mary picked up the apple there.",
    }  # fmt: skip
    q = first.questions[1]
    assert (q.line_id, q.text, q.answer, q.supports) == (
        6, "What is Mary carrying?", "football,apple", (4, 5),
    )  # fmt: skip
    assert q.answers == ("football", "apple")
    exs = babi.examples(stories, task=8)
    assert [e.answer for e in exs] == ["bathroom", "football,apple", "garden"]
    # A question sees the statements before it (not the questions), tokenised without punctuation.
    assert exs[1].line_ids == (1, 2, 4, 5)
    assert exs[1].story[0] == ("mary", "moved", "to", "the", "bathroom")
    assert exs[1].question == ("what", "is", "mary", "carrying")
    assert exs[2].story == (("sandra", "journeyed", "to", "the", "garden"),)
    assert [e.story_index for e in exs] == [0, 0, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 Mary moved.\n3 John went.\n", r"f\.txt:2: line id 3 follows 1"),
        ("2 Mary moved.\n", r"f\.txt:1: line id 2 follows None"),
        ("1 Mary moved.\nJohn went.\n", r"f\.txt:2: expected 'ID text'"),
        ("1 Mary moved.\n2 Where is Mary? \tbathroom\t7\n", r"f\.txt:2: supporting id\(s\) \[7\]"),
        ("1 Mary moved.\n2 Where is Mary? \tbathroom\tx\n", r"f\.txt:2: supporting ids must be"),
    ],
)
def test_malformed_lines_are_reported_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(BabiFormatError, match=message):
        parse_babi(text, "f.txt")


def release_tarball(path: Path, files: dict[str, str]) -> Path:
    """A tar.gz laid out like tasks_1-20_v1-2.tar.gz: tasks_1-20_v1-2/<en|en-10k>/qaN_name_split.txt."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"tasks_1-20_v1-2/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_tasks_are_read_from_the_tarball_its_folder_and_its_en_folder(tmp_path: Path) -> None:
    files = {
        "en/qa8_lists-sets_train.txt": RELEASE_TEXT,
        "en/qa8_lists-sets_test.txt": RELEASE_TEXT.replace("garden", "office"),
        "en-10k/qa8_lists-sets_train.txt": RELEASE_TEXT * 2,
    }
    tarball = release_tarball(tmp_path / "tasks_1-20_v1-2.tar.gz", files)
    assert len(read_task(tarball, 8, "train")) == 3
    assert read_task(tarball, 8, "test")[2].answer == "office"
    assert len(read_task(tarball, 8, "train", "10k")) == 6
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    assert len(read_task(tmp_path / "x", 8, "train")) == 3  # the folder holding tasks_1-20_v1-2/
    assert len(read_task(tmp_path / "x" / "tasks_1-20_v1-2", 8, "train")) == 3
    assert len(read_task(tmp_path / "x" / "tasks_1-20_v1-2" / "en", 8, "train")) == 3
    with pytest.raises(FileNotFoundError, match="no en/qa1_single-supporting-fact_train.txt"):
        read_task(tmp_path / "x", 1, "train")
    with pytest.raises(FileNotFoundError, match="the archive has no .*qa1_single"):
        read_task(tarball, 1, "train")


def test_the_release_downloads_once_checked_against_its_sha256(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_CACHE", str(tmp_path / "cache"))
    body = release_tarball(tmp_path / "t.tar.gz", {"en/qa8_lists-sets_train.txt": RELEASE_TEXT}).read_bytes()  # fmt: skip
    url = feed_server.serve("/babi/tasks_1-20_v1-2.tar.gz", body, "application/gzip", conditional=False)  # fmt: skip
    sha = hashlib.sha256(body).hexdigest()
    monkeypatch.setattr(babi, "RELEASE", babi.Checkpoint(url=url, sha256=sha, size=len(body)))
    ctx = RunContext(artifacts=tmp_path / "run")
    for _ in range(2):
        path, said = _load(Args(tasks="8"), ctx, (8,))
        assert "SHA-256 checked" in said and path.parent.name == "datasets"
        assert len(read_task(path, 8, "train")) == 3
    assert feed_server.hits["/babi/tasks_1-20_v1-2.tar.gz"] == 1
    # A corrupted copy is refused, and the message says what to do instead.
    monkeypatch.setenv("PAPERTRAIL_CACHE", str(tmp_path / "cache2"))
    monkeypatch.setattr(babi, "RELEASE", babi.Checkpoint(url=url, sha256="0" * 64))
    with pytest.raises(ValueError, match="SHA-256 .* --data PATH.*--generate"):
        _load(Args(tasks="8"), ctx, (8,))


def test_the_published_checksum_is_pinned() -> None:
    assert babi.RELEASE.sha256 == "0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898"
    assert babi.RELEASE.size == 15_719_851 and babi.RELEASE.filename == "tasks_1-20_v1-2.tar.gz"


# ---------------------------------------------------------------- the generator

MOVE = r"(?:moved|went|journeyed|travelled|went back) to the (\w+)"
RE_MOVE = re.compile(rf"^(\w+)(?: and (\w+))? {MOVE}\.$")
RE_PRONOUN = re.compile(rf"^(?:Then|After that|Following that|Afterwards) (he|she) {MOVE}\.$")
RE_GET = re.compile(r"^(\w+) (?:got|picked up|grabbed|took) the (\w+) there\.$")
RE_DROP = re.compile(r"^(\w+) (?:dropped|discarded|put down|left) the (\w+)\.$")
GENDER = {"Mary": "she", "Sandra": "she", "John": "he", "Daniel": "he"}


def replay(text: str) -> list[tuple[str, str]]:
    """(answer written, answer of this replay) for every question: the world re-simulated
    from the sentences alone, with no code shared with the generator."""
    out: list[tuple[str, str]] = []
    for raw in text.splitlines():
        number, body = raw.split(" ", 1)
        if number == "1":
            where: dict[str, str] = {}
            holder: dict[str, str | None] = {}
            at: dict[str, str] = {}
            rooms: dict[str, list[str]] = {}
            last: str | None = None
        if "\t" not in body:
            if m := RE_PRONOUN.match(body):
                assert last is not None and GENDER[last] == m.group(1), raw
                actors, room = [last], m.group(2)
            elif m := RE_MOVE.match(body):
                actors, room = [a for a in m.group(1, 2) if a], m.group(3)
                last = actors[0]
            elif m := RE_GET.match(body):
                actor, obj = m.groups()
                assert holder.get(obj) is None, f"{raw}: already held"
                holder[obj], at[obj] = actor, where[actor]
                if rooms.setdefault(obj, [])[-1:] != [at[obj]]:
                    rooms[obj].append(at[obj])
                continue
            elif m := RE_DROP.match(body):
                actor, obj = m.groups()
                assert holder.get(obj) == actor, f"{raw}: not held by {actor}"
                holder[obj] = None
                continue
            else:
                raise AssertionError(f"unknown sentence {raw!r}")
            for actor in actors:
                assert where.get(actor) != room or len(actors) > 1, f"{raw}: moved nowhere"
                where[actor] = room
                for obj, h in holder.items():
                    if h == actor:
                        at[obj] = room
                        rooms[obj].append(room)
            continue
        question, answer, _ = (p.strip() for p in body.split("\t"))
        if m := re.fullmatch(r"Where is the (\w+)\?", question):
            mine = at[m.group(1)]
        elif m := re.fullmatch(r"Where is (\w+)\?", question):
            mine = where[m.group(1)]
        elif m := re.fullmatch(r"Is (\w+) in the (\w+)\?", question):
            mine = "yes" if where[m.group(1)] == m.group(2) else "no"
        elif m := re.fullmatch(r"Where was the (\w+) before the (\w+)\?", question):
            trail = rooms[m.group(1)]
            i = len(trail) - 1 - trail[::-1].index(m.group(2))
            mine = trail[i - 1]
        else:
            raise AssertionError(f"unknown question {raw!r}")
        out.append((answer, mine))
    return out


@pytest.mark.parametrize("task", generate.GENERATED_TASKS)
def test_every_generated_answer_matches_an_independent_replay(task: int) -> None:
    for label, n in (("train-1k", 1000), ("test", 1000)):
        text = generate.generate_task(task, n, seed=0, label=label)
        answers = replay(text)
        assert len(answers) == n
        wrong = [(a, b) for a, b in answers if a != b]
        assert not wrong, f"task {task}: {len(wrong)} answers disagree, e.g. {wrong[:3]}"
        # The release's parser reads it, and every supporting fact is in a 50-sentence memory.
        exs = babi.examples(parse_babi(text, f"task {task}"), task)
        assert all(ex.line_ids[-50:][0] <= min(ex.supports) for ex in exs)
        if task == 6:
            assert 0.4 < sum(a == "yes" for a, _ in answers) / n < 0.6
        if task == 3:
            assert all(len(ex.supports) == 3 for ex in exs)


def test_generated_files_are_seeded_and_named_like_the_release(tmp_path: Path) -> None:
    a = generate.write_dataset(tmp_path / "a", (1, 12), "1k", seed=3)
    b = generate.write_dataset(tmp_path / "b", (1, 12), "1k", seed=3)
    c = generate.write_dataset(tmp_path / "c", (1,), "1k", seed=4)
    names = sorted(p.name for p in a.iterdir())
    assert a.name == "en" and names == [
        "qa12_conjunction_test.txt", "qa12_conjunction_train.txt",
        "qa1_single-supporting-fact_test.txt", "qa1_single-supporting-fact_train.txt",
    ]  # fmt: skip
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / names[3]).read_bytes() != (c / names[3]).read_bytes()
    assert len(read_task(tmp_path / "a", 12, "train")) == 1000
    assert generate.generate_task(2, 10_000, 0, "train-10k").count("\t") == 2 * 10_000


# ---------------------------------------------------------------- the model


def test_position_encoding_is_the_papers_formula() -> None:
    d, width = 4, 5
    got = position_encoding(torch.tensor([3, 5]), width, d)  # (2, width, d)
    assert got.shape == (2, width, d)
    for n, J in enumerate((3, 5)):
        for j in range(1, width + 1):
            for k in range(1, d + 1):
                expected = (1 - j / J) - (k / d) * (1 - 2 * j / J) if j <= J else 0.0
                assert got[n, j - 1, k - 1].item() == pytest.approx(expected, abs=1e-6)


def model(tying: str = "adjacent", **kw) -> MemN2N:
    torch.manual_seed(0)
    return MemN2N(30, dim=6, hops=3, memory_size=50, tying=tying, **kw)  # type: ignore[arg-type]


def test_temporal_encoding_has_a_row_per_memory_slot_and_changes_the_answer() -> None:
    m = model()
    assert len(m.T) == 4 and all(t.shape == (50, 6) for t in m.T)
    assert [t.shape for t in model("layerwise").T] == [(50, 6), (50, 6)]
    stories = torch.randint(1, 30, (2, 7, 4))
    queries = torch.randint(1, 30, (2, 3))
    logits, attention = m(stories, queries, return_attention=True)
    assert logits.shape == (2, 30) and attention.shape == (2, 3, 7)
    assert torch.allclose(attention.sum(-1), torch.ones(2, 3))
    later = torch.arange(7).expand(2, 7) + 10  # the same sentences, other time slots
    assert not torch.allclose(m(stories, queries, later), logits)
    assert torch.allclose(model(temporal=False)(stories, queries, later), model(temporal=False)(stories, queries))  # fmt: skip


def test_random_noise_spreads_the_time_indices_with_up_to_ten_percent_gaps() -> None:
    gen = torch.Generator().manual_seed(0)
    counts = torch.tensor([50, 20, 1, 0] * 50)
    times = noisy_times(counts, 50, 50, 0.1, gen)
    assert times.shape == (200, 50)
    for row, n in zip(times, counts.tolist(), strict=True):
        real = row[:n]
        below_cap = real[1:] < 49  # past T's last row indices are capped there (authors' code)
        assert torch.all(real[1:][below_cap] > real[:-1][below_cap])  # the order is kept
        assert n == 0 or int(real[-1]) <= min(49, n - 1 + -(-n // 10))  # at most ⌈n/10⌉ gaps
    assert bool((times[counts == 20][:, 19] > 19).any())  # some stories did get gaps


def test_empty_memory_slots_get_no_attention() -> None:
    m = model()
    stories = torch.randint(1, 30, (1, 5, 4))
    stories[0, 3:] = 0  # two empty slots
    _, attention = m(stories, torch.randint(1, 30, (1, 3)), return_attention=True)
    assert attention[0, :, 3:].abs().max() == 0


def test_linear_start_switches_when_the_validation_loss_stops_falling() -> None:
    ls = LinearStart(max_epochs=20, patience=1)
    assert [ls.update(v) for v in (3.0, 2.0, 2.5)] == [False, False, True] and not ls.active
    assert ls.update(1.0) is False  # after the switch it stays off
    patient = LinearStart(max_epochs=20, patience=2)
    assert [patient.update(v) for v in (3.0, 3.5, 2.0, 2.1, 2.2)] == [False, False, False, False, True]  # fmt: skip
    capped = LinearStart(max_epochs=2, patience=5)
    assert [capped.update(v) for v in (3.0, 2.0)] == [False, True]
    assert not LinearStart(0).active


def test_weight_tying_shares_the_right_matrices() -> None:
    adj = model("adjacent")
    for k in (1, 2):
        assert adj.A(k + 1) is adj.C(k) and adj.T_A(k + 1) is adj.T_C(k)  # A^{k+1} = C^k
    assert adj.B is adj.A(1) and adj.W is adj.C(3)  # B = A¹, Wᵀ = C^K
    assert adj.A(1) is not adj.C(1)
    assert sum(p.numel() for p in adj.parameters()) == 4 * 30 * 6 + 4 * 50 * 6
    lw = model("layerwise")
    assert lw.A(1) is lw.A(2) is lw.A(3) and lw.C(1) is lw.C(2) is lw.C(3)
    assert lw.T_A(1) is lw.T_A(3) and lw.T_C(1) is lw.T_C(2)
    assert lw.B is not lw.A(1) and lw.W is not lw.C(3) and lw.H.weight.shape == (6, 6)
    # The null symbol's embedding is zero in every matrix, and stays zero after a step.
    assert all(e[0].abs().max() == 0 for e in adj.E)


def small_task(task: int, n: int, label: str) -> list[babi.Example]:
    return babi.examples(parse_babi(generate.generate_task(task, n, 0, label)), task)


def test_one_training_step_lowers_the_loss() -> None:
    exs = small_task(2, 32, "step")
    vocab = Vocab.build(exs)
    data = vectorize(exs, vocab, 50)
    s = Settings(dim=10)
    m = MemN2N(len(vocab), dim=10)
    before = train_step(m, data, 0.01, s)
    after = train_step(m, data, 0.01, s)
    assert after < before
    assert all(e[0].abs().max() == 0 for e in m.E)


def test_linear_start_runs_without_softmax_then_puts_it_back() -> None:
    exs = small_task(1, 100, "ls")
    vocab = Vocab.build(exs)
    data = vectorize(exs, vocab, 50)
    m = MemN2N(len(vocab), dim=8)
    seen: list[bool] = []
    s = Settings(dim=8, epochs=1, ls=True, ls_epochs=3, ls_patience=10, rn=0.1)
    history = train(m, data, data, s, seed=0, on_epoch=lambda d, t, x: seen.append(m.linear))
    assert history["ls_epochs"] == 3 and history["epochs"] == 1
    assert seen[:2] == [True, True] and m.linear is False


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_a_short_seeded_run_answers_task_1() -> None:
    torch.set_num_threads(1)
    exs = small_task(1, 1000, "train-1k")
    test = small_task(1, 1000, "test")
    train_exs, val = babi.split_validation(exs, 0.1, seed=0)
    assert len(val) == 100 and {e.story_index for e in val}.isdisjoint({e.story_index for e in train_exs})  # fmt: skip
    vocab = Vocab.build(train_exs, val, test)
    s = Settings(dim=20, epochs=30, anneal_every=10, ls=True, ls_epochs=10, ls_patience=10, rn=0.1)
    trained = train_restarts(train_exs, val, vocab, s, restarts=1, seed=0)
    assert errors_by_task(trained, test)[1] <= 5.0  # ≥ 95 % test accuracy
    table = attention_table(trained, test[1], "Task 1")
    assert "support" in table and "hop 3" in table and f"answer: {test[1].answer}" in table


def test_options_are_checked_and_named() -> None:
    assert parse_tasks("1, 2,3,2") == (1, 2, 3)
    for args, message in (
        (Args(tasks="1,x"), "--tasks takes numbers"),
        (Args(tasks="21"), "--tasks: bAbI has tasks 1–20, not 21"),
        (Args(tasks="4", generate=True), "task 4 needs the release"),
        (Args(generate=True, data=Path("x")), "drop --data"),
        (Args(hops=0), "--hops must be at least 1"),
        (Args(show_attention=0), "--show-attention must be at least 1"),
        (Args(data=Path("/nonexistent/babi")), "--data /nonexistent/babi: no such file"),
    ):
        with pytest.raises(ValueError, match=message):
            check(args)
    assert setting_name(Args(ls=True, rn=True, joint=True)) == "PE LS RN joint"
    assert setting_name(Args(encoding="bow")) == "BoW"
    assert setting_name(Args(hops=1, ls=True)) == "1 hop PE LS"


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_dry_run_end_to_end_with_the_attention_table(db_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "repro", "memn2n", "--dry-run", "--show-attention", "2", "--ls", "--rn", "--joint"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Test error (%) — PE LS RN joint, 1k training, generated data" in result.output
    assert "paper (PE LS RN joint, 1k)" in result.output
    assert "Task 1, test question 2:" in result.output and "hop 3" in result.output
    with sqlite3.connect(db_path) as conn:
        ((status, arxiv_id, config, metrics, artifacts),) = conn.execute(
            "SELECT status, arxiv_id, config, metrics, artifacts_dir FROM repro_runs"
        ).fetchall()
    assert (status, arxiv_id) == ("ok", "1503.08895")
    metrics, config = json.loads(metrics), json.loads(config)
    assert set(metrics) >= {"test_error_task1", "test_error_task2", "paper_error_task1", "mean_test_error"}  # fmt: skip
    assert config["resolved"]["ls"] is True and config["resolved"]["rn"] == 0.1
    run = Path(artifacts)
    assert (run / "attention-task1-q2.txt").read_text().startswith("Task 1, test question 2:")
    assert "single-supporting-fact" in (run / "results.md").read_text()
    assert (run / "babi-generated" / "en" / "qa1_single-supporting-fact_train.txt").exists()
