"""Configurations (the paper's hyperparameters, cited) and the entry point of
`papertrail repro dcgan`. Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from reproductions.common import RunContext, RunResult, option
from reproductions.dcgan import DCGAN


@dataclass
class DCGANConfig:
    """Radford, Metz & Chintala 2015 (arXiv 1511.06434): §3 (architecture), §4 (training details), Fig. 1."""

    lr: float = option(2e-4, "Adam learning rate", paper="§4: 0.0002 (0.001 was too high)")
    beta1: float = option(0.5, "Adam β1", paper="§4: 0.5 (0.9 oscillated)")
    beta2: float = option(0.999, "Adam β2", paper="not given (Adam's default)")
    batch_size: int = option(128, "images per batch", paper="§4: mini-batch size 128")
    noise_dim: int = option(100, "z dimensions", paper="Fig. 1: 100 z")
    width: int = option(
        128,
        "channels next to the image (doubling inwards)",
        paper="Fig. 1: 128 at 32×32 … 1024 at 4×4",
    )
    depth: int = option(3, "hidden layers (2-D MLPs only)", paper="—")
    image_size: int = option(64, "images are size × size px", paper="Fig. 1, §4: 64 × 64")
    init_std: float = option(0.02, "σ of the N(0, σ) weight init", paper="§4: 0.02")
    leaky_slope: float = option(0.2, "LeakyReLU slope in D", paper="§4: 0.2")
    steps: int = option(
        20_000, "updates of each network", paper="not given as steps (LSUN: 1 epoch, §4.1)"
    )


@dataclass
class Toy2DConfig:
    """The 2-D mixtures: MLPs built to DCGAN's rules (batch norm, ReLU in G, LeakyReLU 0.2 in D)."""

    noise_dim: int = option(
        2, "z dimensions", paper="PacGAN §5.1 (after VEEGAN): noise of dimension 2"
    )
    width: int = option(
        128, "units per hidden layer", paper="the same MLPs as the wgan 2-D runs (README)"
    )
    depth: int = option(3, "hidden layers", paper="the same MLPs as the wgan 2-D runs")
    batch_size: int = option(256, "points per batch", paper="the same as the wgan 2-D runs")
    steps: int = option(4000, "updates of each network", paper="CPU budget (README)")


@dataclass
class Args:
    """Train a DCGAN (Radford et al.) on MNIST, a folder of images or a 2-D mixture of Gaussians.

    --dataset mnist downloads MNIST's IDX files once into the cache (checked
    against their SHA-256) or reads them from --data DIR; folder:PATH takes
    any folder of images (grayscale folders give 1-channel models). Sample
    grids are written every --sample-every steps, losses to losses.csv and
    losses.png. ring / grid train MLPs and report modes captured and %
    high-quality samples.

    \b
    Example:
        papertrail repro dcgan --dataset mnist --data ~/mnist --steps 5000
        papertrail repro dcgan --dataset folder:mnist_png/ --image-size 32 --sample-every 200
        papertrail repro dcgan --dataset ring
        papertrail repro dcgan --dry-run
    """

    dataset: str = option("mnist", "mnist, ring, grid, synthetic or folder:PATH", metavar="NAME")
    data: Path | None = option(
        None, "mnist: folder holding the IDX files (default: download to the cache)"
    )
    steps: int | None = option(None, "training steps (default: the config's)")
    batch_size: int | None = option(None, "samples per batch (default 128; 256 for 2-D)")
    image_size: int | None = option(
        None, "image side, px: 4·2^k (default 32 for mnist/synthetic, 64 for folders)"
    )
    width: int | None = option(
        None, "network width (channels next to the image, or MLP units for 2-D)"
    )
    lr: float | None = option(None, "Adam learning rate (default 2e-4)")
    sample_every: int | None = option(
        None, "write a sample grid / scatter plot every N steps (default: 10 a run)"
    )
    output: Path | None = option(
        None, "folder for the outputs (default: the run's folder)", short="-o"
    )


CONFIGS = (DCGANConfig, Toy2DConfig)


def paper_for(args: Args) -> str:
    """The arXiv id a run with these arguments reproduces."""
    return DCGAN.arxiv_id


def check(args: Args) -> None:
    """Raise ValueError naming the option when the arguments do not make a run."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.data import check_common

    check_common(args, counts=("steps", "batch_size", "width"), positives=("lr",))


def resolve(args: Args, dry_run: bool = False) -> DCGANConfig:
    """The effective configuration: the paper's, the 2-D settings for ring/grid, then the options."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.data import parse_dataset

    kind, _ = parse_dataset(args.dataset)
    cfg = DCGANConfig()
    if kind in ("ring", "grid"):
        cfg = replace(cfg, **asdict(Toy2DConfig()))
    elif kind in ("mnist", "synthetic"):
        cfg = replace(cfg, image_size=32)
    overrides = {
        "steps": args.steps, "batch_size": args.batch_size, "image_size": args.image_size,
        "width": args.width, "lr": args.lr,
    }  # fmt: skip
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if dry_run:
        cfg = replace(cfg, steps=min(cfg.steps, 4), batch_size=min(cfg.batch_size, 16), width=8)
        if kind not in ("ring", "grid") and args.image_size is None:
            cfg = replace(cfg, image_size=16)
    return cfg


def run(args: Args, ctx: RunContext) -> RunResult:
    """Train one DCGAN; outputs go to --output or to `ctx.artifacts`."""
    if not ctx.dry_run:
        check(args)
    # imports torch: `repro list` must not
    from reproductions.dcgan.train import build, train
    from reproductions.gan_common.loop import modes_headline, prepare, train_monitored

    cfg = resolve(args, ctx.dry_run)
    device, folder, data = prepare(args, ctx, cfg)
    gen, disc = build(cfg, data)
    metrics, outputs = train_monitored(
        cfg, gen, disc, data, train,
        columns=["discriminator_loss", "generator_loss", "d_real", "d_fake"],
        finals=["discriminator_loss", "generator_loss"], folder=folder,
        sample_every=args.sample_every, device=device, seed=ctx.seed,
        on_progress=lambda s, n, m: ctx.progress("training", s, n, **m),
    )  # fmt: skip
    if data.is_2d:
        headline = modes_headline("DCGAN-style GAN", data, metrics, cfg.steps)
    else:
        headline = (
            f"DCGAN on {data.name} ({cfg.image_size} px): {cfg.steps} steps, D loss "
            f"{metrics['discriminator_loss_final']:.3g}, G loss {metrics['generator_loss_final']:.3g}, "
            f"{metrics['steps_per_s']:.2f} steps/s; {metrics['snapshots']} sample grids"
        )
    return RunResult(
        DCGAN.arxiv_id, headline, metrics, {**asdict(cfg), "dataset": args.dataset}, outputs
    )
