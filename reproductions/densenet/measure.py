"""Activation memory without a GPU: what autograd holds for the backward pass.

`held_for_backward` runs one forward pass and adds up the distinct storages
autograd keeps for backward: every tensor saved outside a recomputed region
(seen through `torch.autograd.graph.saved_tensors_hooks`; a non-reentrant
checkpoint saves through its own, inner hooks, so what it recomputes is not
seen) plus the inputs each dense layer receives (a checkpoint keeps those to
recompute from). Parameters are left out. This is the steady-state figure at
the end of the forward pass; the backward pass adds, transiently, gradients
and one layer's recomputation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from reproductions.densenet.model import DenseLayer


def held_for_backward(model: nn.Module, x: Tensor) -> int:
    """Bytes of activations autograd keeps after `model(x)` (training mode as the model is)."""
    seen: dict[int, int] = {}

    def keep(t: Tensor) -> None:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()

    def pack(t: Tensor) -> Tensor:
        keep(t)
        return t

    def inputs(_module: nn.Module, args: tuple) -> None:
        for f in args[0]:  # a DenseLayer's list of earlier feature maps
            keep(f)

    hooks = [
        m.register_forward_pre_hook(inputs) for m in model.modules() if isinstance(m, DenseLayer)
    ]
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(x)
        del out
    finally:
        for h in hooks:
            h.remove()
    return sum(n for ptr, n in seen.items() if ptr not in params)
