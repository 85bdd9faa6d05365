"""What a GAN run keeps, and how a later run picks it up again (issue 21).

- `weights.safetensors`: the final generator and discriminator / critic (and
  the generator's moving average when the run keeps one), with the run's
  resolved config and image shape in the file's metadata, so the weights alone
  rebuild the networks.
- `checkpoint.pt`: everything a training loop needs to go on where it stopped
  (networks, optimisers, learning-rate schedules, the random generators, the
  step), written every `every` steps and at the end, atomically. It is read
  back with `torch.load(weights_only=True)`: tensors and plain data only.

A killed run leaves its last checkpoint; `papertrail repro NAME --from-run N`
continues from it into a new run folder. With every random generator restored
the continued run computes what the uninterrupted one would have (on the CPU).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reproductions.common.weights import (
    CHECKPOINT_FILE,
    WEIGHTS_FILE,
    WeightsError,
    load_checkpoint,
    load_weights,
    prefixed,
    save_checkpoint,
    save_weights,
    unprefixed,
)

FORMAT = 1  # bumped when what the files hold changes


@dataclass
class Kept:
    """A GAN run's saved state, whichever file it came from."""

    config: dict[str, Any]  # the resolved config, plus "dataset" and "shape"
    tensors: dict[str, torch.Tensor]  # "generator.…", "discriminator.…", "generator_ema.…"
    step: int  # generator updates done
    source: Path

    def net(self, name: str) -> dict[str, torch.Tensor]:
        return unprefixed(name, self.tensors)

    def sampling_generator(self) -> dict[str, torch.Tensor]:
        """The weights samples come from: the moving average when the run kept one."""
        return self.net("generator_ema") or self.net("generator")


@dataclass
class Keeper:
    """Writes a run's checkpoints and final weights; restores a checkpoint into a new run."""

    folder: Path
    config: dict[str, Any]  # the resolved config, "dataset" and "shape" (JSON data)
    every: int = 0  # checkpoint every N steps (0: only at the end)
    resume: dict[str, Any] | None = None  # a loaded checkpoint to continue from
    saved: list[int] = field(default_factory=list)  # steps checkpointed (for tests and logs)

    def restore(
        self,
        nets: dict[str, nn.Module],
        opts: dict[str, Any],
        gens: dict[str, torch.Generator | None],
    ) -> int:
        """Load the checkpoint being resumed into these; returns the first step to run (1 if none)."""
        if self.resume is None:
            return 1
        state = self.resume
        for name, net in nets.items():
            net.load_state_dict(unprefixed(name, state["tensors"]))
        for name, opt in opts.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, gen in gens.items():
            if gen is not None and name in state["rng"]:
                gen.set_state(state["rng"][name])
        torch.set_rng_state(state["rng"]["torch"])
        return int(state["step"]) + 1

    def due(self, step: int, last: int) -> bool:
        return step == last or bool(self.every and step % self.every == 0)

    def checkpoint(
        self,
        step: int,
        nets: dict[str, nn.Module],
        opts: dict[str, Any],
        gens: dict[str, torch.Generator | None],
    ) -> Path:
        tensors: dict[str, torch.Tensor] = {}
        for name, net in nets.items():
            tensors.update(prefixed(name, net.state_dict()))
        rng = {name: g.get_state() for name, g in gens.items() if g is not None}
        state = {
            "format": FORMAT,
            "step": step,
            "config": json.dumps(self.config, sort_keys=True),
            "tensors": {k: v.detach().cpu() for k, v in tensors.items()},
            "optimizers": {name: opt.state_dict() for name, opt in opts.items()},
            "rng": {**rng, "torch": torch.get_rng_state()},
        }
        self.saved.append(step)
        return save_checkpoint(state, self.folder / CHECKPOINT_FILE)

    def save_final(self, step: int, nets: dict[str, nn.Module]) -> Path:
        tensors: dict[str, torch.Tensor] = {}
        for name, net in nets.items():
            tensors.update(prefixed(name, net.state_dict()))
        metadata = {
            "format": str(FORMAT),
            "step": str(step),
            "config": json.dumps(self.config, sort_keys=True),
        }
        return save_weights(tensors, self.folder / WEIGHTS_FILE, metadata)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint with its config decoded; WeightsError naming the file when it is not one."""
    state = load_checkpoint(path)
    try:
        state["config"] = json.loads(state["config"])
        int(state["step"])
        state["tensors"], state["optimizers"], state["rng"]  # noqa: B018 - present?
    except (KeyError, TypeError, ValueError) as e:
        raise WeightsError(f"{path}: not a GAN checkpoint of this project ({e!r})") from None
    return state


def load_kept(folder: Path, weights: Path | None = None) -> Kept:
    """A run's final weights, or its last checkpoint when it has none (a killed run)."""
    path = weights if weights is not None and weights.is_file() else folder / WEIGHTS_FILE
    if path.is_file():
        tensors, meta = load_weights(path)
        try:
            config = json.loads(meta["config"])
            step = int(meta["step"])
        except (KeyError, ValueError) as e:
            raise WeightsError(f"{path}: no GAN config in its metadata ({e!r})") from None
        return Kept(config, tensors, step, path)
    ckpt = folder / CHECKPOINT_FILE
    if ckpt.is_file():
        state = read_checkpoint(ckpt)
        return Kept(state["config"], state["tensors"], int(state["step"]), ckpt)
    raise WeightsError(
        f"{folder}: neither {WEIGHTS_FILE} nor {CHECKPOINT_FILE} — the run kept no weights "
        "(it ran before runs kept them, or was stopped before its first checkpoint)"
    )
