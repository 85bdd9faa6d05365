"""Configurations (the papers' hyperparameters, cited) and the entry point of
`papertrail repro densenet`. Importing this module does not import torch.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reproductions.common import PriorRun, RunContext, RunResult, option
from reproductions.densenet import HUANG, PLEISS

if TYPE_CHECKING:
    from torch import nn

    from reproductions.densenet.data import ImageData
    from reproductions.densenet.train import Distributed

DATASETS = ("cifar10", "cifar100", "synthetic")


@dataclass
class ModelConfig:
    """Huang et al. 2016 (arXiv 1608.06993), §3 "Implementation Details" and Table 2: 32 px models."""

    depth: int = option(100, "L: 3n+4 (DenseNet) or 6n+4 (DenseNet-BC)", paper="Table 2: 40, 100, 190, 250")  # fmt: skip
    growth_rate: int = option(12, "k: channels each layer adds", paper="Table 2: 12, 24, 40")
    bc: bool = option(
        False, "bottleneck (1×1 conv to 4k) + compression θ = 0.5",
        paper="§3 'Bottleneck layers', 'Compression'",
    )  # fmt: skip
    blocks: int = option(3, "dense blocks of equal size", paper="§3: three blocks for CIFAR")
    init_channels: str = option("16, or 2k for BC", "first conv's channels", paper="§3 Implementation Details")  # fmt: skip
    dropout: float = option(
        0.0, "after each conv but the first: 0.2 without augmentation",
        paper="§4.2: dropout 0.2 for C10, C100, SVHN",
    )  # fmt: skip
    efficient: bool = option(
        False, "recompute concat → BN → ReLU → first conv in backward",
        paper="Pleiss et al. §3-4 (arXiv 1707.06990)",
    )  # fmt: skip


@dataclass
class TrainConfig:
    """Huang et al. 2016, §4.1 "Datasets" and §4.2 "Training" (CIFAR)."""

    epochs: int = option(300, "epochs", paper="§4.2: 300 epochs on CIFAR")
    batch_size: int = option(64, "global batch (split across torchrun processes)", paper="§4.2: batch size 64")  # fmt: skip
    lr: float = option(0.1, "initial learning rate", paper="§4.2: 0.1")
    lr_milestones: tuple[float, ...] = option(
        (0.5, 0.75), "fractions of the epochs where lr is divided", paper="§4.2: 50 % and 75 %"
    )
    lr_factor: float = option(0.1, "lr multiplier at each milestone", paper="§4.2: divided by 10")
    momentum: float = option(0.9, "Nesterov momentum", paper="§4.2: Nesterov momentum 0.9 without dampening")  # fmt: skip
    nesterov: bool = option(True, "Nesterov", paper="§4.2")
    weight_decay: float = option(1e-4, "weight decay (all parameters)", paper="§4.2: 1e-4")
    augment: bool = option(
        True, "4 px zero padding + random 32 px crop + horizontal flip ('+' settings)",
        paper="§4.1: the standard augmentation (C10+, C100+)",
    )  # fmt: skip
    pad: int = option(4, "padding for random crops, px", paper="§4.1 (He et al.'s scheme)")


@dataclass
class Args:
    """Train a DenseNet on CIFAR-10/100 (Huang et al.), optionally memory-efficient (Pleiss et al.).

    Defaults are the paper's: DenseNet L=100, k=12 (--bc for DenseNet-BC), 300
    epochs, batch 64, SGD + Nesterov, lr 0.1 ÷10 at 50 % and 75 %, standard
    augmentation (C10+). CIFAR downloads into the cache (SHA-256 checked) or
    comes from --data-dir. Several GPUs: torchrun --nproc-per-node N -m papertrail repro densenet ...

    \b
    Example:
        papertrail repro densenet --depth 100 --growth-rate 12 --bc --dataset cifar10
        papertrail repro densenet --dataset synthetic --depth 40 --bc --epochs 10
        papertrail repro densenet --bc --depth 250 --growth-rate 24 --efficient --amp
        papertrail repro densenet --dataset cifar100 --no-augment   # C100: dropout 0.2
        papertrail repro densenet --dry-run
    """

    depth: int = option(100, "L (3n+4, or 6n+4 with --bc)")
    growth_rate: int = option(12, "k")
    bc: bool = option(False, "DenseNet-BC: bottleneck layers + compression 0.5")
    dataset: str = option(
        "cifar10", "cifar10, cifar100, synthetic, or folder:PATH (PATH/train/<class>/…, PATH/test/…)",
        metavar="NAME",
    )  # fmt: skip
    data_dir: Path | None = option(
        None, "folder holding the CIFAR .tar.gz (or extracted batches): no download"
    )
    epochs: int | None = option(None, "epochs (default 300)")
    batch_size: int | None = option(None, "global batch size (default 64)")
    lr: float | None = option(None, "initial learning rate (default 0.1)")
    no_augment: bool = option(False, "no augmentation (C10/C100 settings): dropout 0.2")
    dropout: float | None = option(None, "dropout rate (default 0.2 with --no-augment, else 0)")
    efficient: bool = option(
        False, "memory-efficient mode (Pleiss et al.): same results, less memory"
    )
    amp: bool = option(False, "bf16 autocast")
    channels_last: bool = option(False, "channels_last memory format")
    compile: bool = option(False, "torch.compile the model")
    limit: int | None = option(None, "train on the first N images only (quick runs)")
    eval_every: int = option(1, "test every N epochs (and after the last)")
    resume: Path | None = option(None, "continue from a run's checkpoint.pt")
    output: Path | None = option(
        None, "where to write the trained weights (.safetensors); default: the run folder",
        short="-o",
    )  # fmt: skip


CONFIGS = (ModelConfig, TrainConfig)
DRY_RUN = {"depth": 16, "growth_rate": 6, "bc": True, "epochs": 2, "batch_size": 32,
           "train": 256, "test": 128}  # fmt: skip


def paper_for(args: Args) -> str:
    """The arXiv id a run reproduces: Pleiss et al. for --efficient, else Huang et al."""
    return PLEISS.arxiv_id if args.efficient else HUANG.arxiv_id


def check_depth(depth: int, bc: bool) -> None:
    per_layer = 2 if bc else 1
    if depth < 4 + 3 * per_layer or (depth - 4) % (3 * per_layer):
        raise ValueError(
            f"--depth {depth}: DenseNet-BC depths are 6n+4 (40, 100, 190, 250 …)"
            if bc
            else f"--depth {depth}: DenseNet depths are 3n+4 (40, 100 …); with --bc, 6n+4"
        )


def check(args: Args) -> None:
    """Raise ValueError naming the option when the arguments do not make a run."""
    check_depth(args.depth, args.bc)
    if args.growth_rate < 1:
        raise ValueError(f"--growth-rate must be at least 1 (got {args.growth_rate})")
    if args.dataset not in DATASETS and not args.dataset.startswith("folder:"):
        raise ValueError(
            f"--dataset {args.dataset}: use cifar10, cifar100, synthetic or folder:PATH"
        )
    if args.dataset.startswith("folder:"):
        folder = Path(args.dataset.removeprefix("folder:")).expanduser()
        if not folder.is_dir():
            raise ValueError(f"--dataset {args.dataset}: {folder} is not a folder")
    if args.data_dir is not None and args.dataset not in ("cifar10", "cifar100"):
        raise ValueError("--data-dir goes with --dataset cifar10 or cifar100")
    if args.data_dir is not None and not args.data_dir.exists():
        raise ValueError(f"--data-dir {args.data_dir}: no such file or folder")
    for name in ("epochs", "limit", "eval_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    if args.batch_size is not None and args.batch_size < 2:
        raise ValueError(f"--batch-size must be at least 2 (batch norm), got {args.batch_size}")
    if args.lr is not None and args.lr <= 0:
        raise ValueError(f"--lr must be positive (got {args.lr})")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout must be in [0, 1) (got {args.dropout})")
    if args.resume is not None and not args.resume.is_file():
        raise ValueError(f"--resume {args.resume}: no such file")
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    batch = args.batch_size or TrainConfig().batch_size
    if batch % world:
        raise ValueError(f"--batch-size {batch} does not split evenly over {world} processes")


def configs(args: Args, dry_run: bool) -> tuple[ModelConfig, TrainConfig]:
    """The effective model and training configuration for these arguments."""
    tcfg = TrainConfig(augment=not args.no_augment)
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr}
    tcfg = replace(tcfg, **{k: v for k, v in overrides.items() if v is not None})
    dropout = args.dropout if args.dropout is not None else (0.2 if args.no_augment else 0.0)
    mcfg = ModelConfig(
        depth=args.depth, growth_rate=args.growth_rate, bc=args.bc, dropout=dropout,
        efficient=args.efficient,
        init_channels=str(2 * args.growth_rate if args.bc else 16),
    )  # fmt: skip
    if dry_run:
        mcfg = replace(
            mcfg, depth=DRY_RUN["depth"], growth_rate=DRY_RUN["growth_rate"], bc=True,
            init_channels=str(2 * DRY_RUN["growth_rate"]),
        )  # fmt: skip
        tcfg = replace(tcfg, epochs=DRY_RUN["epochs"], batch_size=DRY_RUN["batch_size"])
    return mcfg, tcfg


FROM_RUN_HELP = (
    "Continue run N from its checkpoint.pt (as --resume RUN_FOLDER/checkpoint.pt): a killed run "
    "goes on from its last finished epoch; pass the options it ran with."
)


def check_from_run(args: Args, prior: PriorRun | None) -> None:
    """ValueError when run `prior` has no checkpoint to continue (nothing is recorded then)."""
    if prior is None:
        return
    if prior.file("checkpoint.pt") is None:
        raise ValueError(f"--from-run {prior.id}: run #{prior.id} has no checkpoint.pt")


def args_from_run(args: Args, prior: PriorRun) -> Args:
    """--from-run N: --resume with run N's checkpoint."""
    return replace(args, resume=prior.file("checkpoint.pt"))


def run(args: Args, ctx: RunContext) -> RunResult:
    """Train (and test) one DenseNet; weights and checkpoints go to --output / `ctx.artifacts`."""
    if not ctx.dry_run:
        check(args)
    # imports torch: `repro list` must not
    from reproductions.common.runtime import seed_everything
    from reproductions.densenet.train import setup_distributed, teardown_distributed, train

    device_type = _device_type(ctx)
    d = setup_distributed(device_type)
    try:
        if d.enabled and device_type == "cuda":
            ctx.device = f"cuda:{d.local_rank}"
        device = ctx.torch_device()
        seed_everything(ctx.seed)
        mcfg, tcfg = configs(args, ctx.dry_run)
        data = _dataset(args, ctx, d)
        model, params = _model(mcfg, data, ctx, d)
        checkpoint = ctx.artifacts / "checkpoint.pt" if d.is_main else None
        metrics = train(
            model, data, tcfg, device=device, ctx=ctx, d=d, checkpoint_path=checkpoint,
            resume=args.resume, amp=args.amp, channels_last=args.channels_last,
            compile_model=args.compile, eval_every=args.eval_every,
        )  # fmt: skip
        outputs = _save(args, ctx, model, checkpoint) if d.is_main else []
    finally:
        teardown_distributed(d)
    metrics = {"parameters": params, "dataset": data.name, **metrics}
    return _result(args, mcfg, tcfg, data, metrics, d.world_size, outputs)


def _device_type(ctx: RunContext) -> str:
    """The kind of device the run will use ("cuda", "cpu", …); a dry run the CPU unless told."""
    # imports torch: `repro list` must not
    import torch

    if ctx.dry_run:
        ctx.device = "cpu" if ctx.device == "auto" else ctx.device
    probe = ctx.device if ctx.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(probe).type


def _dataset(args: Args, ctx: RunContext, d: Distributed) -> ImageData:
    """The training and test images: CIFAR, a folder, or generated (dry runs: a small set)."""
    # imports torch: `repro list` must not
    import torch

    from reproductions.densenet.data import load_dataset, make_synthetic

    def on_download(done: int, total: int) -> None:
        if d.is_main:
            ctx.progress(f"downloading {args.dataset}", done, total)

    if ctx.dry_run and args.dataset in DATASETS:
        data = make_synthetic(DRY_RUN["train"], DRY_RUN["test"], seed=ctx.seed)
    else:
        # Rank 0 downloads (into the cache); the others read what it verified.
        if d.enabled and not d.is_main:
            torch.distributed.barrier()
        data = load_dataset(
            args.dataset, args.data_dir, download=not ctx.dry_run, on_progress=on_download,
            seed=ctx.seed,
        )  # fmt: skip
        if d.enabled and d.is_main:
            torch.distributed.barrier()
    return data.limit(args.limit) if args.limit else data


def _model(
    mcfg: ModelConfig, data: ImageData, ctx: RunContext, d: Distributed
) -> tuple[nn.Module, int]:
    """The DenseNet for `data`'s classes and its parameter count; rank 0 says what it trains."""
    # imports torch: `repro list` must not
    from reproductions.densenet.model import count_parameters, densenet

    model = densenet(
        mcfg.depth, mcfg.growth_rate, bc=mcfg.bc, num_classes=data.num_classes,
        dropout=mcfg.dropout, efficient=mcfg.efficient,
    )  # fmt: skip
    params = count_parameters(model)
    if d.is_main:
        kind = "DenseNet-BC" if mcfg.bc else "DenseNet"
        ctx.log(
            f"{kind} L={mcfg.depth} k={mcfg.growth_rate}: {params / 1e6:.3f}M parameters; "
            f"{data.name}: {len(data.train_x)} training / {len(data.test_x)} test images, "
            f"{data.num_classes} classes; {d.world_size} process(es) on {ctx.device_label}"
        )
    return model, params


def _save(args: Args, ctx: RunContext, model: nn.Module, checkpoint: Path | None) -> list[Path]:
    """Write the trained weights (safetensors); the files the run leaves, checkpoint included."""
    from safetensors.torch import save_file

    weights = Path(args.output or ctx.artifacts / "densenet.safetensors")
    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(weights), metadata={"arch": repr(model.arch)})
    outputs = [weights]
    if checkpoint is not None and checkpoint.exists():
        outputs.append(checkpoint)
    return outputs


def _result(
    args: Args,
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    data: ImageData,
    metrics: dict[str, Any],
    world_size: int,
    outputs: list[Path],
) -> RunResult:
    """The headline in the paper's terms (C10+ test error, …) and the effective configuration."""
    params = metrics["parameters"]
    setting = (
        "C10" if data.name == "cifar10" else "C100" if data.name == "cifar100" else data.name
    ) + ("+" if tcfg.augment else "")
    error = metrics["test_error"]
    headline = (
        f"{'DenseNet-BC' if mcfg.bc else 'DenseNet'} L={mcfg.depth} k={mcfg.growth_rate} "
        f"({params / 1e6:.2f}M): {setting} test error {error:.2f} % after {tcfg.epochs} epochs"
        f"{' (efficient)' if mcfg.efficient else ''}, {metrics['train_images_per_s']} images/s"
    )
    config = {
        "model": asdict(mcfg),
        "train": asdict(tcfg),
        "dataset": data.name,
        "data_source": data.source,
        "train_images": len(data.train_x),
        "test_images": len(data.test_x),
        "amp": args.amp,
        "channels_last": args.channels_last,
        "compile": args.compile,
        "world_size": world_size,
    }
    weights = next((p for p in outputs if p.suffix == ".safetensors"), None)
    return RunResult(paper_for(args), headline, metrics, config, outputs, weights)
