"""Bookkeeping shared by the GAN training loops: noise, loss log, snapshots, final metrics.

The loops themselves (the part each paper is about) live in
`reproductions/dcgan/train.py` and `reproductions/wgan/train.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reproductions.common.runtime import seed_everything
from reproductions.gan_common import report, toy
from reproductions.gan_common.data import RealData, open_dataset
from reproductions.gan_common.keep import Keeper

EVAL_SAMPLES = 2500  # VEEGAN / PacGAN: 2,500 samples for the mode metric


def noise(
    n: int, dim: int, device: torch.device, generator: torch.Generator | None = None
) -> torch.Tensor:
    """z ~ N(0, I): (n, dim)."""
    return torch.randn(n, dim, generator=generator).to(device)


@torch.no_grad()
def sample(
    gen: nn.Module, n: int, device: torch.device, *, chunk: int = 500, seed: int = 1234
) -> torch.Tensor:
    """n generator samples in eval mode (batch norm on its running statistics), on the CPU."""
    was_training = gen.training
    gen.eval()
    g = torch.Generator().manual_seed(seed)
    out = [
        gen(noise(min(chunk, n - i), gen.noise_dim, device, g)).float().cpu()
        for i in range(0, n, chunk)
    ]
    gen.train(was_training)
    return torch.cat(out)


class EMA:
    """An exponential moving average of a network's weights (Yazıcı et al. 2018,
    "The Unusual Effectiveness of Averaging in GAN Training", arXiv 1806.04498):
    after every update, θ_EMA ← β θ_EMA + (1 − β) θ. Training keeps the raw
    weights; the average is only read (samples, metrics). Buffers (batch-norm
    statistics) are copied, not averaged. Starts as a copy of the network."""

    def __init__(self, net: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(net).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        for avg, p in zip(self.module.parameters(), net.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - self.decay)  # avg + (1 − β)(p − avg)
        for avg_b, b in zip(self.module.buffers(), net.buffers(), strict=True):
            avg_b.copy_(b)


@dataclass
class Monitor:
    """Writes losses.csv every `log_every` steps and a snapshot (grid or scatter) every `sample_every`."""

    folder: Path
    data: RealData
    columns: list[str]
    sample_every: int = 0
    log_every: int = 1
    eval_samples: int = EVAL_SAMPLES
    on_step: Callable[[int, dict[str, float]], None] | None = None
    snapshots: list[Path] = field(default_factory=list)
    # The weight average (EMA) a training loop keeps, when it keeps one: the
    # snapshots and the final samples and metrics then come from it.
    averaged: nn.Module | None = None
    # Checkpoints and final weights (the training loop calls it); None: nothing kept.
    keeper: Keeper | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        cols = ["step", *self.columns] + (["modes", "high_quality_pct"] if self.data.is_2d else [])
        self.log = report.LossLog(self.folder / "losses.csv", cols)

    def carry_over(self, earlier: Path, upto: int) -> None:
        """A continued run's log starts with the earlier run's rows up to its checkpoint."""
        import csv

        if not earlier.is_file():
            return
        with open(earlier, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                values = {k: float(v) for k, v in row.items() if k in self.log.columns and v}
                if values.get("step", upto + 1) <= upto:
                    values["step"] = int(values["step"])
                    self.log.add(**values)

    def step(self, step: int, gen: nn.Module, device: torch.device, **losses: float) -> None:
        row: dict[str, Any] = {}
        if self.sample_every and step % self.sample_every == 0:
            row = self.snapshot(step, gen, device)
        if row or step % self.log_every == 0:
            self.log.add(step=step, **losses, **row)
        if self.on_step is not None:
            self.on_step(step, losses)

    def snapshot(self, step: int, gen: nn.Module, device: torch.device) -> dict[str, float]:
        path = self.folder / "samples" / f"step-{step:06d}.png"
        gen = self.averaged if self.averaged is not None else gen
        if self.data.mixture is not None:
            pts = sample(gen, self.eval_samples, device)
            cov = toy.mode_coverage(pts, self.data.mixture)
            report.scatter_2d(pts, self.data.mixture.centres, path, title=f"step {step}")
            self.snapshots.append(path)
            return {"modes": cov["modes"], "high_quality_pct": cov["high_quality_pct"]}
        report.save_grid(sample(gen, 64, device), path)
        self.snapshots.append(path)
        return {}

    def finish(
        self, gen: nn.Module, device: torch.device, plot: list[str]
    ) -> tuple[dict[str, Any], list[Path]]:
        """Final samples and metrics; the loss plot. Returns (metrics, output files)."""
        self.log.close()
        outputs = [self.log.path]
        if self.log.rows:
            outputs.append(report.plot_loss_log(self.log, self.folder / "losses.png", plot))
        metrics: dict[str, Any] = {}
        final = self.folder / "samples.png"
        raw, gen = gen, self.averaged if self.averaged is not None else gen
        if self.data.mixture is not None:
            pts = sample(gen, self.eval_samples, device)
            cov = toy.mode_coverage(pts, self.data.mixture)
            metrics.update(
                modes=cov["modes"], n_modes=cov["n_modes"],
                high_quality_pct=round(cov["high_quality_pct"], 2), eval_samples=len(pts),
            )  # fmt: skip
            if gen is not raw:  # the raw weights' figures too, for comparison
                cov_raw = toy.mode_coverage(
                    sample(raw, self.eval_samples, device), self.data.mixture
                )
                metrics.update(
                    modes_raw=cov_raw["modes"],
                    high_quality_pct_raw=round(cov_raw["high_quality_pct"], 2),
                )
            report.scatter_2d(pts, self.data.mixture.centres, final, title="final")
        else:
            report.save_grid(sample(gen, 64, device), final)
        outputs.append(final)
        metrics["snapshots"] = len(self.snapshots)
        return metrics, outputs


TrainFn = Callable[..., dict[str, Any]]


def train_monitored(
    cfg: Any,
    gen: nn.Module,
    other: nn.Module,
    data: RealData,
    train: TrainFn,
    *,
    columns: list[str],
    finals: list[str],
    folder: Path,
    sample_every: int | None,
    device: torch.device,
    seed: int,
    on_progress: Callable[[int, int, dict[str, Any]], None],
    keeper: Keeper | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """Run a paper's training loop under a `Monitor` (losses, sample grids, metrics):
    the part `papertrail repro dcgan` and `wgan` share. Returns (metrics, outputs).

    With a `keeper` the loop checkpoints as it goes (and resumes the keeper's
    checkpoint), and the final weights are written to the folder as safetensors."""
    every = sample_every if sample_every is not None else max(1, cfg.steps // 10)
    monitor = Monitor(
        folder, data, columns, sample_every=every,
        on_step=lambda s, m: on_progress(s, cfg.steps, m), keeper=keeper,
    )  # fmt: skip
    if keeper is not None and keeper.resume is not None:
        monitor.carry_over(Path(keeper.resume.get("losses", "")), int(keeper.resume["step"]))
    timing = train(cfg, gen, other, data, device, monitor, torch.Generator().manual_seed(seed))
    metrics, outputs = monitor.finish(gen, device, finals)
    if keeper is not None:
        nets = {"generator": gen, "discriminator": other}
        if monitor.averaged is not None:
            nets["generator_ema"] = monitor.averaged
        keeper.save_final(cfg.steps, nets)
        metrics["checkpoints"] = len(keeper.saved)
    return {**metrics, **timing, "dataset": data.name}, outputs


def modes_headline(name: str, data: RealData, metrics: dict[str, Any], steps: int) -> str:
    """The 2-D mixtures' one-line result."""
    return (
        f"{name} on the {data.name}: {metrics['modes']}/{metrics['n_modes']} modes, "
        f"{metrics['high_quality_pct']:.1f}% high-quality samples after {steps} steps"
    )


def prepare(args: Any, ctx: Any, cfg: Any) -> tuple[torch.device, Path, RealData]:
    """What both GAN commands do before training: pick the device, seed, choose
    the output folder and open the dataset. Returns (device, folder, data)."""
    device = ctx.torch_device()
    seed_everything(ctx.seed)
    folder = Path(args.output) if args.output else ctx.artifacts
    data = open_dataset(
        args.dataset, data_dir=args.data, image_size=cfg.image_size, device=device,
        seed=ctx.seed, dry_run=ctx.dry_run, scratch=ctx.artifacts, log=ctx.log,
        on_progress=lambda done, total: ctx.progress("downloading MNIST", done, total),
        split=getattr(args, "split", None),
    )  # fmt: skip
    return device, folder, data
