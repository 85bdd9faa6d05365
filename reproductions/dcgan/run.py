"""Configurations (the paper's hyperparameters, cited) and the entry point of
`papertrail repro dcgan`. Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reproductions.common import PriorRun, RunContext, RunResult, option
from reproductions.dcgan import DCGAN

if TYPE_CHECKING:
    from reproductions.gan_common.data import RealData
    from reproductions.gan_common.runs import GanSpec


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
        papertrail repro dcgan --from-run 12 --sample 64        # 64 new digits from run 12
        papertrail repro dcgan --from-run 12 --evaluate         # judge run 12 again
        papertrail repro dcgan --from-run 13                    # finish a killed run
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
    split: Literal["train", "test"] | None = option(
        None, "mnist: the split to train on (default: train, or the only one --data holds)"
    )
    checkpoint_every: int | None = option(
        None, "write checkpoint.pt every N steps, for resuming (default: 20 a run)"
    )
    sample: int | None = option(
        None, "with --from-run N: write K new samples from run N's weights", metavar="K"
    )
    evaluate: bool = option(False, "with --from-run N: judge run N's samples (MNIST)")
    judge_samples: int = option(
        2000, "mnist: samples the MNIST judge scores at the end of a run (or with --evaluate)"
    )
    no_judge: bool = option(False, "mnist: skip the MNIST judge at the end")


CONFIGS = (DCGANConfig, Toy2DConfig)
FROM_RUN_HELP = (
    "Start from run N's weights: --sample K new images, --evaluate (MNIST judge), or, alone, "
    "train on from its last checkpoint (a killed run finishes; --steps M trains a finished one on)."
)


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


def check_from_run(args: Args, prior: PriorRun | None) -> None:
    """ValueError when --from-run N cannot do what the options ask (nothing is recorded then)."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.runs import check_from_run as check_prior

    check_prior(args, prior)


def spec() -> GanSpec:
    """What `gan_common.runs` needs to train, sample and judge a DCGAN."""
    # imports torch: `repro list` must not
    from reproductions.dcgan.train import build, train
    from reproductions.gan_common.runs import GanSpec

    return GanSpec(
        arxiv_id=lambda cfg: DCGAN.arxiv_id, label=lambda cfg: "DCGAN", config_type=DCGANConfig,
        build=build, train=train,
        columns=lambda cfg: ["discriminator_loss", "generator_loss", "d_real", "d_fake"],
        finals=["discriminator_loss", "generator_loss"], headline=_headline,
    )  # fmt: skip


def _headline(name: str, cfg: Any, data: RealData, metrics: dict[str, Any]) -> str:
    return (
        f"{name} on {data.name} ({cfg.image_size} px): {cfg.steps} steps, D loss "
        f"{metrics['discriminator_loss_final']:.3g}, G loss {metrics['generator_loss_final']:.3g}, "
        f"{metrics['steps_per_s']:.2f} steps/s; {metrics['snapshots']} sample grids"
    )


def run(args: Args, ctx: RunContext) -> RunResult:
    """Train one DCGAN, or sample / judge / continue run N (--from-run); outputs go to
    --output or to `ctx.artifacts`, the weights to the run folder."""
    if not ctx.dry_run:
        check(args)
    # imports torch: `repro list` must not
    from reproductions.gan_common import runs

    if ctx.from_run is not None:
        return runs.from_run(args, ctx, spec())
    return runs.train_run(args, ctx, resolve(args, ctx.dry_run), spec())
