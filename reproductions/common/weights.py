"""What a run keeps: its weights (safetensors), its exact config (JSON), its checkpoint.

- `save_weights` / `load_weights`: tensors by name in a `.safetensors` file,
  written atomically; loading reads tensors only (no pickle, no code runs).
- `save_checkpoint` / `load_checkpoint`: training state (weights, optimiser
  state, step, random-generator states) for resuming, written atomically with
  `torch.save` and read back with `torch.load(weights_only=True)`, which
  refuses anything but tensors and plain Python data.
- `write_json` / `read_json`: the run's config next to them.

A killed run leaves the previous checkpoint whole: every file is written to a
temporary name and renamed over the old one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"


class WeightsError(ValueError):
    """A weights, config or checkpoint file that cannot be read; the message names it."""


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def save_weights(
    tensors: Mapping[str, torch.Tensor], path: Path, metadata: Mapping[str, str] | None = None
) -> Path:
    """Write `tensors` (name -> tensor) as safetensors, atomically; returns the path."""
    from safetensors.torch import save_file  # heavy: only a run that saves pays for it

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    tmp = _tmp(path)
    try:
        save_file(state, str(tmp), metadata=dict(metadata or {}))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # safetensors creates 0600 files; keep the user's umask
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, metadata) of a safetensors file; WeightsError naming the file otherwise."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: not a readable safetensors file ({e})") from None
    return tensors, metadata


def prefixed(prefix: str, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`state` with every name as `prefix.name` (several networks in one file)."""
    return {f"{prefix}.{k}": v for k, v in state.items()}


def unprefixed(prefix: str, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors named `prefix.…`, without the prefix."""
    head = f"{prefix}."
    return {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}


def save_checkpoint(state: Mapping[str, Any], path: Path) -> Path:
    """Training state for resuming, atomically (tensors and plain data only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    try:
        torch.save(dict(state), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by `save_checkpoint`, read with weights_only=True (no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file: say which and why
        raise WeightsError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: not a checkpoint of this project (a {type(state).__name__})")
    return state


def write_json(data: Any, path: Path) -> Path:
    """JSON (indented, sorted keys, paths as strings), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    try:
        tmp.write_text(
            json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_json(path: Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise WeightsError(f"{path}: not readable JSON ({e})") from None
