"""Configurations (the papers' hyperparameters, cited) and the entry point of
`papertrail repro wgan`. Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reproductions.common import PriorRun, RunContext, RunResult, option
from reproductions.wgan import WGAN, WGAN_GP

if TYPE_CHECKING:
    from reproductions.gan_common.data import RealData
    from reproductions.gan_common.runs import GanSpec


@dataclass
class WGANConfig:
    """Arjovsky, Chintala & Bottou 2017 (arXiv 1701.07875): Algorithm 1 and §4 (LSUN bedrooms)."""

    objective: Literal["clip", "gp"] = option(
        "clip", "how the critic is kept Lipschitz", paper="Alg. 1: weight clipping"
    )
    clip: float = option(
        0.01, "c: every critic weight clamped to [−c, c]", paper="Alg. 1: c = 0.01"
    )
    gp_weight: float = option(0.0, "λ of the gradient penalty (unused with clipping)", paper="—")
    optimizer: Literal["rmsprop", "adam"] = option(
        "rmsprop",
        "optimiser of both nets",
        paper="Alg. 1 / §3: RMSProp (Adam made training unstable)",
    )
    lr: float = option(5e-5, "learning rate α", paper="Alg. 1: α = 0.00005")
    beta1: float = option(0.0, "Adam β1 (unused with RMSProp)", paper="—")
    beta2: float = option(0.9, "Adam β2 (unused with RMSProp)", paper="—")
    n_critic: int = option(5, "critic updates per generator update", paper="Alg. 1: n_critic = 5")
    warmup: bool = option(
        True,
        "100 critic updates before the first 25 and every 500th generator update",
        paper="the authors' code (main.py, Diters = 100); not in the paper's text",
    )
    warmup_critic_iters: int = option(
        100, "critic updates during the warm-up", paper="the authors' code"
    )
    batch_size: int = option(64, "m, samples per batch", paper="Alg. 1: m = 64")
    noise_dim: int = option(100, "z dimensions", paper="§4: the DCGAN generator (z ∈ R^100)")
    width: int = option(
        64,
        "channels next to the image (doubling inwards)",
        paper="the authors' code: ngf = ndf = 64",
    )
    depth: int = option(3, "hidden layers (2-D MLPs only)", paper="—")
    mlp_init: Literal["torch", "he"] = option(
        "torch", "initialisation of the 2-D MLPs (torch: PyTorch's default)", paper="—"
    )
    critic_norm: Literal["batch", "layer", "none"] = option(
        "batch",
        "normalisation in the critic",
        paper="§4: the DCGAN discriminator, batch norm included",
    )
    image_size: int = option(64, "images are size × size px", paper="§4: LSUN bedrooms at 64 × 64")
    steps: int = option(
        20_000, "generator updates", paper="not given as steps (the authors' code: 25 epochs)"
    )
    lr_decay: bool = option(
        False, "decay the learning rate linearly to 0", paper="not in the paper"
    )
    ema_decay: float = option(
        0.0,
        "β of an exponential moving average of G's weights used for samples (0: off)",
        paper="not in the paper",
    )


@dataclass
class WGANGPConfig(WGANConfig):
    """Gulrajani et al. 2017 (arXiv 1704.00028): Algorithm 1 and §4 ("no critic batch normalization")."""

    objective: Literal["clip", "gp"] = option(
        "gp", "how the critic is kept Lipschitz", paper="eq. 3: gradient penalty"
    )
    gp_weight: float = option(10.0, "λ", paper="Alg. 1: λ = 10")
    optimizer: Literal["rmsprop", "adam"] = option(
        "adam", "optimiser of both nets", paper="Alg. 1: Adam"
    )
    lr: float = option(1e-4, "learning rate α", paper="Alg. 1: α = 0.0001")
    beta1: float = option(0.0, "Adam β1", paper="Alg. 1: β1 = 0")
    beta2: float = option(0.9, "Adam β2", paper="Alg. 1: β2 = 0.9")
    warmup: bool = option(
        False, "100-critic-update warm-up", paper="Alg. 1: n_critic = 5 throughout"
    )
    critic_norm: Literal["batch", "layer", "none"] = option(
        "layer",
        "normalisation in the critic",
        paper="§4: no batch norm in the critic; layer norm recommended",
    )


@dataclass
class Toy2DConfig:
    """The 2-D mixtures (ring of 8, grid of 25): MLP generator and critic, as in the toy experiments."""

    noise_dim: int = option(
        2, "z dimensions", paper="PacGAN §5.1 (after VEEGAN): noise of dimension 2"
    )
    width: int = option(
        128,
        "units per hidden layer",
        paper="WGAN-GP's toy code: 512; 128 here (CPU budget, README)",
    )
    depth: int = option(3, "hidden ReLU layers", paper="WGAN-GP's toy code (gan_toy.py): 3")
    mlp_init: Literal["torch", "he"] = option(
        "he",
        "initialisation: he = uniform, sd √(2/fan_in) in the ReLU layers",
        paper="WGAN-GP's toy code (gan_toy.py, tflib Linear: initialization='he')",
    )
    batch_size: int = option(256, "points per batch", paper="WGAN-GP's toy code: 256")
    critic_norm: Literal["batch", "layer", "none"] = option(
        "none", "normalisation in the MLP critic", paper="WGAN-GP's toy code: none"
    )
    steps: int = option(
        10_000,
        "generator updates",
        paper="not the papers' (100k in gan_toy.py); CPU budget, README",
    )
    lr: float | None = option(
        2e-3,
        "learning rate for the 2-D runs (None: the paper's)",
        paper="ours: 20× Alg. 1's 1e-4, measured (README)",
    )
    lr_decay: bool = option(
        True,
        "decay the learning rate linearly to 0",
        paper="WGAN-GP's CIFAR-10 code (gan_cifar_resnet.py, DECAY); ours for 2-D",
    )
    ema_decay: float = option(
        0.99,
        "β of the moving average of G's weights that samples and metrics use (0: raw G)",
        paper="Yazıcı et al. 2018 (arXiv 1806.04498), not in the WGAN papers",
    )


@dataclass
class Args:
    """Train a Wasserstein GAN: weight clipping (Arjovsky et al.) or gradient penalty (Gulrajani et al.).

    --dataset ring / grid trains MLPs on a 2-D mixture of Gaussians and reports
    modes captured and % high-quality samples; mnist (downloaded once into the
    cache, checked against its SHA-256, or --data DIR with the IDX files) and
    folder:PATH train the DCGAN networks and write sample grids every
    --sample-every steps. Losses and the Wasserstein estimate go to
    losses.csv and losses.png in the run folder.

    \b
    Example:
        papertrail repro wgan --mode gp --dataset ring
        papertrail repro wgan --mode clip --dataset mnist --data ~/mnist --steps 5000
        papertrail repro wgan --from-run 7 --sample 64      # 64 new digits from run 7
        papertrail repro wgan --mode gp --dataset folder:faces/ --image-size 64 -o runs/wgan-gp
        papertrail repro wgan --dry-run
    """

    mode: Literal["clip", "gp"] = option(
        "clip", "clip: WGAN (1701.07875); gp: WGAN-GP (1704.00028)"
    )
    dataset: str = option("ring", "ring, grid, mnist, synthetic or folder:PATH", metavar="NAME")
    data: Path | None = option(
        None, "mnist: folder holding the IDX files (default: download to the cache)"
    )
    steps: int | None = option(None, "generator updates (default: the config's)")
    batch_size: int | None = option(None, "samples per batch (default: the config's)")
    image_size: int | None = option(
        None, "image side, px: 4·2^k (default 32 for mnist/synthetic, 64 for folders)"
    )
    width: int | None = option(None, "network width (channels, or MLP units for 2-D)")
    lr: float | None = option(None, "learning rate (default: the config's)")
    n_critic: int | None = option(None, "critic updates per generator update (default 5)")
    clip: float | None = option(None, "clip: weight bound c (default 0.01)")
    gp_weight: float | None = option(None, "gp: penalty weight λ (default 10)")
    ema_decay: float | None = option(
        None,
        "β of the moving average of G's weights used for samples; 0: off (default 0.99 for 2-D)",
    )
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


CONFIGS = (WGANConfig, WGANGPConfig, Toy2DConfig)
FROM_RUN_HELP = (
    "Start from run N's weights: --sample K new images, --evaluate (MNIST judge), or, alone, "
    "train on from its last checkpoint (a killed run finishes; --steps M trains a finished one on)."
)


def paper_for(args: Args) -> str:
    """The arXiv id a run with these arguments reproduces."""
    return WGAN_GP.arxiv_id if args.mode == "gp" else WGAN.arxiv_id


def check(args: Args) -> None:
    """Raise ValueError naming the option when the arguments do not make a run."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.data import check_common

    if args.mode == "gp" and args.clip is not None:
        raise ValueError("--clip goes with --mode clip (the gradient penalty replaces clipping)")
    if args.mode == "clip" and args.gp_weight is not None:
        raise ValueError("--gp-weight goes with --mode gp")
    check_common(
        args,
        counts=("steps", "batch_size", "width", "n_critic"),
        positives=("lr", "clip", "gp_weight"),
    )
    if args.ema_decay is not None and not 0 <= args.ema_decay < 1:
        raise ValueError(f"--ema-decay must be in [0, 1) (0: no averaging), got {args.ema_decay}")


def resolve(args: Args, dry_run: bool = False) -> WGANConfig:
    """The effective configuration: the paper's, the 2-D settings for ring/grid, then the options."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.data import parse_dataset

    kind, _ = parse_dataset(args.dataset)
    cfg: WGANConfig = WGANGPConfig() if args.mode == "gp" else WGANConfig()
    if kind in ("ring", "grid"):
        toy = Toy2DConfig()
        fields = {k: v for k, v in asdict(toy).items() if v is not None}
        cfg = replace(cfg, **fields)
    elif kind in ("mnist", "synthetic"):
        cfg = replace(cfg, image_size=32)
    overrides = {
        "steps": args.steps, "batch_size": args.batch_size, "image_size": args.image_size,
        "width": args.width, "lr": args.lr, "n_critic": args.n_critic, "clip": args.clip,
        "gp_weight": args.gp_weight, "ema_decay": args.ema_decay,
    }  # fmt: skip
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if dry_run:
        cfg = replace(
            cfg, steps=min(cfg.steps, 4), batch_size=min(cfg.batch_size, 16), width=8,
            image_size=16, warmup_critic_iters=2, n_critic=min(cfg.n_critic, 2),
        )  # fmt: skip
    return cfg


def check_from_run(args: Args, prior: PriorRun | None) -> None:
    """ValueError when --from-run N cannot do what the options ask (nothing is recorded then)."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.runs import check_from_run as check_prior

    check_prior(args, prior)


def spec() -> GanSpec:
    """What `gan_common.runs` needs to train, sample and judge a WGAN."""
    # imports torch: `repro list` must not
    from reproductions.gan_common.runs import GanSpec
    from reproductions.wgan.train import build, train

    return GanSpec(
        arxiv_id=lambda cfg: (WGAN_GP if cfg.objective == "gp" else WGAN).arxiv_id,
        label=lambda cfg: "WGAN-GP" if cfg.objective == "gp" else "WGAN",
        config_type=WGANConfig, build=build, train=train, columns=_columns,
        finals=["wasserstein", "critic_loss", "generator_loss"], headline=_headline,
    )  # fmt: skip


def _columns(cfg: Any) -> list[str]:
    columns = ["critic_loss", "generator_loss", "wasserstein"]
    return columns + (["gradient_penalty"] if cfg.objective == "gp" else [])


def _headline(name: str, cfg: Any, data: RealData, metrics: dict[str, Any]) -> str:
    return (
        f"{name} on {data.name} ({cfg.image_size} px): {cfg.steps} steps, "
        f"Wasserstein estimate {metrics['wasserstein_final']:.4g}, {metrics['steps_per_s']:.2f} steps/s"
    )


def run(args: Args, ctx: RunContext) -> RunResult:
    """Train one WGAN, or sample / judge / continue run N (--from-run); outputs go to
    --output or to `ctx.artifacts`, the weights to the run folder."""
    if not ctx.dry_run:
        check(args)
    # imports torch: `repro list` must not
    from reproductions.gan_common import runs

    if ctx.from_run is not None:
        return runs.from_run(args, ctx, spec())
    return runs.train_run(args, ctx, resolve(args, ctx.dry_run), spec())
