"""Device selection and seeding (imports torch)."""

from __future__ import annotations

import os
import random

import torch


def select_device(preference: str = "auto") -> torch.device:
    """CUDA, then Apple MPS, then CPU for "auto"; otherwise the device named.

    Raises ValueError, saying what is available, when the named device is not."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(preference)
    except RuntimeError:
        raise ValueError(
            f"unknown device {preference!r} — use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"--device {preference}: this torch ({torch.__version__}) sees no CUDA GPU — "
            "use --device cpu, or install a CUDA build of torch"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"--device {preference}: Apple MPS is not available here — use --device cpu"
        )
    return device


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)"
    return str(device)


def seed_everything(seed: int) -> None:
    """Seed Python's and torch's generators (all devices)."""
    random.seed(seed)
    torch.manual_seed(seed)


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock timings mean something."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
