"""Issue 21: GAN runs keep their weights and are judged as the field judges them.

On MNIST-format IDX files the tests write themselves (tests/mnist_like.py:
printed digits, both splits, one split, damaged files): the run folder's
weights (safetensors), config.json and checkpoint, their database row,
`--from-run N` (sample, evaluate, continue; an interrupted run resumes to the
weights an uninterrupted one reaches), and the judge's figures on known inputs
(digits against noise)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from click.testing import CliRunner  # noqa: E402
from mnist_like import digits, write_mnist  # noqa: E402
from PIL import Image  # noqa: E402

from papertrail import repro as repro_mod  # noqa: E402
from papertrail.cli import cli  # noqa: E402
from reproductions.common.weights import (  # noqa: E402
    WeightsError,
    load_checkpoint,
    load_weights,
    save_weights,
)
from reproductions.dcgan import run as dcgan_run  # noqa: E402
from reproductions.gan_common import data, judge, nets  # noqa: E402

TINY = ["--image-size", "16", "--width", "8", "--batch-size", "8"]


@pytest.fixture(autouse=True)
def one_thread() -> object:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def invoke(db: Path, *argv: str) -> object:
    return CliRunner().invoke(cli, ["--db", str(db), "repro", *argv])


def row(db: Path, run_id: int) -> dict:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM repro_runs WHERE id = ?", [run_id]).fetchone())


# ---------------------------------------------------------------- MNIST as users have it


def test_both_splits_train_by_default_and_split_test_picks_t10k(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=30, test=20)
    assert data.mnist_splits(folder) == ["train", "test"]
    assert data.choose_split(folder, None) == "train"
    x, y = data.load_mnist(folder, split=data.choose_split(folder, "test"))
    assert x.shape == (20, 1, 28, 28) and y.tolist()[:3] == [0, 1, 2]


def test_a_folder_with_only_the_test_split_is_accepted_for_it(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "t10k-only", test=20, gz=False)  # unpacked files too
    assert data.choose_split(folder, None) == "test"
    with pytest.raises(data.DataError, match="holds only the test split.*--split test"):
        data.choose_split(folder, "train")


def test_dcgan_trains_on_the_split_a_one_split_folder_holds(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "t10k-only", test=24)
    result = invoke(db_path, "dcgan", "--data", str(folder), "--steps", "2", *TINY, "--no-judge")
    assert result.exit_code == 0, result.output
    assert "holds only MNIST's test split: training on it" in result.output
    config = json.loads(row(db_path, 1)["config"])
    assert config["resolved"]["split"] == "test"
    refused = invoke(db_path, "dcgan", "--data", str(folder), "--split", "train", *TINY)
    assert refused.exit_code != 0 and "holds only the test split" in refused.output


@pytest.mark.parametrize("damage", ["truncated", "gzip", "labels"])
def test_a_damaged_file_fails_with_its_name(db_path: Path, tmp_path: Path, damage: str) -> None:
    folder = write_mnist(tmp_path / "mnist", train=20)
    images = folder / "train-images-idx3-ubyte.gz"
    if damage == "truncated":
        raw = gzip.decompress(images.read_bytes())
        images.write_bytes(gzip.compress(raw[:-100]))
        expect = "truncated or damaged"
    elif damage == "gzip":
        images.write_bytes(images.read_bytes()[:200])
        expect = "a damaged gzip file"
    else:
        data.write_idx(torch.arange(7) % 10, folder / "train-labels-idx1-ubyte.gz")
        expect = "do not belong together"
    result = invoke(db_path, "dcgan", "--data", str(folder), "--steps", "2", *TINY)
    assert result.exit_code != 0
    assert expect in result.output and "idx" in result.output


# ---------------------------------------------------------------- weights files


def test_weights_round_trip_and_foreign_files_are_refused(tmp_path: Path) -> None:
    gen = nets.ConvGenerator(8, 1, 16, 4)
    path = save_weights(gen.state_dict(), tmp_path / "g.safetensors", {"k": "v"})
    tensors, meta = load_weights(path)
    assert meta == {"k": "v"} and torch.equal(tensors["net.0.weight"], gen.net[0].weight)
    (tmp_path / "bad.safetensors").write_bytes(b"not one")
    with pytest.raises(WeightsError, match="bad.safetensors: not a readable safetensors"):
        load_weights(tmp_path / "bad.safetensors")


class Payload:
    """A pickled object: torch.load(weights_only=True) must refuse to build it."""

    def __reduce__(self) -> tuple:
        return (os.getcwd, ())


def test_a_checkpoint_with_code_in_it_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    torch.save({"step": 1, "x": Payload()}, path)
    with pytest.raises(WeightsError, match="checkpoint.pt: not a readable checkpoint"):
        load_checkpoint(path)


# ---------------------------------------------------------------- runs keep their model


@pytest.mark.integration  # a training run: seconds
def test_a_run_keeps_weights_config_and_checkpoint_and_records_them(
    db_path: Path, tmp_path: Path
) -> None:
    folder = write_mnist(tmp_path / "mnist", train=40)
    result = invoke(db_path, "dcgan", "--data", str(folder), "--steps", "4", *TINY,
                    "--checkpoint-every", "2", "--no-judge")  # fmt: skip
    assert result.exit_code == 0, result.output
    run = row(db_path, 1)
    weights, config = Path(run["weights_path"]), Path(run["config_path"])
    assert weights.name == "weights.safetensors" and weights.parent == Path(run["artifacts_dir"])
    saved = json.loads(config.read_text())
    assert saved["args"]["steps"] == 4 and saved["resolved"]["width"] == 8
    assert saved == json.loads(run["config"])  # the file is what the database recorded
    tensors, meta = load_weights(weights)
    kept = json.loads(meta["config"])
    assert meta["step"] == "4" and kept["shape"] == [1, 16, 16] and kept["split"] == "train"
    gen = nets.ConvGenerator(kept["noise_dim"], 1, 16, kept["width"])
    gen.load_state_dict({k[len("generator.") :]: v for k, v in tensors.items()
                         if k.startswith("generator.")})  # fmt: skip
    assert any(k.startswith("discriminator.") for k in tensors)
    assert load_checkpoint(weights.parent / "checkpoint.pt")["step"] == 4
    assert f"weights: {weights}" in result.output


def test_from_run_samples_64_new_digits_a_day_later(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=40)
    assert invoke(db_path, "dcgan", "--data", str(folder), "--steps", "3", *TINY,
                  "--no-judge").exit_code == 0  # fmt: skip
    result = invoke(db_path, "dcgan", "--from-run", "1", "--sample", "64")
    assert result.exit_code == 0, result.output
    assert "64 new samples (seed 0) from run #1 (3 steps" in result.output
    run = row(db_path, 2)
    assert run["from_run"] == 1 and run["status"] == "ok"
    out = Path(run["artifacts_dir"])
    pngs = sorted((out / "samples-run1-seed0").iterdir())
    assert len(pngs) == 64 and Image.open(pngs[0]).size == (20, 20)  # 16 px + the grid's border
    assert Image.open(out / "samples-run1-seed0.png").size == (8 * 18 + 2, 8 * 18 + 2)
    again = invoke(db_path, "dcgan", "--from-run", "1", "--sample", "64", "--seed", "5")
    assert again.exit_code == 0
    other = Path(row(db_path, 3)["artifacts_dir"]) / "samples-run1-seed5.png"
    assert Image.open(other).tobytes() != Image.open(out / "samples-run1-seed0.png").tobytes()


REFUSALS = [
    (["--sample", "4"], "--sample works on a finished run's weights: add --from-run N"),
    (["--from-run", "7", "--sample", "4"], "there is no dcgan run #7"),
    (["--from-run", "1"], "run #1 has trained 2 of its 2 steps; pass --steps M"),
    (["--from-run", "1", "--sample", "2", "--evaluate"], "one at a time"),
]


def test_from_run_refuses_what_it_cannot_do_before_recording(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=20)
    assert invoke(db_path, "dcgan", "--data", str(folder), "--steps", "2", *TINY,
                  "--no-judge").exit_code == 0  # fmt: skip
    for argv, message in REFUSALS:
        result = invoke(db_path, "dcgan", *argv)
        assert result.exit_code != 0 and message in result.output, (argv, result.output)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM repro_runs").fetchone() == (1,)


def test_a_run_that_kept_nothing_says_so(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=20)
    assert invoke(db_path, "dcgan", "--data", str(folder), "--steps", "2", *TINY,
                  "--no-judge").exit_code == 0  # fmt: skip
    run_folder = Path(row(db_path, 1)["artifacts_dir"])
    (run_folder / "weights.safetensors").unlink()
    (run_folder / "checkpoint.pt").unlink()
    result = invoke(db_path, "dcgan", "--from-run", "1", "--sample", "4")
    assert result.exit_code != 0 and "kept no weights and no checkpoint" in result.output


def _interrupt_at(step: int):  # noqa: ANN202 - a progress callback
    def on_progress(task: str, done: int, total: int, metrics: dict) -> None:
        if task == "training" and done == step:
            raise KeyboardInterrupt

    return on_progress


@pytest.mark.integration  # three trainings in one process (~4 s on an idle core)
def test_an_interrupted_run_resumes_to_the_weights_of_an_uninterrupted_one(
    db_path: Path, tmp_path: Path
) -> None:
    folder = write_mnist(tmp_path / "mnist", train=40)
    found = repro_mod.get("dcgan")
    args = dcgan_run.Args(data=folder, steps=6, image_size=16, width=8, batch_size=8,
                          checkpoint_every=2, no_judge=True)  # fmt: skip
    whole = repro_mod.run_reproduction(db_path, found, args, device="cpu")
    with pytest.raises(KeyboardInterrupt):
        repro_mod.run_reproduction(db_path, found, args, device="cpu", on_progress=_interrupt_at(5))
    stopped = row(db_path, 2)
    assert stopped["status"] == "interrupted" and stopped["weights_path"] is None
    assert load_checkpoint(Path(stopped["artifacts_dir"]) / "checkpoint.pt")["step"] == 4
    resumed = repro_mod.run_reproduction(db_path, found, dcgan_run.Args(), device="cpu", from_run=2)
    assert resumed.result.metrics["steps_this_run"] == 2
    a, _ = load_weights(whole.artifacts / "weights.safetensors")
    b, _ = load_weights(resumed.artifacts / "weights.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps = [
        line.split(",")[0]
        for line in (resumed.artifacts / "losses.csv").read_text().splitlines()[1:]
    ]
    assert steps == ["1", "2", "3", "4", "5", "6"]  # the earlier rows carried over


def test_a_finished_run_trains_on_to_more_steps(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=20)
    assert invoke(db_path, "dcgan", "--data", str(folder), "--steps", "2", *TINY,
                  "--no-judge").exit_code == 0  # fmt: skip
    result = invoke(db_path, "dcgan", "--from-run", "1", "--steps", "4", "--no-judge")
    assert result.exit_code == 0, result.output
    run = row(db_path, 2)
    assert run["from_run"] == 1 and json.loads(run["metrics"])["steps_this_run"] == 2
    assert load_weights(Path(run["weights_path"]))[1]["step"] == "4"


def test_wgan_gp_keeps_its_averaged_generator_and_samples_from_it(db_path: Path) -> None:
    result = invoke(db_path, "wgan", "--mode", "gp", "--dataset", "ring", "--steps", "3",
                    "--width", "8", "--batch-size", "16")  # fmt: skip
    assert result.exit_code == 0, result.output
    tensors, _ = load_weights(Path(row(db_path, 1)["weights_path"]))
    assert any(k.startswith("generator_ema.") for k in tensors)  # 2-D runs average G by default
    sampled = invoke(db_path, "wgan", "--from-run", "1", "--sample", "10")
    assert sampled.exit_code == 0, sampled.output
    csv_file = Path(row(db_path, 2)["artifacts_dir"]) / "samples-run1-seed0.csv"
    assert len(csv_file.read_text().splitlines()) == 11


# ---------------------------------------------------------------- the judge


def test_frechet_distance_of_known_gaussians() -> None:
    d = 5
    mu, zero = torch.full((d,), 2.0, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    eye = torch.eye(d, dtype=torch.float64)
    assert judge.frechet_distance(zero, eye, zero, eye) == pytest.approx(0, abs=1e-9)
    # N(0, I) vs N(μ, 4I): ‖μ‖² + d (1 + 4 − 2·2) = 4d + d
    assert judge.frechet_distance(zero, eye, mu, 4 * eye) == pytest.approx(5 * d)


def test_confidence_and_class_entropy_on_known_outputs() -> None:
    class Fixed(judge.JudgeNet):
        """Says class i % 10 with probability ≈ 1 for image i (its first pixel holds i)."""

        def features(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.one_hot(x[:, 0, 0, 0].long() % 10, 64).float() * 50

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x))

    net = Fixed()
    with torch.no_grad():
        net.head.weight.copy_(torch.eye(10, 64))
        net.head.bias.zero_()
    images = torch.arange(100).float().view(100, 1, 1, 1).expand(100, 1, 28, 28)
    even = judge.score(net, images, "all ten", None)
    assert even.confident_pct == 100 and even.entropy == pytest.approx(1.0)
    one = judge.score(net, torch.zeros(50, 1, 28, 28), "one class", None)
    assert one.entropy == 0 and one.histogram[0] == 50


def test_the_judge_separates_digits_from_noise_and_is_cached(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=300, test=100)
    quick = {**judge.RECIPE, "epochs": 1, "min_steps": 60}
    real = digits(200, seed=9)[0][:, None].float() / 127.5 - 1
    noise = torch.rand(200, 1, 28, 28) * 2 - 1
    said: list[str] = []
    on_real = judge.judge_samples(
        real, data_dir=folder, image_size=28, recipe=quick, log=said.append
    )
    on_noise = judge.judge_samples(
        noise, data_dir=folder, image_size=28, recipe=quick, log=said.append
    )
    assert sum("training the MNIST judge" in s for s in said) == 1  # the second used the cache
    assert on_noise.generated.fid > 10 * on_real.generated.fid
    assert on_real.generated.entropy > on_noise.generated.entropy
    record = on_real.record
    assert len(record["inputs_sha256"]) == 64 and record["test_images"] == 100
    assert Path(record["weights"]).is_file()
    table = on_real.table()
    assert "MNIST-feature FID" in table and "not Inception FID" in table
    assert "real test images" in table and "real training images" in table


def test_a_cached_judge_whose_weights_changed_is_trained_again(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=60, test=20)
    quick = {**judge.RECIPE, "epochs": 1, "min_steps": 0}
    data_ = judge.judge_data(folder)
    said: list[str] = []
    _, record = judge.load_or_train(data_, quick, said.append)
    Path(record["weights"]).write_bytes(Path(record["weights"]).read_bytes()[:-8] + b"\0" * 8)
    judge.load_or_train(data_, quick, said.append)
    assert any("does not match its record" in s for s in said)


def test_a_dry_run_on_mnist_prints_the_judged_table(db_path: Path) -> None:
    result = invoke(db_path, "dcgan", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "| generated (this run)" in result.output and "not Inception FID" in result.output
    metrics = json.loads(row(db_path, 1)["metrics"])
    assert {"judge_confident_pct", "judge_class_entropy", "judge_mnist_feature_fid",
            "real_train_mnist_feature_fid", "real_test_confident_pct"} <= metrics.keys()  # fmt: skip
    assert (Path(row(db_path, 1)["artifacts_dir"]) / "judge.md").exists()


# ---------------------------------------------------------------- a killed process


@pytest.mark.integration
def test_a_killed_run_resumes_from_its_last_checkpoint(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=40)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "papertrail", "--db", str(db_path), "repro", "dcgan", "--data",
           str(folder), "--steps", "400", *TINY, "--checkpoint-every", "5", "--no-judge"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    ckpt = None
    while time.time() < deadline and proc.poll() is None:
        found = list((db_path.parent / "repro-runs" / "dcgan").glob("*/checkpoint.pt"))
        if found:
            ckpt = found[0]
            time.sleep(0.5)  # a few more steps
            break
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt is not None
    assert row(db_path, 1)["status"] == "running"  # killed: never closed
    done = load_checkpoint(ckpt)["step"]
    assert 5 <= done < 400
    result = subprocess.run(
        [sys.executable, "-m", "papertrail", "--db", str(db_path), "repro", "dcgan", "--from-run",
         "1", "--no-judge"], env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = row(db_path, 2)
    assert run["status"] == "ok" and json.loads(run["metrics"])["steps_this_run"] == 400 - done
    assert load_weights(Path(run["weights_path"]))[1]["step"] == "400"


def test_from_run_evaluate_judges_the_kept_weights(db_path: Path, tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist", train=60, test=20)
    assert invoke(db_path, "dcgan", "--data", str(folder), "--steps", "2", *TINY,
                  "--no-judge").exit_code == 0  # fmt: skip
    # --dry-run: the judge's quick recipe (one pass), which is all a test needs
    result = invoke(db_path, "dcgan", "--from-run", "1", "--evaluate", "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "tested on its test split (20)" in result.output
        and "| generated (this run)" in result.output
    )
    metrics = json.loads(row(db_path, 2)["metrics"])
    assert metrics["from_run"] == 1 and metrics["from_step"] == 2 and metrics["judge_samples"] == 64
    ring = invoke(db_path, "wgan", "--dataset", "ring", "--steps", "2", "--width", "8")
    assert ring.exit_code == 0
    refused = invoke(db_path, "wgan", "--from-run", "3", "--evaluate")
    assert refused.exit_code != 0 and "the judge is for MNIST" in refused.output
    with sqlite3.connect(db_path) as conn:  # refused before anything was recorded
        assert conn.execute("SELECT COUNT(*) FROM repro_runs").fetchone() == (3,)


@pytest.mark.integration  # three short trainings (~3 s on an idle core)
def test_a_killed_continuation_is_judged_from_its_checkpoint(db_path: Path, tmp_path: Path) -> None:
    """wgan's --dataset defaults to ring: a continued run's options do not say it trained on
    MNIST, its checkpoint does."""
    from reproductions.wgan import run as wgan_run

    folder = write_mnist(tmp_path / "mnist", train=60, test=20)
    assert invoke(db_path, "wgan", "--mode", "gp", "--dataset", "mnist", "--data", str(folder),
                  "--steps", "2", *TINY, "--no-judge").exit_code == 0  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        repro_mod.run_reproduction(
            db_path, repro_mod.get("wgan"), wgan_run.Args(steps=5, no_judge=True), device="cpu",
            from_run=1, on_progress=_interrupt_at(4),
        )  # fmt: skip
    assert row(db_path, 2)["weights_path"] is None  # no final weights: only its checkpoint
    result = invoke(db_path, "wgan", "--from-run", "2", "--evaluate", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "WGAN-GP run #2 (3 steps, checkpoint.pt)" in result.output
