"""Style transfer (Gatys et al. 1508.06576; Johnson et al. 1603.08155): the losses against the
papers' formulas on tensors small enough to compute by hand, the optimisation, the VGG weight
loader in torchvision's key layout, verified downloads from a real loopback server, and
`papertrail repro style-transfer --dry-run` end to end."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")
pytest.importorskip("safetensors")

from click.testing import CliRunner  # noqa: E402
from conftest import FeedServer  # noqa: E402

from papertrail.cli import cli  # noqa: E402
from reproductions.common.download import Checkpoint, DownloadError, fetch_verified  # noqa: E402
from reproductions.common.images import load_image, save_image  # noqa: E402
from reproductions.style_transfer import fast, vgg  # noqa: E402
from reproductions.style_transfer.model import (  # noqa: E402
    GatysObjective,
    content_loss,
    gram_matrix,
    style_layer_loss,
    stylize,
)
from reproductions.style_transfer.run import GatysConfig  # noqa: E402

# F for one layer with N = 2 filters at M = 2 positions (a 1×2 map): rows are filters.
F = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # (1, 2, 1, 2)


def test_gram_matrix_is_f_f_transposed() -> None:
    # G_ij = Σ_k F_ik F_jk: [[1·1+2·2, 1·3+2·4], [3·1+4·2, 3·3+4·4]]
    assert gram_matrix(F).tolist() == [[[5.0, 11.0], [11.0, 25.0]]]


def test_content_loss_is_half_the_squared_error() -> None:
    P = torch.tensor([[[[0.0, 2.0]], [[3.0, 1.0]]]])
    assert content_loss(F, P).item() == pytest.approx(0.5 * (1 + 0 + 0 + 9))  # eq. 1


def test_style_layer_loss_uses_the_paper_normalisation() -> None:
    A = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    # E = Σ (G − A)² / (4 N² M²) with N = M = 2 (eq. 4)
    expected = ((5 - 1) ** 2 + 11**2 + 11**2 + (25 - 1) ** 2) / (4 * 2**2 * 2**2)
    assert style_layer_loss(F, A).item() == pytest.approx(expected)


def test_johnson_losses_follow_the_paper() -> None:
    # G = ψψᵀ / (C H W) (eq. 3): C H W = 2 · 1 · 2 = 4
    assert fast.normalized_gram(F).tolist() == [[[1.25, 2.75], [2.75, 6.25]]]
    target = torch.zeros(1, 2, 2)
    assert fast.style_loss(F, target).item() == pytest.approx(1.25**2 + 2 * 2.75**2 + 6.25**2)
    # ‖φ(ŷ) − φ(y)‖² / (C H W) (eq. 2), averaged over a batch of two identical pairs
    batch = torch.cat([F, F])
    assert fast.feature_loss(batch, torch.zeros_like(batch)).item() == pytest.approx(30 / 4)


def tiny_objective(**overrides: float) -> tuple[GatysObjective, torch.Tensor]:
    torch.manual_seed(0)
    cfg = GatysConfig(**overrides)
    net = vgg.VGGFeatures("vgg19", pooling="avg", last_layer="relu5_1")
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    return GatysObjective(net, content, style, cfg), content


def test_total_loss_is_alpha_content_plus_beta_style_with_equal_layer_weights() -> None:
    objective, _ = tiny_objective(content_weight=2.0, style_weight=3.0)
    x = torch.rand(1, 3, 32, 32)
    total, parts = objective(x)
    feats = objective.vgg(x, ["relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"])
    l_content = content_loss(feats["relu4_2"], objective.content_target)
    l_style = sum(
        style_layer_loss(feats[name], target) / 5
        for name, target in zip(objective.style_layers, objective.style_targets, strict=True)
    )
    assert parts["content"] == pytest.approx(l_content.item(), rel=1e-5)
    assert total.item() == pytest.approx(2.0 * l_content.item() + 3.0 * l_style.item(), rel=1e-5)


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_few_steps_lower_the_loss(optimizer: str) -> None:
    objective, content = tiny_objective(style_weight=1e3)
    start = torch.rand_like(content)
    with torch.no_grad():
        before = objective(start)[0].item()
    image, history = stylize(objective, start, steps=5, optimizer=optimizer)
    with torch.no_grad():
        after = objective(image)[0].item()
    assert len(history) == 5
    assert after < 0.9 * before
    assert image.min() >= 0 and image.max() <= 1


def torchvision_layout(arch: str) -> dict[str, torch.Tensor]:
    """A state dict keyed like torchvision's VGG: features.<i>.weight/bias, classifier.*."""
    cfg = {"vgg16": [2, 2, 3, 3, 3], "vgg19": [2, 2, 4, 4, 4]}[arch]
    channels = [64, 128, 256, 512, 512]
    state, index, c_in = {}, 0, 3
    g = torch.Generator().manual_seed(1)
    for convs, c_out in zip(cfg, channels, strict=True):
        for _ in range(convs):
            state[f"features.{index}.weight"] = torch.randn(c_out, c_in, 3, 3, generator=g)
            state[f"features.{index}.bias"] = torch.randn(c_out, generator=g)
            index, c_in = index + 2, c_out  # conv, relu
        index += 1  # pool
    state["classifier.0.weight"] = torch.zeros(1)  # ignored by the feature extractor
    return state


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_the_weight_loader_round_trips_torchvision_keys(tmp_path: Path) -> None:
    state = torchvision_layout("vgg19")
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    net, what = vgg.load_vgg("vgg19", weights=path, download=False)
    assert str(path) in what
    own = net.state_dict()
    assert set(own) == {k for k in state if k.startswith("features.")}
    assert all(torch.equal(own[k], state[k]) for k in own)
    # A VGG-16 checkpoint is not a VGG-19 one: the error says which key is wrong.
    torch.save(torchvision_layout("vgg16"), tmp_path / "vgg16.pth")
    with pytest.raises(
        vgg.WeightsError, match="not a torchvision vgg19 checkpoint: it lacks features.16.weight"
    ):
        vgg.load_vgg("vgg19", weights=tmp_path / "vgg16.pth", download=False)


def test_without_weights_it_says_what_to_do() -> None:
    with pytest.raises(vgg.WeightsError) as e:
        vgg.load_vgg("vgg19", download=False)
    message = str(e.value)
    assert (
        "vgg19-dcbb9e9d.pth" in message
        and "--weights PATH" in message
        and "--random-weights" in message
    )


def _small_checkpoint() -> bytes:
    state = {
        k: v
        for k, v in torchvision_layout("vgg16").items()
        if k in ("features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias")
    }
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def test_a_verified_download_is_cached_and_fetched_once(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_CACHE", str(tmp_path / "cache"))
    body = _small_checkpoint()
    url = feed_server.serve(
        "/models/vgg16-397923af.pth", body, "application/octet-stream", conditional=False
    )
    checkpoint = Checkpoint(url=url, sha256=hashlib.sha256(body).hexdigest(), size=len(body))
    monkeypatch.setitem(vgg.CHECKPOINTS, "vgg16", checkpoint)
    seen: list[tuple[int, int]] = []
    net, what = vgg.load_vgg(
        "vgg16", last_layer="relu1_2", on_progress=lambda d, t: seen.append((d, t))
    )
    cached = tmp_path / "cache" / "weights" / "vgg16-397923af.pth"
    assert str(cached) in what and cached.read_bytes() == body
    assert seen[-1] == (len(body), len(body))
    assert torch.equal(
        net.state_dict()["features.2.bias"],
        torch.load(cached, weights_only=True)["features.2.bias"],
    )
    vgg.load_vgg("vgg16", last_layer="relu1_2")
    assert feed_server.hits["/models/vgg16-397923af.pth"] == 1  # the second load used the cache


def test_a_corrupted_download_is_rejected_and_not_cached(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTRAIL_CACHE", str(tmp_path / "cache"))
    body = _small_checkpoint()
    corrupted = body[:-10] + bytes(10)  # same length, last bytes zeroed
    url = feed_server.serve(
        "/models/x.pth", corrupted, "application/octet-stream", conditional=False
    )
    checkpoint = Checkpoint(url=url, sha256=hashlib.sha256(body).hexdigest())
    with pytest.raises(DownloadError, match="SHA-256 .* expected .* not kept"):
        fetch_verified(checkpoint)
    weights_dir = tmp_path / "cache" / "weights"
    assert list(weights_dir.iterdir()) == []  # neither the file nor a .part left behind
    # An HTTP error is reported the same way, and load_vgg adds how to get the file by hand.
    missing = Checkpoint(url=feed_server.url("/models/gone.pth"), sha256="0" * 64)
    monkeypatch.setitem(vgg.CHECKPOINTS, "vgg16", missing)
    with pytest.raises(vgg.WeightsError, match="HTTP 500|HTTP 404") as e:
        vgg.load_vgg("vgg16", last_layer="relu1_2")
    assert "--weights PATH" in str(e.value)
    assert list(weights_dir.iterdir()) == []


def test_the_fast_network_keeps_the_image_size_and_range() -> None:
    torch.manual_seed(0)
    net = fast.TransformerNet().eval()
    x = torch.rand(2, 3, 32, 36)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert sum(isinstance(m, fast.ResidualBlock) for m in net.modules()) == 5
    from reproductions.style_transfer.train import stylise_batch

    with torch.no_grad():
        assert stylise_batch(net, torch.rand(1, 3, 30, 33)).shape == (1, 3, 30, 33)


def test_images_round_trip_through_pillow(tmp_path: Path) -> None:
    image = torch.rand(1, 3, 20, 30)
    path = save_image(image, tmp_path / "x.png")
    back = load_image(path)
    assert back.shape == (1, 3, 20, 30)
    assert (back - image).abs().max() <= 0.5 / 255 + 1e-6
    assert load_image(path, size=15).shape == (1, 3, 10, 15)  # the longer side


def runs(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT status, arxiv_id, config, metrics, artifacts_dir FROM repro_runs ORDER BY id"
        ).fetchall()


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_dry_run_end_to_end_on_a_32px_image(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "repro", "style-transfer", "--dry-run", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "RANDOM weights" in result.output  # no ImageNet weights here, and a dry run says so
    assert max(load_image(out).shape[-2:]) == 32
    ((status, arxiv_id, config, metrics, artifacts),) = runs(db_path)
    assert (status, arxiv_id) == ("ok", "1508.06576")
    config, metrics = json.loads(config), json.loads(metrics)
    assert config["dry_run"] is True and config["resolved"]["steps"] == 3
    assert config["resolved"]["content_layer"] == "relu4_2"
    assert metrics["steps"] == 3 and metrics["loss_final"] < metrics["loss_initial"]
    assert (Path(artifacts) / "demo-content.png").exists()
    listing = CliRunner().invoke(cli, ["--db", str(db_path), "repro", "list"]).output
    assert "smoke test: ok" in listing


@pytest.mark.integration  # issue 18: slow (training, whole model or processes); CI runs it
def test_fast_dry_run_trains_saves_and_stylises_a_folder_of_frames(db_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "repro", "style-transfer", "--method", "fast", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    ((status, arxiv_id, _, metrics, artifacts),) = runs(db_path)
    assert (status, arxiv_id) == ("ok", "1603.08155")
    metrics = json.loads(metrics)
    assert metrics["train_iterations"] == 2 and metrics["images"] == 3
    frames = sorted(p.name for p in (Path(artifacts) / "stylized").iterdir())
    assert frames == ["photo-000.png", "photo-001.png", "photo-002.png"]
    # The saved model stylises again through the real command, in batches.
    model = Path(artifacts) / "transformer.safetensors"
    again = CliRunner().invoke(
        cli,
        ["--db", str(db_path), "repro", "style-transfer", "--method", "fast", "--model", str(model),
         "--batch-size", "2", str(Path(artifacts) / "frames"), "-o", str(db_path.parent / "styled")],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert len(list((db_path.parent / "styled").iterdir())) == 3


def test_a_file_that_is_not_a_model_is_refused(db_path: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "m.safetensors"
    bogus.write_bytes(b"not a model")
    photo = save_image(torch.rand(1, 3, 8, 8), tmp_path / "p.png")
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(db_path),
            "repro",
            "style-transfer",
            "--method",
            "fast",
            "--model",
            str(bogus),
            str(photo),
        ],
    )
    assert result.exit_code == 1
    assert f"{bogus}: not a safetensors file" in result.output
