"""2-D mixtures of Gaussians, their MLP networks and the mode-coverage metric.

The benchmark of VEEGAN (Srivastava et al. 2017, arXiv 1705.07761, §5.1) and
PacGAN (Lin et al. 2017, arXiv 1712.04086, §5.1, Table 2 there):

- ring: 8 Gaussians, centres evenly spaced on the unit circle, σ = 0.01;
- grid: 25 Gaussians, centres {-4, -2, 0, 2, 4}², σ = 0.05.

Metric (same papers): draw 2,500 generator samples; a sample is *high
quality* when it lies within 3σ of its nearest centre; a mode is *captured*
when it is the nearest centre of at least one high-quality sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Norm = Literal["none", "batch", "layer"]


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians in the plane."""

    name: str
    centres: torch.Tensor  # (K, 2)
    sigma: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, 2) points: a uniformly chosen centre plus N(0, σ²) noise."""
        k = torch.randint(len(self.centres), (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator) * self.sigma
        return self.centres[k] + noise


def ring(n_modes: int = 8, radius: float = 1.0, sigma: float = 0.01) -> Mixture:
    # 2πk/K for k = 0 … K-1: K distinct angles (linspace(0, 2π, K) would put
    # the first and last centre on the same point and give K-1 modes).
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    centres = torch.stack([angles.cos(), angles.sin()], dim=1) * radius
    return Mixture("ring", centres.float(), sigma)


def grid(values: tuple[float, ...] = (-4, -2, 0, 2, 4), sigma: float = 0.05) -> Mixture:
    v = torch.tensor(values, dtype=torch.float32)
    xs, ys = torch.meshgrid(v, v, indexing="ij")
    return Mixture("grid", torch.stack([xs.flatten(), ys.flatten()], dim=1), sigma)


MIXTURES = {"ring": ring, "grid": grid}


def mode_coverage(samples: torch.Tensor, mixture: Mixture) -> dict[str, float]:
    """Modes captured and the percentage of high-quality samples (VEEGAN / PacGAN).

    `samples` is (N, 2); the papers use N = 2,500."""
    samples = samples.detach().float().cpu()
    dist = torch.cdist(samples, mixture.centres)  # (N, K)
    nearest_dist, nearest = dist.min(dim=1)  # (N,)
    good = nearest_dist <= 3 * mixture.sigma
    modes = int(nearest[good].unique().numel())
    return {
        "modes": modes,
        "high_quality_pct": 100.0 * float(good.float().mean()) if len(samples) else 0.0,
        "n_modes": len(mixture.centres),
    }


def _norm(kind: Norm, width: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm1d(width)]
    if kind == "layer":
        return [nn.LayerNorm(width)]
    return []


class MLPGenerator(nn.Module):
    """z (B, noise_dim) -> points (B, 2): `depth` hidden ReLU layers of `width` units, linear out."""

    def __init__(self, noise_dim: int = 2, width: int = 512, depth: int = 3, norm: Norm = "none"):
        super().__init__()
        self.noise_dim = noise_dim
        layers: list[nn.Module] = []
        d_in = noise_dim
        for _ in range(depth):
            layers += [nn.Linear(d_in, width), *_norm(norm, width), nn.ReLU()]
            d_in = width
        layers.append(nn.Linear(d_in, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, 2)


class MLPCritic(nn.Module):
    """points (B, 2) -> one real score each (B,): no sigmoid; the losses decide what it means."""

    def __init__(
        self,
        width: int = 512,
        depth: int = 3,
        norm: Norm = "none",
        activation: Literal["relu", "leaky"] = "relu",
    ):
        super().__init__()
        layers: list[nn.Module] = []
        d_in = 2
        for i in range(depth):
            act = nn.ReLU() if activation == "relu" else nn.LeakyReLU(0.2)
            # no normalisation on the input layer (DCGAN §3; WGAN-GP's critics likewise)
            layers += [nn.Linear(d_in, width), *_norm(norm if i else "none", width), act]
            d_in = width
        layers.append(nn.Linear(d_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)


@torch.no_grad()
def init_he_uniform(net: nn.Module) -> None:
    """The initialisation of WGAN-GP's toy code (gan_toy.py with tflib's `Linear`):
    every hidden ReLU layer uniform with standard deviation √(2 / fan_in) (He et
    al. 2015, arXiv 1502.01852), the output layer Glorot-uniform, √(2 / (fan_in +
    fan_out)); biases 0. PyTorch's default is 1/√(3 fan_in), √6 ≈ 2.4× smaller
    for the hidden layers."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    for i, layer in enumerate(linears):
        fan_in, fan_out = layer.in_features, layer.out_features
        last = i == len(linears) - 1
        std = math.sqrt(2 / (fan_in + fan_out)) if last else math.sqrt(2 / fan_in)
        nn.init.uniform_(layer.weight, -std * math.sqrt(3), std * math.sqrt(3))
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
