"""The command line (`Args`) and the entry point of `papertrail repro style-transfer`.
The configurations (the papers' hyperparameters, cited) are in config.py.
Importing this module does not import torch.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reproductions.common import PriorRun, RunContext, RunResult, option
from reproductions.style_transfer import GATYS, JOHNSON
from reproductions.style_transfer.config import CAFFE_SCALE as CAFFE_SCALE  # re-export
from reproductions.style_transfer.config import FastTrainConfig, GatysConfig

if TYPE_CHECKING:
    import torch

    from reproductions.style_transfer.model import GatysObjective
    from reproductions.style_transfer.vgg import VGGFeatures


@dataclass
class Args:
    """Stylise a photo as an artwork (Gatys et al.), or train and run a fast network (Johnson et al.).

    Without --method, runs Gatys et al.'s optimisation: VGG-19, L-BFGS, 300
    steps. The ImageNet VGG weights (torchvision's file, ~550 MB) download on
    first use, checked against their SHA-256, or come from --weights PATH.

    \b
    Example:
        papertrail repro style-transfer --demo
        papertrail repro style-transfer --content photo.jpg --style starry.jpg -o out.png
        papertrail repro style-transfer --method fast --train --images coco/ --style starry.jpg -o starry.safetensors
        papertrail repro style-transfer --method fast --model starry.safetensors frames/ -o styled/
        papertrail repro style-transfer --dry-run
    """

    inputs: tuple[Path, ...] = option(
        (), "images or folders (e.g. video frames) to stylise with --method fast --model", argument=True,
        metavar="[IN]...",
    )  # fmt: skip
    method: Literal["gatys", "fast"] = option(
        "gatys", "gatys: optimise one image (slow); fast: a trained network (Johnson et al.)"
    )
    content: Path | None = option(None, "the photo (gatys)")
    style: Path | None = option(None, "the artwork (gatys, and fast --train)")
    output: Path | None = option(
        None, "output image (gatys), model file (--train) or folder (fast); default: the run's folder",
        short="-o",
    )  # fmt: skip
    demo: bool = option(False, "make a content and a style picture and run Gatys on them")
    size: int | None = option(
        None, "longer side, px (gatys 512, demo 256 on CPU; --train crops 256; fast: as is)"
    )
    steps: int = option(300, "gatys: optimisation steps")
    optimizer: Literal["lbfgs", "adam"] = option("lbfgs", "gatys: optimiser")
    init: Literal["noise", "content"] = option(
        "noise", "gatys: start from white noise or the photo"
    )
    pooling: Literal["avg", "max"] = option("avg", "VGG-19 pooling (gatys)")
    content_weight: float | None = option(None, "α / λ_c (default: the method's)")
    style_weight: float | None = option(None, "β / λ_s (default: the method's)")
    tv_weight: float | None = option(None, "total-variation weight (default: the method's)")
    lr: float | None = option(None, "step size / learning rate (default: the method's)")
    save_every: int = option(0, "gatys: also save every N-th step's image in the run folder")
    train: bool = option(False, "fast: train a network on --images for --style")
    images: Path | None = option(
        None, "fast --train: folder of training photos (e.g. COCO train2014)"
    )
    iterations: int | None = option(None, "fast --train: iterations (default 40,000)")
    batch_size: int | None = option(None, "fast: batch size (train 4, stylise 8)")
    model: Path | None = option(None, "fast: a model made by --train (.safetensors)")
    weights: Path | None = option(
        None, "VGG checkpoint in torchvision's layout (.pth or .safetensors)"
    )
    random_weights: bool = option(
        False, "use untrained VGG weights (tests only: the picture means nothing)"
    )


CONFIGS = (GatysConfig, FastTrainConfig)


def paper_for(args: Args) -> str:
    """The arXiv id a run with these arguments reproduces."""
    return JOHNSON.arxiv_id if args.method == "fast" else GATYS.arxiv_id


def check(args: Args) -> None:
    """Raise ValueError naming the option when the arguments do not make a run."""
    if args.method == "gatys":
        if args.inputs:
            raise ValueError(
                "input images (IN…) go with --method fast --model M; for gatys use --content"
            )
        if args.train or args.model or args.images:
            raise ValueError("--train, --model and --images go with --method fast")
        if not (args.demo or args.content and args.style):
            raise ValueError(
                "gatys needs --content PHOTO and --style ARTWORK (or --demo to make both, "
                "or --dry-run for a quick check)"
            )
        if args.demo and (args.content or args.style):
            raise ValueError(
                "--demo makes its own pictures: drop --content / --style, or drop --demo"
            )
    else:
        if args.demo:
            raise ValueError("--demo runs the Gatys method; for the fast network try --dry-run")
        if args.train:
            if args.inputs or args.model:
                raise ValueError(
                    "--train makes a model: stylise with it in a second command (--model)"
                )
            if not (args.images and args.style):
                raise ValueError("--method fast --train needs --images FOLDER and --style ARTWORK")
        elif not (args.model and args.inputs):
            raise ValueError(
                "--method fast needs --model M.safetensors and images or folders to stylise, "
                "or --train --images FOLDER --style ARTWORK to make a model"
            )
    for name in ("steps", "iterations", "batch_size", "size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")


FROM_RUN_HELP = "Stylise the images given with the network run N trained (--method fast --train)."


def check_from_run(args: Args, prior: PriorRun | None) -> None:
    """ValueError when run `prior` kept no trained network (nothing is recorded then)."""
    if prior is None:
        return
    if prior.weights is None:
        raise ValueError(
            f"--from-run {prior.id}: run #{prior.id} ({prior.status}) kept no trained network "
            "(only --method fast --train runs do)"
        )
    if args.train:
        raise ValueError("--from-run N stylises with run N's network: drop --train")


def args_from_run(args: Args, prior: PriorRun) -> Args:
    """--from-run N: --method fast with run N's network as --model (checked by check_from_run)."""
    return replace(args, method="fast", model=prior.weights) if prior.weights else args


def run(args: Args, ctx: RunContext) -> RunResult:
    """Run one style-transfer job; outputs go to --output or to `ctx.artifacts`."""
    if not ctx.dry_run:
        check(args)
    # imports torch: `repro list` must not
    from reproductions.common.runtime import seed_everything

    device = ctx.torch_device()
    seed_everything(ctx.seed)
    if args.method == "gatys":
        return _run_gatys(args, ctx, device)
    if args.train or (ctx.dry_run and not args.model):
        result = _run_train(args, ctx, device)
        if not ctx.dry_run:
            return result
        # A dry run goes on to stylise with the model it just trained.
        model = result.outputs[0]
        stylised = _run_stylize(replace(args, model=model), ctx, device)
        stylised.metrics = {
            **{f"train_{k}": v for k, v in result.metrics.items()},
            **stylised.metrics,
        }
        stylised.outputs = [model, *stylised.outputs]
        stylised.headline = f"{result.headline}; {stylised.headline}"
        stylised.weights = result.weights
        return stylised
    return _run_stylize(args, ctx, device)


def _vgg(
    args: Args, ctx: RunContext, arch: Literal["vgg16", "vgg19"], **kw: Any
) -> tuple[VGGFeatures, str]:
    # imports torch: `repro list` must not
    from reproductions.style_transfer.vgg import find_weights, load_vgg

    random = args.random_weights or (
        ctx.dry_run and args.weights is None and find_weights(arch) is None
    )
    net, what = load_vgg(
        arch,
        weights=args.weights,
        download=not ctx.dry_run,
        random=random,
        on_progress=lambda done, total: ctx.progress(f"downloading {arch}", done, total),
        **kw,
    )
    ctx.log(what)
    return net, what


def _deepest(arch: str, layers: list[str]) -> str:
    # imports torch: `repro list` must not
    from reproductions.style_transfer.vgg import layer_names

    names = layer_names(arch)
    return max(layers, key=names.index)


def _gatys_config(args: Args, ctx: RunContext, device: torch.device) -> GatysConfig:
    """The paper's configuration with the options given; tiny for a dry run."""
    default_size = 512 if (device.type != "cpu" or not args.demo) else 256
    cfg = GatysConfig(
        pooling=args.pooling,
        init=args.init,
        optimizer=args.optimizer,
        steps=min(args.steps, 3) if ctx.dry_run else args.steps,
        size=32 if ctx.dry_run else (args.size or default_size),
        lr=args.lr,
    )
    for name in ("content_weight", "style_weight", "tv_weight"):
        if getattr(args, name) is not None:
            cfg = replace(cfg, **{name: getattr(args, name)})
    return cfg


def _gatys_pictures(args: Args, ctx: RunContext, size: int) -> tuple[Path, Path]:
    """The content photo and the artwork: the options', or drawn here (--demo, dry runs)."""
    # imports torch: `repro list` must not
    from reproductions.style_transfer.data import write_demo_images

    content_path, style_path = args.content, args.style
    if args.demo or (ctx.dry_run and not (content_path and style_path)):
        content_path, style_path = write_demo_images(ctx.artifacts, size)
        ctx.log(f"made a content picture and a style picture in {ctx.artifacts}")
    assert content_path is not None and style_path is not None
    return content_path, style_path


def _run_gatys(args: Args, ctx: RunContext, device: torch.device) -> RunResult:
    # imports torch: `repro list` must not
    import torch

    from reproductions.common.images import load_image, save_image
    from reproductions.style_transfer.model import GatysObjective

    cfg = _gatys_config(args, ctx, device)
    content_path, style_path = _gatys_pictures(args, ctx, cfg.size)
    content = load_image(content_path, cfg.size).to(device)  # (1, 3, H, W)
    style = load_image(style_path, cfg.size).to(device)
    vgg, weights = _vgg(
        args, ctx, "vgg19", pooling=cfg.pooling,
        last_layer=_deepest("vgg19", [cfg.content_layer, *cfg.style_layers]),
    )  # fmt: skip
    objective = GatysObjective(vgg.to(device), content, style, cfg)
    image, history, seconds = _optimise(args, ctx, cfg, objective, content, device)
    with torch.no_grad():
        final, parts = objective(image)
    output = save_image(image, args.output or ctx.artifacts / "stylized.png")
    h, w = image.shape[-2:]
    metrics = _gatys_metrics(history, float(final), parts, cfg.steps, (h, w), seconds)
    headline = (
        f"loss {history[0]:.3g} → {float(final):.3g} in {cfg.steps} {cfg.optimizer} steps, "
        f"{w}×{h} px, {seconds:.1f} s"
    )
    config = {
        **asdict(cfg),
        "content": str(content_path),
        "style": str(style_path),
        "weights": weights,
    }
    return RunResult(GATYS.arxiv_id, headline, metrics, config, [output])


def _optimise(
    args: Args,
    ctx: RunContext,
    cfg: GatysConfig,
    objective: GatysObjective,
    content: torch.Tensor,
    device: torch.device,
) -> tuple[torch.Tensor, list[float], float]:
    """Optimise the picture from noise or the photo: (image, loss per step, seconds)."""
    # imports torch: `repro list` must not
    import torch

    from reproductions.common.images import save_image
    from reproductions.common.runtime import sync
    from reproductions.style_transfer.model import stylize

    init = torch.rand_like(content) if cfg.init == "noise" else content  # (1, 3, H, W)
    frames = ctx.artifacts / "steps"

    def on_step(step: int, loss: float, parts: dict[str, float], image: torch.Tensor) -> None:
        ctx.progress(cfg.optimizer, step, cfg.steps, loss=loss)
        if args.save_every and step % args.save_every == 0:
            save_image(image, frames / f"step-{step:05d}.png")

    sync(device)
    start = time.perf_counter()
    image, history = stylize(
        objective, init, steps=cfg.steps, optimizer=cfg.optimizer, lr=cfg.lr, on_step=on_step
    )
    sync(device)
    return image, history, time.perf_counter() - start


def _gatys_metrics(
    history: list[float],
    final: float,
    parts: dict[str, float],
    steps: int,
    shape: tuple[int, int],
    seconds: float,
) -> dict[str, Any]:
    """What a Gatys run reports: the losses, the picture's size, the time taken."""
    h, w = shape
    return {
        "loss_initial": history[0],
        "loss_final": final,
        "content_loss": parts["content"],
        "style_loss": parts["style"],
        "tv_loss": parts["tv"],
        "steps": steps,
        "height": h,
        "width": w,
        "seconds": round(seconds, 3),
        "ms_per_step": round(1000 * seconds / steps, 2),
    }


def _run_train(args: Args, ctx: RunContext, device: torch.device) -> RunResult:
    # imports torch: `repro list` must not
    from reproductions.style_transfer.data import write_demo_images, write_demo_photos
    from reproductions.style_transfer.train import train

    cfg = FastTrainConfig()
    overrides = {
        "iterations": args.iterations,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "image_size": args.size,
        "content_weight": args.content_weight,
        "style_weight": args.style_weight,
        "tv_weight": args.tv_weight,
    }
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    images, style = args.images, args.style
    if ctx.dry_run:
        cfg = replace(cfg, iterations=2, batch_size=2, image_size=32, style_size=32, workers=0)
        if not (images and style):
            images = write_demo_photos(ctx.artifacts / "photos", 4, 48)
            _, style = write_demo_images(ctx.artifacts, 32)
    assert images is not None and style is not None
    vgg, weights = _vgg(
        args, ctx, "vgg16", last_layer=_deepest("vgg16", [cfg.content_layer, *cfg.style_layers])
    )
    output = args.output or ctx.artifacts / "transformer.safetensors"
    metrics = train(
        cfg, images=images, style=style, output=output, vgg=vgg.to(device), device=device, ctx=ctx
    )
    headline = (
        f"trained {cfg.iterations} iterations at {cfg.image_size} px: loss {metrics['loss_final']:.3g}, "
        f"{metrics['images_per_s']:.1f} images/s"
    )
    config = {**asdict(cfg), "images": str(images), "style": str(style), "weights": weights}
    return RunResult(JOHNSON.arxiv_id, headline, metrics, config, [Path(output)], Path(output))


def _run_stylize(args: Args, ctx: RunContext, device: torch.device) -> RunResult:
    # imports torch: `repro list` must not
    from reproductions.common.images import image_files
    from reproductions.style_transfer.data import write_demo_photos
    from reproductions.style_transfer.train import load_model, stylize_files

    inputs = list(args.inputs)
    if ctx.dry_run and not inputs:
        inputs = [write_demo_photos(ctx.artifacts / "frames", 3, 32)]
    files = image_files(inputs)
    if not files:
        raise ValueError(f"no images in {', '.join(map(str, inputs))}")
    assert args.model is not None
    net = load_model(args.model).to(device)
    outdir = args.output or ctx.artifacts / "stylized"
    batch = args.batch_size or 8
    metrics = stylize_files(
        net, files, outdir, batch_size=batch, size=args.size, device=device, ctx=ctx
    )
    headline = (
        f"stylised {metrics['images']} images in {metrics['seconds']:.2f} s "
        f"({metrics['ms_per_image']:.1f} ms/image incl. I/O, batch {batch})"
    )
    config = {
        "model": str(args.model),
        "inputs": [str(p) for p in inputs],
        "batch_size": batch,
        "size": args.size,
    }
    return RunResult(JOHNSON.arxiv_id, headline, metrics, config, [Path(outdir)])
