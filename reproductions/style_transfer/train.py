"""Training Johnson et al.'s transformation network, and stylising many images with it.

The configuration (FastTrainConfig, each value cited) lives in config.py so the
command line can show it without importing torch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from reproductions.common import RunContext
from reproductions.common.images import (
    ImageError,
    load_image,
    open_rgb,
    resize_longest,
    save_image,
    to_tensor,
)
from reproductions.common.runtime import sync
from reproductions.style_transfer.config import FastTrainConfig
from reproductions.style_transfer.data import ImageFolder
from reproductions.style_transfer.fast import PerceptualLoss, TransformerNet
from reproductions.style_transfer.vgg import VGGFeatures

MODEL_FORMAT = "papertrail/style-transfer/johnson2016-v1"


def _forever(loader: DataLoader) -> Iterator[torch.Tensor]:
    while True:
        yield from loader


def train(
    cfg: FastTrainConfig,
    *,
    images: Path,
    style: Path,
    output: Path,
    vgg: VGGFeatures,
    device: torch.device,
    ctx: RunContext,
) -> dict[str, float | int]:
    """Train f_W for one style (§4.1: Adam, batch 4, 40k iterations of 256 px crops)."""
    dataset = ImageFolder(images, cfg.image_size)
    loader = _loader(dataset, cfg, images, device)
    loss_fn = _perceptual_loss(cfg, vgg, style, device)
    net = TransformerNet().to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    meta = {"style": Path(style).name, "images": str(images), "config": json.dumps(asdict(cfg))}
    recent: list[float] = []
    parts: dict[str, torch.Tensor] = {}
    sync(device)
    start = time.perf_counter()
    batches = _forever(loader)
    for it in range(1, cfg.iterations + 1):
        x = next(batches).to(device, non_blocking=True)  # (B, 3, S, S)
        loss, parts = _train_step(net, opt, loss_fn, x)
        recent = (recent + [loss])[-50:]
        ctx.progress("training", it, cfg.iterations, loss=recent[-1])
        if cfg.save_every and it % cfg.save_every == 0 and it < cfg.iterations:
            save_model(net, output, {**meta, "iterations": str(it)})
    sync(device)
    seconds = time.perf_counter() - start
    save_model(net, output, {**meta, "iterations": str(cfg.iterations)})
    return {
        "iterations": cfg.iterations,
        "loss_final": sum(recent) / len(recent),  # mean of the last 50 iterations
        "content_loss": float(parts["content"]),
        "style_loss": float(parts["style"]),
        "tv_loss": float(parts["tv"]),
        "seconds": round(seconds, 3),
        "images_per_s": round(cfg.iterations * cfg.batch_size / seconds, 2),
        "training_images": len(dataset),
    }


def _loader(
    dataset: ImageFolder, cfg: FastTrainConfig, images: Path, device: torch.device
) -> DataLoader:
    """Shuffled batches of `cfg.batch_size` crops; ValueError when there is not one batch."""
    if len(dataset) < cfg.batch_size:
        raise ValueError(
            f"{images}: {len(dataset)} images, fewer than one batch of {cfg.batch_size} — add images or lower --batch-size"
        )
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=cfg.workers,
        pin_memory=device.type == "cuda",
        persistent_workers=cfg.workers > 0,
    )


def _perceptual_loss(
    cfg: FastTrainConfig, vgg: VGGFeatures, style: Path, device: torch.device
) -> PerceptualLoss:
    """The feature and style losses of §3, the artwork's Gram matrices computed once."""
    style_image = load_image(style, cfg.style_size).to(device)  # (1, 3, h, w)
    return PerceptualLoss(
        vgg,
        style_image,
        content_layer=cfg.content_layer,
        style_layers=cfg.style_layers,
        content_weight=cfg.content_weight,
        style_weight=cfg.style_weight,
        tv_weight=cfg.tv_weight,
    )


def _train_step(
    net: TransformerNet, opt: torch.optim.Optimizer, loss_fn: PerceptualLoss, x: torch.Tensor
) -> tuple[float, dict[str, torch.Tensor]]:
    """One Adam step on a batch (B, 3, S, S); returns the loss and its parts."""
    opt.zero_grad(set_to_none=True)
    loss, parts = loss_fn(net(x), x)
    loss.backward()
    opt.step()
    return loss.item(), parts


def save_model(net: TransformerNet, path: Path, metadata: dict[str, str]) -> Path:
    """Write the weights as safetensors (atomically), with what made them in the metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(state, str(tmp), metadata={"format": MODEL_FORMAT, **metadata})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_model(path: Path) -> TransformerNet:
    """A network saved by `save_model`; ValueError naming the file otherwise."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such model file — make one with --method fast --train")
    try:
        with safe_open(str(path), framework="pt") as f:
            fmt = (f.metadata() or {}).get("format")
        state = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise ValueError(f"{path}: not a safetensors file ({e})") from None
    if fmt != MODEL_FORMAT:
        raise ValueError(
            f"{path}: not a model made by `papertrail repro style-transfer --method fast --train` "
            f"(format {fmt!r}, expected {MODEL_FORMAT!r})"
        )
    net = TransformerNet()
    net.load_state_dict(state)
    return net.eval()


def stylise_batch(net: TransformerNet, batch: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, H, W); pads to a multiple of 4 and crops back."""
    h, w = batch.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    if ph or pw:
        batch = F.pad(batch, (0, pw, 0, ph), mode="reflect" if min(h, w) > 4 else "replicate")
    return net(batch)[..., :h, :w]


def stylize_files(
    net: TransformerNet,
    files: list[Path],
    outdir: Path,
    *,
    batch_size: int,
    size: int | None,
    device: torch.device,
    ctx: RunContext,
) -> dict[str, float | int]:
    """Stylise each file into `outdir` (same file name), in batches of same-sized images.

    Frames of one video share a size, so they go through batch_size at a time."""
    outdir = Path(outdir)
    _check_outputs(files, outdir)
    net = net.to(device).eval()
    done, model_seconds = 0, 0.0
    start = time.perf_counter()
    for pending in _same_size_batches(files, size, batch_size):
        model_seconds += _stylise_and_save(net, pending, outdir, device)
        done += len(pending)
        ctx.progress("stylising", done, len(files))
    seconds = time.perf_counter() - start
    return {
        "images": done,
        "seconds": round(seconds, 3),
        "ms_per_image": round(1000 * seconds / max(done, 1), 2),
        "model_ms_per_image": round(1000 * model_seconds / max(done, 1), 2),
    }


def _check_outputs(files: list[Path], outdir: Path) -> None:
    """ValueError when two inputs would write the same output file, or `outdir` is a file."""
    names: dict[str, Path] = {}
    for f in files:
        if f.name in names:
            raise ValueError(
                f"two inputs are named {f.name} ({names[f.name]} and {f}) — they would write the "
                "same output file; stylise them into different -o folders"
            )
        names[f.name] = f
    if outdir.exists() and not outdir.is_dir():
        raise ValueError(
            f"{outdir}: exists and is not a folder (-o takes a folder with --method fast)"
        )


def _same_size_batches(
    files: list[Path], size: int | None, batch_size: int
) -> Iterator[list[tuple[Path, torch.Tensor]]]:
    """The files read in order, in runs of at most `batch_size` images of one size."""
    pending: list[tuple[Path, torch.Tensor]] = []
    for path in files:
        try:
            image = to_tensor(resize_longest(open_rgb(path), size))  # (3, H, W)
        except ImageError as e:
            raise ValueError(str(e)) from None
        if pending and (pending[0][1].shape != image.shape or len(pending) == batch_size):
            yield pending
            pending = []
        pending.append((path, image))
    if pending:
        yield pending


def _stylise_and_save(
    net: TransformerNet,
    pending: list[tuple[Path, torch.Tensor]],
    outdir: Path,
    device: torch.device,
) -> float:
    """Stylise one batch and write each picture; returns the seconds the network took."""
    batch = torch.stack([t for _, t in pending]).to(device)  # (B, 3, H, W)
    sync(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = stylise_batch(net, batch)  # (B, 3, H, W)
    sync(device)
    seconds = time.perf_counter() - t0
    for (path, _), image in zip(pending, out.cpu(), strict=True):
        suffix = path.suffix if path.suffix.lower() in (".png", ".jpg", ".jpeg") else ".png"
        save_image(image, outdir / (path.stem + suffix))
    return seconds
