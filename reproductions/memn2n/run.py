"""Configurations (the paper's hyperparameters, cited) and the entry point of
`papertrail repro memn2n`. Importing this module does not import torch.

§ numbers refer to arXiv 1503.08895v5; "authors' code" is the MemN2N-babi-matlab
configuration published with the paper.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reproductions.common import PriorRun, RunContext, RunResult, option
from reproductions.common.download import DownloadError, cached_path, fetch_verified
from reproductions.memn2n import MEMN2N, babi, generate

if TYPE_CHECKING:
    from reproductions.memn2n.train import Settings, Trained

GENERATED = (1, 2, 3, 6, 11, 12)

# One task's questions: (train, validation, test).
Split = tuple[list[babi.Example], list[babi.Example], list[babi.Example]]


@dataclass
class PerTaskConfig:
    """One model per task (§4.2 "Training Details")."""

    dim: int = option(20, "embedding size d", paper="§4.1: d = 20")
    hops: int = option(3, "memory hops K", paper="§4.2: K = 3 unless stated")
    epochs: int = option(100, "epochs after linear start", paper="§4.2: until 100 epochs")
    anneal_every: int = option(
        25, "halve the learning rate every N epochs", paper="§4.2: η/2 every 25 epochs"
    )
    lr: float = option(
        0.01, "SGD learning rate η", paper="§4.2: η = 0.01, no momentum, no weight decay"
    )
    ls_lr: float = option(
        0.005, "learning rate of the linear-start phase", paper="§4.2: LS η = 0.005"
    )
    ls_epochs: int = option(
        20, "longest linear-start phase", paper="authors' code: ls_nepochs = 20"
    )
    ls_patience: int = option(
        5, "linear start ends after this many epochs without a new lowest validation loss",
        paper="§4.2: 'when the validation loss stopped decreasing' (5: our reading)",
    )  # fmt: skip
    rn: float = option(
        0.1, "random noise: share of empty memories in training (with --rn)", paper="§4.1: 10 %"
    )
    batch_size: int = option(
        32, "questions per SGD step", paper="§4.2: batch 32, cost summed not averaged"
    )
    max_grad_norm: float = option(
        40.0, "gradient norm clip", paper="§4.2: ℓ2 norm > 40 rescaled to 40"
    )
    memory_size: int = option(
        50, "most recent sentences kept", paper="§4.2: the most recent 50 sentences"
    )
    init_std: float = option(0.1, "σ of the Gaussian initialisation", paper="§4.2: N(0, 0.1)")
    validation: float = option(
        0.1, "share of training stories held out", paper="§4.2: 10 % held out"
    )
    restarts: int = option(10, "trainings from different initialisations", paper="§4.2: best of 10")


@dataclass
class JointConfig:
    """All tasks in one model (§4.2; 1k training; 10k in brackets)."""

    dim: int = option(50, "embedding size d", paper="authors' code: d = 50 for joint training")
    epochs: int = option(
        60, "epochs after linear start (10k: 20)", paper="§4.2: 60 epochs (10k: 20)"
    )
    anneal_every: int = option(
        15,
        "halve the learning rate every N epochs (10k: 5)",
        paper="§4.2: every 15 epochs (10k: 5)",
    )
    ls_epochs: int = option(
        30, "longest linear-start phase", paper="authors' code: ls_nepochs = 30 (joint)"
    )


CONFIGS = (PerTaskConfig, JointConfig)

# Test error (%) from the paper's Table 1, as quoted in the issue (best of 10, adjacent tying, 3 hops).
PAPER_ERRORS: dict[tuple[str, str], dict[int, float]] = {
    ("1k", "PE LS RN joint"): {1: 0.0, 2: 11.4, 3: 21.9, 6: 2.8, 11: 0.3, 12: 0.1},
    ("1k", "BoW"): {1: 0.6, 2: 17.6, 3: 71.0, 6: 8.7, 11: 4.1, 12: 0.3},
    ("10k", "PE LS RN joint"): {1: 0.0, 2: 1.0, 3: 6.8, 6: 0.1, 11: 0.0, 12: 0.1},
}
PAPER_MEAN_20 = {("1k", "PE LS RN joint"): 12.4}  # mean over all 20 tasks


@dataclass
class Args:
    """Train End-To-End Memory Networks on bAbI; print the test error per task next to the paper's.

    Reads the bAbI release (downloaded once, checked against its SHA-256, or
    --data PATH), or simulates the bAbI world here with --generate (tasks 1, 2,
    3, 6, 11, 12). Defaults are the paper's: 3 hops, position encoding, adjacent
    tying, best of 10 restarts. --show-attention N prints, for the N-th test
    question of each task, the attention of every hop over the story (Table 2).

    \b
    Example:
        papertrail repro memn2n --generate --ls --rn --joint
        papertrail repro memn2n --tasks 1,2,3 --generate --train-size 10k --ls --rn --joint --restarts 2
        papertrail repro memn2n --tasks 1 --data tasks_1-20_v1-2.tar.gz --encoding bow --show-attention 3
        papertrail repro memn2n --dry-run
    """

    tasks: str = option(
        "1,2,3,6,11,12", "bAbI tasks, comma-separated (1–20; --generate: 1, 2, 3, 6, 11, 12)"
    )
    data: Path | None = option(
        None, "the bAbI release: tasks_1-20_v1-2.tar.gz, its folder or its en/ folder (default: download it)"
    )  # fmt: skip
    generate: bool = option(False, "simulate the bAbI world here (seeded) instead of the release")
    train_size: Literal["1k", "10k"] = option("1k", "training questions per task")
    hops: int = option(3, "memory hops K")
    encoding: Literal["pe", "bow"] = option(
        "pe", "sentence representation: position encoding or bag of words"
    )
    ls: bool = option(False, "linear start (LS)")
    rn: bool = option(False, "random noise in the temporal encoding (RN)")
    joint: bool = option(False, "one model for all the tasks (d = 50, 60 epochs)")
    tying: Literal["adjacent", "layerwise"] = option("adjacent", "weight tying across hops")
    no_temporal: bool = option(False, "drop the temporal encoding T_A, T_C")
    restarts: int = option(10, "train this many times, keep the best (paper: 10)")
    select_on: Literal["validation", "train"] = option(
        "validation", "pick the restart with the lowest validation (or training) error"
    )
    epochs: int | None = option(
        None, "epochs after linear start (default: 100; joint 60, 10k joint 20)"
    )
    dim: int | None = option(None, "embedding size d (default: 20; joint 50)")
    show_attention: int | None = option(
        None, "print which memories each hop attends to for the N-th test question of each task"
    )
    data_seed: int = option(0, "--generate: seed of the simulated stories")
    output: Path | None = option(
        None, "--generate: write the stories here (default: the run folder)", short="-o"
    )


def parse_tasks(text: str) -> tuple[int, ...]:
    try:
        tasks = tuple(dict.fromkeys(int(t) for t in text.replace(" ", "").split(",") if t))
    except ValueError:
        raise ValueError(
            f"--tasks takes numbers separated by commas, e.g. 1,2,3 (got {text!r})"
        ) from None
    if not tasks:
        raise ValueError("--tasks names no task")
    bad = [t for t in tasks if not 1 <= t <= 20]
    if bad:
        raise ValueError(f"--tasks: bAbI has tasks 1–20, not {', '.join(map(str, bad))}")
    return tasks


def check(args: Args) -> None:
    """Raise ValueError naming the option when the arguments do not make a run."""
    tasks = parse_tasks(args.tasks)
    if args.generate:
        if args.data is not None:
            raise ValueError("--generate simulates the stories: drop --data, or drop --generate")
        missing = [t for t in tasks if t not in GENERATED]
        if missing:
            raise ValueError(
                f"--generate writes tasks {', '.join(map(str, GENERATED))}; "
                f"task {', '.join(map(str, missing))} needs the release (--data or the download)"
            )
    elif args.output is not None:
        raise ValueError(
            "-o/--output is where --generate writes its stories; use it with --generate"
        )
    if args.data is not None and not Path(args.data).exists():
        raise ValueError(f"--data {args.data}: no such file or folder")
    for name in ("hops", "restarts", "epochs", "dim", "show_attention"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    if args.hops > 10:
        raise ValueError(f"--hops {args.hops}: the paper uses 1–3")


def paper_for(args: Args) -> str:
    return MEMN2N.arxiv_id


FROM_RUN_HELP = (
    "Test run N's saved models (weights.safetensors) again on its tasks' test questions "
    "(with --show-attention: their attention too); nothing is trained."
)


def check_from_run(args: Args, prior: PriorRun | None) -> None:
    """ValueError when run `prior` kept no models (nothing is recorded then)."""
    if prior is None:
        return
    if (prior.weights or prior.file("weights.safetensors")) is None:
        raise ValueError(
            f"--from-run {prior.id}: run #{prior.id} ({prior.status}) kept no weights.safetensors "
            "(it ran before runs kept them, or did not finish) — MemN2N runs are not resumed"
        )


def setting_name(args: Args) -> str:
    """The paper's name for the setting, e.g. "PE LS RN joint" (Table 1's row labels)."""
    parts = ["PE" if args.encoding == "pe" else "BoW"]
    parts += [flag for flag, on in (("LS", args.ls), ("RN", args.rn)) if on]
    if args.tying == "layerwise":
        parts.append("LW")
    if args.joint:
        parts.append("joint")
    name = " ".join(parts)
    if args.hops != 3:
        name = f"{args.hops} hop{'s' if args.hops > 1 else ''} {name}"
    if args.no_temporal:
        name += " (no TE)"
    return name


def resolve_settings(args: Args, dry_run: bool = False) -> Settings:
    # imports torch: `repro list` must not
    from reproductions.memn2n.train import Settings

    base, joint = PerTaskConfig(), JointConfig()
    ten_k_joint = args.joint and args.train_size == "10k"
    s = Settings(
        dim=args.dim or (joint.dim if args.joint else base.dim),
        hops=args.hops,
        epochs=args.epochs or (20 if ten_k_joint else joint.epochs if args.joint else base.epochs),
        anneal_every=5 if ten_k_joint else joint.anneal_every if args.joint else base.anneal_every,
        lr=base.lr,
        ls=args.ls,
        ls_lr=base.ls_lr,
        ls_epochs=joint.ls_epochs if args.joint else base.ls_epochs,
        ls_patience=base.ls_patience,
        rn=base.rn if args.rn else 0.0,
        batch_size=base.batch_size,
        max_grad_norm=base.max_grad_norm,
        memory_size=base.memory_size,
        encoding=args.encoding,
        temporal=not args.no_temporal,
        tying=args.tying,
        init_std=base.init_std,
    )
    if dry_run:
        s.dim, s.epochs, s.anneal_every, s.ls_epochs = 8, 2, 1, 1
    return s


def _load(args: Args, ctx: RunContext, tasks: tuple[int, ...]) -> tuple[Path, str]:
    """Where the task files are, and a sentence saying so."""
    if ctx.dry_run and args.data is None:
        root = ctx.artifacts / "babi-generated"
        folder = root / "en"
        folder.mkdir(parents=True, exist_ok=True)
        for task in tasks:
            for split, n in (("train", 60), ("test", 40)):
                text = generate.generate_task(task, n, args.data_seed, f"dry-{split}")
                (folder / babi.task_filename(task, split)).write_text(text, encoding="utf-8")
        return root, f"generated a tiny data set in {root} (dry run)"
    if args.generate:
        root = args.output or ctx.artifacts / "babi-generated"
        start = time.perf_counter()
        generate.write_dataset(root, tasks, args.train_size, args.data_seed)
        return root, (
            f"generated tasks {','.join(map(str, tasks))} ({args.train_size} training, 1k test "
            f"questions each, seed {args.data_seed}) in {root} ({time.perf_counter() - start:.1f} s)"
        )
    if args.data is not None:
        return Path(args.data), f"reading bAbI from {args.data}"
    try:
        # babi.RELEASE is read here, not bound at import: tests point it at a local server.
        path = fetch_verified(
            babi.RELEASE, cached_path(babi.RELEASE, "datasets"),
            on_progress=lambda done, total: ctx.progress("downloading bAbI", done, total),
        )  # fmt: skip
    except DownloadError as e:
        raise ValueError(f"{e} (as --data PATH), or use --generate") from None
    return path, f"reading bAbI from {path} (SHA-256 checked)"


def run(args: Args, ctx: RunContext) -> RunResult:
    """Train (best of --restarts) on each task or jointly; test; print the table next to the paper's."""
    if not ctx.dry_run:
        check(args)
    if ctx.from_run is not None:
        return _evaluate_prior(args, ctx)
    tasks = parse_tasks(args.tasks)
    if ctx.dry_run:
        tasks = tuple(t for t in tasks if t in GENERATED)[:2] or (1,)
    # imports torch: `repro list` must not
    import torch

    from reproductions.common.runtime import describe_device, seed_everything

    # The model is tiny (batches of 32 small matrices): it runs on the CPU, whatever --device says.
    ctx.device_label = describe_device(torch.device("cpu"))
    seed_everything(ctx.seed)
    settings = resolve_settings(args, ctx.dry_run)
    restarts = 1 if ctx.dry_run else args.restarts
    source, said = _load(args, ctx, tasks)
    ctx.log(said)
    size = "1k" if ctx.dry_run else args.train_size
    fraction = PerTaskConfig().validation
    data = {task: _read(source, task, size, fraction, ctx.seed) for task in tasks}
    start = time.perf_counter()
    errors, details, shown, models = _train_all(args, ctx, settings, data, restarts)
    seconds = time.perf_counter() - start
    weights = _save_models(ctx.artifacts / "weights.safetensors", models, settings, size)

    setting = setting_name(args)
    paper = PAPER_ERRORS.get((size, setting), {})
    table = format_table(errors, paper, setting, size, data_label(args, ctx))
    for line in table.splitlines():
        ctx.log(line)
    metrics: dict[str, Any] = {f"test_error_task{t}": round(e, 2) for t, e in errors.items()}
    metrics["mean_test_error"] = round(sum(errors.values()) / len(errors), 2)
    metrics.update({f"paper_error_task{t}": paper[t] for t in errors if t in paper})
    metrics.update(
        setting=setting, train_size=size, data=data_label(args, ctx), restarts=restarts,
        seconds=round(seconds, 1), training=details,
    )  # fmt: skip
    outputs = [_write(ctx.artifacts / "results.md", table + "\n")]
    outputs.append(_write(ctx.artifacts / "results.json", json.dumps(metrics, indent=2) + "\n"))
    outputs += shown
    if args.generate and not ctx.dry_run:
        outputs.append(Path(source))
    headline = _headline(errors, paper, f"{setting}, {size}, {data_label(args, ctx)}", restarts)
    config = {
        **asdict(settings),
        "setting": setting,
        "tasks": list(tasks),
        "restarts": restarts,
        "select_on": args.select_on,
        "validation": fraction,
        "data": str(source),
    }
    return RunResult(MEMN2N.arxiv_id, headline, metrics, config, outputs, weights)


def _save_models(
    path: Path, models: dict[str, tuple[tuple[int, ...], Trained]], settings: Settings, size: str
) -> Path:
    """Every trained model (one per task, or the joint one) in one safetensors file; each
    model's tasks and vocabulary, and the settings, in its metadata."""
    # imports torch: `repro list` must not
    from reproductions.common.weights import prefixed, save_weights

    tensors = {}
    groups = {}
    for label, (tasks, trained) in models.items():
        key = label.replace(" ", "")
        tensors.update(prefixed(key, trained.model.state_dict()))
        groups[key] = {"tasks": list(tasks), "vocab": trained.vocab.words}
    meta = {
        "settings": json.dumps(asdict(settings)),
        "groups": json.dumps(groups),
        "train_size": size,
    }
    return save_weights(tensors, path, meta)


def _evaluate_prior(args: Args, ctx: RunContext) -> RunResult:
    """--from-run N: the run's saved models tested again on its tasks' test questions."""
    # imports torch: `repro list` must not
    import torch

    from reproductions.common.runtime import describe_device
    from reproductions.common.weights import load_weights, unprefixed
    from reproductions.memn2n.train import Settings, Trained, Vocab, build_model, errors_by_task

    prior = ctx.from_run
    assert prior is not None
    ctx.device_label = describe_device(torch.device("cpu"))
    path = prior.weights or prior.folder / "weights.safetensors"
    tensors, meta = load_weights(path)
    settings = Settings(**json.loads(meta["settings"]))
    resolved = prior.config.get("resolved", {})
    source = Path(args.data or resolved.get("data", ""))
    if not source.exists():
        raise ValueError(f"--from-run {prior.id}: its data {source} is gone — pass --data PATH")
    errors: dict[int, float] = {}
    shown: list[Path] = []
    for key, group in json.loads(meta["groups"]).items():
        model = build_model(len(group["vocab"]), settings, 0)
        model.load_state_dict(unprefixed(key, tensors))
        model.linear = False
        trained = Trained(model, Vocab(group["vocab"]), 0, None, None, [], 0.0)  # type: ignore[arg-type]
        for task in group["tasks"]:
            test = babi.read_task(source, task, "test", meta["train_size"])
            errors.update(errors_by_task(trained, test))
            if args.show_attention:
                shown.append(_show(trained, test, task, args.show_attention, ctx))
    setting = prior.config.get("resolved", {}).get("setting") or "saved models"
    label = f"run #{prior.id}'s models, {meta['train_size']}"
    table = format_table(errors, {}, str(setting), meta["train_size"], label)
    for line in table.splitlines():
        ctx.log(line)
    metrics: dict[str, Any] = {f"test_error_task{t}": round(e, 2) for t, e in errors.items()}
    metrics.update(mean_test_error=round(sum(errors.values()) / len(errors), 2), from_run=prior.id)
    outputs = [_write(ctx.artifacts / "results.md", table + "\n"), *shown]
    headline = _headline(errors, {}, label, 1).replace(", best of 1", "")
    config = {"from_run": prior.id, "weights": str(path), "data": str(source)}
    return RunResult(MEMN2N.arxiv_id, headline, metrics, config, outputs)


def _read(source: Path, task: int, size: str, fraction: float, seed: int) -> Split:
    """One task's questions: the training set less the held-out share, that share, the test set."""
    train_all = babi.read_task(source, task, "train", size)
    test = babi.read_task(source, task, "test", size)
    train, val = babi.split_validation(train_all, fraction, seed)
    return train, val, test


def _train_all(
    args: Args, ctx: RunContext, settings: Settings, data: dict[int, Split], restarts: int
) -> tuple[
    dict[int, float], dict[str, Any], list[Path], dict[str, tuple[tuple[int, ...], Trained]]
]:
    """Train one model per task, or one for all (--joint), each the best of `restarts`.

    Returns the test error (%) by task, each training's figures by label, the
    attention tables written (--show-attention) and the models by label."""
    # imports torch: `repro list` must not
    from reproductions.memn2n.train import Vocab, errors_by_task, train_restarts

    tasks = tuple(data)
    groups = [tasks] if args.joint else [(t,) for t in tasks]
    errors: dict[int, float] = {}
    details: dict[str, Any] = {}
    shown: list[Path] = []
    models: dict[str, tuple[tuple[int, ...], Trained]] = {}
    for group in groups:
        train = [e for t in group for e in data[t][0]]
        val = [e for t in group for e in data[t][1]]
        test = [e for t in group for e in data[t][2]]
        vocab = Vocab.build(train, val, test)
        label = "joint" if args.joint else f"task {group[0]}"

        def on_epoch(
            r: int, done: int, total: int, metrics: dict[str, Any], label: str = label
        ) -> None:
            ctx.progress(f"{label} restart {r + 1}/{restarts}", done, total, **metrics)

        trained = train_restarts(
            train, val, vocab, settings, restarts, ctx.seed, args.select_on, on_epoch
        )
        errors.update(errors_by_task(trained, test))
        models[label] = (group, trained)
        details[label] = {
            "restarts": trained.restarts,
            "chosen": trained.restart,
            "val_error": round(100 * trained.val.error, 2),
            "train_error": round(100 * trained.train_eval.error, 2),
            "seconds": round(trained.seconds, 1),
        }
        if args.show_attention:
            for t in group:
                shown.append(_show(trained, data[t][2], t, args.show_attention, ctx))
    return errors, details, shown, models


def _headline(errors: dict[int, float], paper: dict[int, float], what: str, restarts: int) -> str:
    """One line: the test error per task, their mean, and the paper's mean over the same tasks.

    `what` names the setting, the training size and the data ("PE LS RN joint, 1k, bAbI")."""
    mean = sum(errors.values()) / len(errors)
    cells = " · ".join(f"{t}: {e:.1f}" for t, e in errors.items())
    in_paper = [t for t in errors if t in paper]
    versus = f"; paper {sum(paper[t] for t in in_paper) / len(in_paper):.1f}" if in_paper else ""
    return f"test error % ({what}, best of {restarts}): {cells} (mean {mean:.1f}{versus})"


def data_label(args: Args, ctx: RunContext) -> str:
    return "generated" if (args.generate or (ctx.dry_run and args.data is None)) else "bAbI"


def format_table(
    errors: dict[int, float], paper: dict[int, float], setting: str, size: str, data: str
) -> str:
    """The test error per task next to the paper's column for the same setting."""
    head = f"paper ({setting}, {size})" if paper else "paper (no figure for this setting)"
    lines = [f"Test error (%) — {setting}, {size} training, {data} data", ""]
    lines.append(f"{'task':<28} {'here':>6}  {head}")
    for t, e in errors.items():
        ref = f"{paper[t]:>6.1f}" if t in paper else f"{'—':>6}"
        lines.append(f"{f'{t:>2} {babi.TASK_NAMES[t]}':<28} {e:>6.1f}  {ref}")
    mean = sum(errors.values()) / len(errors)
    in_paper = [t for t in errors if t in paper]
    ref_mean = f"{sum(paper[t] for t in in_paper) / len(in_paper):>6.1f}" if in_paper else ""
    lines.append(f"{'mean':<28} {mean:>6.1f}  {ref_mean}")
    return "\n".join(lines)


def _show(trained: Trained, test: list[babi.Example], task: int, n: int, ctx: RunContext) -> Path:
    # imports torch: `repro list` must not
    from reproductions.memn2n.train import attention_table

    if n > len(test):
        raise ValueError(f"--show-attention {n}: task {task} has {len(test)} test questions")
    text = attention_table(trained, test[n - 1], f"Task {task}, test question {n}:")
    for line in text.splitlines():
        ctx.log(line)
    return _write(ctx.artifacts / f"attention-task{task}-q{n}.txt", text + "\n")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
