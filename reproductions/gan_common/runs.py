"""What `papertrail repro dcgan` and `wgan` do, from start to the judged table (issue 21).

- `train_run`: open the data, train under a `Monitor` that checkpoints as it
  goes, save the final weights (safetensors), judge the samples on MNIST.
- `from_run` (`--from-run N`): sample new images from run N's weights
  (`--sample K`), judge them (`--evaluate`), or go on training from its last
  checkpoint (a killed run finishes; a finished one trains on to `--steps`).

Each reproduction hands in a `GanSpec`: its networks, its training loop, its
loss columns and how its one-line result reads.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from reproductions.common import PriorRun, RunContext, RunResult
from reproductions.common.weights import CHECKPOINT_FILE, WeightsError
from reproductions.gan_common import report
from reproductions.gan_common.data import RealData, parse_dataset
from reproductions.gan_common.keep import Keeper, Kept, load_kept, read_checkpoint
from reproductions.gan_common.loop import TrainFn, modes_headline, prepare, sample, train_monitored

JUDGE_SAMPLES = 2000


@dataclass(frozen=True)
class GanSpec:
    """What differs between the GAN reproductions."""

    arxiv_id: Callable[[Any], str]  # cfg -> the paper's arXiv id
    label: Callable[[Any], str]  # cfg -> "DCGAN", "WGAN", "WGAN-GP"
    config_type: type  # the config dataclass (rebuilt from a run's saved config)
    build: Callable[[Any, RealData], tuple[torch.nn.Module, torch.nn.Module]]
    train: TrainFn
    columns: Callable[[Any], list[str]]  # cfg -> the loss log's columns
    finals: list[str]  # the columns plotted in losses.png
    headline: Callable[[str, Any, RealData, dict[str, Any]], str]  # images' one-line result


def _saved_config(cfg: Any, args: Any, data: RealData, split: str | None) -> dict[str, Any]:
    """What a run's weights and checkpoints carry: enough to rebuild and reopen everything."""
    return {
        **dataclasses.asdict(cfg),
        "dataset": args.dataset,
        "data": str(args.data) if args.data is not None else None,
        "split": split,
        "shape": list(data.shape),
    }


def train_run(
    args: Any, ctx: RunContext, cfg: Any, spec: GanSpec, resume: dict[str, Any] | None = None
) -> RunResult:
    """Train one GAN (or go on training from `resume`, a checkpoint); judge it on MNIST."""
    device, folder, data = prepare(args, ctx, cfg)
    gen, other = spec.build(cfg, data)
    every = args.checkpoint_every if args.checkpoint_every is not None else max(1, cfg.steps // 20)
    split = getattr(data, "split", None)
    keeper = Keeper(folder, _saved_config(cfg, args, data, split), every, resume)
    if resume is not None:
        ctx.log(f"continuing from step {resume['step']} of {cfg.steps} ({resume['source']})")
    metrics, outputs = train_monitored(
        cfg, gen, other, data, spec.train, columns=spec.columns(cfg), finals=spec.finals,
        folder=folder, sample_every=args.sample_every, device=device, seed=ctx.seed,
        on_progress=lambda s, n, m: ctx.progress("training", s, n, **m), keeper=keeper,
    )  # fmt: skip
    weights = folder / "weights.safetensors"
    outputs.append(folder / CHECKPOINT_FILE)
    name = spec.label(cfg)
    if data.is_2d:
        headline = modes_headline(name, data, metrics, cfg.steps)
    else:
        headline = spec.headline(name, cfg, data, metrics)
        judged = _judge(args, ctx, keeper.config, _sampler(gen, other, keeper, device), folder)
        if judged is not None:
            metrics.update(judged[0])
            outputs.append(judged[1])
            headline += f"; {judged[2]}"
    if resume is not None:
        metrics["resumed_from_step"] = int(resume["step"])
    return RunResult(spec.arxiv_id(cfg), headline, metrics, keeper.config, outputs, weights)


def _sampler(
    gen: torch.nn.Module, other: torch.nn.Module, keeper: Keeper, device: torch.device
) -> Callable[[int, int], torch.Tensor]:
    """n samples (seeded) from the weights the run keeps (the moving average when it has one)."""
    from reproductions.gan_common.keep import load_kept

    def draw(n: int, seed: int) -> torch.Tensor:
        kept = load_kept(keeper.folder)
        gen.load_state_dict(kept.sampling_generator())
        return sample(gen.to(device), n, device, seed=seed)

    return draw


def _judge(
    args: Any,
    ctx: RunContext,
    config: dict[str, Any],
    draw: Callable[[int, int], torch.Tensor],
    folder: Path,
) -> tuple[dict[str, Any], Path, str] | None:
    """The MNIST judge's figures for these samples next to the real data's: (metrics, table file,
    a headline clause); None when the data is not MNIST or --no-judge says so."""
    kind, _ = parse_dataset(config["dataset"])
    if kind != "mnist" or args.no_judge:
        return None
    # imports the judge (torch) only for MNIST runs
    from reproductions.gan_common import judge

    data_dir = args.data if args.data is not None else config.get("data")
    if ctx.dry_run and data_dir is None:
        data_dir = ctx.artifacts / "mnist-format"  # the dry run's synthetic IDX files
    n = 64 if ctx.dry_run else args.judge_samples
    verdict = judge.judge_samples(
        draw(n, ctx.seed + 1), data_dir=Path(data_dir) if data_dir else None,
        image_size=int(config["image_size"]), quick=ctx.dry_run, log=ctx.log,
        on_progress=lambda task, d, t: ctx.progress(task, d, t),
    )  # fmt: skip
    table = verdict.table()
    for line in table.splitlines():
        ctx.log(line)
    path = folder / "judge.md"
    path.write_text(table + "\n", encoding="utf-8")
    return verdict.metrics(), path, verdict.headline()


# ---------------------------------------------------------------- --from-run


def check_from_run(args: Any, prior: PriorRun | None) -> None:
    """ValueError when run `prior` cannot serve what the options ask (before anything is recorded);
    `prior` None: no --from-run, so --sample and --evaluate have nothing to work on."""
    if prior is None:
        if args.sample is not None or args.evaluate:
            flag = "--sample" if args.sample is not None else "--evaluate"
            raise ValueError(f"{flag} works on a finished run's weights: add --from-run N")
        return
    if args.sample is not None and args.evaluate:
        raise ValueError("--sample and --evaluate: one at a time")
    kept = prior.weights or prior.file("weights.safetensors") or prior.file(CHECKPOINT_FILE)
    if kept is None:
        raise ValueError(
            f"--from-run {prior.id}: run #{prior.id} ({prior.status}) kept no weights and no "
            "checkpoint (it ran before runs kept them, or stopped before its first checkpoint)"
        )
    # What run N trained on: its resolved config; a killed run has only its options, which
    # say nothing when it was itself continued from another run (run() checks the weights then).
    recorded = prior.config.get("resolved") or (
        {} if "from_run" in prior.config else prior.config.get("args") or {}
    )
    trained_on = recorded.get("dataset")
    if args.evaluate and trained_on and parse_dataset(trained_on)[0] != "mnist":
        raise ValueError(
            f"--evaluate: the judge is for MNIST; run #{prior.id} trained on {trained_on}"
        )
    if args.sample is None and not args.evaluate:
        _resume_point(args, prior)


def _resume_point(args: Any, prior: PriorRun) -> tuple[dict[str, Any], int, int]:
    """(checkpoint, steps done, steps to reach) for training on from `prior`; ValueError when
    there is nothing to continue from or nothing left to do."""
    ckpt = prior.file(CHECKPOINT_FILE)
    if ckpt is None:
        raise ValueError(
            f"--from-run {prior.id}: run #{prior.id} has no {CHECKPOINT_FILE} to continue from "
            "(--sample K or --evaluate use its weights)"
        )
    try:
        state = read_checkpoint(ckpt)
    except WeightsError as e:
        raise ValueError(f"--from-run {prior.id}: {e}") from None
    done = int(state["step"])
    target = args.steps if args.steps is not None else int(state["config"]["steps"])
    if target <= done:
        raise ValueError(
            f"--from-run {prior.id}: run #{prior.id} has trained {done} of its {target} steps; "
            f"pass --steps M (more than {done}) to train on, or --sample K / --evaluate"
        )
    state["source"] = f"run #{prior.id}, {ckpt}"
    state["losses"] = str(prior.folder / "losses.csv")
    return state, done, target


def from_run(args: Any, ctx: RunContext, spec: GanSpec) -> RunResult:
    """--from-run N: --sample K new images, --evaluate with the judge, or train on."""
    prior = ctx.from_run
    assert prior is not None
    if args.sample is not None or args.evaluate:
        try:
            kept = load_kept(prior.folder, prior.weights)
        except WeightsError as e:
            raise ValueError(f"--from-run {prior.id}: {e}") from None
        return _sample_or_judge(args, ctx, spec, prior, kept)
    return _continue(args, ctx, spec, prior)


def _rebuild(spec: GanSpec, kept: Kept, device: torch.device) -> tuple[Any, torch.nn.Module]:
    """The config and the sampling generator of a kept run, weights loaded."""
    cfg = _config(spec, kept.config)
    shape = tuple(kept.config["shape"])
    fake = RealData("kept", images=torch.zeros(1, *shape, dtype=torch.uint8))
    if len(shape) == 1:
        from reproductions.gan_common import toy

        fake = RealData("kept", mixture=toy.MIXTURES[kept.config["dataset"]]())
    gen, _ = spec.build(cfg, fake)
    gen.load_state_dict(kept.sampling_generator())
    return cfg, gen.to(device)


def _config(spec: GanSpec, saved: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(spec.config_type)}
    return spec.config_type(**{k: v for k, v in saved.items() if k in names})


def _sample_or_judge(
    args: Any, ctx: RunContext, spec: GanSpec, prior: PriorRun, kept: Kept
) -> RunResult:
    device = ctx.torch_device()
    cfg, gen = _rebuild(spec, kept, device)
    folder = Path(args.output) if args.output else ctx.artifacts
    what = f"run #{prior.id} ({kept.step} steps, {kept.source.name})"
    metrics: dict[str, Any] = {"from_run": prior.id, "from_step": kept.step}
    config = {**kept.config, "from_run": prior.id, "source": str(kept.source)}
    if args.sample is not None:
        images = sample(gen, args.sample, device, seed=ctx.seed)
        outputs = _write_samples(images, folder, prior.id, ctx.seed)
        metrics["samples"] = args.sample
        headline = f"{args.sample} new samples (seed {ctx.seed}) from {what}"
        return RunResult(spec.arxiv_id(cfg), headline, metrics, config, outputs)
    judged = _judge(args, ctx, kept.config, lambda n, s: sample(gen, n, device, seed=s), folder)
    if judged is None:
        raise ValueError(
            f"--evaluate: the judge is for MNIST; run #{prior.id} trained on {kept.config['dataset']}"
        )
    metrics.update(judged[0])
    headline = f"{spec.label(cfg)} {what}: {judged[2]}"
    return RunResult(spec.arxiv_id(cfg), headline, metrics, config, [judged[1]])


def _write_samples(images: torch.Tensor, folder: Path, run_id: int, seed: int) -> list[Path]:
    """A grid of the samples and each one as its own PNG (images) or a CSV of points (2-D)."""
    if images.dim() == 2:  # 2-D points
        path = folder / f"samples-run{run_id}-seed{seed}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = "\n".join(f"{x:.6g},{y:.6g}" for x, y in images.tolist())
        path.write_text("x,y\n" + rows + "\n", encoding="utf-8")
        return [path]
    grid = report.save_grid(
        images,
        folder / f"samples-run{run_id}-seed{seed}.png",
        nrow=math.ceil(math.sqrt(len(images))),
    )
    one = folder / f"samples-run{run_id}-seed{seed}"
    for i, img in enumerate(images):
        report.save_grid(img[None], one / f"{i:04d}.png", nrow=1)
    return [grid, one]


def _continue(args: Any, ctx: RunContext, spec: GanSpec, prior: PriorRun) -> RunResult:
    """Train on from run N's last checkpoint into this run's folder."""
    state, _, target = _resume_point(args, prior)
    saved = state["config"]
    cfg = dataclasses.replace(_config(spec, saved), steps=target)
    data = Path(saved["data"]) if saved.get("data") else None
    run_args = dataclasses.replace(
        args, dataset=saved["dataset"], split=saved.get("split"),
        data=args.data if args.data is not None else data,
    )  # fmt: skip
    return train_run(run_args, ctx, cfg, spec, resume=state)
