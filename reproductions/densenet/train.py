"""Training as in Huang et al. §4.2, on one device or under `torchrun` (DistributedDataParallel).

SGD with Nesterov momentum 0.9 (no dampening), weight decay 1e-4, batch 64,
learning rate 0.1 divided by 10 at 50 % and 75 % of the epochs. The "+"
settings augment with a random 32 px crop of the image zero-padded by 4 px
and a random horizontal flip; inputs are normalised by the training set's
channel means and standard deviations (§4.1).

Distributed: each rank reads its shard of every epoch (DistributedSampler, the
same permutation on every rank), the global batch is split evenly across ranks
and DDP averages gradients, so a step sees the same images as one process
would. Only rank 0 logs, writes checkpoints and reports metrics.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from reproductions.common import RunContext
from reproductions.densenet.data import ImageData


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    started_here: bool = False  # we called init_process_group (so we tear it down)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_type: str) -> Distributed:
    """Join the process group torchrun describes (WORLD_SIZE > 1); NCCL on GPUs, gloo on CPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_initialized():
        return Distributed(dist.get_rank(), dist.get_world_size(), local, started_here=False)
    backend = "nccl" if device_type == "cuda" else "gloo"
    if device_type == "cuda":
        torch.cuda.set_device(local)
    dist.init_process_group(backend)
    return Distributed(rank, world, local, started_here=True)


def teardown_distributed(d: Distributed) -> None:
    if d.started_here and dist.is_initialized():
        dist.destroy_process_group()


def channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std of uint8 images (N, 3, H, W), in [0, 1] units."""
    mean = torch.zeros(3, dtype=torch.float64)
    sq = torch.zeros(3, dtype=torch.float64)
    for chunk in x.split(10_000):
        f = chunk.double() / 255
        mean += f.sum((0, 2, 3))
        sq += (f * f).sum((0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean /= count
    std = (sq / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float(), std.float()


def augment(x: Tensor, generator: torch.Generator, pad: int = 4) -> Tensor:
    """Random crop of the zero-padded batch and random horizontal flip (§4.1), on x's device."""
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))  # (B, C, H+2p, W+2p); zero = the mean after normalising
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator).to(x.device)
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (B, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    idx_b = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_b, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


def lr_at(
    epoch: int, epochs: int, lr: float, milestones: tuple[float, ...], factor: float
) -> float:
    """lr divided by 10 at 50 % and 75 % of the epochs (§4.2)."""
    return lr * factor ** sum(epoch >= math.floor(m * epochs) for m in milestones)


def make_optimizer(model: nn.Module, cfg: Any) -> torch.optim.SGD:
    return torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
        weight_decay=cfg.weight_decay, dampening=0.0,
    )  # fmt: skip


def autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager:
    return torch.autocast(device.type, dtype=torch.bfloat16) if amp else contextlib.nullcontext()


def forward_backward(model: nn.Module, x: Tensor, y: Tensor, amp: bool) -> tuple[Tensor, Tensor]:
    """Cross-entropy of one (local) batch and its gradients; DDP averages them across ranks.

    Returns the loss and the logits, detached."""
    with autocast(x.device, amp):
        logits = model(x)  # (B, classes)
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()  # the loss in fp32 under autocast
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return loss.detach(), logits.detach()


def shard_batches(
    n: int, batch_size: int, d: Distributed, epoch: int, seed: int, shuffle: bool = True
) -> Iterator[Tensor]:
    """This rank's index batches for one epoch: DistributedSampler's shard, local batch = global / ranks."""
    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(
        range(n), num_replicas=d.world_size, rank=d.rank, shuffle=shuffle, seed=seed,
        drop_last=False,
    )  # fmt: skip
    sampler.set_epoch(epoch)
    indices = torch.tensor(list(sampler), dtype=torch.int64)
    local = batch_size // d.world_size
    for start in range(0, len(indices), local):
        batch = indices[start : start + local]
        if len(batch) > 1:  # BN needs two samples; at most one image of an epoch is skipped
            yield batch


@torch.no_grad()
def evaluate(
    model: nn.Module, x: Tensor, y: Tensor, mean: Tensor, std: Tensor, device: torch.device,
    d: Distributed, amp: bool, channels_last: bool, batch: int = 500,
) -> tuple[float, float]:  # fmt: skip
    """(error %, mean loss) on the test set; ranks split it and add up their counts."""
    was_training = model.training
    model.eval()
    idx = torch.arange(d.rank, len(x), d.world_size)
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # wrong, loss sum, count
    for chunk in idx.split(batch):
        xb = normalise(x[chunk].to(device), mean, std, channels_last)
        yb = y[chunk].to(device)
        with autocast(device, amp):
            logits = model(xb).float()
        totals[0] += (logits.argmax(1) != yb).sum()
        totals[1] += F.cross_entropy(logits, yb, reduction="sum")
        totals[2] += len(chunk)
    if d.enabled:
        dist.all_reduce(totals)
    model.train(was_training)
    count = max(1.0, totals[2].item())
    return 100 * totals[0].item() / count, totals[1].item() / count


def normalise(x: Tensor, mean: Tensor, std: Tensor, channels_last: bool) -> Tensor:
    out = (x.float() / 255 - mean[:, None, None]) / std[:, None, None]  # (B, 3, H, W)
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Atomic: a killed run leaves the previous checkpoint, never half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


@dataclass
class _Training:
    """What every epoch of one `train` call shares."""

    model: nn.Module  # the bare model: tested and checkpointed
    net: nn.Module  # what trains: the model, under DDP and/or torch.compile when asked
    optimizer: torch.optim.SGD
    data: ImageData
    mean: Tensor  # (3,) the training images' channel means, on the device
    std: Tensor  # (3,) and standard deviations
    cfg: Any  # run.TrainConfig
    device: torch.device
    ctx: RunContext
    d: Distributed
    gen: torch.Generator  # the augmentation's randomness, one stream per rank
    amp: bool
    channels_last: bool


def train(
    model: nn.Module,
    data: ImageData,
    cfg: Any,  # run.TrainConfig
    *,
    device: torch.device,
    ctx: RunContext,
    d: Distributed,
    checkpoint_path: Path | None = None,
    resume: Path | None = None,
    amp: bool = False,
    channels_last: bool = False,
    compile_model: bool = False,
    eval_every: int = 1,
) -> dict[str, Any]:
    """Train `model` on `data` with `cfg` (epochs, batch, SGD settings); returns the metrics."""
    if cfg.batch_size % d.world_size:
        raise ValueError(
            f"--batch-size {cfg.batch_size} must split evenly over {d.world_size} processes"
        )
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    start_epoch, history = 0, []
    if resume is not None:
        start_epoch, history = _resume(resume, model, optimizer, device)
        if d.is_main:
            ctx.log(f"resumed from {resume} after epoch {start_epoch}")
    mean, std = channel_stats(data.train_x)
    t = _Training(
        model, _wrap(model, d, device, compile_model), optimizer, data,
        mean.to(device), std.to(device), cfg, device, ctx, d,
        torch.Generator().manual_seed(ctx.seed * 1000 + d.rank), amp, channels_last,
    )  # fmt: skip
    images = 0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train_seconds = 0.0
    for epoch in range(start_epoch, cfg.epochs):
        lr = _set_lr(optimizer, cfg, epoch)
        totals, seen, seconds = _train_epoch(t, epoch)
        train_seconds += seconds
        images += seen * d.world_size
        row = _epoch_row(t, epoch, lr, totals, seconds, eval_every)
        history.append(row)
        if d.is_main:
            _report_epoch(t, row, history, seen, seconds, checkpoint_path)
    return _final_metrics(cfg, history, images, train_seconds, d, device)


def _resume(
    path: Path, model: nn.Module, optimizer: torch.optim.SGD, device: torch.device
) -> tuple[int, list[dict[str, Any]]]:
    """Load a checkpoint into the model and optimizer: (epochs done, their history)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        return int(state["epoch"]), list(state.get("history", []))
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(
            f"--resume {path}: not a checkpoint of this model — resume with the options of "
            f"the run that wrote it (--depth, --growth-rate, --bc, --dataset). "
            f"({type(e).__name__}: {str(e)[:160]})"
        ) from None


def _wrap(model: nn.Module, d: Distributed, device: torch.device, compile_model: bool) -> nn.Module:
    """What trains: the model under DDP when distributed, compiled when asked."""
    net: nn.Module = model
    if d.enabled:
        ids = [d.local_rank] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    if compile_model:
        net = torch.compile(net)  # type: ignore[assignment]
    return net


def _set_lr(optimizer: torch.optim.SGD, cfg: Any, epoch: int) -> float:
    """Set the epoch's learning rate (§4.2's schedule) and return it."""
    lr = lr_at(epoch, cfg.epochs, cfg.lr, cfg.lr_milestones, cfg.lr_factor)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _train_epoch(t: _Training, epoch: int) -> tuple[Tensor, int, float]:
    """One pass over this rank's shard of the training set.

    Returns the (loss sum, wrong, seen) totals of all ranks, the images this
    rank saw, and the seconds it took."""
    t.net.train()
    loss_sum = torch.zeros((), device=t.device)
    wrong = torch.zeros((), device=t.device)
    seen = 0
    steps_per_epoch = math.ceil(len(t.data.train_x) / t.cfg.batch_size)
    t0 = time.perf_counter()
    batches = shard_batches(len(t.data.train_x), t.cfg.batch_size, t.d, epoch, t.ctx.seed)
    for step, idx in enumerate(batches, start=1):
        loss, batch_wrong = _train_step(t, idx)
        loss_sum += loss * len(idx)
        wrong += batch_wrong
        seen += len(idx)
        if t.d.is_main:
            t.ctx.progress(f"epoch {epoch + 1}/{t.cfg.epochs}", step, steps_per_epoch)
    if t.device.type == "cuda":
        torch.cuda.synchronize(t.device)
    seconds = time.perf_counter() - t0
    totals = torch.stack([loss_sum, wrong, torch.tensor(float(seen), device=t.device)])  # (3,)
    if t.d.enabled:
        dist.all_reduce(totals)
    return totals, seen, seconds


def _train_step(t: _Training, idx: Tensor) -> tuple[Tensor, Tensor]:
    """One SGD step on the training images `idx`: (mean loss, how many it got wrong), detached."""
    xb = t.data.train_x[idx].to(t.device, non_blocking=True)  # (B, 3, H, W) uint8
    yb = t.data.train_y[idx].to(t.device, non_blocking=True)  # (B,)
    xb = normalise(xb, t.mean, t.std, False)
    if t.cfg.augment:
        xb = augment(xb, t.gen, t.cfg.pad)
    if t.channels_last:
        xb = xb.contiguous(memory_format=torch.channels_last)
    t.optimizer.zero_grad(set_to_none=True)
    loss, logits = forward_backward(t.net, xb, yb, t.amp)
    t.optimizer.step()
    return loss, (logits.argmax(1) != yb).sum()


def _epoch_row(
    t: _Training, epoch: int, lr: float, totals: Tensor, seconds: float, eval_every: int
) -> dict[str, Any]:
    """The epoch's entry in the history; the test error too every `eval_every` epochs and last."""
    train_loss = totals[0].item() / totals[2].item()
    train_error = 100 * totals[1].item() / totals[2].item()
    row: dict[str, Any] = {
        "epoch": epoch + 1, "lr": lr, "train_loss": round(train_loss, 5),
        "train_error": round(train_error, 3), "seconds": round(seconds, 2),
    }  # fmt: skip
    if (epoch + 1) % eval_every == 0 or epoch + 1 == t.cfg.epochs:
        err, tloss = evaluate(
            t.model, t.data.test_x, t.data.test_y, t.mean, t.std, t.device, t.d, t.amp,
            t.channels_last,
        )  # fmt: skip
        row.update(test_error=round(err, 3), test_loss=round(tloss, 5))
    return row


def _report_epoch(
    t: _Training,
    row: dict[str, Any],
    history: list[dict[str, Any]],
    seen: int,
    seconds: float,
    checkpoint_path: Path | None,
) -> None:
    """Rank 0's end of an epoch: log its row, write the checkpoint."""
    t.ctx.log(
        " ".join(f"{k} {v}" for k, v in row.items())
        + f" ({seen * t.d.world_size / seconds:.0f} images/s)"
    )
    if checkpoint_path is not None:
        save_checkpoint(
            checkpoint_path,
            {"model": t.model.state_dict(), "optimizer": t.optimizer.state_dict(),
             "epoch": row["epoch"], "history": history},
        )  # fmt: skip


def _final_metrics(
    cfg: Any,
    history: list[dict[str, Any]],
    images: int,
    train_seconds: float,
    d: Distributed,
    device: torch.device,
) -> dict[str, Any]:
    """The run's figures: the last epoch's, the last and best test error, throughput, memory."""
    tested = [h for h in history if "test_error" in h]
    metrics: dict[str, Any] = {
        "epochs": cfg.epochs,
        "train_loss_first": history[0]["train_loss"] if history else None,
        "train_loss_final": history[-1]["train_loss"] if history else None,
        "train_error_final": history[-1]["train_error"] if history else None,
        "test_error": tested[-1]["test_error"] if tested else None,
        "test_error_best": min(h["test_error"] for h in tested) if tested else None,
        "test_loss": tested[-1]["test_loss"] if tested else None,
        "train_images_per_s": round(images / train_seconds, 1) if train_seconds else None,
        "train_seconds": round(train_seconds, 2),
        "world_size": d.world_size,
        "history": history,
    }
    if device.type == "cuda":
        metrics["peak_memory_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return metrics
