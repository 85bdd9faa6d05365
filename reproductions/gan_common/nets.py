"""The DCGAN networks (Radford, Metz & Chintala 2015, arXiv 1511.06434), also the WGAN papers' nets.

§3 "Approach and model architecture" of the DCGAN paper, in its words:
- strided convolutions instead of pooling (D), fractional-strided ones (G);
- batch norm in both, except the generator's output and the discriminator's input layer;
- no fully connected hidden layers (the first G layer and the last D layer act on a 4×4 map);
- ReLU in G with tanh at the output; LeakyReLU (slope 0.2) in D (§4);
- every weight from N(0, 0.02) (§4).

Fig. 1 gives the 64 px generator: z (100) → 4×4×1024 → 8×8×512 → 16×16×256 →
32×32×128 → 64×64×3, 5×5 kernels drawn; like the authors' code and most
reimplementations we use 4×4 kernels, stride 2, padding 1 (exact doublings).
A 32 px model drops one doubling. `width` is the channel count next to the
image (128 in Fig. 1); it doubles at every halving of the resolution.

Arjovsky et al. (WGAN) train this same pair, the discriminator then a critic
(no sigmoid: these nets output a raw score; the losses decide what it means).
Gulrajani et al. (WGAN-GP) take batch norm out of the critic: `norm="layer"`
normalises each sample over all its channels and positions.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Norm = Literal["batch", "layer", "none"]


def _doublings(size: int) -> int:
    n = int(math.log2(size / 4)) if size >= 8 else 0
    if size < 8 or 4 * 2**n != size:
        raise ValueError(f"image size must be 4·2^k pixels (8, 16, 32, 64, 128 …), got {size}")
    return n


def _norm2d(kind: Norm, channels: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "layer":
        return [nn.GroupNorm(1, channels)]  # one group: layer norm over (C, H, W)
    return []


class ConvGenerator(nn.Module):
    """z (B, noise_dim) -> images (B, channels, size, size) in [-1, 1]."""

    def __init__(self, noise_dim: int = 100, channels: int = 3, size: int = 64, width: int = 128):
        super().__init__()
        self.noise_dim = noise_dim
        n = _doublings(size)
        c = width * 2 ** (n - 1)  # 1024 at 4×4 for 64 px, width 128 (Fig. 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(noise_dim, c, 4, 1, 0, bias=False),  # 1×1 -> 4×4: the "project"
            nn.BatchNorm2d(c),
            nn.ReLU(True),
        ]
        for _ in range(n - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),  # ×2 resolution
                nn.BatchNorm2d(c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]  # no BN at the output
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])  # (B, nz, 1, 1) -> (B, C, S, S)


class ConvDiscriminator(nn.Module):
    """images (B, channels, size, size) -> a raw score (B,) (a logit for DCGAN, a critic value for WGAN)."""

    def __init__(self, channels: int = 3, size: int = 64, width: int = 128, norm: Norm = "batch"):
        super().__init__()
        n = _doublings(size)
        c = width
        layers: list[nn.Module] = [  # no norm at the input layer (§3)
            nn.Conv2d(channels, c, 4, 2, 1, bias=norm == "none"),
            nn.LeakyReLU(0.2, True),
        ]
        for _ in range(n - 1):
            layers += [
                nn.Conv2d(c, c * 2, 4, 2, 1, bias=norm == "none"),  # ÷2 resolution
                *_norm2d(norm, c * 2),
                nn.LeakyReLU(0.2, True),
            ]
            c *= 2
        layers.append(nn.Conv2d(c, 1, 4, 1, 0))  # 4×4 -> 1×1, no sigmoid
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (B,)


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN §4: weights from N(0, 0.02); norm layers' scales from N(1, 0.02), biases 0.

    Use as `net.apply(init_dcgan_weights)`."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif (
        isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d | nn.GroupNorm | nn.LayerNorm)
        and module.weight is not None
    ):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
