"""DenseNet (Huang et al. 2016, arXiv:1608.06993) with the memory-efficient
training of Pleiss et al. 2017 (arXiv:1707.06990).

Layer ℓ of a dense block sees every earlier feature map of the block,
concatenated: x_ℓ = H_ℓ([x_0, x_1, …, x_{ℓ−1}]) (eq. 2). H_ℓ is
BN-ReLU-Conv3×3 giving k ("growth rate") new channels (§3 "Composite
function"), or with bottlenecks BN-ReLU-Conv1×1(4k)-BN-ReLU-Conv3×3(k)
(§3 "Bottleneck layers", DenseNet-B). Between blocks a transition halves the
resolution: BN-ReLU-Conv1×1-AvgPool2×2, keeping ⌊θm⌋ of m channels (θ = 0.5
"compression", DenseNet-C; θ = 1 without). DenseNet-BC has both.

The concatenations grow quadratically with depth; stored for backward they
dominate training memory. Pleiss et al. recompute the cheap part of each
layer — concatenation → BN → ReLU → first convolution — in the backward pass
instead of storing it (§3-4). `efficient=True` does this with
`torch.utils.checkpoint`; outputs, gradients and BN running statistics are the
same as in the plain mode (the recomputation does not update running stats
a second time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

# ImageNet models, Table 1: layers per dense block, growth rate k = 32, DenseNet-BC.
IMAGENET_BLOCKS: dict[int, tuple[int, ...]] = {
    121: (6, 12, 24, 16),
    169: (6, 12, 32, 32),
    201: (6, 12, 48, 32),
    264: (6, 12, 64, 48),
}


@dataclass(frozen=True)
class Architecture:
    """What fixes a DenseNet's shape."""

    block_layers: tuple[int, ...]  # layers per dense block
    growth_rate: int  # k
    bottleneck: bool  # DenseNet-B: 1×1 conv to 4k channels before each 3×3
    compression: float  # θ: transitions keep ⌊θm⌋ of m channels
    stem: Literal["cifar", "imagenet"]
    init_channels: int  # channels of the first convolution
    num_classes: int
    dropout: float = 0.0  # after each conv but the first (§4.2, runs without augmentation)


def cifar_architecture(
    depth: int, growth_rate: int, bc: bool, num_classes: int = 10, dropout: float = 0.0
) -> Architecture:
    """The paper's 32 px models (§3 "Implementation Details"): three dense blocks
    of equal size; 16 initial channels (2k for DenseNet-BC).

    Depth L counts conv and linear layers: 3 blocks × n layers × (1 or 2 convs)
    + the first conv + 2 transitions + the classifier = 3n(·2) + 4."""
    per_layer = 2 if bc else 1
    if depth < 4 or (depth - 4) % (3 * per_layer):
        ok = "6n+4 (e.g. 40, 100, 190, 250)" if bc else "3n+4 (e.g. 40, 100)"
        raise ValueError(f"--depth {depth}: a {'DenseNet-BC' if bc else 'DenseNet'} has depth {ok}")
    n = (depth - 4) // (3 * per_layer)
    return Architecture(
        block_layers=(n, n, n),
        growth_rate=growth_rate,
        bottleneck=bc,
        compression=0.5 if bc else 1.0,
        stem="cifar",
        init_channels=2 * growth_rate if bc else 16,
        num_classes=num_classes,
        dropout=dropout,
    )


def imagenet_architecture(
    depth: int, growth_rate: int = 32, num_classes: int = 1000
) -> Architecture:
    """DenseNet-121/169/201/264 (Table 1): DenseNet-BC, k = 32, 2k initial channels."""
    if depth not in IMAGENET_BLOCKS:
        raise ValueError(f"ImageNet DenseNets have depth {', '.join(map(str, IMAGENET_BLOCKS))}")
    return Architecture(
        block_layers=IMAGENET_BLOCKS[depth],
        growth_rate=growth_rate,
        bottleneck=True,
        compression=0.5,
        stem="imagenet",
        init_channels=2 * growth_rate,
        num_classes=num_classes,
    )


class DenseLayer(nn.Module):
    """H_ℓ: [BN-ReLU-Conv1×1(4k)-Dropout]-BN-ReLU-Conv3×3(k)-Dropout on the concatenated inputs."""

    def __init__(
        self, in_channels: int, growth_rate: int, bottleneck: bool, dropout: float, efficient: bool
    ):
        super().__init__()
        self.bottleneck = bottleneck
        self.efficient = efficient
        self.dropout = dropout
        self.norm1 = nn.BatchNorm2d(in_channels)
        # The first conv sees all in_channels: 1×1 to 4k (§3 "Bottleneck layers") or 3×3 to k.
        first_out = 4 * growth_rate if bottleneck else growth_rate
        kernel = 1 if bottleneck else 3
        self.conv1 = nn.Conv2d(in_channels, first_out, kernel, padding=kernel // 2, bias=False)
        if bottleneck:
            self.norm2 = nn.BatchNorm2d(first_out)
            self.conv2 = nn.Conv2d(first_out, growth_rate, 3, padding=1, bias=False)

    def _first(self, inputs: tuple[Tensor, ...], update_stats: bool) -> Tensor:
        """Concatenation → BN → ReLU → first conv: the part Pleiss et al. recompute."""
        x = torch.cat(inputs, 1)  # (B, Σ channels, H, W)
        if update_stats or not self.training:
            x = self.norm1(x)
        else:
            # The recomputation in backward: same batch statistics, same kernel, but
            # the running mean/var must not move twice. Update throw-away copies.
            n = self.norm1
            assert n.running_mean is not None and n.running_var is not None
            x = F.batch_norm(
                x, n.running_mean.clone(), n.running_var.clone(), n.weight, n.bias,
                True, n.momentum if n.momentum is not None else 0.0, n.eps,
            )  # fmt: skip
        x = self.conv1(F.relu(x))
        return F.dropout(x, self.dropout, self.training) if self.dropout else x

    def forward(self, features: list[Tensor]) -> Tensor:
        if (
            self.efficient
            and self.training
            and torch.is_grad_enabled()
            and any(f.requires_grad for f in features)
        ):
            calls = 0

            def first(*inputs: Tensor) -> Tensor:
                nonlocal calls
                calls += 1  # 1: the forward pass; 2: its recomputation in backward
                return self._first(inputs, update_stats=calls == 1)

            # Non-reentrant checkpoint keeps only the inputs (earlier layers' outputs,
            # alive anyway); the RNG state is restored, so dropout masks repeat.
            out = checkpoint(first, *features, use_reentrant=False, preserve_rng_state=True)
        else:
            out = self._first(tuple(features), update_stats=True)
        if self.bottleneck:
            out = self.conv2(F.relu(self.norm2(out)))  # (B, k, H, W)
            if self.dropout:
                out = F.dropout(out, self.dropout, self.training)
        return out


class DenseBlock(nn.Module):
    def __init__(
        self, layers: int, in_channels: int, growth_rate: int, bottleneck: bool,
        dropout: float, efficient: bool,
    ):  # fmt: skip
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, bottleneck, dropout, efficient)
            for i in range(layers)
        )
        self.out_channels = in_channels + layers * growth_rate

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(features))  # each (B, k, H, W)
        return torch.cat(features, 1)  # (B, in + layers·k, H, W)


class Transition(nn.Sequential):
    """BN-ReLU-Conv1×1-[Dropout]-AvgPool2×2 (§3 "Pooling layers"; the ReLU as in the authors' code)."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float):
        layers: list[nn.Module] = [
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.AvgPool2d(2))
        super().__init__(*layers)


class DenseNet(nn.Module):
    def __init__(self, arch: Architecture, efficient: bool = False):
        super().__init__()
        self.arch = arch
        c = arch.init_channels
        if arch.stem == "cifar":
            # 3×3 conv, 16 or 2k channels, on 32×32 inputs (§3 "Implementation Details").
            self.stem: nn.Module = nn.Conv2d(3, c, 3, padding=1, bias=False)
        else:
            # 7×7 conv stride 2, 3×3 max pool stride 2 (Table 1).
            self.stem = nn.Sequential(
                nn.Conv2d(3, c, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        stages: list[nn.Module] = []
        for i, layers in enumerate(arch.block_layers):
            block = DenseBlock(
                layers, c, arch.growth_rate, arch.bottleneck, arch.dropout, efficient
            )
            stages.append(block)
            c = block.out_channels
            if i < len(arch.block_layers) - 1:
                out = math.floor(arch.compression * c)
                stages.append(Transition(c, out, arch.dropout))
                c = out
        self.features = nn.Sequential(*stages)
        self.norm = nn.BatchNorm2d(c)
        self.classifier = nn.Linear(c, arch.num_classes)
        self.out_channels = c
        self._init_weights()

    def _init_weights(self) -> None:
        # He et al. init for convs (n = k·k·out, as in the authors' Torch code), BN 1/0, bias 0.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    @property
    def efficient(self) -> bool:
        return any(getattr(m, "efficient", False) for m in self.modules() if m is not self)

    def set_efficient(self, on: bool) -> DenseNet:
        for m in self.modules():
            if isinstance(m, DenseLayer):
                m.efficient = on
        return self

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(self.stem(x))  # (B, C, 8, 8) at 32 px; (B, C, 7, 7) at 224 px
        x = F.relu(self.norm(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)  # global average pooling, (B, C)
        return self.classifier(x)  # (B, classes)


def densenet(
    depth: int, growth_rate: int, *, bc: bool = False, num_classes: int | None = None,
    dropout: float = 0.0, efficient: bool = False,
    imagenet: bool = False, device: torch.device | str | None = None,
) -> DenseNet:  # fmt: skip
    """A DenseNet of the paper: CIFAR (3 blocks) by default, ImageNet (4 blocks) with imagenet=True.

    Classes default to 10 (CIFAR-10) or 1000 (ImageNet). `device="meta"` builds
    it without allocating memory (for counting parameters)."""
    arch = (
        imagenet_architecture(depth, growth_rate, num_classes or 1000)
        if imagenet
        else cifar_architecture(depth, growth_rate, bc, num_classes or 10, dropout)
    )
    with torch.device(device or "cpu"):
        return DenseNet(arch, efficient=efficient)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
