"""The MNIST judge: generated digits scored the way the field scores them (issue 21).

A small convolutional classifier the project trains itself on MNIST's
training split and tests on its test split (when a folder holds only one
split: trained on its first five sixths, tested on the rest). It is cached in
the cache dir under the SHA-256 of its inputs (the recipe and the bytes of
the images and labels it learned from and was tested on), with the SHA-256 of
its weights and its test accuracy next to it; a cached judge whose weights no
longer match is trained again.

For N generated samples it reports:
- the share classified with confidence (top softmax probability) > 0.9;
- the entropy of the histogram of predicted classes, as a fraction of log 10
  (1.0: all ten digits equally often; 0: one digit only);
- a Fréchet distance between Gaussians fitted to the classifier's penultimate
  features (64 numbers per image) of the samples and of the real test images:
  an **MNIST-feature FID**, the formula of Heusel et al. 2017 (arXiv
  1706.08500) on this classifier's features — not Inception FID, and not
  comparable with Inception-FID figures in papers.

The same figures for real images sit next to them: the test images (the
classifier never trained on them) and N training images, whose distance to
the test images is the floor a perfect generator would reach at this N.
Real images go through the same resizing as the GAN's training data did
(28 px → the run's size → 28 px) before they are judged.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproductions.common.download import cache_dir, sha256_file
from reproductions.common.weights import load_weights, save_weights, write_json
from reproductions.gan_common.data import (
    DataError,
    choose_split,
    load_mnist,
    mnist_splits,
    resize_images,
)

CONFIDENT = 0.9
FEATURES = 64
# At least `epochs` passes and `min_steps` Adam steps: 5,000 images -> 8 passes, 60,000 -> 4.
RECIPE = {"version": 1, "arch": "conv16-conv32-fc64", "epochs": 4, "min_steps": 600,
          "batch": 64, "lr": 2e-3}  # fmt: skip
QUICK = {**RECIPE, "epochs": 1, "min_steps": 0}  # dry runs: checks the path, judges nothing


class JudgeNet(nn.Module):
    """28 × 28 digits in [-1, 1] -> 10 logits; `features` is the 64-number penultimate layer."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14 × 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7 × 7
            nn.Flatten(), nn.Linear(32 * 7 * 7, FEATURES), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(FEATURES, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, 10)


@dataclass
class JudgeData:
    """What the judge learns from and is tested on, uint8 (N, 1, 28, 28) and labels (N,)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str  # a sentence: where they came from

    def digest(self, recipe: dict[str, Any]) -> str:
        h = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
        for t in (self.train_x, self.train_y, self.test_x, self.test_y):
            h.update(str(tuple(t.shape)).encode())
            h.update(t.contiguous().numpy().tobytes())
        return h.hexdigest()


def judge_data(folder: Path | None) -> JudgeData:
    """MNIST's training split to learn from, its test split to test on; a folder holding one
    split gives its first five sixths to learn from and the rest to test on."""
    held = mnist_splits(folder) if folder is not None else ["train", "test"]
    if set(held) >= {"train", "test"}:
        train_x, train_y = load_mnist(folder, split="train")
        test_x, test_y = load_mnist(folder, split="test")
        return JudgeData(train_x, train_y, test_x, test_y, "trained on MNIST's training split "
                         f"({len(train_x):,}), tested on its test split ({len(test_x):,})")  # fmt: skip
    split = choose_split(folder, None)
    x, y = load_mnist(folder, split=split)
    if len(x) < 12:
        raise DataError(f"{folder}: {len(x)} images are too few to train the judge on")
    cut = len(x) * 5 // 6
    return JudgeData(
        x[:cut], y[:cut], x[cut:], y[cut:],
        f"{folder} holds only the {split} split: trained on its first {cut:,} images, "
        f"tested on the other {len(x) - cut:,}",
    )  # fmt: skip


def _scaled(images: torch.Tensor) -> torch.Tensor:
    """uint8 -> float in [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


def train_judge(
    data: JudgeData,
    recipe: dict[str, Any],
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> JudgeNet:
    """The classifier, trained with Adam on the training images (fixed seed: same bytes in,
    same judge out)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = JudgeNet()
    opt = torch.optim.Adam(net.parameters(), lr=recipe["lr"])
    x, y = data.train_x, data.train_y.long()
    batches = math.ceil(len(x) / recipe["batch"])
    epochs = max(recipe["epochs"], math.ceil(recipe.get("min_steps", 0) / batches))
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i, idx in enumerate(order.split(recipe["batch"])):
            shift = torch.randint(-2, 3, (2,), generator=gen).tolist()  # small translations
            xb = torch.roll(_scaled(x[idx]), shifts=shift, dims=(2, 3))
            loss = F.cross_entropy(net(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if on_progress:
                on_progress(epoch * batches + i + 1, epochs * batches)
    return net.eval()


@torch.no_grad()
def outputs(
    net: JudgeNet, images: torch.Tensor, chunk: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """(softmax probabilities (N, 10), penultimate features (N, 64)) of images in [-1, 1]."""
    probs, feats = [], []
    for part in images.split(chunk):
        f = net.features(part.float())
        feats.append(f.double())
        probs.append(F.softmax(net.head(f), dim=1).double())
    return torch.cat(probs), torch.cat(feats)


def accuracy(net: JudgeNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    probs, _ = outputs(net, _scaled(images))
    return float((probs.argmax(1) == labels.long()).double().mean())


def load_or_train(
    data: JudgeData,
    recipe: dict[str, Any] = RECIPE,
    log: Callable[[str], None] = print,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[JudgeNet, dict[str, Any]]:
    """The judge for these data from the cache, else trained and cached. Returns (net, record)."""
    key = data.digest(recipe)
    folder = cache_dir() / "judges"
    weights, record_path = (
        folder / f"mnist-{key[:16]}.safetensors",
        folder / f"mnist-{key[:16]}.json",
    )
    if weights.is_file() and record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("inputs_sha256") == key and record.get("weights_sha256") == sha256_file(
            weights
        ):
            net = JudgeNet()
            net.load_state_dict(load_weights(weights)[0])
            return net.eval(), record
        log(f"{weights}: does not match its record (SHA-256); training the judge again")
    log(f"training the MNIST judge ({data.source}) …")
    start = time.perf_counter()
    net = train_judge(data, recipe, on_progress=on_progress)
    acc = accuracy(net, data.test_x, data.test_y)
    save_weights(net.state_dict(), weights, {"inputs_sha256": key})
    record = {
        "inputs_sha256": key, "weights_sha256": sha256_file(weights), "weights": str(weights),
        "test_accuracy": round(acc, 4), "train_images": len(data.train_x),
        "test_images": len(data.test_x), "source": data.source, "recipe": recipe,
        "seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    write_json(record, record_path)
    log(
        f"judge: {100 * acc:.2f} % accuracy on {len(data.test_x):,} test images, cached in {weights}"
    )
    return net, record


# ---------------------------------------------------------------- the figures


def fit_gaussian(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, covariance) of (N, D) features, float64."""
    f = features.double()
    mu = f.mean(0)
    centred = f - mu
    return mu, centred.T @ centred / max(1, len(f) - 1)


def frechet_distance(
    mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor
) -> float:
    """‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½) (Heusel et al. eq. 6; Dowson & Landau 1982).

    Tr((Σ1 Σ2)^½) = Σ √λ over the eigenvalues λ of Σ1^½ Σ2 Σ1^½ (symmetric, so eigh)."""
    vals, vecs = torch.linalg.eigh(cov1.double())
    root1 = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    middle = root1 @ cov2.double() @ root1
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    diff = (mu1.double() - mu2.double()).pow(2).sum()
    return float(diff + torch.trace(cov1.double()) + torch.trace(cov2.double()) - 2 * trace_root)


@dataclass
class Scores:
    """The judge's figures for one set of images."""

    what: str
    n: int
    confident_pct: float  # % classified with confidence > 0.9
    entropy: float  # class-histogram entropy / log 10
    fid: (
        float | None
    )  # MNIST-feature FID against the test images (None: the test images themselves)
    histogram: list[int]


def score(
    net: JudgeNet,
    images: torch.Tensor,
    what: str,
    test_stats: tuple[torch.Tensor, torch.Tensor] | None,
) -> Scores:
    """Figures for images in [-1, 1] at 28 px; `test_stats` None: no distance (these are the test images)."""
    probs, feats = outputs(net, images)
    confident = 100 * float((probs.max(1).values > CONFIDENT).double().mean())
    hist = torch.bincount(probs.argmax(1), minlength=10)
    p = hist.double() / max(1, len(images))
    entropy = max(0.0, float(-(p[p > 0] * p[p > 0].log()).sum() / math.log(10)))
    fid = frechet_distance(*fit_gaussian(feats), *test_stats) if test_stats is not None else None
    return Scores(what, len(images), confident, entropy, fid, hist.tolist())


@dataclass
class Verdict:
    """Generated samples and real images, judged the same way."""

    generated: Scores
    real_train: Scores
    real_test: Scores
    record: dict[str, Any]  # the judge's cache record: accuracy, sizes, SHA-256

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for prefix, s in (
            ("judge", self.generated),
            ("real_train", self.real_train),
            ("real_test", self.real_test),
        ):
            out[f"{prefix}_confident_pct"] = round(s.confident_pct, 2)
            out[f"{prefix}_class_entropy"] = round(s.entropy, 4)
            if s.fid is not None:
                out[f"{prefix}_mnist_feature_fid"] = round(s.fid, 3)
        out["judge_samples"] = self.generated.n
        out["judge_class_histogram"] = self.generated.histogram
        out["judge_test_accuracy"] = self.record["test_accuracy"]
        out["judge_weights_sha256"] = self.record["weights_sha256"]
        return out

    def table(self) -> str:
        r = self.record
        lines = [
            f"MNIST judge: a small CNN, {100 * r['test_accuracy']:.2f} % accuracy on "
            f"{r['test_images']:,} test images ({r['source']}).",
            "FID here is an MNIST-feature FID (Fréchet distance on the judge's 64 penultimate "
            "features), not Inception FID.",
            "",
            f"| {'images':<28} | {'n':>6} | {'confident > 0.9':>15} | {'class entropy / log 10':>22} | {'MNIST-feature FID':>17} |",
            f"|{'-' * 30}|{'-' * 8}|{'-' * 17}|{'-' * 24}|{'-' * 19}|",
        ]
        for s in (self.generated, self.real_train, self.real_test):
            fid = f"{s.fid:.2f}" if s.fid is not None else "0 (the reference)"
            lines.append(
                f"| {s.what:<28} | {s.n:>6,} | {s.confident_pct:>14.1f}% | {s.entropy:>22.3f} | {fid:>17} |"
            )
        return "\n".join(lines)

    def headline(self) -> str:
        g, t = self.generated, self.real_train
        return (
            f"judge: {g.confident_pct:.0f} % confident (real {self.real_test.confident_pct:.0f} %), "
            f"class entropy {g.entropy:.3f}, MNIST-feature FID {g.fid:.2f} (real {t.fid:.2f})"
        )


def _as_judged(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 28 px real images through the GAN's resizing and back, in [-1, 1]."""
    return _scaled(resize_images(resize_images(images, image_size), 28))


def judge_samples(
    samples: torch.Tensor,
    *,
    data_dir: Path | None,
    image_size: int,
    quick: bool = False,
    log: Callable[[str], None] = print,
    on_progress: Callable[[str, int, int], None] | None = None,
    recipe: dict[str, Any] | None = None,
) -> Verdict:
    """Judge generated images ((N, 1, S, S) in [-1, 1]) next to real MNIST images from `data_dir`."""
    data = judge_data(data_dir)
    net, record = load_or_train(
        data, recipe or (QUICK if quick else RECIPE), log,
        (lambda d, t: on_progress("training the judge", d, t)) if on_progress else None,
    )  # fmt: skip
    if samples.shape[1] != 1:
        raise ValueError(f"the MNIST judge reads 1-channel images; these have {samples.shape[1]}")
    fake = samples.float().clamp(-1, 1)
    if fake.shape[-1] != 28:
        fake = F.interpolate(
            fake, size=(28, 28), mode="bilinear", antialias=True, align_corners=False
        )
    test = _as_judged(data.test_x, image_size)
    _, test_feats = outputs(net, test)
    stats = fit_gaussian(test_feats)
    n = len(samples)
    pick = torch.randperm(len(data.train_x), generator=torch.Generator().manual_seed(0))[:n]
    return Verdict(
        generated=score(net, fake, "generated (this run)", stats),
        real_train=score(
            net, _as_judged(data.train_x[pick], image_size), "real training images", stats
        ),
        real_test=score(net, test, "real test images", None),
        record=record,
    )
