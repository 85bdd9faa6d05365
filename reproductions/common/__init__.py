"""What every reproduction shares, importable without torch.

- `Paper`       a paper a reproduction implements (declared as a constant).
- `option`      a dataclass field that is also a command-line option: its help
                text and, for hyperparameters, where in the paper it comes from.
- `RunContext`  what `papertrail repro` hands a run: artifacts dir, device
                preference, seed, dry-run flag, progress and log callbacks.
- `RunResult`   what a run hands back: metrics, a headline, outputs, its weights.
- `PriorRun`    an earlier run that `--from-run N` samples from, evaluates or
                continues (its folder, recorded config, weights).

Torch-dependent helpers live in submodules imported on use:
`common.runtime` (device, seeding), `common.images` (Pillow image I/O),
`common.download` (verified, cached downloads; torch-free itself),
`common.weights` (safetensors weights, JSON configs, resumable checkpoints).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Paper", "PriorRun", "ProgressFn", "RunContext", "RunResult", "option"]

# (task, done, total, metrics) -> None; total 0 when unknown.
ProgressFn = Callable[[str, int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class Paper:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    year: int
    categories: tuple[
        str, ...
    ] = ()  # arXiv categories, primary first (tags the reading-list entry)
    # the day its first version appeared on arXiv (YYYY-MM-DD): the reading-list entry's
    # date, so a paper linked by a reproduction never shows up as new today
    published: str | None = None

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def cite(self) -> str:
        first = self.authors[0].split()[-1] if self.authors else "?"
        return f"{first}{' et al.' if len(self.authors) > 1 else ''} {self.year}"


def option(
    default: Any,
    help: str,
    *,
    paper: str | None = None,
    short: str | None = None,
    argument: bool = False,
    metavar: str | None = None,
) -> Any:
    """A dataclass field with what `papertrail repro NAME --help` shows for it.

    `paper` says where the default comes from ("§2", "Table 1"); `argument`
    makes a `tuple[Path, ...]` field the command's positional arguments."""
    meta = {"help": help, "paper": paper, "short": short, "argument": argument, "metavar": metavar}
    return field(default=default, metadata=meta)


def describe_fields(config: type) -> list[tuple[str, Any, str, str | None]]:
    """(name, default, help, paper reference) for each field of a config dataclass."""
    out = []
    for f in dataclasses.fields(config):
        default = f.default if f.default is not dataclasses.MISSING else None
        out.append((f.name, default, f.metadata.get("help", ""), f.metadata.get("paper")))
    return out


@dataclass(frozen=True)
class PriorRun:
    """An earlier run of the same reproduction, as `--from-run N` hands it to the new one."""

    id: int
    folder: Path  # its run folder (weights, checkpoint, config.json)
    status: str  # ok | failed | interrupted | running (a killed run stays "running")
    config: dict[str, Any]  # what the database recorded: dry_run, seed, args, resolved
    weights: Path | None = None  # its final weights, when it finished

    def file(self, name: str) -> Path | None:
        """`name` in the run folder, when it is there."""
        path = self.folder / name
        return path if path.is_file() else None


@dataclass
class RunContext:
    """What a run gets from whoever started it (the CLI, a test, a notebook)."""

    artifacts: Path
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    seed: int = 0
    dry_run: bool = False
    on_progress: ProgressFn | None = None
    on_log: Callable[[str], None] | None = None
    device_label: str | None = None  # set by torch_device(): what the run actually used
    from_run: PriorRun | None = None  # --from-run N: the run to sample from / evaluate / continue

    def log(self, message: str) -> None:
        if self.on_log is not None:
            self.on_log(message)
        else:
            print(message, file=sys.stderr)

    def progress(self, task: str, done: int, total: int, **metrics: Any) -> None:
        if self.on_progress is not None:
            self.on_progress(task, done, total, metrics)

    def torch_device(self) -> Any:
        """Resolve the device preference (imports torch) and remember what was used."""
        # imports torch: `repro list` must not
        from reproductions.common.runtime import describe_device, select_device

        device = select_device(self.device)
        self.device_label = describe_device(device)
        return device


@dataclass
class RunResult:
    arxiv_id: str  # the paper this run reproduces
    headline: str  # one line for `papertrail repro list`
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # the effective configuration
    outputs: list[Path] = field(default_factory=list)
    weights: Path | None = None  # the trained weights (.safetensors), recorded with the run
