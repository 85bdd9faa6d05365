"""GANs: DCGAN (1511.06434), WGAN (1701.07875), WGAN-GP (1704.00028).

The networks' shapes at 32 and 64 px, each loss against its paper's formula on
tensors small enough to check by hand, weight clipping, the gradient penalty,
the VEEGAN / PacGAN mode-coverage metric on hand-made samples, MNIST's real IDX
format (and its verified download from a loopback server), image folders, a
short seeded training run, and `papertrail repro dcgan|wgan` end to end."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import sqlite3
import struct
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402
from conftest import FeedServer  # noqa: E402
from PIL import Image  # noqa: E402

from papertrail.cli import cli  # noqa: E402
from reproductions.common.download import Checkpoint, DownloadError  # noqa: E402
from reproductions.common.images import ImageError  # noqa: E402
from reproductions.dcgan import model as dcgan_model  # noqa: E402
from reproductions.dcgan import run as dcgan_run  # noqa: E402
from reproductions.dcgan import train as dcgan_train  # noqa: E402
from reproductions.gan_common import data, nets, report, toy  # noqa: E402
from reproductions.gan_common.loop import EMA, Monitor, sample  # noqa: E402
from reproductions.wgan import model as wgan_model  # noqa: E402
from reproductions.wgan import run as wgan_run  # noqa: E402
from reproductions.wgan import train as wgan_train  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """Small nets on a shared 2-core machine: more threads only add contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_networks_map_noise_to_images_and_images_to_one_score(
    size: int, channels: int
) -> None:
    torch.manual_seed(0)
    gen = nets.ConvGenerator(noise_dim=100, channels=channels, size=size, width=8)
    disc = nets.ConvDiscriminator(channels=channels, size=size, width=8)
    images = gen(torch.randn(3, 100))
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # tanh output
    assert disc(images).shape == (3,)


def test_the_64px_generator_follows_figure_1_of_the_paper() -> None:
    gen = nets.ConvGenerator(noise_dim=100, channels=3, size=64, width=128)
    convs = [m for m in gen.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    # 100 z -> 4×4×1024 -> 8×8×512 -> 16×16×256 -> 32×32×128 -> 64×64×3
    assert [(c.in_channels, c.out_channels) for c in convs] == [
        (100, 1024), (1024, 512), (512, 256), (256, 128), (128, 3),
    ]  # fmt: skip
    assert not any(isinstance(m, torch.nn.Linear) for m in gen.modules())  # all-convolutional
    disc = nets.ConvDiscriminator(channels=3, size=32, width=64, norm="batch")
    layers = list(disc.net)
    assert isinstance(layers[1], torch.nn.LeakyReLU) and layers[1].negative_slope == 0.2
    assert not isinstance(layers[1], torch.nn.BatchNorm2d)  # no norm on D's input layer
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in disc.modules()) == 2
    critic = nets.ConvDiscriminator(channels=3, size=32, width=64, norm="layer")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())  # WGAN-GP §4


def test_weights_start_from_n_0_0_02() -> None:
    torch.manual_seed(0)
    gen = nets.ConvGenerator(channels=1, size=32, width=32)
    gen.apply(nets.init_dcgan_weights)
    w = torch.cat(
        [m.weight.flatten() for m in gen.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    )
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001


def test_sizes_that_are_not_4_times_a_power_of_two_are_refused() -> None:
    with pytest.raises(ValueError, match="4·2\\^k pixels"):
        nets.ConvGenerator(size=28)


# ---------------------------------------------------------------- losses


def test_dcgan_losses_are_the_binary_cross_entropies() -> None:
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    s = torch.sigmoid
    # −E[log D(x)] − E[log(1 − D(G(z)))]
    expected_d = -(s(real).log().mean() + (1 - s(fake)).log().mean())
    assert dcgan_model.discriminator_loss(real, fake).item() == pytest.approx(
        expected_d.item(), rel=1e-6
    )
    # non-saturating: −E[log D(G(z))]
    expected_g = -s(fake).log().mean()
    assert dcgan_model.generator_loss(fake).item() == pytest.approx(expected_g.item(), rel=1e-6)
    # stays finite where σ saturates
    assert math.isfinite(
        dcgan_model.discriminator_loss(torch.tensor([-200.0]), torch.tensor([200.0])).item()
    )


def test_wgan_losses_follow_algorithm_1() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -0.5])
    # critic maximises E f(x) − E f(g(z)) = 2 − 0 = 2: as descent, −2
    assert wgan_model.critic_loss(real, fake).item() == pytest.approx(-2.0)
    assert wgan_model.wasserstein_estimate(real, fake).item() == pytest.approx(2.0)
    assert wgan_model.generator_loss(fake).item() == pytest.approx(0.0)
    assert wgan_model.generator_loss(torch.tensor([1.0, 2.0])).item() == pytest.approx(-1.5)


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_clipping_keeps_every_critic_weight_within_c_during_training() -> None:
    cfg = wgan_run.resolve(wgan_run.Args(mode="clip", dataset="ring"))
    cfg = wgan_run.replace(cfg, steps=3, width=16, batch_size=32, warmup_critic_iters=4, lr=0.5)
    rd = data.open_dataset("ring", data_dir=None, image_size=32, device=torch.device("cpu"),
                           seed=0, dry_run=True, scratch=Path("."))  # fmt: skip
    gen, critic = wgan_train.build(cfg, rd)
    assert max(p.abs().max().item() for p in critic.parameters()) > 0.01  # default init exceeds c
    monitor = Monitor(Path("clip-run"), rd, ["a"], log_every=10**9)
    out = wgan_train.train(cfg, gen, critic, rd, torch.device("cpu"), monitor)
    assert out["critic_updates"] == 3 * 4  # the warm-up's iterations for the first 25 steps
    assert all(p.abs().max().item() <= 0.01 for p in critic.parameters())
    assert any(p.abs().max().item() == pytest.approx(0.01) for p in critic.parameters())


def test_warm_up_is_100_critic_updates_for_25_steps_and_every_500th() -> None:
    cfg = wgan_run.WGANConfig()
    counts = {s: wgan_train.critic_iterations(cfg, s) for s in (1, 25, 26, 500, 501, 502, 1001)}
    assert counts == {1: 100, 25: 100, 26: 5, 500: 5, 501: 100, 502: 5, 1001: 100}
    assert wgan_train.critic_iterations(wgan_run.WGANGPConfig(), 1) == 5


def test_ema_weights_follow_the_running_average_formula() -> None:
    net = torch.nn.Linear(2, 1)
    w0 = net.weight.detach().clone()
    ema = EMA(net, decay=0.9)
    assert torch.equal(ema.module.weight, w0) and ema.module is not net
    seen = []
    for value in (1.0, -2.0, 4.0):
        with torch.no_grad():
            net.weight.fill_(value)
        seen.append(value)
        ema.update(net)
    # θ_EMA = β³ θ0 + (1 − β)(β² w1 + β w2 + w3) after three updates
    b = 0.9
    expected = b**3 * w0 + (1 - b) * (b**2 * seen[0] + b * seen[1] + seen[2])
    assert torch.allclose(ema.module.weight, expected)
    assert torch.equal(net.weight, torch.full_like(net.weight, 4.0))  # the raw weights untouched
    assert not any(p.requires_grad for p in ema.module.parameters())
    with pytest.raises(ValueError, match="EMA decay"):
        EMA(net, decay=1.0)


def test_wgan_gp_on_2d_data_evaluates_the_averaged_generator() -> None:
    cfg = wgan_run.resolve(wgan_run.Args(mode="gp", dataset="ring"))
    assert cfg.ema_decay > 0 and cfg.mlp_init == "he"  # the 2-D defaults
    cfg = wgan_run.replace(cfg, steps=5, width=16, batch_size=32, n_critic=1, ema_decay=0.5)
    rd = data.open_dataset("ring", data_dir=None, image_size=32, device=torch.device("cpu"),
                           seed=0, dry_run=True, scratch=Path("."))  # fmt: skip
    gen, critic = wgan_train.build(cfg, rd)
    start = [p.detach().clone() for p in gen.parameters()]
    monitor = Monitor(Path("ema-run"), rd, ["a"], log_every=10**9)
    wgan_train.train(cfg, gen, critic, rd, torch.device("cpu"), monitor)
    avg = monitor.averaged
    assert avg is not None and avg is not gen
    # the optimiser moved the raw weights; the average lies between them and the start
    assert any(not torch.equal(a, p) for a, p in zip(start, gen.parameters(), strict=True))
    assert any(
        not torch.equal(a, p) for a, p in zip(avg.parameters(), gen.parameters(), strict=True)
    )
    metrics, _ = monitor.finish(gen, torch.device("cpu"), [])
    from_avg = toy.mode_coverage(sample(avg, 2500, torch.device("cpu")), rd.mixture)
    from_raw = toy.mode_coverage(sample(gen, 2500, torch.device("cpu")), rd.mixture)
    assert metrics["high_quality_pct"] == round(from_avg["high_quality_pct"], 2)
    assert metrics["high_quality_pct_raw"] == round(from_raw["high_quality_pct"], 2)
    assert metrics["modes"] == from_avg["modes"] and metrics["modes_raw"] == from_raw["modes"]


def test_the_2d_mlps_start_from_the_he_init_of_the_toy_code() -> None:
    torch.manual_seed(0)
    net = toy.MLPGenerator(noise_dim=2, width=256, depth=3)
    toy.init_he_uniform(net)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    for layer in linears[:-1]:  # ReLU layers: uniform with sd √(2 / fan_in)
        bound = math.sqrt(3) * math.sqrt(2 / layer.in_features)
        assert layer.weight.abs().max().item() <= bound
        assert layer.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)
        assert torch.count_nonzero(layer.bias) == 0
    out = linears[-1]  # Glorot at the linear output
    assert out.weight.std().item() == pytest.approx(math.sqrt(2 / (256 + 2)), rel=0.1)


def test_the_learning_rate_decays_linearly_to_zero_only_when_asked() -> None:
    cfg = wgan_run.replace(wgan_run.WGANGPConfig(), steps=100, lr_decay=True)
    assert [wgan_train.lr_factor(cfg, k) for k in (0, 50, 100)] == [1.0, 0.5, 0.0]
    assert wgan_train.lr_factor(wgan_run.replace(cfg, lr_decay=False), 50) == 1.0


class Linear(torch.nn.Module):
    """f(x) = <w, x> over all of a sample's axes: ∇_x f = w everywhere."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) * self.w.flatten()).sum(1)


@pytest.mark.parametrize("shape", [(2,), (1, 4, 4), (3, 2, 2)])
def test_gradient_penalty_is_zero_for_unit_gradients_and_positive_otherwise(shape: tuple) -> None:
    torch.manual_seed(0)
    real, fake = torch.randn(8, *shape), torch.randn(8, *shape)
    w = torch.randn(shape)
    unit = Linear(w / w.norm())  # the norm is over every non-batch axis together
    assert wgan_model.gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    double = Linear(2 * w / w.norm())
    assert wgan_model.gradient_penalty(double, real, fake).item() == pytest.approx(1.0)  # (2 − 1)²
    points = torch.randn(8, *shape)
    mlp = toy.MLPCritic(width=8, depth=2) if shape == (2,) else None
    if mlp is not None:
        assert wgan_model.gradient_penalty(mlp, real, fake, points=points).item() > 0


def test_interpolates_lie_on_the_segments_between_real_and_fake() -> None:
    real, fake = torch.zeros(64, 1, 2, 2), torch.ones(64, 1, 2, 2)
    x = wgan_model.interpolates(real, fake)
    per_sample = x.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample))  # one ε per sample
    assert x.min() >= 0 and x.max() <= 1 and x.std() > 0.1


# ---------------------------------------------------------------- 2-D mixtures and the metric


def test_the_mixtures_have_distinct_centres() -> None:
    ring, grid = toy.ring(), toy.grid()
    assert len(ring.centres) == 8 and len(torch.unique(ring.centres.round(decimals=4), dim=0)) == 8
    assert torch.allclose(ring.centres.norm(dim=1), torch.ones(8))
    assert ring.sigma == 0.01 and grid.sigma == 0.05
    assert len(torch.unique(grid.centres, dim=0)) == 25
    assert set(grid.centres.flatten().tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    pts = ring.sample(2500, torch.Generator().manual_seed(0))
    cov = toy.mode_coverage(pts, ring)
    # In 2-D, |x − μ| ≤ 3σ holds 1 − e^(−9/2) = 98.9 % of a Gaussian: the data's own score.
    assert cov["modes"] == 8 and 98 < cov["high_quality_pct"] < 99.6


def test_mode_coverage_on_hand_made_sample_sets() -> None:
    ring = toy.ring()
    all_modes = ring.centres.repeat(313, 1)[:2500] + 0.02  # within 3σ = 0.03 of each centre
    assert toy.mode_coverage(all_modes, ring) == {
        "modes": 8,
        "high_quality_pct": 100.0,
        "n_modes": 8,
    }
    one_mode = ring.centres[3].expand(2500, 2)
    assert toy.mode_coverage(one_mode, ring)["modes"] == 1
    assert toy.mode_coverage(one_mode, ring)["high_quality_pct"] == 100.0
    off_mode = (
        torch.full((2500, 2), 0.5)
        + torch.randn(2500, 2, generator=torch.Generator().manual_seed(0)) * 0.01
    )
    assert toy.mode_coverage(off_mode, ring) == {"modes": 0, "high_quality_pct": 0.0, "n_modes": 8}
    half = torch.cat(
        [ring.centres.repeat(125, 1), torch.zeros(1500, 2)]
    )  # 1000 good, 1500 at the origin
    assert toy.mode_coverage(half, ring)["high_quality_pct"] == pytest.approx(40.0)
    grid = toy.grid()
    near_misses = grid.centres + 0.16  # just beyond 3σ = 0.15 of every centre
    assert toy.mode_coverage(near_misses, grid)["modes"] == 0


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_a_short_seeded_run_improves_coverage_of_the_ring() -> None:
    # The DCGAN-style GAN (one D step a step) shows it in seconds; WGAN-GP needs
    # thousands of steps for samples within 3σ = 0.03 (benchmarks/bench_gan_2d.py).
    torch.manual_seed(0)
    cfg = dcgan_run.resolve(dcgan_run.Args(dataset="ring"))
    cfg = dcgan_run.replace(cfg, steps=300, width=64, batch_size=128, lr=1e-3)
    rd = data.open_dataset("ring", data_dir=None, image_size=32, device=torch.device("cpu"),
                           seed=0, dry_run=False, scratch=Path("."))  # fmt: skip
    gen, disc = dcgan_train.build(cfg, rd)
    before = toy.mode_coverage(sample(gen, 2500, torch.device("cpu")), rd.mixture)
    monitor = Monitor(Path("gan-run"), rd, ["discriminator_loss"], sample_every=100)
    dcgan_train.train(
        cfg, gen, disc, rd, torch.device("cpu"), monitor, torch.Generator().manual_seed(0)
    )
    after = toy.mode_coverage(sample(gen, 2500, torch.device("cpu")), rd.mixture)
    assert before["modes"] <= 1 and after["modes"] >= before["modes"] + 3
    assert after["high_quality_pct"] > before["high_quality_pct"]
    assert len(monitor.snapshots) == 3  # a scatter plot every 100 steps


# ---------------------------------------------------------------- data


def _idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """MNIST's on-disk layout written by hand: big-endian magic, big-endian dims, the bytes."""
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_mnist_idx_files_in_the_real_format_load(tmp_path: Path) -> None:
    pixels = bytes((i * 7) % 256 for i in range(3 * 28 * 28))  # 3 images of 28 × 28
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(0x00000803, (3, 28, 28), pixels))
    )
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(0x00000801, (3,), bytes([7, 2, 1])))
    )
    images, labels = data.load_mnist(tmp_path, download=False)
    assert images.shape == (3, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [7, 2, 1]
    assert images[1, 0, 0, 0].item() == pixels[784] and images[2, 0, 27, 27].item() == pixels[-1]
    # write_idx makes the same bytes
    again = data.write_idx(images[:, 0], tmp_path / "copy" / "x.gz")
    assert gzip.decompress(again.read_bytes()) == _idx_bytes(0x00000803, (3, 28, 28), pixels)


def test_a_truncated_or_foreign_idx_file_is_refused_with_its_name(tmp_path: Path) -> None:
    short = tmp_path / "train-images-idx3-ubyte"
    short.write_bytes(_idx_bytes(0x00000803, (2, 28, 28), bytes(100)))
    with pytest.raises(data.DataError, match="truncated or damaged") as e:
        data.read_idx(short)
    assert str(short) in str(e.value)
    png = tmp_path / "x.png"
    Image.new("L", (4, 4)).save(png)
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.read_idx(png)
    with pytest.raises(data.DataError, match="no train-labels IDX file"):
        data.load_mnist(tmp_path, download=False)


def test_mnist_downloads_once_with_its_checksum(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_CACHE", str(tmp_path / "cache"))
    src = data.write_synthetic_mnist(tmp_path / "src", 10)
    for stem, name in [
        ("train-images", "train-images-idx3-ubyte.gz"),
        ("train-labels", "train-labels-idx1-ubyte.gz"),
    ]:
        body = (src / name).read_bytes()
        url = feed_server.serve(
            f"/mnist/{name}", body, "application/octet-stream", conditional=False
        )
        monkeypatch.setitem(data.MNIST, stem, Checkpoint(url, hashlib.sha256(body).hexdigest()))
    images, labels = data.load_mnist()
    assert images.shape == (10, 1, 28, 28) and len(labels) == 10
    data.load_mnist()
    assert (
        feed_server.hits["/mnist/train-images-idx3-ubyte.gz"] == 1
    )  # the second load used the cache
    assert (tmp_path / "cache" / "datasets" / "mnist" / "train-images-idx3-ubyte.gz").exists()
    bad = feed_server.serve(
        "/mnist/bad.gz", b"garbage", "application/octet-stream", conditional=False
    )
    monkeypatch.setitem(data.MNIST, "t10k-images", Checkpoint(bad, "0" * 64))
    with pytest.raises(DownloadError, match="SHA-256"):
        data.load_mnist(split="test")


def test_the_published_mnist_checksums_are_sha256() -> None:
    assert data.MNIST["train-images"].sha256.startswith("440fcabf")
    assert all(len(c.sha256) == 64 for c in data.MNIST.values())


def test_image_folders_load_as_gray_or_rgb(tmp_path: Path) -> None:
    gray = data.write_synthetic_folder(tmp_path / "gray", 5, 28)
    images = data.load_image_folder(gray, 32)
    assert images.shape == (5, 1, 32, 32) and images.max() == 255
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "gray" / "colour.png")
    assert data.load_image_folder(gray, 16).shape == (6, 3, 16, 16)
    with pytest.raises(data.DataError, match="no images there"):
        data.load_image_folder(tmp_path / "home", 16)
    broken = tmp_path / "gray" / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(ImageError, match="broken.png: not an image Pillow can read"):
        data.load_image_folder(gray, 16)


# ---------------------------------------------------------------- artifacts


def test_loss_csv_and_plot(tmp_path: Path) -> None:
    log = report.LossLog(tmp_path / "losses.csv", ["step", "critic_loss", "wasserstein"])
    for step in range(1, 21):
        log.add(step=step, critic_loss=-1 / step, wasserstein=1 / step)
    log.close()
    lines = (tmp_path / "losses.csv").read_text().splitlines()
    assert lines[0] == "step,critic_loss,wasserstein" and lines[1] == "1,-1,1" and len(lines) == 21
    path = report.plot_loss_log(log, tmp_path / "losses.png", ["wasserstein", "critic_loss"])
    img = Image.open(path).convert("RGB")
    assert img.size == (720, 420)
    colours = {c for _, c in img.getcolors(1 << 20)}
    assert (31, 119, 180) in colours and (214, 39, 40) in colours  # both series drawn


def test_a_sample_grid_tiles_the_images(tmp_path: Path) -> None:
    images = torch.linspace(-1, 1, 10).view(10, 1, 1, 1).expand(10, 1, 4, 4)
    path = report.save_grid(images, tmp_path / "grid.png", nrow=5)
    img = Image.open(path)
    assert img.mode == "L" and img.size == (5 * 6 + 2, 2 * 6 + 2)
    assert img.getpixel((2, 2)) == 0 and img.getpixel((4 * 6 + 2, 8)) == 255


# ---------------------------------------------------------------- the commands


def runs(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT reproduction, status, arxiv_id, metrics, artifacts_dir FROM repro_runs ORDER BY id"
        ).fetchall()


@pytest.mark.parametrize(
    ("argv", "arxiv_id"),
    [
        (["dcgan", "--dry-run"], "1511.06434"),
        (["dcgan", "--dataset", "grid", "--dry-run"], "1511.06434"),
        (["wgan", "--dry-run"], "1701.07875"),
        (["wgan", "--mode", "gp", "--dataset", "mnist", "--dry-run"], "1704.00028"),
        (["wgan", "--mode", "gp", "--dataset", "grid", "--dry-run"], "1704.00028"),
    ],
)
def test_dry_runs_end_to_end(db_path: Path, argv: list[str], arxiv_id: str) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db_path), "repro", *argv])
    assert result.exit_code == 0, result.output
    ((name, status, got_id, metrics, artifacts),) = runs(db_path)
    assert (name, status, got_id) == (argv[0], "ok", arxiv_id)
    metrics = json.loads(metrics)
    folder = Path(artifacts)
    assert (folder / "losses.csv").exists() and (folder / "losses.png").exists()
    assert (folder / "samples.png").exists() and list((folder / "samples").iterdir())
    if "mnist" in argv or argv == ["dcgan", "--dry-run"]:
        assert (folder / "mnist-format" / "train-images-idx3-ubyte.gz").exists()
    if "grid" in argv or argv == ["wgan", "--dry-run"]:
        assert metrics["eval_samples"] == 2500 and 0 <= metrics["modes"] <= metrics["n_modes"]
    if "wgan" in argv:
        header = (folder / "losses.csv").read_text().splitlines()[0]
        assert "wasserstein" in header
    if argv[:3] == ["wgan", "--mode", "gp"] and "grid" in argv:  # the EMA's and the raw figures
        assert 0 <= metrics["modes_raw"] <= 25 and "high_quality_pct_raw" in metrics


def test_dcgan_on_a_folder_of_mnist_pngs_writes_sample_grids(db_path: Path, tmp_path: Path) -> None:
    pngs = data.write_synthetic_folder(tmp_path / "mnist_png", 32, 28)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["--db", str(db_path), "repro", "dcgan", "--dataset", f"folder:{pngs}", "--image-size", "16",
         "--width", "8", "--batch-size", "8", "--steps", "6", "--sample-every", "2", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    grids = sorted(p.name for p in (out / "samples").iterdir())
    assert grids == ["step-000002.png", "step-000004.png", "step-000006.png"]
    grid = Image.open(out / "samples" / grids[-1])
    assert grid.mode == "L" and grid.size == (8 * 18 + 2, 8 * 18 + 2)  # 64 samples, 8 a row
    rows = (out / "losses.csv").read_text().splitlines()
    assert rows[0].startswith("step,discriminator_loss,generator_loss") and len(rows) == 7
    ((_, status, _, metrics, _),) = runs(db_path)
    assert status == "ok" and json.loads(metrics)["snapshots"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["wgan", "--dataset", "ring", "--data", "x"], "--data DIR goes with --dataset mnist"),
        (["wgan", "--dataset", "svhn"], "use ring, grid, mnist, synthetic or folder:PATH"),
        (["dcgan", "--image-size", "28"], "--image-size must be 4·2^k"),
        (["wgan", "--mode", "gp", "--clip", "0.1"], "--clip goes with --mode clip"),
        (["wgan", "--mode", "gp", "--ema-decay", "1"], "--ema-decay must be in [0, 1)"),
    ],
)
def test_bad_arguments_run_nothing(db_path: Path, argv: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db_path), "repro", *argv])
    assert result.exit_code != 0 and message in result.output
    assert not db_path.exists() or runs(db_path) == []


def test_a_missing_folder_fails_with_its_name(db_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "repro", "dcgan", "--dataset", f"folder:{tmp_path / 'nope'}"]
    )
    assert result.exit_code != 0 and "no such folder" in result.output
