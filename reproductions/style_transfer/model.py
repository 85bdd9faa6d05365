"""A Neural Algorithm of Artistic Style — Gatys, Ecker & Bethge (2015).

arXiv: https://arxiv.org/abs/1508.06576

The image x is optimised, pixel by pixel, to minimise (§2, eq. 7)

    L_total(p, a, x) = α L_content(p, x) + β L_style(a, x)

with F^l the (N_l filters × M_l positions) responses of VGG-19 layer l to x,
P^l to the content photo p and A^l the Gram matrices of the artwork a:

    L_content = ½ Σ_ij (F^l_ij − P^l_ij)²                  eq. 1, l = conv4_2
    G^l_ij    = Σ_k F^l_ik F^l_jk                           eq. 3
    E_l       = 1 / (4 N_l² M_l²) Σ_ij (G^l_ij − A^l_ij)²    eq. 4
    L_style   = Σ_l w_l E_l,  w_l = 1/5 on conv1_1 … conv5_1  eq. 5

An optional total-variation term (not in the paper; Johnson et al. and most
later work add it) smooths high-frequency noise. "convX_Y" in the paper is the
rectified response: the authors' Caffe network runs ReLU in place, so the blob
named conv4_2 holds relu4_2; the layer names below say relu.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from reproductions.style_transfer.config import GatysConfig
from reproductions.style_transfer.vgg import VGGFeatures


def gram_matrix(features: Tensor) -> Tensor:
    """(B, N, H, W) responses -> (B, N, N) Gram matrices G = F Fᵀ (eq. 3, unnormalised)."""
    b, n, h, w = features.shape
    f = features.reshape(b, n, h * w)  # (B, N, M)
    return f @ f.transpose(1, 2)  # (B, N, N)


def content_loss(features: Tensor, target: Tensor) -> Tensor:
    """½ Σ (F − P)² (eq. 1)."""
    return 0.5 * (features - target).pow(2).sum()


def style_layer_loss(features: Tensor, target_gram: Tensor) -> Tensor:
    """E_l = Σ (G − A)² / (4 N² M²) for one layer (eq. 4)."""
    _, n, h, w = features.shape
    m = h * w
    return (gram_matrix(features) - target_gram).pow(2).sum() / (4 * n**2 * m**2)


def total_variation(image: Tensor) -> Tensor:
    """Σ of squared differences between neighbouring pixels (both directions)."""
    dh = image[..., 1:, :] - image[..., :-1, :]
    dw = image[..., :, 1:] - image[..., :, :-1]
    return dh.pow(2).sum() + dw.pow(2).sum()


class GatysObjective(nn.Module):
    """L_total for one content photo and one artwork; the targets are computed once."""

    def __init__(self, vgg: VGGFeatures, content: Tensor, style: Tensor, config: GatysConfig):
        super().__init__()
        self.vgg = vgg
        self.config = config
        self.content_layer = config.content_layer
        self.style_layers: Sequence[str] = config.style_layers
        self.style_layer_weights = [1.0 / len(self.style_layers)] * len(self.style_layers)  # w_l
        with torch.no_grad():
            self.content_target = vgg(content, [self.content_layer])[self.content_layer]
            feats = vgg(style, self.style_layers)
            self.style_targets = [gram_matrix(feats[name]) for name in self.style_layers]

    def forward(self, image: Tensor) -> tuple[Tensor, dict[str, float]]:
        feats = self.vgg(image, [self.content_layer, *self.style_layers])
        l_content = content_loss(feats[self.content_layer], self.content_target)
        l_style = sum(
            w * style_layer_loss(feats[name], target)
            for name, w, target in zip(
                self.style_layers, self.style_layer_weights, self.style_targets, strict=True
            )
        )
        cfg = self.config
        total = cfg.content_weight * l_content + cfg.style_weight * l_style
        l_tv = total_variation(image) if cfg.tv_weight else image.new_zeros(())
        total = total + cfg.tv_weight * l_tv
        parts = {"content": l_content.item(), "style": float(l_style.detach()), "tv": l_tv.item()}
        return total, parts


StepFn = Callable[[int, float, dict[str, float], Tensor], None]


def stylize(
    objective: GatysObjective,
    init: Tensor,
    *,
    steps: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    on_step: StepFn | None = None,
) -> tuple[Tensor, list[float]]:
    """Minimise the objective over the pixels, starting from `init`.

    Returns the image clamped to [0, 1] and the loss after each step. L-BFGS
    runs one iteration (one loss evaluation, no line search) per step, so a
    step costs the same in both optimisers."""
    image = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    if optimizer == "lbfgs":
        # Tolerances off: run all the steps asked for (the paper gives no stopping rule).
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [image], lr=lr or 1.0, max_iter=1, history_size=100,
            tolerance_grad=-1.0, tolerance_change=-1.0,
        )  # fmt: skip
    elif optimizer == "adam":
        opt = torch.optim.Adam([image], lr=lr or 0.02)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}: use lbfgs or adam")
    history: list[float] = []
    last: dict[str, float] = {}

    def closure() -> Tensor:
        opt.zero_grad(set_to_none=True)
        total, parts = objective(image)
        total.backward()
        last.update(parts, total=total.item())
        return total

    for step in range(1, steps + 1):
        opt.step(closure)
        history.append(last["total"])
        if on_step is not None:
            on_step(step, last["total"], dict(last), image.detach())
    return image.detach().clamp(0, 1), history
